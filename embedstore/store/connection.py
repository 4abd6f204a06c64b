"""A store's connection: opening (and creating) it, schema upgrades, transactions, locks.

Every other part of the store package works through the connection this module opens. The
database is in WAL mode; connections are in autocommit mode and every transaction is explicit.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from ..errors import StoreError
from ..locations import default_store_path
from .migrations import KNOWN_NAMES, MIGRATION_SET, MIGRATIONS_TABLE, migration_set

DB_NAME = "embedstore.db"
VERSIONS_DIR = "versions"
TMP_DIR = "tmp"
INDEXES_DIR = "indexes"
VECTORS_FILE = "vectors.npy"
NORMS_FILE = "norms.npy"
SUBWORDS_FILE = "subwords.npy"
LOCK_FILE = "lock"
BUSY_TIMEOUT_SECONDS = 30.0
SQL_CHUNK = 900
"""Values bound in one IN (...) list (SQLite's oldest limit on variables is 999)."""


class Connection:
    """The database connection of an open store, its transactions and its file lock."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *,
                 read_only: bool = False) -> None:
        self.path = path
        self.connection = connection
        self.read_only = read_only

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = False) -> Self:
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
        self.check_writable("upgrade its schema")
        from sqlite_utils import Database

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
        self.check_writable("change it")
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

    def end_snapshot(self) -> None:
        """Let go of the read snapshot (if any): the next read sees the store as it is then."""
        if not self.connection.in_transaction:
            return
        try:
            self.connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot read {self.path / DB_NAME} ({exc}); check the disk and "
                             "run embed verify") from None

    def data_version(self) -> int:
        """A number that changes whenever another connection has changed the database (SQLite's
        ``PRAGMA data_version``): a cheap way to notice writes by other processes."""
        (value,) = self.connection.execute("PRAGMA data_version").fetchone()
        return int(value)

    def begin_write(self) -> None:
        """Start a write transaction (ending a read snapshot first); waits up to the busy
        timeout for another writer."""
        self.check_writable("change it")
        try:
            if self.connection.in_transaction:  # a read snapshot: nothing to write
                self.connection.execute("COMMIT")
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot write to {self.path / DB_NAME} ({exc}); "
                             "check that the store is writable and not in use by a "
                             "stuck process") from None

    def check_writable(self, action: str) -> None:
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
