"""The search seam: every nearest-neighbour question goes through a :class:`Searcher`.

``similar``, ``analogy``, ``batch``, the evaluations and ``diff`` ask a searcher for the rows
nearest by cosine to target vectors; the searcher answers with rows and scores and knows
nothing of items or stores. :class:`ExactSearcher` scans every row, in bounded memory; an
approximate index (one per version, :class:`embedstore.query.ann.IndexSearcher`) plugs in behind the
same protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from ..errors import QueryError
from .scoring import blocked_top_k, cosine_matrix, inverse, ranking_scores, top_k_rows

SCORE_BUDGET = 1 << 22
"""Most similarity scores held at once (16 MiB of float32, small enough to stay in cache)."""
QUERY_TILE = 64
"""Targets scored together by one matrix product (measured best in benchmarks/)."""

Ranked = tuple[list[np.ndarray], list[np.ndarray]]
"""Per target: ``int64`` rows, best first, and their ``float32`` scores."""


class Searcher(Protocol):
    """Finds the rows of one version's matrix nearest by cosine to target vectors."""

    approximate: bool
    """True when :meth:`nearest` may miss some of the true nearest rows (an index)."""

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        """The ``k`` rows with the highest cosine to each row of ``targets`` (``m x d``),
        best first, ties to the lower row.

        ``exclude[i]`` lists rows left out for target ``i``; ``limit`` restricts the candidates
        to the first ``limit`` rows (the most frequent items). Fewer than ``k`` rows come back
        when fewer candidates are left.
        """
        ...

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        """The cosine of every target to every candidate row (``m x n``), for scores built
        from several cosines (3CosMul). An index may answer this by exact computation."""
        ...


def check_k(k: int) -> None:
    """Raise :class:`QueryError` unless ``k`` asks for at least one result."""
    if k < 1:
        raise QueryError(f"k must be at least 1, not {k}")


class ExactSearcher:
    """Exact cosine search over a (memory-mapped) matrix and its stored row norms.

    Work is tiled so that at most :data:`SCORE_BUDGET` scores exist at once: up to
    :data:`QUERY_TILE` targets are scored together against blocks of rows, each block's top
    ``k`` is kept and the blocks' candidates are merged. Every row of the matrix is read once
    per tile of targets, not once per target.

    >>> m = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    >>> rows, scores = ExactSearcher(m, np.linalg.norm(m, axis=1)).nearest(m[:1], 2, [[0]])
    >>> rows[0].tolist(), [round(float(s), 3) for s in scores[0]]
    ([2, 1], [0.707, 0.0])
    """

    approximate = False

    def __init__(self, vectors: np.ndarray, norms: np.ndarray) -> None:
        self._vectors = vectors
        self._inverse_norms = inverse(norms)
        self._scratch: np.ndarray | None = None

    def _candidates(self, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        if limit is None:
            return self._vectors, self._inverse_norms
        if limit < 1:
            raise QueryError(f"restrict must be at least 1, not {limit}")
        return self._vectors[:limit], self._inverse_norms[:limit]

    def _scratch_scores(self) -> np.ndarray:
        """A reusable buffer for one target's scores (saves allocating it every query)."""
        if self._scratch is None:
            self._scratch = np.empty(len(self._vectors), dtype=np.float32)
        return self._scratch

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        check_k(k)
        vectors, inverse_norms = self._candidates(limit)
        n = len(vectors)
        targets = np.asarray(targets, dtype=np.float32)
        excluded = [list(rows) for rows in exclude] if exclude is not None else \
            [[] for _ in range(len(targets))]
        tile = min(QUERY_TILE, max(1, len(targets)))
        block = max(1, SCORE_BUDGET // tile)
        target_scale = inverse(np.linalg.norm(targets, axis=1))
        all_rows: list[np.ndarray] = []
        all_scores: list[np.ndarray] = []
        for start in range(0, len(targets), tile):
            queries = targets[start : start + tile]
            left_out = excluded[start : start + tile]
            if n <= block:
                scores = ranking_scores(vectors, inverse_norms, queries,
                                        out=self._scratch_scores() if len(queries) == 1
                                        else None)
                rows, values = top_k_rows(scores, k, left_out)
            else:
                rows, values = blocked_top_k(vectors, inverse_norms, queries, k, left_out,
                                             block)
            all_rows += rows
            all_scores += [v * scale for v, scale in
                           zip(values, target_scale[start : start + tile], strict=True)]
        return all_rows, all_scores

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        vectors, inverse_norms = self._candidates(limit)
        return cosine_matrix(vectors, inverse_norms, targets)
