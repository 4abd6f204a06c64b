"""The on-disk store: the only code that touches SQLite and the vector files.

Layout of a store directory::

    embedstore.db                 SQLite: versions, vocabularies, migrations (WAL mode)
    versions/<id>/vectors.npy     float32 item vectors, one row per item, memory-mapped on read
    versions/<id>/norms.npy       float32 Euclidean norm of every row
    tmp/                          files being written; never read, removed by garbage collection

Publishing is crash-safe by construction: the files are written under ``tmp/``, flushed to
disk and checksummed, the directory is renamed into ``versions/``, and only then is the
version's row inserted, in one transaction that also assigns its number. A crash before the
commit leaves an unreferenced directory that readers never see; a version is either complete
or absent, and published files are never written again.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import NotFoundError, StoreError
from .locations import default_store_path
from .migrations import KNOWN_NAMES, MIGRATION_SET, MIGRATIONS_TABLE

if TYPE_CHECKING:
    from .schema import FileRecord, VersionRecord

DB_NAME = "embedstore.db"
VERSIONS_DIR = "versions"
TMP_DIR = "tmp"
VECTORS_FILE = "vectors.npy"
NORMS_FILE = "norms.npy"
LOCK_FILE = "lock"
BUSY_TIMEOUT_SECONDS = 30.0
SQL_CHUNK = 900
"""Values bound in one IN (...) list (SQLite's oldest limit on variables is 999)."""
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class VersionInfo:
    """What a query needs to know about a version: read from plain columns, cheaply."""

    id: int
    model: str
    version: int
    name: str | None
    created: str
    n_items: int
    dim: int
    directory: str


def check_model_name(model: str) -> str:
    """Return ``model`` if it is a valid model name, else raise :class:`StoreError`."""
    if not MODEL_NAME.match(model):
        raise StoreError(
            f"invalid model name {model!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return model


class Store:
    """A store directory opened for reading and writing.

    Use :meth:`open`; close it with :meth:`close` or a ``with`` block.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, *,
                 read_only: bool = False) -> None:
        self.path = path
        self.connection = connection
        self.read_only = read_only

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = False) -> Store:
        """Open the store at ``path`` (default: :func:`default_store_path`).

        With ``create=True`` a missing store is created (a missing or empty directory is
        turned into one); otherwise a missing store is an error that says how to make one.

        Raises
        ------
        StoreError
            When ``path`` is not a store, the database is damaged, or it was written by a
            newer embedstore.
        """
        root = Path(path) if path is not None else default_store_path()
        database = root / DB_NAME
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root} is a file, not a store directory; choose another --store")
        if not database.exists():
            if not create:
                raise StoreError(
                    f"no store at {root}; train a model first (embed train FILE) "
                    "or point --store / EMBED_STORE at an existing store"
                )
            if root.exists() and any(root.iterdir()):
                raise StoreError(
                    f"{root} is not an embedstore store (it has files but no {DB_NAME}); "
                    "choose a new or empty directory"
                )
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create store at {root}: {exc.strerror}") from None
        read_only = database.exists() and not os.access(root, os.W_OK)
        try:
            connection = _connect(database, read_only)
            connection.execute("PRAGMA foreign_keys = ON")
            store = cls(root, connection, read_only=read_only)
            store._prepare_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{database} cannot be used as a store database ({exc}); "
                "restore it from a backup or choose another --store"
            ) from None
        return store

    def _applied_migrations(self) -> set[str]:
        exists = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
        ).fetchone()
        if not exists:
            return set()
        rows = self.connection.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [MIGRATION_SET]
        ).fetchall()
        return {name for (name,) in rows}

    def _prepare_schema(self) -> None:
        applied = self._applied_migrations()
        unknown = applied - KNOWN_NAMES
        if unknown:
            raise StoreError(
                f"{self.path / DB_NAME} was written by a newer embedstore "
                f"(schema {', '.join(sorted(unknown))}); upgrade embedstore to use this store"
            )
        if applied == KNOWN_NAMES:
            return
        self._check_writable("upgrade its schema")
        from sqlite_utils import Database

        from .migrations import migration_set

        if self.connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            migration_set().apply(Database(self.connection))
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def file_lock(self, *, exclusive: bool) -> Iterator[None]:
        """The store's file lock: shared by writers of new version files and by readers while
        they map a version's files; taken alone by whatever deletes files (``embed rm``, ``embed
        gc``), so no file is deleted while it is being written or about to be mapped."""
        self._check_writable("change it")
        try:
            descriptor = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot write to the store {self.path} ({exc.strerror}); "
                             "check that it is writable") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(descriptor)

    @contextmanager
    def _reading_lock(self) -> Iterator[None]:
        """The shared file lock for a reader; a store nobody can write needs none."""
        try:
            descriptor = os.open(self.path / LOCK_FILE, os.O_RDONLY)
        except OSError:
            yield  # no lock file: no writer has ever run, or the store is read-only
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH)
            yield
        finally:
            os.close(descriptor)

    def begin_snapshot(self) -> None:
        """Pin a read snapshot: until the next write on this connection (or ``close``), every
        read sees the store as it was now, even while other processes publish or remove
        versions (SQLite's WAL mode lets a reader keep its snapshot without blocking writers)."""
        if self.read_only:
            return  # nothing can change underneath
        if not self.connection.in_transaction:
            self.connection.execute("BEGIN")
            self.connection.execute("SELECT 1 FROM versions LIMIT 1").fetchall()

    def begin_write(self) -> None:
        """Start a write transaction (ending a read snapshot first); waits up to the busy
        timeout for another writer."""
        self._check_writable("change it")
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot write to {self.path / DB_NAME} ({exc}); "
                             "check that the store is writable and not in use by a "
                             "stuck process") from None

    def _check_writable(self, action: str) -> None:
        if self.read_only:
            raise StoreError(f"the store {self.path} is read-only (no write permission); "
                             f"queries work, but to {action} make it writable or copy it")

    @contextmanager
    def write_transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed in full or rolled back; SQLite failures (a full
        disk, a read-only file) become a :class:`StoreError` that says what to check."""
        self.begin_write()
        try:
            yield self.connection
            self.connection.execute("COMMIT")
        except BaseException as exc:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreError(f"cannot write to {self.path / DB_NAME} ({exc}); nothing was "
                                 "changed; check free space and permissions") from None
            raise

    def open_version(self, model: str, version: int | str | None = None
                     ) -> tuple[VersionInfo, np.ndarray, np.ndarray]:
        """Resolve a version and map its files, consistently with concurrent writers.

        Under the shared file lock, the read snapshot is pinned, the version resolved in it and
        its files mapped; a removal committed later waits for the lock before deleting files,
        and a mapped file stays readable after it is deleted. So a version that was visible
        keeps answering, in full, for as long as this connection keeps its snapshot.
        """
        with self._reading_lock():
            self.begin_snapshot()
            info = self.version_info(model, version)
            vectors, norms = self.load_vectors(info)
        return info, vectors, norms

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    def models(self) -> list[str]:
        rows = self.connection.execute("SELECT DISTINCT model FROM versions ORDER BY model")
        return [model for (model,) in rows]

    def resolve(self, model: str, version: int | str | None) -> int | None:
        """A version reference as a number: an int, digits, or an alias of ``model``."""
        if version is None or isinstance(version, int):
            return version
        if version.isdigit():
            return int(version)
        row = self.connection.execute(
            "SELECT version FROM aliases WHERE model = ? AND name = ?", [model, version]
        ).fetchone()
        if row is None:
            names = [n for (n,) in self.connection.execute(
                "SELECT name FROM aliases WHERE model = ? ORDER BY name", [model])]
            known = f"its aliases are {', '.join(names)}" if names else "it has no aliases"
            raise NotFoundError(f"model {model!r} has no version or alias {version!r}; {known} "
                                f"(see: embed versions --model {model})")
        return int(row[0])

    def version_info(self, model: str, version: int | str | None = None) -> VersionInfo:
        """The version ``version`` of ``model`` (a number or an alias), or its latest."""
        version = self.resolve(model, version)
        columns = "id, model, version, name, created, n_items, dim, directory"
        if version is None:
            row = self.connection.execute(
                f"SELECT {columns} FROM versions WHERE model = ? ORDER BY version DESC LIMIT 1",
                [model],
            ).fetchone()
        else:
            row = self.connection.execute(
                f"SELECT {columns} FROM versions WHERE model = ? AND version = ?",
                [model, version],
            ).fetchone()
        if row is None:
            raise self._missing(model, version)
        return VersionInfo(*row)

    def _missing(self, model: str, version: int | str | None) -> NotFoundError:
        numbers = [v for (v,) in self.connection.execute(
            "SELECT version FROM versions WHERE model = ? ORDER BY version", [model])]
        if not numbers:
            models = self.models()
            known = f"models here: {', '.join(models)}" if models else "the store is empty"
            return NotFoundError(
                f"no model {model!r} in store {self.path} ({known}); "
                "train one with: embed train FILE --model NAME"
            )
        return NotFoundError(
            f"model {model!r} has no version {version}; its versions are "
            f"{', '.join(map(str, numbers))} (see: embed versions --model {model})"
        )

    def version_record(self, info: VersionInfo) -> VersionRecord:
        from .schema import VersionRecord

        (metadata,) = self.connection.execute(
            "SELECT metadata FROM versions WHERE id = ?", [info.id]
        ).fetchone()
        return VersionRecord.model_validate_json(metadata)

    def version_records(self, model: str) -> list[VersionRecord]:
        from .schema import VersionRecord

        rows = self.connection.execute(
            "SELECT metadata FROM versions WHERE model = ? ORDER BY version", [model]
        )
        return [VersionRecord.model_validate_json(metadata) for (metadata,) in rows]

    def record_evaluation(self, info: VersionInfo, kind: str, result: dict[str, object]) -> None:
        """Keep an evaluation's result beside a version (the version itself never changes)."""
        import json
        from datetime import UTC, datetime

        with self.write_transaction() as connection:
            connection.execute(
                "INSERT INTO evaluations (version_id, kind, created, result) "
                "VALUES (?, ?, ?, ?)",
                [info.id, kind, datetime.now(UTC).isoformat(), json.dumps(result)])

    def evaluations(self, info: VersionInfo) -> list[dict[str, object]]:
        import json

        rows = self.connection.execute(
            "SELECT kind, created, result FROM evaluations WHERE version_id = ? ORDER BY id",
            [info.id])
        return [{"kind": kind, "created": created, "result": json.loads(result)}
                for kind, created, result in rows]

    def rows_of(self, info: VersionInfo, items: Sequence[str]) -> dict[str, int]:
        """Map the given items to their rows; items not in the vocabulary are left out."""
        if len(items) == 1:
            row = self.connection.execute(
                "SELECT row FROM items WHERE version_id = ? AND item = ?", [info.id, items[0]]
            ).fetchone()
            return {items[0]: row[0]} if row else {}
        found: dict[str, int] = {}
        for start in range(0, len(items), SQL_CHUNK):
            chunk = list(items[start : start + SQL_CHUNK])
            marks = ",".join("?" * len(chunk))
            found.update(self.connection.execute(
                f"SELECT item, row FROM items WHERE version_id = ? AND item IN ({marks})",
                [info.id, *chunk],
            ).fetchall())
        return found

    def items_at(self, info: VersionInfo, rows: Iterable[int]) -> list[str]:
        """The items at the given rows, in the order given."""
        wanted = [int(r) for r in rows]
        found: dict[int, str] = {}
        for start in range(0, len(wanted), SQL_CHUNK):
            chunk = wanted[start : start + SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(self.connection.execute(
                f"SELECT row, item FROM items WHERE version_id = ? AND row IN ({marks})",
                [info.id, *chunk],
            ).fetchall())
        missing = [r for r in wanted if r not in found]
        if missing:
            raise StoreError(self._damaged(
                info, f"its vocabulary has no item for row {missing[0]} (rows were deleted "
                      "from the database)"))
        return [found[r] for r in wanted]

    def close_items(self, info: VersionInfo, item: str, n: int = 3) -> list[str]:
        """Up to ``n`` vocabulary items spelled like ``item``, best first.

        Looks only at items sharing the first letter (or the whole vocabulary when it is
        small), so it stays quick on large vocabularies.
        """
        if info.n_items <= 50_000:
            rows = self.connection.execute(
                "SELECT item FROM items WHERE version_id = ?", [info.id]
            )
        else:
            first = item[:1]
            rows = self.connection.execute(
                "SELECT item FROM items WHERE version_id = ? AND item >= ? AND item < ?"
                " LIMIT 50000",
                [info.id, first, first + "\U0010ffff"],
            )
        import difflib

        candidates = [candidate for (candidate,) in rows]
        lowered = {candidate.lower(): candidate for candidate in candidates}
        close = difflib.get_close_matches(item.lower(), list(lowered), n=n, cutoff=0.6)
        return [lowered[match] for match in close]

    def load_vectors(self, info: VersionInfo) -> tuple[np.ndarray, np.ndarray]:
        """Memory-map the vectors and norms of a version after checking their shapes."""
        directory = self._inside_store(info.directory)
        arrays = []
        expected = ((VECTORS_FILE, (info.n_items, info.dim)), (NORMS_FILE, (info.n_items,)))
        for name, shape in expected:
            path = directory / name
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except FileNotFoundError:
                raise StoreError(self._damaged(info, f"{path} is missing")) from None
            except (ValueError, OSError) as exc:
                raise StoreError(self._damaged(info, f"{path} cannot be read ({exc})")) from None
            if array.shape != shape or array.dtype != np.float32:
                raise StoreError(self._damaged(
                    info, f"{path} holds {array.dtype}{array.shape}, expected float32{shape}"))
            arrays.append(array)
        return arrays[0], arrays[1]

    def _damaged(self, info: VersionInfo, what: str) -> str:
        return (f"model {info.model!r} version {info.version} is damaged: {what}; "
                "run embed verify, and train or restore that version again")

    def _inside_store(self, relative: str) -> Path:
        path = (self.path / relative).resolve()
        if not path.is_relative_to(self.path.resolve()):
            raise StoreError(f"version directory {relative!r} points outside the store; "
                             "the database was altered: restore it from a backup")
        return path

    # -- writing -------------------------------------------------------------------------

    def publish(
        self,
        *,
        model: str,
        items: Sequence[str],
        counts: np.ndarray,
        vectors: np.ndarray,
        make_record: Callable[[int, dict[str, FileRecord]], VersionRecord],
    ) -> VersionRecord:
        """Write a new version of ``model`` and return its record.

        ``make_record(version, files)`` builds the metadata once the version number and the
        files' checksums are known. The version becomes visible atomically, in full.
        """
        import shutil
        import uuid

        check_model_name(model)
        with self.file_lock(exclusive=False):  # garbage collection waits for us
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1).astype(np.float32)
            directory_name = uuid.uuid4().hex
            staging = self.path / TMP_DIR / directory_name
            final = self.path / VERSIONS_DIR / directory_name
            try:
                staging.mkdir(parents=True)
                files = {
                    "vectors": _write_array(staging / VECTORS_FILE, vectors, self.path),
                    "norms": _write_array(staging / NORMS_FILE, norms, self.path),
                }
                files = {key: record.model_copy(update={"path": record.path.replace(
                    f"{TMP_DIR}/", f"{VERSIONS_DIR}/", 1)}) for key, record in files.items()}
                final.parent.mkdir(exist_ok=True)
                _fsync_directory(staging)
                os.rename(staging, final)
                _fsync_directory(final.parent)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise StoreError(f"cannot write the version's files in {self.path}: {exc}; "
                                 "check free space and permissions") from None
            try:
                return self._commit_version(model, directory_name, items, counts, files,
                                            make_record)
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise

    def _commit_version(
        self,
        model: str,
        directory_name: str,
        items: Sequence[str],
        counts: np.ndarray,
        files: dict[str, FileRecord],
        make_record: Callable[[int, dict[str, FileRecord]], VersionRecord],
    ) -> VersionRecord:
        with self.write_transaction() as connection:
            (latest,) = connection.execute(
                "SELECT COALESCE(MAX(last), 0) FROM version_numbers WHERE model = ?", [model]
            ).fetchone()
            connection.execute(
                "INSERT INTO version_numbers (model, last) VALUES (?, ?) "
                "ON CONFLICT (model) DO UPDATE SET last = excluded.last", [model, latest + 1])
            record = make_record(latest + 1, files)
            cursor = connection.execute(
                "INSERT INTO versions (model, version, name, created, n_items, dim, directory,"
                " metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [model, record.version, record.name, record.created.isoformat(),
                 record.n_items, record.dim, f"{VERSIONS_DIR}/{directory_name}",
                 record.model_dump_json()],
            )
            version_id = cursor.lastrowid
            connection.executemany(
                "INSERT INTO items (version_id, row, item, count) VALUES (?, ?, ?, ?)",
                ((version_id, row, item, float(count))
                 for row, (item, count) in enumerate(zip(items, counts, strict=True))),
            )
        return record


def check_writable(store: str | Path | Store | None) -> None:
    """Fail early, before a long training run or import, when the store cannot take a version."""
    if isinstance(store, Store):
        store._check_writable("add a version")
        return
    root = Path(store) if store is not None else default_store_path()
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and not os.access(existing, os.W_OK):
        raise StoreError(f"the store {root} is read-only (no write permission to {existing}); "
                         "to add a version make it writable or choose another --store")


def _connect(database: Path, read_only: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with a busy timeout.

    A store without write permission is opened read-only; when SQLite cannot keep its shared
    memory file beside it, and no write-ahead log is pending, it is opened as immutable.
    """
    if not read_only:
        return sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    uri = database.absolute().as_uri()
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None,
                                     timeout=BUSY_TIMEOUT_SECONDS)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return connection
    except sqlite3.OperationalError:
        wal = database.with_name(database.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(
                f"the store {database.parent} is read-only and holds unfinished writes "
                f"({wal.name}); run any embed command on it once with write permission"
            ) from None
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)


def _write_array(path: Path, array: np.ndarray, root: Path) -> FileRecord:
    """Write ``array`` as a .npy file, flush it to disk and return its checksum record."""
    from .schema import FileRecord

    with path.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    return FileRecord(
        path=path.relative_to(root).as_posix(),
        bytes=path.stat().st_size,
        sha256=sha256_of(path),
    )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

