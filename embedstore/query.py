"""Cosine top-k and analogy scoring over a vector matrix: the numeric core of every query.

Functions take the item matrix, its per-row norms and row numbers; they never touch the store.
Scores of all-zero vectors are 0, never NaN.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

ANALOGY_METHODS = ("add", "mul")
COSMUL_EPSILON = 1e-3


def cosine_scores(vectors: np.ndarray, norms: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``query`` to every row of ``vectors`` (0 where a norm is 0).

    >>> m = np.array([[1, 0], [0, 2], [0, 0]], dtype=np.float32)
    >>> cosine_scores(m, np.linalg.norm(m, axis=1), np.array([1, 1], np.float32)).round(3)
    array([0.707, 0.707, 0.   ], dtype=float32)
    """
    query = np.asarray(query, dtype=np.float32)
    dots = vectors @ query
    denominator = norms * np.float32(np.linalg.norm(query))
    scores = np.zeros(dots.shape, dtype=np.float32)
    np.divide(dots, denominator, out=scores, where=denominator > 0)
    return scores


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
    scores = np.array(scores, copy=True)
    excluded = [row for row in exclude if 0 <= row < len(scores)]
    scores[excluded] = -np.inf
    available = len(scores) - len(set(excluded))
    k = max(0, min(k, available))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
    candidates = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = np.lexsort((candidates, -scores[candidates]))
    rows = candidates[order][:k]
    return rows.astype(np.int64), scores[rows]


def analogy_scores(
    vectors: np.ndarray,
    norms: np.ndarray,
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
        return cosine_scores(vectors, norms, unit(a) - unit(b) + unit(c))
    shifted = [(cosine_scores(vectors, norms, vector) + 1) / 2 for vector in (a, b, c)]
    return shifted[0] * shifted[2] / (shifted[1] + COSMUL_EPSILON)
