"""The items and rows a version was asked about, kept in memory: a version never changes, so
what its vocabulary answered once is the answer for good.

A server answers the same frequent items again and again (as queries and as neighbours); each
answer costs a query on the store's index otherwise. The cache is shared by every connection
reading the version (:meth:`embedstore.Embeddings.with_store`) and bounded: past
:data:`CACHE_ENTRIES` names it starts again empty (cheaper than keeping an order of use, and
the frequent items come back first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

CACHE_ENTRIES = 1 << 17
"""Most items (and, apart, most rows) remembered per version."""


class VocabularyCache:
    """Rows by item (as asked) and items by row of one version."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._rows: dict[str, int] = {}
        self._items: dict[int, str] = {}

    def rows_of(self, items: Sequence[str],
                look_up: Callable[[list[str]], dict[str, int]]) -> dict[str, int]:
        """The rows of those of ``items`` the vocabulary holds: remembered ones from memory,
        the others from ``look_up`` (unknown items are asked again every time)."""
        found: dict[str, int] = {}
        missing: list[str] = []
        for item in items:
            row = self._rows.get(item)
            if row is None:
                missing.append(item)
            else:
                found[item] = row
        if missing:
            looked_up = look_up(missing)
            self._remember(self._rows, looked_up)
            found.update(looked_up)
        return found

    def items_at(self, rows: Iterable[int],
                 look_up: Callable[[list[int]], list[str]]) -> list[str]:
        """The items at ``rows``, in order: remembered ones from memory, the others from
        ``look_up`` (which raises for a row the vocabulary lacks)."""
        wanted = [int(row) for row in rows]
        known = self._items
        missing = [row for row in dict.fromkeys(wanted) if row not in known]
        if not missing:
            return [known[row] for row in wanted]
        looked_up = dict(zip(missing, look_up(missing), strict=True))
        answer = [looked_up[row] if row in looked_up else known[row] for row in wanted]
        self._remember(self._items, looked_up)
        return answer

    def _remember(self, table: dict, entries: dict) -> None:  # type: ignore[type-arg]
        if len(table) + len(entries) > self.entries:
            table.clear()
        table.update(entries)
