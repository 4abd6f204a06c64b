"""Looking up a version's vocabulary by prefix, for completion (part of the store layer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .embeddings import Embeddings

PREFIX_SCAN = 20_000
"""Most matching items read to rank a prefix's completions (the rest are not ranked)."""


def items_with_prefix(vectors: Embeddings, prefix: str, limit: int = 10) -> list[str]:
    """Up to ``limit`` items of ``vectors``'s version that start with ``prefix``, most frequent
    first (ties by row). Reads the item index in order, so a rare prefix costs little and a
    common one at most :data:`PREFIX_SCAN` index entries.

    >>> import embedstore, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/animals.csv", store=store, quiet=True)
    >>> with embedstore.open(store) as vectors:
    ...     sorted(items_with_prefix(vectors, "c"))
    ['car', 'cat']
    """
    if limit < 1:
        return []
    if prefix:
        rows = vectors.store.connection.execute(
            "SELECT row, item FROM (SELECT row, item FROM items WHERE version_id = ? "
            "AND item >= ? AND item < ? ORDER BY item LIMIT ?) ORDER BY row LIMIT ?",
            [vectors.info.id, prefix, prefix + "\U0010ffff", PREFIX_SCAN, limit])
    else:
        rows = vectors.store.connection.execute(
            "SELECT row, item FROM items WHERE version_id = ? AND row < ? ORDER BY row",
            [vectors.info.id, limit])
    return [item for _, item in rows]
