"""The HTTP service over an embedstore store (installed as the package ``embedstore_server``).

``create_app(settings)`` builds the FastAPI application; ``embed serve`` runs it on uvicorn.
Every route parses its parameters, makes the library call the matching ``embed`` command
makes, and renders the same JSON shape.
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
