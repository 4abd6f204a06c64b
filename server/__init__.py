"""The HTTP service over an embedstore store (installed as the package ``embedstore_server``).

``create_app(settings)`` builds the FastAPI application; ``embed serve`` runs it on uvicorn.
Every route parses its parameters, makes the library call the matching ``embed`` command
makes, and renders the same JSON shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Settings", "create_app"]

if TYPE_CHECKING:
    from .app import create_app
    from .settings import Settings


def __getattr__(name: str) -> Any:
    """Import the application (and numpy with it) only when it is first used, so ``embed
    serve`` can bound numpy's BLAS threads before numpy starts."""
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(f"module 'embedstore_server' has no attribute {name!r}")
