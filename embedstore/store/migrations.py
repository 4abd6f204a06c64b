"""Numbered, additive schema migrations, applied when a store is opened for writing.

Each migration and its record in ``_sqlite_migrations`` commit in one transaction. A database
holding a migration this code does not know was written by a newer embedstore and is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

MIGRATION_SET = "embedstore"
MIGRATIONS_TABLE = "_sqlite_migrations"


def m001_versions_and_items(db: Database) -> None:
    """Versions (one immutable row each) and their vocabularies."""
    db.execute(
        """
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            version INTEGER NOT NULL,
            name TEXT,
            created TEXT NOT NULL,
            n_items INTEGER NOT NULL,
            dim INTEGER NOT NULL,
            directory TEXT NOT NULL,
            metadata TEXT NOT NULL,
            UNIQUE (model, version)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE items (
            version_id INTEGER NOT NULL REFERENCES versions(id),
            row INTEGER NOT NULL,
            item TEXT NOT NULL,
            count REAL NOT NULL,
            PRIMARY KEY (version_id, row)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE UNIQUE INDEX items_by_item ON items (version_id, item)")


def m002_aliases(db: Database) -> None:
    """Aliases (a name pointing at one version of a model), every move of them, and the last
    version number each model handed out (numbers are never reused, even after removal)."""
    db.execute(
        """
        CREATE TABLE aliases (
            model TEXT NOT NULL,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated TEXT NOT NULL,
            PRIMARY KEY (model, name)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE alias_history (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            name TEXT NOT NULL,
            version INTEGER,
            previous INTEGER,
            changed TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE TABLE version_numbers (model TEXT PRIMARY KEY, last INTEGER NOT NULL)")
    db.execute("INSERT INTO version_numbers (model, last) "
               "SELECT model, MAX(version) FROM versions GROUP BY model")


def m003_evaluations(db: Database) -> None:
    """Evaluation results, kept beside a version without changing it."""
    db.execute(
        """
        CREATE TABLE evaluations (
            id INTEGER PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES versions(id),
            kind TEXT NOT NULL,
            created TEXT NOT NULL,
            result TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX evaluations_by_version ON evaluations (version_id)")


def m004_indexes(db: Database) -> None:
    """Approximate search indexes: at most one derived file per version, with its checksum and
    the settings it was built with (the version itself never changes)."""
    db.execute(
        """
        CREATE TABLE indexes (
            version_id INTEGER PRIMARY KEY REFERENCES versions(id),
            path TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            library TEXT NOT NULL,
            settings TEXT NOT NULL,
            created TEXT NOT NULL
        )
        """
    )


ALL_MIGRATIONS = [m001_versions_and_items, m002_aliases, m003_evaluations, m004_indexes]
KNOWN_NAMES = frozenset(migration.__name__ for migration in ALL_MIGRATIONS)


def migration_set():  # type: ignore[no-untyped-def]
    """The :class:`sqlite_utils.Migrations` set holding :data:`ALL_MIGRATIONS` in order."""
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for migration in ALL_MIGRATIONS:
        migrations()(migration)
    return migrations
