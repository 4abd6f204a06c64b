"""The catalog: versions, their metadata and evaluations, aliases and their history.

Rows of ``versions`` never change once inserted; a version number is never handed out twice
(``version_numbers`` remembers the last one of each model, even after removals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError, StoreError
from ..names import check_alias_name, parse_version
from .connection import VERSIONS_DIR, Connection

if TYPE_CHECKING:  # pydantic is imported only when a record is read or written
    import numpy as np

    from ..schema import FileDigest, VersionRecord

_INFO_COLUMNS = "id, model, version, name, created, n_items, dim, directory"


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


@dataclass(frozen=True)
class Alias:
    model: str
    name: str
    version: int
    updated: str


@dataclass(frozen=True)
class AliasChange:
    """One move of an alias: ``previous`` is None when it was created, ``version`` None when
    it was removed (with the version it pointed at)."""

    model: str
    name: str
    version: int | None
    previous: int | None
    changed: str


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Catalog(Connection):
    """Versions, evaluations and aliases: the catalog part of :class:`embedstore.store.Store`."""

    # -- versions ------------------------------------------------------------------------

    def models(self) -> list[str]:
        rows = self.connection.execute("SELECT DISTINCT model FROM versions ORDER BY model")
        return [model for (model,) in rows]

    def resolve(self, model: str, version: int | str | None) -> int | None:
        """A version reference (see :func:`embedstore.names.parse_version`) as a number."""
        reference = parse_version(version)
        if reference is None or isinstance(reference, int):
            return reference
        row = self.connection.execute(
            "SELECT version FROM aliases WHERE model = ? AND name = ?", [model, reference]
        ).fetchone()
        if row is None:
            names = [n for (n,) in self.connection.execute(
                "SELECT name FROM aliases WHERE model = ? ORDER BY name", [model])]
            known = f"its aliases are {', '.join(names)}" if names else "it has no aliases"
            raise NotFoundError(f"model {model!r} has no version or alias {reference!r}; "
                                f"{known} (see: embed versions --model {model})")
        return int(row[0])

    def version_info(self, model: str, version: int | str | None = None) -> VersionInfo:
        """The version ``version`` of ``model`` (a number or an alias), or its latest."""
        number = self.resolve(model, version)
        if number is None:
            row = self.connection.execute(
                f"SELECT {_INFO_COLUMNS} FROM versions WHERE model = ? "
                "ORDER BY version DESC LIMIT 1", [model]).fetchone()
        else:
            row = self.connection.execute(
                f"SELECT {_INFO_COLUMNS} FROM versions WHERE model = ? AND version = ?",
                [model, number]).fetchone()
        if row is None:
            raise self._missing(model, number)
        return VersionInfo(*row)

    def version_infos(self, model: str | None = None) -> list[VersionInfo]:
        """Every version of ``model`` (of every model when None), by model and number."""
        query = f"SELECT {_INFO_COLUMNS} FROM versions"
        parameters: list[object] = []
        if model is not None:
            query += " WHERE model = ?"
            parameters.append(model)
        return [VersionInfo(*row) for row in self.connection.execute(
            query + " ORDER BY model, version", parameters)]

    def existing_version_ids(self, ids: Iterable[int]) -> set[int]:
        """Those of the version ids ``ids`` (``VersionInfo.id``) whose versions still exist."""
        wanted = list(ids)
        if not wanted:
            return set()
        marks = ",".join("?" * len(wanted))
        return {row for (row,) in self.connection.execute(
            f"SELECT id FROM versions WHERE id IN ({marks})", wanted)}

    def _missing(self, model: str, version: int | None) -> NotFoundError:
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
        from ..schema import VersionRecord

        (metadata,) = self.connection.execute(
            "SELECT metadata FROM versions WHERE id = ?", [info.id]
        ).fetchone()
        return VersionRecord.model_validate_json(metadata)

    def subword_settings(self, info: VersionInfo) -> dict[str, Any] | None:
        """How the version's subword vectors were made (its record's ``subwords``, read as
        plain JSON: the query path never loads the records' models), or None."""
        import json

        (metadata,) = self.connection.execute(
            "SELECT metadata FROM versions WHERE id = ?", [info.id]
        ).fetchone()
        settings = json.loads(metadata).get("subwords")
        return settings if isinstance(settings, dict) else None

    def version_records(self, model: str) -> list[VersionRecord]:
        from ..schema import VersionRecord

        rows = self.connection.execute(
            "SELECT metadata FROM versions WHERE model = ? ORDER BY version", [model]
        )
        return [VersionRecord.model_validate_json(metadata) for (metadata,) in rows]

    def _insert_version(
        self, model: str, directory_name: str, items: Sequence[str], counts: np.ndarray,
        files: dict[str, FileDigest], make_record: Callable[[int, dict[str, FileDigest]],
                                                            VersionRecord],
        base: VersionInfo | None = None,
    ) -> VersionRecord:
        """Inside a write transaction: take the next number and insert the version's rows
        (after the vocabulary of ``base``, copied here, when it extends that version)."""
        connection = self.connection
        if base is not None and not connection.execute(
                "SELECT 1 FROM versions WHERE id = ?", [base.id]).fetchone():
            raise NotFoundError(f"model {base.model!r} version {base.version} was removed "
                                "while it was extended; nothing was published")
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
        first = 0
        if base is not None:
            connection.execute(
                "INSERT INTO items (version_id, row, item, count) SELECT ?, row, item, count "
                "FROM items WHERE version_id = ? ORDER BY row", [version_id, base.id])
            first = base.n_items
        connection.executemany(
            "INSERT INTO items (version_id, row, item, count) VALUES (?, ?, ?, ?)",
            ((version_id, first + row, item, float(count))
             for row, (item, count) in enumerate(zip(items, counts, strict=True))),
        )
        return record

    def _delete_version_rows(self, info: VersionInfo, *, force: bool) -> None:
        """Inside a write transaction: remove a version's rows (and, with ``force``, the
        aliases pointing at it, recording their removal)."""
        connection = self.connection
        pointing = [name for (name,) in connection.execute(
            "SELECT name FROM aliases WHERE model = ? AND version = ?",
            [info.model, info.version])]
        if pointing and not force:
            raise StoreError(
                f"model {info.model!r} version {info.version} is aliased as "
                f"{', '.join(pointing)}; move the alias first (embed tag) or use --force")
        now = _now()
        for name in pointing:
            connection.execute("DELETE FROM aliases WHERE model = ? AND name = ?",
                               [info.model, name])
            connection.execute(
                "INSERT INTO alias_history (model, name, version, previous, changed) "
                "VALUES (?, ?, NULL, ?, ?)", [info.model, name, info.version, now])
        connection.execute("DELETE FROM items WHERE version_id = ?", [info.id])
        connection.execute("DELETE FROM evaluations WHERE version_id = ?", [info.id])
        connection.execute("DELETE FROM indexes WHERE version_id = ?", [info.id])
        connection.execute("DELETE FROM versions WHERE id = ?", [info.id])

    def owned_directories(self) -> set[str]:
        """The directories (relative to the store) that versions own."""
        return {directory for (directory,) in self.connection.execute(
            "SELECT directory FROM versions")}

    # -- evaluations ---------------------------------------------------------------------

    def record_evaluation(self, info: VersionInfo, kind: str, result: dict[str, Any]) -> None:
        """Keep an evaluation's result beside a version (the version itself never changes)."""
        import json

        with self.write_transaction():
            self.connection.execute(
                "INSERT INTO evaluations (version_id, kind, created, result) "
                "VALUES (?, ?, ?, ?)", [info.id, kind, _now(), json.dumps(result)])

    def evaluations(self, info: VersionInfo) -> list[dict[str, Any]]:
        import json

        rows = self.connection.execute(
            "SELECT kind, created, result FROM evaluations WHERE version_id = ? ORDER BY id",
            [info.id])
        return [{"kind": kind, "created": created, "result": json.loads(result)}
                for kind, created, result in rows]

    # -- aliases -------------------------------------------------------------------------

    def set_alias(self, model: str, version: int | str, name: str) -> AliasChange:
        """Point alias ``name`` of ``model`` at ``version`` in one transaction, keeping history."""
        check_alias_name(name)
        with self.write_transaction():
            number = self.version_info(model, version).version
            row = self.connection.execute(
                "SELECT version FROM aliases WHERE model = ? AND name = ?", [model, name]
            ).fetchone()
            now = _now()
            self.connection.execute(
                "INSERT INTO aliases (model, name, version, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (model, name) DO UPDATE SET version = excluded.version, "
                "updated = excluded.updated", [model, name, number, now])
            previous = row[0] if row else None
            self.connection.execute(
                "INSERT INTO alias_history (model, name, version, previous, changed) "
                "VALUES (?, ?, ?, ?, ?)", [model, name, number, previous, now])
        return AliasChange(model, name, number, previous, now)

    def aliases(self, model: str) -> list[Alias]:
        rows = self.connection.execute(
            "SELECT model, name, version, updated FROM aliases WHERE model = ? ORDER BY name",
            [model])
        return [Alias(*row) for row in rows]

    def alias_history(self, model: str) -> list[AliasChange]:
        rows = self.connection.execute(
            "SELECT model, name, version, previous, changed FROM alias_history "
            "WHERE model = ? ORDER BY id", [model])
        return [AliasChange(*row) for row in rows]
