"""Reading the store from request threads and from the event loop: a connection per slot, a
fresh read snapshot per request, and each opened version shared by the whole process.

Each request resolves its version reference (a number, an alias, or nothing for the latest)
in a read snapshot taken when it starts, so a version published or an alias moved by another
process is served from the next request on, and a version removed meanwhile still answers the
requests that resolved it, in full. SQLite connections belong to one thread, so a request
reads through a *slot*: a connection with what it resolved. Every thread answering plain
routes keeps a slot of its own; requests answered on the event loop (``similar`` and
``analogy``, whose products are gathered into batches) borrow a slot from a pool for their
length, so each keeps its own snapshot while it waits for its batch. A version's mapped
vectors, norms, index and searchers are opened once per process and shared by every slot,
which only wraps them with its own connection for item look-ups. A lent slot leaves the close
spellings of unknown items out (a scan of the vocabulary would hold up the loop):
:meth:`StoreAccess.unknown_item` finds them on a thread.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from weakref import finalize as weakref_finalize

from embedstore import Embeddings, NotFoundError, Store
from embedstore.query.embeddings import load_version
from embedstore.store import VersionInfo

OPEN_VERSIONS_PER_SLOT = 4
"""Versions a slot keeps at hand; the least recently used one beyond this is let go."""
MAX_LENT_SLOTS = 256
"""Requests on the event loop reading at once; more wait for a slot."""
SPLIT_PRODUCTS = max(1, len(os.sched_getaffinity(0)))
"""Threads an exact product is split over: every core (a process runs one at a time)."""

OpenedKey = tuple[int, str | None]
"""A version's id and its index file: an index built, rebuilt or removed is another key."""


class VersionNotFoundError(NotFoundError):
    """A model or version the store does not hold, with close names to suggest."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class Slot:
    """One connection to the store, the versions resolved and opened through it, and whether
    another connection has written since it last looked."""

    def __init__(self, path: Path | None, shared: SharedVersions, suggest: bool = True) -> None:
        self.store = Store.open(path)
        self.suggest = suggest
        """Whether unknown items' errors name close spellings (see Embeddings.suggest)."""
        self._shared = shared
        self._opened: OrderedDict[int, Embeddings] = OrderedDict()
        self._resolved: dict[tuple[str, int | str | None], VersionInfo] = {}
        self._data_version: int | None = None

    def _forget_changed(self) -> None:
        """Let go of what another connection may have changed since this slot last looked:
        resolved references, versions removed (their files are deleted, and a mapping would
        keep their disk space) or whose index was built, replaced or removed."""
        data_version = self.store.data_version()
        if data_version == self._data_version:
            return
        self._data_version = data_version
        self._resolved.clear()
        opened = self._opened
        for gone in set(opened) - self.store.existing_version_ids(opened):
            del opened[gone]
        for key, embeddings in list(opened.items()):
            if self.store.owned_index_file(embeddings.info) != embeddings.index_file:
                del opened[key]

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """The slot's store, reading one snapshot taken now, for the length of the block."""
        self.store.end_snapshot()
        self.store.begin_snapshot()
        try:
            yield self.store
        finally:
            self.store.end_snapshot()

    @contextmanager
    def version(self, model: str, version: int | str | None) -> Iterator[Embeddings]:
        """The version ``version`` of ``model`` (default: its latest) as of this moment."""
        with self.reading() as store:
            self._forget_changed()
            info = self._resolved.get((model, version)) or _version_info(store, model, version)
            self._resolved[(model, version)] = info  # valid until another connection writes
            embeddings = self._opened.get(info.id)
            if embeddings is None:
                embeddings = self._shared.bound(store, model, version, info)
                embeddings.suggest = self.suggest
                self._opened[embeddings.info.id] = embeddings
                while len(self._opened) > OPEN_VERSIONS_PER_SLOT:
                    self._opened.popitem(last=False)
            else:
                self._opened.move_to_end(info.id)
            yield embeddings


class SharedVersions:
    """The versions opened by a process, shared by its slots; one is let go when no slot
    holds it any more (so a removed version's files are unmapped)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a finalizer may run while this thread holds it
        self._versions: dict[OpenedKey, Embeddings] = {}
        self._holders: dict[OpenedKey, int] = {}

    def bound(self, store: Store, model: str, version: int | str | None,
              info: VersionInfo) -> Embeddings:
        """Version ``info`` (resolved from ``version`` in ``store``'s snapshot) answering
        through ``store``: opened by this process once, wrapped for the slot of ``store``."""
        key = (info.id, store.owned_index_file(info))
        with self._lock:
            opened = self._versions.get(key)
        if opened is None:
            store.end_snapshot()  # map the files under the store's lock, in a new snapshot
            loaded = load_version(store, model, version)
            loaded.searcher_for(exact=True).parts = SPLIT_PRODUCTS  # type: ignore[attr-defined]
            key = (loaded.info.id, loaded.index_file)
            with self._lock:
                opened = self._versions.setdefault(key, loaded)
        bound = opened.with_store(store)
        with self._lock:
            self._holders[key] = self._holders.get(key, 0) + 1
        weakref_finalize(bound, self._released, key)
        return bound

    def _released(self, key: OpenedKey) -> None:
        with self._lock:
            self._holders[key] -= 1
            if self._holders[key] == 0:
                del self._holders[key]
                self._versions.pop(key, None)


class StoreAccess:
    """The store at ``path`` as each request sees it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._shared = SharedVersions()
        self._local = threading.local()
        self._free: list[Slot] = []
        self._lendable: asyncio.Semaphore | None = None

    def _slot(self) -> Slot:
        slot: Slot | None = getattr(self._local, "slot", None)
        if slot is None:
            slot = Slot(self.path, self._shared)
            self._local.slot = slot
        return slot

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """This thread's store, reading one snapshot taken now, for the length of the block."""
        with self._slot().reading() as store:
            yield store

    @contextmanager
    def version(self, model: str, version: int | str | None) -> Iterator[Embeddings]:
        """The version ``version`` of ``model`` (default: its latest) as of this moment, read
        through this thread's slot."""
        with self._slot().version(model, version) as embeddings:
            yield embeddings

    def unknown_item(self, model: str, version: int, item: str) -> Exception:
        """The error for ``item`` missing from a version, with close spellings: what a lent
        slot leaves out, found on this thread."""
        try:
            with self.version(model, version) as vectors:
                return vectors.unknown(item)
        except NotFoundError as error:  # the version went away meanwhile
            return error

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[Slot]:
        """A slot for one request answered on the event loop (and only there: its connection
        belongs to the loop's thread), for the length of the block."""
        if self._lendable is None:
            self._lendable = asyncio.Semaphore(MAX_LENT_SLOTS)
        async with self._lendable:
            slot = self._free.pop() if self._free else Slot(self.path, self._shared,
                                                            suggest=False)
            try:
                yield slot
            finally:
                self._free.append(slot)


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

