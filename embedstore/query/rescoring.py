"""The scores an answer reports, the same bit for bit whatever else was asked at the same time.

One matrix product answers many targets in a single pass over the vectors, but BLAS rounds its
sums in an order that depends on the product's shape (one target or many, which kernel, how
many threads): a target asked alone and the same target asked among others can get scores that
differ in the last bit, and items whose scores tie can swap. So every exact answer is found in
two steps:

1. a product (matrix-vector for one target, matrix-matrix for several) ranks the rows, and
   each row whose ranking score lies within :func:`score_margins` of the ``k``-th best is kept:
   the margin bounds the rounding of any product's sums, so the true best ``k`` are always
   kept (:func:`shortlist`);
2. each kept row is scored again from its own vector and the target alone (products in double
   precision, exact for single-precision inputs, summed in a fixed order) and the best ``k`` by
   that cosine, ties to the lower row, are the answer (:func:`rescored_top_k`).

An answer thus depends only on its target and the vectors, never on its neighbours in a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .scoring import top_k_thresholds

UNIT_ROUNDING = 2.0**-24
"""The relative rounding error of one single-precision operation."""
MARGIN_SAFETY = 8
"""How many times the worst-case rounding of a product's score a shortlist leaves room for."""
RESCORE_CHUNK = 4096
"""Shortlisted rows rescored at once (bounded memory even when very many rows tie)."""


def target_norms(targets: np.ndarray) -> np.ndarray:
    """The length of each target row, in double precision, summed in a fixed order."""
    wide = np.asarray(targets, dtype=np.float64)
    return np.sqrt(np.add.reduce(wide * wide, axis=1))


def score_margins(targets: np.ndarray) -> np.ndarray:
    """Per target (``m x d``): room, in ranking-score units (``dot(q, v) / |v|``), for the
    rounding of any product's sums. A sum of ``d`` products rounds by at most about ``d`` units
    of rounding times ``|q| |v|``; two computations of one score differ by at most twice that.

    >>> score_margins(np.zeros((1, 4), np.float32)).tolist()
    [0.0]
    """
    dim = np.shape(targets)[1]
    return MARGIN_SAFETY * (dim + 4) * UNIT_ROUNDING * target_norms(targets)


def exclude_cells(scores: np.ndarray, exclude: Sequence[Iterable[int]]) -> None:
    """Set ``scores[i, c]`` to ``-inf`` for every column ``c`` of ``exclude[i]`` (in range)."""
    n_candidates = scores.shape[1]
    cells = [(i, c) for i, columns in enumerate(exclude) for c in columns
             if 0 <= c < n_candidates]
    if cells:
        rows, columns = zip(*cells, strict=True)
        scores[list(rows), list(columns)] = -np.inf


def shortlist(scores: np.ndarray, k: int, exclude: Sequence[Iterable[int]],
              margins: np.ndarray) -> list[np.ndarray]:
    """Per row of ``scores`` (queries x candidates): the columns scoring within ``margins[i]``
    of the row's ``k``-th best score (every column left when fewer than ``k`` are), unsorted.

    ``scores`` is modified in place (excluded cells become ``-inf``). Only the cells above a
    threshold read off a sample of each row are looked at, as in
    :func:`~embedstore.query.scoring.top_k_rows`; a row whose threshold was too high is scanned
    again. A target of length 0 (``margins[i] == 0``) scores 0 everywhere, so its shortlist
    is its first ``k`` columns left.

    >>> scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.89999]], np.float32)
    >>> shortlist(scores, 1, [[3]], np.array([1e-3]))[0].tolist()
    [1, 4]
    """
    n_queries, n_candidates = scores.shape
    exclude_cells(scores, exclude)
    k = min(k, n_candidates)
    if k <= 0:
        return [np.empty(0, np.int64) for _ in range(n_queries)]
    thresholds = top_k_thresholds(scores, k)
    flat = np.flatnonzero(scores >= thresholds[:, None])
    query_of, column = np.divmod(flat, n_candidates)
    ends = np.cumsum(np.bincount(query_of, minlength=n_queries))
    lists = []
    for i in range(n_queries):
        row = scores[i]
        if margins[i] == 0:
            lists.append(np.flatnonzero(row > -np.inf)[:k])
            continue
        columns = column[ends[i - 1] if i else 0 : ends[i]]
        values = row[columns]
        if len(values) < k:  # the guess was too high: the exact k-th best
            kth = np.partition(row, n_candidates - k)[n_candidates - k]
        else:
            kth = np.partition(values, len(values) - k)[len(values) - k]
        floor = kth - margins[i]
        if len(values) < k or floor < thresholds[i]:
            columns = np.flatnonzero(row >= floor)
        else:
            columns = columns[values >= floor]
        lists.append(columns[row[columns] > -np.inf].astype(np.int64))
    return lists


def exact_cosines(vectors: np.ndarray, inverse_norms: np.ndarray, targets: np.ndarray,
                  scales: np.ndarray, rows: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """The cosine of row ``rows[j]`` to target ``owners[j]``, from that row and that target
    alone: products in double precision summed in a fixed order, times the row's inverse norm
    and the target's ``scales`` (its inverse length), rounded to single precision."""
    picked = np.asarray(vectors[rows], dtype=np.float64)
    dots = np.add.reduce(picked * targets[owners], axis=1)
    scaled = dots * np.asarray(inverse_norms[rows], dtype=np.float64) * scales[owners]
    return scaled.astype(np.float32)


def rescored_top_k(vectors: np.ndarray, inverse_norms: np.ndarray, targets: np.ndarray,
                   shortlists: Sequence[np.ndarray], k: int
                   ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per target, the best ``k`` of its shortlisted rows by :func:`exact_cosines`, best
    first, ties to the lower row: ``int64`` rows and ``float32`` cosines.

    >>> m = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    >>> rows, scores = rescored_top_k(m, 1 / np.linalg.norm(m, axis=1), m[:1],
    ...                               [np.array([1, 2])], 2)
    >>> rows[0].tolist(), [round(float(s), 3) for s in scores[0]]
    ([2, 1], [0.707, 0.0])
    """
    wide = np.asarray(targets, dtype=np.float64)
    lengths = target_norms(wide)
    scales = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    sizes = [len(rows) for rows in shortlists]
    rows = np.concatenate(shortlists).astype(np.int64) if shortlists else np.empty(0, np.int64)
    owners = np.repeat(np.arange(len(shortlists)), sizes)
    cosines = np.concatenate([
        exact_cosines(vectors, inverse_norms, wide, scales, rows[start : start + RESCORE_CHUNK],
                      owners[start : start + RESCORE_CHUNK])
        for start in range(0, len(rows), RESCORE_CHUNK)] or [np.empty(0, np.float32)])
    order = np.lexsort((rows, -cosines, owners))
    rows, cosines = rows[order], cosines[order]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    return ([rows[start : start + min(k, size)] for start, size in zip(starts, sizes, strict=True)],
            [cosines[start : start + min(k, size)]
             for start, size in zip(starts, sizes, strict=True)])
