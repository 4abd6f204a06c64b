"""Names a shell can complete: models, version numbers and aliases, and items by prefix.

Completion runs on every tab press, so each answer is one indexed look-up in the store's
database (items: most frequent first, at most :data:`MAX_COMPLETIONS`) and never loads a
version's vectors. Any problem (no store, a damaged one, an unknown model) gives no
completions instead of an error: nothing may spill into the user's shell.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

MAX_COMPLETIONS = 50
T = TypeVar("T")


def _quietly(look_up: Callable[[], list[T]]) -> list[T]:
    try:
        return look_up()
    except Exception:  # a completion must never fail where the user types
        return []


def _open(store: str | Path | None):  # type: ignore[no-untyped-def]
    from ..store import Store

    return Store.open(store)


def complete_models(store: str | Path | None, prefix: str) -> list[str]:
    """Model names starting with ``prefix``."""
    def look_up() -> list[str]:
        with _open(store) as opened:
            return [name for name in opened.models() if name.startswith(prefix)]

    return _quietly(look_up)


def complete_versions(store: str | Path | None, model: str, prefix: str) -> list[str]:
    """Version numbers (newest first) and aliases of ``model`` starting with ``prefix``."""
    def look_up() -> list[str]:
        with _open(store) as opened:
            numbers = [str(info.version) for info in reversed(opened.version_infos(model))]
            aliases = [alias.name for alias in opened.aliases(model)]
        return [name for name in numbers + aliases if name.startswith(prefix)]

    return _quietly(look_up)


def complete_items(store: str | Path | None, model: str, version: int | str | None,
                   prefix: str, limit: int = MAX_COMPLETIONS) -> list[str]:
    """Items of a version starting with ``prefix`` (in NFC), most frequent first."""
    def look_up() -> list[str]:
        with _open(store) as opened:
            info = opened.version_info(model, version)
            return opened.items_with_prefix(info, prefix, limit)

    return _quietly(look_up)
