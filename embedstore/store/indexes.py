"""A version's approximate search index: a derived file, published and removed like a version.

Layout::

    indexes/<name>.<ext>     one index file per indexed version (the table ``indexes`` says whose)

The vectors of a version never change; its index is derived from them and may be built, rebuilt
and removed at any time. Publishing follows the version's recipe: the file is written under
``tmp/``, flushed to disk and checksummed, renamed into ``indexes/``, and only then is its row
committed (replacing the row of an older index of the same version, whose file is deleted
afterwards). A crash at any moment leaves either the old state or the new one, plus at worst an
unowned file that garbage collection removes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import NotFoundError, StoreError
from .catalog import VersionInfo, _now
from .connection import INDEXES_DIR, TMP_DIR
from .files import Files, fsync_directory, sha256_of

T = TypeVar("T")


@dataclass(frozen=True)
class IndexRecord:
    """An index as recorded: its file (relative to the store), size, SHA-256, the library that
    reads it, the settings it was built with, and when it was published."""

    version_id: int
    path: str
    bytes: int
    sha256: str
    library: str
    settings: dict[str, Any]
    created: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "bytes": self.bytes, "sha256": self.sha256,
                "library": self.library, "settings": self.settings, "created": self.created}


_COLUMNS = "version_id, path, bytes, sha256, library, settings, created"


class Indexes(Files):
    """Index files on disk and their rows: the index part of :class:`embedstore.store.Store`."""

    def index_record(self, info: VersionInfo) -> IndexRecord | None:
        """The index of a version, or None when it has none."""
        row = self.connection.execute(
            f"SELECT {_COLUMNS} FROM indexes WHERE version_id = ?", [info.id]).fetchone()
        return _record(row) if row is not None else None

    def owned_index_files(self) -> set[str]:
        """The index files (relative to the store) that versions own."""
        return {path for (path,) in self.connection.execute("SELECT path FROM indexes")}

    def open_indexed(self, model: str, version: int | str | None,
                     open_index: Callable[[Path, IndexRecord, int], T]
                     ) -> tuple[VersionInfo, np.ndarray, np.ndarray, np.ndarray | None,
                                T | None]:
        """Like :meth:`open_version`, plus the version's subword vectors (None without), and,
        when the version has an index, open it with ``open_index(path, record, dim)``, all
        under the same lock (so a concurrent removal cannot delete a file between resolving
        and opening it)."""
        with self._reading_lock():
            self.begin_snapshot()
            info = self.version_info(model, version)
            vectors, norms = self.load_vectors(info)
            subwords = self.load_subwords(info)
            record = self.index_record(info)
            if record is None:
                return info, vectors, norms, subwords, None
            path = self.inside_store(record.path)
            size = path.stat().st_size if path.is_file() else None
            if size != record.bytes:
                found = "is missing" if size is None else f"has {size} bytes"
                raise StoreError(
                    f"the index of model {info.model!r} version {info.version} is damaged: "
                    f"{record.path} {found}, expected {record.bytes} bytes; rebuild it with "
                    f"embed index build {info.version} --model {info.model}, remove it with "
                    f"embed index rm, or query with --exact")
            return info, vectors, norms, subwords, open_index(path, record, info.dim)

    def publish_index(self, info: VersionInfo, write: Callable[[Path], None], *,
                      library: str, suffix: str, settings: dict[str, Any]) -> IndexRecord:
        """Write an index of ``info`` with ``write(path)`` and make it the version's index.

        A version that is removed while its index is built keeps no index: the file is
        deleted and :class:`NotFoundError` raised.
        """
        import json
        import uuid

        name = f"{uuid.uuid4().hex}.{suffix}"
        staging = self.path / TMP_DIR / name
        final = self.path / INDEXES_DIR / name
        relative = f"{INDEXES_DIR}/{name}"
        with self.file_lock(exclusive=False):  # garbage collection waits for us
            try:
                staging.parent.mkdir(exist_ok=True)
                write(staging)
                with staging.open("rb+") as handle:
                    os.fsync(handle.fileno())
                size, digest = staging.stat().st_size, sha256_of(staging)
                final.parent.mkdir(exist_ok=True)
                os.rename(staging, final)
                fsync_directory(final.parent)
            except OSError as exc:
                staging.unlink(missing_ok=True)
                raise StoreError(f"cannot write the index file in {self.path}: {exc}; "
                                 "check free space and permissions") from None
            except BaseException:
                staging.unlink(missing_ok=True)
                raise
            record = IndexRecord(info.id, relative, size, digest, library, settings, _now())
            try:
                with self.write_transaction() as connection:
                    if not connection.execute("SELECT 1 FROM versions WHERE id = ?",
                                              [info.id]).fetchone():
                        raise NotFoundError(f"model {info.model!r} version {info.version} was "
                                            "removed while its index was built")
                    old = self.owned_index_file(info)
                    connection.execute(
                        f"INSERT OR REPLACE INTO indexes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [info.id, relative, size, digest, library, json.dumps(settings),
                         record.created])
            except BaseException:
                final.unlink(missing_ok=True)
                raise
        if old is not None:
            self.delete_index_file(old)
        return record

    def owned_index_file(self, info: VersionInfo) -> str | None:
        row = self.connection.execute("SELECT path FROM indexes WHERE version_id = ?",
                                      [info.id]).fetchone()
        return row[0] if row is not None else None

    def remove_index(self, model: str, version: int | str | None) -> tuple[VersionInfo, str]:
        """Remove a version's index: its row, then (under the exclusive lock) its file.
        Returns the version and the removed file's path."""
        with self.write_transaction() as connection:
            info = self.version_info(model, version)
            path = self.owned_index_file(info)
            if path is None:
                raise NotFoundError(f"model {model!r} version {info.version} has no index; "
                                    "build one with: embed index build")
            connection.execute("DELETE FROM indexes WHERE version_id = ?", [info.id])
        self.delete_index_file(path)
        return info, path

    def delete_index_file(self, relative: str) -> None:
        """Delete an index file no row owns any more, once readers mapping files are done."""
        path = self.path / relative
        if path.resolve().is_relative_to((self.path / INDEXES_DIR).resolve()):
            with self.file_lock(exclusive=True):
                path.unlink(missing_ok=True)


def _record(row: tuple[Any, ...]) -> IndexRecord:
    import json

    version_id, path, size, digest, library, settings, created = row
    return IndexRecord(version_id, path, size, digest, library, json.loads(settings), created)
