"""Vocabulary look-ups: items to rows and back, spelling suggestions, comparisons.

Items are stored in Unicode normal form C; a name asked for is normalised the same way here,
the one place queries meet the vocabulary. Stores written before items were normalised may
hold other forms: a name not found in NFC is looked up as written and in NFD, so they keep
answering (in either spelling).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import StoreError
from ..names import normalize_item
from .catalog import Catalog, VersionInfo
from .connection import SQL_CHUNK

SUGGESTION_SCAN = 50_000
"""Vocabularies larger than this are scanned for suggestions only among items that share the
first letter (and at most this many of them)."""
PREFIX_SCAN = 20_000
"""Most matching items read to rank a prefix's completions (the rest are not ranked)."""


def decompose(item: str) -> str:
    """``item`` in Unicode normal form D (how some older stores hold accented items)."""
    if item.isascii():
        return item
    import unicodedata

    return unicodedata.normalize("NFD", item)


class Vocabulary(Catalog):
    """Each version's items, in row order: the vocabulary part of the store."""

    def rows_of(self, info: VersionInfo, items: Sequence[str]) -> dict[str, int]:
        """Map the given items to their rows; items not in the vocabulary are left out.

        Keys are the items as given; they are looked up in Unicode normal form C.
        """
        normal = {item: normalize_item(item) for item in items}
        found = self._rows_of_exact(info, list(dict.fromkeys(normal.values())))
        result = {item: found[form] for item, form in normal.items() if form in found}
        missing = [item for item, form in normal.items() if form not in found]
        if missing:  # a store written before items were normalised: as written, or as NFD
            spellings = {item: [s for s in dict.fromkeys([item, decompose(item)])
                                if s != normal[item]] for item in missing}
            legacy = self._rows_of_exact(info, list({s for group in spellings.values()
                                                     for s in group}))
            for item, group in spellings.items():
                row = next((legacy[s] for s in group if s in legacy), None)
                if row is not None:
                    result[item] = row
        return result

    def _rows_of_exact(self, info: VersionInfo, items: Sequence[str]) -> dict[str, int]:
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
            raise StoreError(self.damaged(
                info, f"its vocabulary has no item for row {missing[0]} (rows were deleted "
                      "from the database)"))
        return [found[r] for r in wanted]

    def close_items(self, info: VersionInfo, item: str, n: int = 3) -> list[str]:
        """Up to ``n`` vocabulary items spelled like ``item``, best first.

        Looks only at items sharing the first letter (or the whole vocabulary when it is
        small), so it stays quick on large vocabularies.
        """
        item = normalize_item(item)
        if info.n_items <= SUGGESTION_SCAN:
            rows = self.connection.execute(
                "SELECT item FROM items WHERE version_id = ?", [info.id]
            )
        else:
            first = item[:1]
            rows = self.connection.execute(
                "SELECT item FROM items WHERE version_id = ? AND item >= ? AND item < ?"
                f" LIMIT {SUGGESTION_SCAN}",
                [info.id, first, first + "\U0010ffff"],
            )
        import difflib  # only when an item is unknown: keeps the query path light

        candidates = [candidate for (candidate,) in rows]
        lowered = {candidate.lower(): candidate for candidate in candidates}
        close = difflib.get_close_matches(item.lower(), list(lowered), n=n, cutoff=0.6)
        return [lowered[match] for match in close]

    def lowercase_rows(self, info: VersionInfo, limit: int | None = None) -> dict[str, int]:
        """Lower-cased item -> row among the first ``limit`` rows (the most frequent spelling
        wins)."""
        rows = self.connection.execute(
            "SELECT item, row FROM items WHERE version_id = ? AND row < ? ORDER BY row DESC",
            [info.id, limit if limit is not None else info.n_items])
        return {item.lower(): row for item, row in rows}

    def items_with_prefix(self, info: VersionInfo, prefix: str, limit: int = 10) -> list[str]:
        """Up to ``limit`` items of a version that start with ``prefix`` (in NFC), most frequent
        first (ties by row). Reads the item index in order, so a rare prefix costs little and a
        common one at most :data:`PREFIX_SCAN` index entries."""
        if limit < 1:
            return []
        if not prefix:
            rows = self.connection.execute(
                "SELECT row, item FROM items WHERE version_id = ? AND row < ? ORDER BY row",
                [info.id, limit])
        else:
            prefix = normalize_item(prefix)
            rows = self.connection.execute(
                "SELECT row, item FROM (SELECT row, item FROM items WHERE version_id = ? "
                "AND item >= ? AND item < ? ORDER BY item LIMIT ?) ORDER BY row LIMIT ?",
                [info.id, prefix, prefix + "\U0010ffff", PREFIX_SCAN, limit])
        return [item for _, item in rows]

    def all_rows(self, info: VersionInfo) -> dict[str, int]:
        """Every item of a version with its row (as stored: see :meth:`rows_of` for names as
        asked for)."""
        return dict(self.connection.execute(
            "SELECT item, row FROM items WHERE version_id = ?", [info.id]).fetchall())

    def items_and_counts(self, info: VersionInfo) -> list[tuple[str, float]]:
        """Every item of a version with its count, in row order."""
        return self.connection.execute(
            "SELECT item, count FROM items WHERE version_id = ? ORDER BY row", [info.id]
        ).fetchall()

    def items_only_in(self, first: VersionInfo, second: VersionInfo,
                      examples: int) -> tuple[int, list[str]]:
        """Items of ``first`` missing from ``second``: their count and the most frequent few."""
        condition = ("FROM items a WHERE a.version_id = ? AND NOT EXISTS "
                     "(SELECT 1 FROM items b WHERE b.version_id = ? AND b.item = a.item)")
        (count,) = self.connection.execute(f"SELECT COUNT(*) {condition}",
                                           [first.id, second.id]).fetchone()
        listed = [item for (item,) in self.connection.execute(
            f"SELECT a.item {condition} ORDER BY a.row LIMIT ?", [first.id, second.id, examples])]
        return int(count), listed

    def shared_rows(self, first: VersionInfo, second: VersionInfo
                    ) -> list[tuple[str, int, int]]:
        """``(item, row in first, row in second)`` for the items both hold, in first's order."""
        return self.connection.execute(
            "SELECT a.item, a.row, b.row FROM items a JOIN items b "
            "ON b.version_id = ? AND b.item = a.item WHERE a.version_id = ? ORDER BY a.row",
            [second.id, first.id]).fetchall()

    def row_numbering(self, info: VersionInfo) -> tuple[int, int | None, int | None]:
        """How many vocabulary rows a version has, and its lowest and highest row number."""
        count, low, high = self.connection.execute(
            "SELECT COUNT(*), MIN(row), MAX(row) FROM items WHERE version_id = ?", [info.id]
        ).fetchone()
        return int(count), low, high

    def damaged(self, info: VersionInfo, what: str) -> str:
        """The message for a version whose files or rows are not what its metadata says."""
        return (f"model {info.model!r} version {info.version} is damaged: {what}; "
                "run embed verify, and train or restore that version again")
