"""Count windowed co-occurrences of a corpus's token blocks, vectorised with numpy.

For every token kept by ``min_count`` and by word2vec's frequent-word subsampling, each other
kept token of the same line at distance ``d <= window`` co-occurs with it with weight
``(window - d + 1) / window``: the expected weight of word2vec's random reduced window (a
window of ``b`` drawn uniformly from 1..window covers distance ``d`` with that probability),
without its noise. Subsampling follows word2vec: a token of count ``c`` among ``T`` is kept
with probability ``(sqrt(c / (s T)) + 1) * s T / c`` (``s`` = ``sample``; 0 keeps all), drawn
with ``seed``; dropped tokens leave no gap, as in word2vec.

Pairs are summed per block of lines into distinct ``(low id, high id)`` keys, and blocks are
merged when they grow, so memory follows the distinct pairs, not the corpus length. Weights are
summed as integer numerators ``window - d + 1`` and divided by ``window`` once at the end, so
the sums are exact whatever order they are added in: the out-of-core aggregation of a
:class:`PairSink` (:mod:`embedstore.engines.bounded.spilled_counts`) gives the same counts bit for
bit.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

from ..inputs.corpus import Block, Vocabulary
from .cooccurrence import Cooccurrence

MERGE_AT = 40_000_000
"""Partial pair tables are merged once they hold this many keys between them."""


def keep_probability(counts: np.ndarray, total: int, sample: float) -> np.ndarray:
    """word2vec's probability of keeping each item's tokens (1 where ``sample`` is 0).

    >>> keep_probability(np.array([1000, 1]), 1001, 1e-3).round(3).tolist()
    [0.033, 1.0]
    """
    if sample <= 0:
        return np.ones(len(counts))
    threshold = sample * total
    frequency = counts.astype(np.float64)
    return np.minimum(1.0, (np.sqrt(frequency / threshold) + 1) * threshold / frequency)


DISTANCE_BITS = 7
"""Low bits of a block key that hold the distance (so windows up to 127)."""


class PairSink(Protocol):
    """Where partial pair tables go when they outgrow memory (sorted keys, int64 numerators)."""

    def add(self, keys: np.ndarray, numerators: np.ndarray) -> None: ...


def _block_pairs(block: Block, keep: np.ndarray | None, window: int, n_items: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pair keys of one block and their summed weight numerators (int64,
    ``window - d + 1`` per co-occurrence at distance ``d``), sorted by key.

    Keys carry their distance in their low bits while sorting, so one value sort (no
    argsort, no weights to carry along) then two linear passes give the sums.
    """
    ids, line = block.ids, block.line
    known = ids >= 0
    ids, line = ids[known], line[known]
    if keep is not None:
        kept = rng.random(len(ids)) < keep[ids]
        ids, line = ids[kept], line[kept]
    parts = []
    for distance in range(1, min(window, len(ids) - 1) + 1):
        same_line = line[:-distance] == line[distance:]
        left, right = ids[:-distance][same_line], ids[distance:][same_line]
        pair = np.minimum(left, right) * n_items + np.maximum(left, right)
        parts.append((pair << DISTANCE_BITS) | distance)
    coded = np.concatenate(parts) if parts else np.empty(0, np.int64)
    if len(coded) == 0:  # no two kept tokens within the window on one line
        return np.empty(0, np.int64), np.empty(0, np.int64)
    coded.sort()
    starts = np.flatnonzero(np.r_[True, coded[1:] != coded[:-1]])
    runs = np.diff(np.r_[starts, len(coded)])
    distance_numerator = window - np.arange(window + 1) + 1
    weights = runs * distance_numerator[coded[starts] & ((1 << DISTANCE_BITS) - 1)]
    return _sum_sorted(coded[starts] >> DISTANCE_BITS, weights)


def _sum_sorted(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the weights of equal neighbours in sorted ``keys``."""
    if len(keys) == 0:
        return keys, weights
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.add.reduceat(weights, starts)


def _merge(keys: list[np.ndarray], weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted partial tables (a stable sort finds and merges their sorted runs)."""
    all_keys = np.concatenate(keys)
    order = np.argsort(all_keys, kind="stable")
    return _sum_sorted(all_keys[order], np.concatenate(weights)[order])


def count_keys(
    blocks: Iterable[Block], vocabulary: Vocabulary, *, window: int = 5, sample: float = 1e-3,
    seed: int = 0, merge_at: int = MERGE_AT, sink: PairSink | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct pair keys (``low id * n_items + high id``, sorted) and their int64 weight
    numerators (divide by ``window``), or None when they went to ``sink``: with a sink,
    partial tables holding more than ``merge_at`` keys are merged and handed to it (and so is
    the rest at the end, once anything was)."""
    if not 1 <= window < 1 << DISTANCE_BITS:
        raise ValueError(f"window must be from 1 to {(1 << DISTANCE_BITS) - 1}")
    n_items = len(vocabulary.items)
    kept_total = int(vocabulary.counts.sum())
    keep = keep_probability(vocabulary.counts, kept_total, sample) if sample > 0 else None
    rng = np.random.default_rng(seed)
    partial_keys: list[np.ndarray] = []
    partial_weights: list[np.ndarray] = []
    spilled = False
    for block in blocks:
        keys, weights = _block_pairs(block, keep, window, n_items, rng)
        del block
        partial_keys.append(keys)
        partial_weights.append(weights)
        if sum(map(len, partial_keys)) > merge_at:
            merged = _merge(partial_keys, partial_weights)
            partial_keys, partial_weights = [merged[0]], [merged[1]]
            if sink is not None:
                sink.add(*merged)
                partial_keys, partial_weights, spilled = [], [], True
            del merged
    if partial_keys:
        keys, weights = _merge(partial_keys, partial_weights)
    else:
        keys, weights = np.empty(0, np.int64), np.empty(0, np.int64)
    if spilled and sink is not None:
        sink.add(keys, weights)
        return None
    return keys, weights


def count_blocks(
    blocks: Iterable[Block], vocabulary: Vocabulary, *, window: int = 5, sample: float = 1e-3,
    seed: int = 0,
) -> Cooccurrence:
    """The weighted co-occurrence pairs of a corpus given as token-id blocks.

    Examples
    --------
    >>> from embedstore.inputs.corpus import Block, Vocabulary
    >>> vocabulary = Vocabulary(["a", "b", "c"], np.array([2, 2, 1]), {}, 5)
    >>> block = Block(ids=np.array([0, 1, 2, 1, 0]), line=np.array([0, 0, 0, 1, 1]))
    >>> data = count_blocks([block], vocabulary, window=2, sample=0)
    >>> sorted((data.items[l], data.items[r], float(w)) for l, r, w in
    ...        zip(data.left, data.right, data.weight))
    [('a', 'b', 2.0), ('a', 'c', 0.5), ('b', 'c', 1.0)]
    """
    counted = count_keys(blocks, vocabulary, window=window, sample=sample, seed=seed)
    assert counted is not None  # no sink: the counts stay in memory
    keys, numerators = counted
    return cooccurrence_of_keys(vocabulary, keys, numerators, window)


def cooccurrence_of_keys(vocabulary: Vocabulary, keys: np.ndarray, numerators: np.ndarray,
                         window: int) -> Cooccurrence:
    """The :class:`Cooccurrence` of sorted pair keys and their weight numerators."""
    n_items = len(vocabulary.items)
    empty = np.empty(0, dtype=np.int64)
    return Cooccurrence(
        items=vocabulary.items,
        item_counts=vocabulary.counts.astype(np.float64),
        left=keys // n_items,
        right=keys % n_items,
        weight=numerators / window,
        negative_left=empty,
        negative_right=empty,
    )


def write_pair_file(cooc: Cooccurrence, path: str | Path) -> None:
    """Write ``cooc`` as a pair file (``item_a,item_b,weight`` with a header; explicit
    negative pairs last, with weight 0) that :func:`embedstore.inputs.pair_file.read_pairs` reads
    back
    to the same pairs."""
    negatives = (cooc.negative_left, cooc.negative_right, np.zeros(cooc.n_negative_pairs))
    write_pair_chunks(cooc.items, [(cooc.left, cooc.right, cooc.weight), negatives], path)


def write_pair_chunks(items: list[str],
                      chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
                      path: str | Path) -> None:
    """Write (left ids, right ids, weights) chunks as a pair file with a header (a weight of
    0 as ``0``: an explicit negative pair)."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item_a", "item_b", "weight"])
        for lefts, rights, weights in chunks:
            for left, right, weight in zip(lefts.tolist(), rights.tolist(), weights.tolist(),
                                           strict=True):
                writer.writerow([items[left], items[right], repr(weight) if weight else "0"])
