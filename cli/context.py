"""The store handle the ``embed`` group builds once and passes to every command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from embedstore.store import Store


class StoreHandle:
    """The store named by ``--store`` / ``$EMBED_STORE`` (None: the default location).

    Commands that read call :meth:`open` (the store is opened once, on first use, and closed
    when the command ends); commands that may create the store pass :attr:`location` to the
    library, which creates it only once their work has succeeded.
    """

    def __init__(self, location: Path | None) -> None:
        self.location = location
        self._store: Store | None = None

    def open(self) -> Store:
        if self._store is None:
            from embedstore.store import Store

            self._store = Store.open(self.location)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


pass_store = click.make_pass_decorator(StoreHandle)
