"""The on-disk store: the only code that runs SQL or writes a version's files.

A store is a directory holding ``embedstore.db`` (SQLite) and the vector files. The
:class:`Store` handle is built from one part per job, each in its own module:

- :mod:`.connection`: opening, schema upgrades (:mod:`.migrations`), transactions, locks;
- :mod:`.catalog`: versions, their metadata and evaluations, aliases;
- :mod:`.vocabulary`: items to rows and back, suggestions, comparisons between versions;
- :mod:`.files`: mapping, writing and publishing a version's files;
- :mod:`.indexes`: publishing, opening and removing a version's approximate search index;
- :mod:`.registry`: removal, garbage collection and verification of versions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StoreError
from ..locations import default_store_path
from .catalog import Alias, AliasChange, VersionInfo
from .connection import (
    DB_NAME,
    INDEXES_DIR,
    LOCK_FILE,
    NORMS_FILE,
    TMP_DIR,
    VECTORS_FILE,
    VERSIONS_DIR,
)
from .files import file_digest, sha256_of
from .indexes import Indexes, IndexRecord

__all__ = [
    "DB_NAME",
    "INDEXES_DIR",
    "LOCK_FILE",
    "NORMS_FILE",
    "TMP_DIR",
    "VECTORS_FILE",
    "VERSIONS_DIR",
    "Alias",
    "AliasChange",
    "IndexRecord",
    "Store",
    "StoreLike",
    "VersionInfo",
    "check_writable",
    "file_digest",
    "opened",
    "sha256_of",
]


class Store(Indexes):
    """A store directory opened for reading and writing.

    Use :meth:`open`; close it with :meth:`close` or a ``with`` block.
    """


StoreLike = str | Path | Store | None
"""Where library functions take a store: a path, an open :class:`Store`, or None for the
default store (``$EMBED_STORE``, else ``~/.local/share/embedstore``)."""


@contextmanager
def opened(store: StoreLike, *, create: bool = False) -> Iterator[Store]:
    """``store`` as an open :class:`Store`: used as is when it already is one (and left open),
    else opened here and closed on exit."""
    if isinstance(store, Store):
        yield store
        return
    with Store.open(store, create=create) as handle:
        yield handle


def check_writable(store: StoreLike) -> None:
    """Fail early, before a long training run or import, when the store cannot take a version."""
    if isinstance(store, Store):
        store.check_writable("add a version")
        return
    root = Path(store) if store is not None else default_store_path()
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and not os.access(existing, os.W_OK):
        raise StoreError(f"the store {root} is read-only (no write permission to {existing}); "
                         "to add a version make it writable or choose another --store")
