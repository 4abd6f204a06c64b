"""The search seam: every nearest-neighbour question goes through a :class:`Searcher`.

``similar``, ``analogy``, ``batch``, the evaluations and ``diff`` ask a searcher for the rows
nearest by cosine to target vectors; the searcher answers with rows and scores and knows
nothing of items or stores. :class:`ExactSearcher` scans every row, in bounded memory; an
approximate index (one per version, :class:`embedstore.query.ann.IndexSearcher`) plugs in behind the
same protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from ..errors import QueryError
from .rescoring import rescored_top_k, score_margins, shortlist
from .scoring import cosine_matrix, inverse, ranking_scores

SCORE_BUDGET = 1 << 22
"""Most similarity scores held at once (16 MiB of float32, small enough to stay in cache)."""
QUERY_TILE = 64
"""Targets scored together by one matrix product (measured best in benchmarks/)."""
SPLIT_SCORES = 1 << 15
"""Products of fewer scores than this are not split over threads (not worth the hand-off)."""
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``threads`` threads for products split by rows."""
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="embedstore-scan")
        return _POOLS[threads]

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
    :data:`QUERY_TILE` targets are scored together against blocks of rows, each block keeps
    the rows near its top ``k`` (:func:`~embedstore.query.rescoring.shortlist`) and those are
    rescored exactly (:func:`~embedstore.query.rescoring.rescored_top_k`). Every row of the
    matrix is read once per tile of targets, not once per target, and a target's answer is the
    same, bit for bit, whether it is asked alone or among others.

    >>> m = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    >>> rows, scores = ExactSearcher(m, np.linalg.norm(m, axis=1)).nearest(m[:1], 2, [[0]])
    >>> rows[0].tolist(), [round(float(s), 3) for s in scores[0]]
    ([2, 1], [0.707, 0.0])
    """

    approximate = False
    parts = 1
    """Threads a product is split over, by blocks of rows (each block a product of its own,
    best run on one BLAS thread): a server sets it to its cores, as it runs one product at
    a time; 1 leaves the threads to BLAS."""

    def __init__(self, vectors: np.ndarray, norms: np.ndarray) -> None:
        self._vectors = np.asarray(vectors)  # a plain view: slicing a memmap costs more
        self._inverse_norms = inverse(norms)
        self._local = threading.local()

    def _candidates(self, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        if limit is None:
            return self._vectors, self._inverse_norms
        if limit < 1:
            raise QueryError(f"restrict must be at least 1, not {limit}")
        return self._vectors[:limit], self._inverse_norms[:limit]

    def _scratch_scores(self) -> np.ndarray:
        """A reusable buffer, one per thread, for one target's scores (saves allocating it
        every query)."""
        scratch: np.ndarray | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = np.empty(len(self._vectors), dtype=np.float32)
            self._local.scratch = scratch
        return scratch

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        check_k(k)
        vectors, inverse_norms = self._candidates(limit)
        targets = np.asarray(targets, dtype=np.float32)
        excluded = [list(rows) for rows in exclude] if exclude is not None else \
            [[] for _ in range(len(targets))]
        tile = min(QUERY_TILE, max(1, len(targets)))
        all_rows: list[np.ndarray] = []
        all_scores: list[np.ndarray] = []
        for start in range(0, len(targets), tile):
            queries = targets[start : start + tile]
            shortlists = self._shortlists(vectors, inverse_norms, queries, k,
                                          excluded[start : start + tile])
            rows, scores = rescored_top_k(self._vectors, self._inverse_norms, queries,
                                          shortlists, k)
            all_rows += rows
            all_scores += scores
        return all_rows, all_scores

    def _shortlists(self, vectors: np.ndarray, inverse_norms: np.ndarray,
                    queries: np.ndarray, k: int, exclude: list[list[int]]) -> list[np.ndarray]:
        """Per query, the rows that may be among its best ``k`` (see :func:`shortlist`), found
        block by block of at most ``SCORE_BUDGET / len(queries)`` rows, the blocks split over
        :attr:`parts` threads."""
        n = len(vectors)
        block = max(1, SCORE_BUDGET // len(queries))
        parts = self.parts if n * len(queries) >= SPLIT_SCORES else 1
        block = min(block, max(1, -(-n // parts)))
        margins = score_margins(queries)

        def scan(first: int) -> list[np.ndarray]:
            last = min(first + block, n)
            local = exclude if n <= block else \
                [[row - first for row in rows if first <= row < last] for rows in exclude]
            out = self._scratch_scores() if len(queries) == 1 else None
            scores = ranking_scores(vectors[first:last], inverse_norms[first:last], queries,
                                    out=out)
            return [rows + first for rows in shortlist(scores, k, local, margins)]

        firsts = list(range(0, n, block))
        found: list[list[np.ndarray]] = [[] for _ in firsts]
        pending = iter(range(len(firsts)))
        lock = threading.Lock()

        def work() -> None:  # this thread and its helpers take the next block until none
            while True:
                with lock:
                    j = next(pending, None)
                if j is None:
                    return
                found[j] = scan(firsts[j])

        helpers = [_pool(parts - 1).submit(work) for _ in range(min(parts, len(firsts)) - 1)]
        work()
        for helper in helpers:
            helper.result()
        return [np.concatenate([lists[i] for lists in found]) for i in range(len(queries))]

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        vectors, inverse_norms = self._candidates(limit)
        return cosine_matrix(vectors, inverse_norms, targets)
