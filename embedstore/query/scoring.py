"""Cosine, top-k and analogy scoring over a vector matrix: the numeric core of every query.

Functions take arrays (the item matrix, the inverse of its per-row norms, query vectors) and
return rows and scores; they never touch the store. Scores of all-zero vectors are 0, never
NaN. :mod:`embedstore.query.search` builds exact search from these pieces.
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

    Rather than partially sorting every row, a threshold per row is read off a strided sample
    of its columns such that a few times ``k`` cells lie above it; only those candidates are
    sorted. A row whose threshold turns out too high falls back to an exact partition, so
    the result is always exact.
    """
    n_queries, n_candidates = scores.shape
    excluded = [(i, c) for i, columns in enumerate(exclude) for c in columns
                if 0 <= c < n_candidates]
    if excluded:
        rows_excluded, columns_excluded = zip(*excluded, strict=True)
        scores[list(rows_excluded), list(columns_excluded)] = -np.inf
    k = max(0, min(k, n_candidates))
    if k == 0 or n_queries == 0:
        return ([np.empty(0, np.int64)] * n_queries, [np.empty(0, scores.dtype)] * n_queries)
    threshold = top_k_thresholds(scores, k)
    if n_queries == 1:  # the common single query, without the bookkeeping of many rows
        row = scores[0]
        column = np.flatnonzero(row >= threshold[0])
        if len(column) < k:
            column = np.flatnonzero(row >= np.partition(row, n_candidates - k)[n_candidates - k])
        values = row[column]
        order = np.lexsort((column, -values))[:k]
        column, values = column[order].astype(np.int64), values[order]
        keep = values > -np.inf
        return [column[keep]], [values[keep]]
    flat = np.flatnonzero(scores >= threshold[:, None])  # 1-D nonzero: far faster than 2-D
    query_of, column = np.divmod(flat, n_candidates)
    counts = np.bincount(query_of, minlength=n_queries)
    short = np.flatnonzero(counts < k)
    if len(short):  # the sample misled us: exact thresholds for those rows
        exact = np.partition(scores[short], n_candidates - k, axis=1)[:, n_candidates - k]
        threshold[short] = exact
        redo = np.isin(query_of, short, invert=True)
        extra = [np.flatnonzero(scores[i] >= threshold[i]) for i in short]
        query_of = np.concatenate([query_of[redo], *[np.full(len(e), i) for i, e in
                                                     zip(short, extra, strict=True)]])
        column = np.concatenate([column[redo], *extra])
        counts[short] = [len(e) for e in extra]
    values = scores[query_of, column]
    order = np.lexsort((column, -values, query_of))
    column, values = column[order].astype(np.int64), values[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    top_columns, top_values = [], []
    for start in starts:
        picked_values = values[start : start + k]
        keep = picked_values > -np.inf
        top_columns.append(column[start : start + k][keep])
        top_values.append(picked_values[keep])
    return top_columns, top_values


SAMPLE_COLUMNS = 1024
"""Columns sampled per row to choose a top-k threshold (see :func:`top_k_rows`)."""


def top_k_thresholds(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, a score such that about ``4 k`` cells are at least as high (maybe fewer)."""
    n_candidates = scores.shape[1]
    stride = n_candidates // SAMPLE_COLUMNS
    sample_size = -(-n_candidates // stride) if stride else 0
    rank = -(-4 * k * sample_size // n_candidates) + 1 if stride else 0
    if stride < 2 or rank >= sample_size // 2:
        return np.partition(scores, n_candidates - k, axis=1)[:, n_candidates - k].copy()
    sample = scores[:, ::stride]
    return np.partition(sample, sample.shape[1] - rank, axis=1)[:, sample.shape[1] - rank].copy()


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
    scores = ranking_scores(vectors, inverse_norms, queries)
    scores *= inverse(np.linalg.norm(queries, axis=1))[:, None]
    return scores


MATRIX_PRODUCT_FROM = 4
"""Fewer queries than this are scored by one matrix-vector product each: OpenBLAS's matrix
product for two or three rows took 2.5 to 3.7 times as long per query as its matrix-vector
product (benchmarks/RESULTS.md, serving)."""
ROWS_FIRST_UP_TO = 16
"""Up to this many queries, ``vectors @ queries.T`` (the rows first) is the faster matrix
product: 1.4 to 2.4 times ``queries @ vectors.T`` for 4 to 16 queries over 35,000 x 100 and
262,144 x 300 rows on one thread, the transposition folded into the norms' pass; from 32
queries on the other shape is as fast or faster."""


def ranking_scores(
    vectors: np.ndarray, inverse_norms: np.ndarray, queries: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``dot(q, v) / |v|`` for every query row and matrix row: cosine times ``|q|``.

    Each row ranks the candidates exactly as cosine does, one pass over the scores cheaper;
    multiply the chosen scores by ``1 / |q|`` to get cosines. A single query is a
    matrix-vector product, written into ``out`` (float32, one slot per row) when given; so are
    two or three queries (see :data:`MATRIX_PRODUCT_FROM`). Up to :data:`ROWS_FIRST_UP_TO`
    queries the product is taken rows first.
    """
    if len(queries) == 1 and out is not None:
        scores = np.dot(vectors, queries[0], out=out[: len(vectors)])[None, :]
    elif len(queries) == 1:
        scores = (vectors @ queries[0])[None, :]
    elif len(queries) < MATRIX_PRODUCT_FROM:
        scores = np.empty((len(queries), len(vectors)), dtype=np.float32)
        for row, query in zip(scores, queries, strict=True):
            np.dot(vectors, query, out=row)
    elif len(queries) <= ROWS_FIRST_UP_TO:  # the faster product, turned while it is scaled
        scores = np.empty((len(queries), len(vectors)), dtype=np.float32)
        np.multiply((vectors @ queries.T).T, inverse_norms[None, :], out=scores)
        return scores
    else:
        scores = queries @ vectors.T
    scores *= inverse_norms[None, :]
    return scores


def inverse(norms: np.ndarray) -> np.ndarray:
    """``1 / norms`` with 0 where a norm is 0 (so all-zero vectors score 0, never NaN)."""
    norms = np.asarray(norms, dtype=np.float32)
    result = np.zeros(norms.shape, dtype=np.float32)
    np.divide(1.0, norms, out=result, where=norms > 0)
    return result


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros).

    >>> cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])).__round__(3)
    0.707
    """
    norm = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm > 0 else 0.0


def paired_cosines(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine of each row of ``left`` with the same row of ``right`` (float64, 0 for zeros)."""
    left, right = np.asarray(left, np.float64), np.asarray(right, np.float64)
    norms = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
    return np.divide((left * right).sum(axis=1), norms, out=np.zeros(len(left)),
                     where=norms > 0)


def analogy_targets(triples: np.ndarray) -> np.ndarray:
    """3CosAdd targets ``unit(a) - unit(b) + unit(c)`` of an ``m x 3 x d`` array of (a, b, c)
    vectors."""
    picked = np.asarray(triples, dtype=np.float32)
    m, _, d = picked.shape
    flat = picked.reshape(m * 3, d)
    flat = flat * inverse(np.linalg.norm(flat, axis=1))[:, None]
    picked = flat.reshape(m, 3, d)
    return picked[:, 0] - picked[:, 1] + picked[:, 2]


def basket_target(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """The sum of the unit rows of ``positive`` minus those of ``negative``: the direction of
    gensim's ``most_similar(positive, negative)`` mean (all-zero rows add nothing).

    >>> basket_target(np.array([[2, 0], [0, 3]], np.float32), np.array([[0, 1]], np.float32))
    array([1., 0.], dtype=float32)
    """
    picked = np.vstack([positive, negative]).astype(np.float32)
    picked *= inverse(np.linalg.norm(picked, axis=1))[:, None]
    return picked[: len(positive)].sum(axis=0) - picked[len(positive):].sum(axis=0)


def similar_target(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """What ``similar`` searches for: one item's own vector alone, else
    :func:`basket_target` of the positive and negative vectors (rows).

    >>> similar_target(np.array([[2, 0]], np.float32), np.empty((0, 2), np.float32))
    array([2., 0.], dtype=float32)
    """
    if len(positive) == 1 and not len(negative):
        return np.asarray(positive[0], dtype=np.float32)
    return basket_target(positive, negative)


def cosmul_scores(cosines: np.ndarray) -> np.ndarray:
    """3CosMul from the cosines of every row to a, b and c (a ``3 x n`` array):
    ``cos'(d, a) * cos'(d, c) / (cos'(d, b) + 1e-3)`` with ``cos' = (cos + 1) / 2``."""
    shifted = (cosines + 1) / 2
    return shifted[0] * shifted[2] / (shifted[1] + COSMUL_EPSILON)


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
    return cosmul_scores(cosine_matrix(vectors, inverse_norms, np.vstack([a, b, c])))
