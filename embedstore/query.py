"""Cosine top-k and analogy scoring over a vector matrix: the numeric core of every query.

Functions take the item matrix, the inverse of its per-row norms and query vectors; they never
touch the store.
Scores of all-zero vectors are 0, never NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

ANALOGY_METHODS = ("add", "mul")
COSMUL_EPSILON = 1e-3


def unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1 (an all-zero vector stays zero)."""
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def top_k(scores: np.ndarray, k: int, exclude: Iterable[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``k`` highest scores, best first (ties by lower row), leaving out ``exclude``.

    >>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 2, exclude=[3])
    (array([1, 2]), array([0.9, 0.5]))
    """
    rows, values = top_k_rows(np.array(scores, copy=True)[None, :], k, [list(exclude)])
    return rows[0], values[0]


def top_k_rows(
    scores: np.ndarray, k: int, exclude: Sequence[Iterable[int]]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per row of ``scores`` (queries x candidates): the ``k`` best columns, best first.

    Ties go to the lower column. ``exclude[i]`` lists columns left out of row ``i``; ``scores``
    is modified in place (excluded cells become ``-inf``). Rows with fewer than ``k`` columns
    left return fewer.
    """
    n_queries, n_candidates = scores.shape
    for i, columns in enumerate(exclude):
        valid = [c for c in columns if 0 <= c < n_candidates]
        scores[i, valid] = -np.inf
    k = max(0, min(k, n_candidates))
    if k == 0:
        return ([np.empty(0, np.int64)] * n_queries, [np.empty(0, scores.dtype)] * n_queries)
    if k < n_candidates:
        part = np.argpartition(scores, n_candidates - k, axis=1)[:, n_candidates - k :]
        # Where several columns tie with the k-th score, keep the lowest of them.
        kth = np.take_along_axis(scores, part, axis=1).min(axis=1)
        straddling = np.flatnonzero(np.count_nonzero(scores >= kth[:, None], axis=1) > k)
        for i in straddling:
            part[i] = np.lexsort((np.arange(n_candidates), -scores[i]))[:k]
    else:
        part = np.broadcast_to(np.arange(n_candidates), (n_queries, n_candidates))
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    part = np.take_along_axis(part, order, axis=1).astype(np.int64)
    values = np.take_along_axis(values, order, axis=1)
    keep = values > -np.inf
    return ([row[mask] for row, mask in zip(part, keep, strict=True)],
            [row[mask] for row, mask in zip(values, keep, strict=True)])


def cosine_matrix(
    vectors: np.ndarray, inverse_norms: np.ndarray, queries: np.ndarray
) -> np.ndarray:
    """Cosine of every query row (``m x d``) to every row of ``vectors``: an ``m x n`` matrix.

    ``inverse_norms`` is ``1 / norm`` per row of ``vectors``, 0 for all-zero rows (see
    :func:`inverse`), so no normalised copy of the matrix is ever made.

    >>> m = np.array([[1, 0], [0, 2], [0, 0]], dtype=np.float32)
    >>> q = np.array([[1, 1]], np.float32)
    >>> cosine_matrix(m, inverse(np.linalg.norm(m, axis=1)), q).round(3)
    array([[0.707, 0.707, 0.   ]], dtype=float32)
    """
    queries = np.asarray(queries, dtype=np.float32)
    scores = queries @ vectors.T
    scores *= inverse_norms[None, :]
    scores *= inverse(np.linalg.norm(queries, axis=1))[:, None]
    return scores


def inverse(norms: np.ndarray) -> np.ndarray:
    """``1 / norms`` with 0 where a norm is 0 (so all-zero vectors score 0, never NaN)."""
    norms = np.asarray(norms, dtype=np.float32)
    result = np.zeros(norms.shape, dtype=np.float32)
    np.divide(1.0, norms, out=result, where=norms > 0)
    return result


def analogy_scores(
    vectors: np.ndarray,
    inverse_norms: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    method: str = "add",
) -> np.ndarray:
    """Scores of every row as the answer to ``a - b + c`` (``a``, ``b``, ``c`` are vectors).

    ``add`` (3CosAdd, as word2vec and gensim): cosine to ``unit(a) - unit(b) + unit(c)``.
    ``mul`` (3CosMul, Levy and Goldberg 2014): ``cos'(d, a) * cos'(d, c) / (cos'(d, b) + 1e-3)``
    with each cosine shifted to [0, 1] as ``(cos + 1) / 2``.
    """
    if method == "add":
        return cosine_matrix(vectors, inverse_norms, (unit(a) - unit(b) + unit(c))[None, :])[0]
    shifted = (cosine_matrix(vectors, inverse_norms, np.vstack([a, b, c])) + 1) / 2
    return shifted[0] * shifted[2] / (shifted[1] + COSMUL_EPSILON)
