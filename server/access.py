"""Reading the store from many request threads: a connection per thread, a fresh read snapshot
per request, and the memory-mapped versions kept open between requests.

Each request resolves its version reference (a number, an alias, or nothing for the latest)
in a read snapshot taken when it starts, so a version published or an alias moved by another
process is served from the next request on, and a version removed meanwhile still answers the
requests that resolved it, in full. SQLite connections belong to one thread, so every thread
answering queries keeps its own :class:`~embedstore.Store` and its own opened versions.
"""

from __future__ import annotations

import difflib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from embedstore import Embeddings, NotFoundError, Store
from embedstore.query.embeddings import load_version
from embedstore.query.gathering import Gatherers
from embedstore.store import VersionInfo

OPEN_VERSIONS_PER_THREAD = 4
"""Versions a thread keeps mapped; the least recently used one beyond this is let go."""


class VersionNotFoundError(NotFoundError):
    """A model or version the store does not hold, with close names to suggest."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class StoreAccess:
    """The store at ``path`` as each request thread sees it."""

    def __init__(self, path: Path | None, gatherers: Gatherers | None = None) -> None:
        self.path = path
        self.gatherers = gatherers
        """Shared searchers answering concurrent queries of a version together (None: each
        thread's queries alone)."""
        self._local = threading.local()

    def _store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.path)
            self._local.store = store
            self._local.opened = OrderedDict()
            self._local.data_version = None
        return store

    def _forget_removed(self, store: Store) -> None:
        """Let go of opened versions that were removed (their files are deleted, and a mapping
        would keep their disk space) or whose index was built, replaced or removed, checked
        only when another connection changed the store."""
        data_version = store.data_version()
        if data_version == self._local.data_version:
            return
        self._local.data_version = data_version
        opened: OrderedDict[int, Embeddings] = self._local.opened
        for gone in set(opened) - store.existing_version_ids(opened):
            del opened[gone]
        for key, embeddings in list(opened.items()):
            if store.owned_index_file(embeddings.info) != embeddings.index_file:
                del opened[key]

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """This thread's store, reading one snapshot taken now, for the length of the block."""
        store = self._store()
        store.end_snapshot()
        store.begin_snapshot()
        try:
            yield store
        finally:
            store.end_snapshot()

    @contextmanager
    def version(self, model: str, version: int | str | None) -> Iterator[Embeddings]:
        """The version ``version`` of ``model`` (default: its latest) as of this moment."""
        with self.reading() as store:
            self._forget_removed(store)
            info = _version_info(store, model, version)
            opened: OrderedDict[int, Embeddings] = self._local.opened
            embeddings = opened.get(info.id)
            if embeddings is None:
                store.end_snapshot()  # map the files under the store's lock, in a new snapshot
                embeddings = load_version(store, model, version)
                if self.gatherers is not None:
                    self.gatherers.attach(embeddings)
                info = embeddings.info
                opened[info.id] = embeddings
                while len(opened) > OPEN_VERSIONS_PER_THREAD:
                    opened.popitem(last=False)
            else:
                opened.move_to_end(info.id)
            yield embeddings


def _version_info(store: Store, model: str, version: int | str | None) -> VersionInfo:
    try:
        return store.version_info(model, version)
    except NotFoundError as error:
        raise VersionNotFoundError(str(error), close_names(store, model, version)) from None


def close_names(store: Store, model: str, version: int | str | None) -> list[str]:
    """Close spellings for a model or alias name that the store does not hold."""
    models = store.models()
    if model not in models:
        return difflib.get_close_matches(model, models, n=3, cutoff=0.6)
    if isinstance(version, str):
        names = [alias.name for alias in store.aliases(model)]
        return difflib.get_close_matches(version, names, n=3, cutoff=0.6)
    return []

