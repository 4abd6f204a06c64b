"""Counting a corpus within a memory limit, and the counts that then live on disk.

The corpus is read in blocks sized to the limit, and the partial pair tables of
:func:`embedstore.counting.windows.count_keys` may hold :data:`COUNT_SHARE` of it; past that they go
to DuckDB (:class:`embedstore.engines.bounded.spilled_counts.SpilledCounts`). A corpus whose pairs
fit stays in
memory as a :class:`~embedstore.counting.cooccurrence.Cooccurrence`, exactly as without a limit; one
whose pairs did not comes back as a :class:`DiskCooccurrence`, which hands its pairs out in
chunks (the same pairs, weights and order, bit for bit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...counting.cooccurrence import Cooccurrence
from ...counting.token_ids import CorpusCollector
from ...counting.windows import DISTANCE_BITS, cooccurrence_of_keys, count_keys
from ...inputs.corpus import BLOCK_BYTES, build_vocabulary, encode
from ...progress import Progress
from .allocator import return_freed_memory
from .spilled_counts import SpilledCounts

COUNT_SHARE = 0.2
"""Partial pair tables may take this share of the memory limit before they are spilled."""
BYTES_PER_KEY = 48
"""Memory a partial-table key costs while tables are merged (key, numerator, sort order and
the merged copies)."""
MIN_MERGE_KEYS = 1 << 16
BLOCK_SHARE = 1 / 128
"""Corpus blocks are read in this share of the limit (at most :data:`BLOCK_BYTES`): a block's
windowed pairs take about 25 bytes per byte of text while they are summed."""
MIN_BLOCK_BYTES = 1 << 16
def merge_keys_for(memory_limit: int) -> int:
    """Keys the partial tables may hold under ``memory_limit`` bytes."""
    return max(MIN_MERGE_KEYS, int(memory_limit * COUNT_SHARE) // BYTES_PER_KEY)


def block_bytes_for(memory_limit: int) -> int:
    """Bytes of corpus read at a time under ``memory_limit`` bytes."""
    return max(MIN_BLOCK_BYTES, min(BLOCK_BYTES, int(memory_limit * BLOCK_SHARE)))


@dataclass
class DiskCooccurrence:
    """A :class:`~embedstore.counting.cooccurrence.Cooccurrence` whose pairs live in DuckDB: items
    and
    item counts in memory, pairs read in key order by :meth:`chunks` (weights are the stored
    values divided by ``divisor``). Close it (or use ``with``) to remove its files."""

    items: list[str]
    item_counts: np.ndarray
    counts: SpilledCounts
    divisor: float

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_pairs(self) -> int:
        return self.counts.n_pairs

    n_negative_pairs = 0

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(left, right, weight) chunks in the order of ``Cooccurrence``'s arrays."""
        n = self.n_items
        for keys, values in self.counts.pairs():
            yield keys // n, keys % n, values / self.divisor

    def load(self) -> Cooccurrence:
        """All pairs in memory (what methods other than svd need)."""
        parts = list(self.chunks())
        empty = np.empty(0, dtype=np.int64)

        def joined(column: int, dtype: type) -> np.ndarray:
            arrays = [part[column] for part in parts]
            return np.concatenate(arrays) if arrays else np.empty(0, dtype)

        return Cooccurrence(items=self.items, item_counts=self.item_counts,
                            left=joined(0, np.int64), right=joined(1, np.int64),
                            weight=joined(2, np.float64), negative_left=empty,
                            negative_right=empty)

    def close(self) -> None:
        self.counts.close()

    def __enter__(self) -> DiskCooccurrence:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spill_cooccurrence(cooc: Cooccurrence, memory_limit: int,
                       progress: Progress | None = None) -> DiskCooccurrence:
    """``cooc``'s positive pairs moved into DuckDB (for a PPMI matrix built on disk)."""
    counts = SpilledCounts(memory_limit, progress, weight_type="DOUBLE")
    step = merge_keys_for(memory_limit)
    n = cooc.n_items
    for start in range(0, cooc.n_pairs, step):
        stop = start + step
        counts.add(cooc.left[start:stop] * n + cooc.right[start:stop], cooc.weight[start:stop])
    counts.finish()
    return DiskCooccurrence(cooc.items, cooc.item_counts, counts, 1.0)


def count_text_within(
    path: str | Path, *, memory_limit: int, window: int = 5, min_count: int = 5,
    sample: float = 1e-3, seed: int = 0, progress: Progress | None = None,
    collector: CorpusCollector | None = None,
) -> Cooccurrence | DiskCooccurrence:
    """Count a corpus as :func:`embedstore.training.sources.count_text` does, within about
    ``memory_limit`` bytes: in memory when the pairs fit, else on disk. A ``collector`` keeps
    the encoded tokens on their way (one read serves counting and skip-gram)."""
    if not 1 <= window < 1 << DISTANCE_BITS:
        raise ValueError(f"window must be from 1 to {(1 << DISTANCE_BITS) - 1}")
    path = Path(path)
    return_freed_memory()
    vocabulary = build_vocabulary(path, min_count, progress, block_bytes_for(memory_limit))
    sink = _SpillOnDemand(memory_limit, progress)
    try:
        blocks = encode(path, vocabulary, progress, block_bytes_for(memory_limit))
        if collector is not None:
            collector.expect(int(vocabulary.counts.sum()))
            blocks = collector.passing(blocks)
        counted = count_keys(blocks, vocabulary, window=window, sample=sample, seed=seed,
                             merge_at=merge_keys_for(memory_limit), sink=sink)
        if counted is not None or sink.counts is None:
            assert counted is not None
            return cooccurrence_of_keys(vocabulary, *counted, window)
        sink.counts.finish()
    except BaseException:
        if sink.counts is not None:
            sink.counts.close()
        raise
    return DiskCooccurrence(vocabulary.items, vocabulary.counts.astype(np.float64), sink.counts,
                            float(window))


class _SpillOnDemand:
    """A pair sink that opens its DuckDB database (and needs DuckDB) only when first used."""

    def __init__(self, memory_limit: int, progress: Progress | None) -> None:
        self.memory_limit = memory_limit
        self.progress = progress
        self.counts: SpilledCounts | None = None

    def add(self, keys: np.ndarray, numerators: np.ndarray) -> None:
        if self.counts is None:
            self.counts = SpilledCounts(self.memory_limit, self.progress)
        self.counts.add(keys, numerators)
