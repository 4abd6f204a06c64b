"""The approximate searcher: candidates from an index, rescored exactly from the vectors.

:class:`IndexSearcher` is a :class:`~embedstore.query.search.Searcher` like the exact one: rows and
scores in and out. An index of either kind (:mod:`.ivf`, :mod:`.hnsw`) only proposes
candidates (:class:`Candidates`); every candidate is scored again exactly from the stored
vectors and norms, so a score is the same cosine exact search gives and only the set of
candidates is approximate. No index has a filter: rows left out of a query (its own items) and
rows beyond ``restrict`` are dropped after the search, which fetches more candidates to make up
for them, and again more (up to every row) until ``k`` are left; when that would be a large
share of the candidates, exact search over them is cheaper and answers instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from ..rescoring import rescored_top_k
from ..scoring import inverse
from ..search import ExactSearcher, Ranked, check_k

EXACT_SHARE = 4
"""A query that would have to fetch more than ``1 / EXACT_SHARE`` of the rows from the index
is answered by exact search instead (cheaper, and the whole answer)."""
EXACT_ROWS_PER_FETCH = 32
"""A restricted query whose candidates number at most this many per row it would fetch is
answered by exact search over the candidates (scanning them costs less than the index)."""


def search_threads(targets: int) -> int:
    """Threads for an index search of ``targets`` targets: one for a single target (both
    libraries search targets in parallel, not the parts of one), else up to every core."""
    return max(1, min(targets, os.cpu_count() or 1))


class Candidates(Protocol):
    """An opened index: proposes, for each target, up to ``fetch`` rows likely nearest."""

    def search(self, targets: np.ndarray, fetch: int) -> list[np.ndarray]:
        """Per row of ``targets`` (``float32``, ``m x d``), the ``int64`` rows proposed (fewer
        than ``fetch`` when the index finds fewer)."""
        ...


class IndexSearcher:
    """Cosine search through an index's candidates, rescored exactly.

    ``exact`` answers what the index cannot: :meth:`cosines` (3CosMul needs every score) and
    queries that would fetch a large share of the rows.
    """

    approximate = True

    def __init__(self, index: Candidates, vectors: np.ndarray, norms: np.ndarray,
                 exact: Callable[[], ExactSearcher]) -> None:
        self._index = index
        self._vectors = np.asarray(vectors)  # a plain view: slicing a memmap costs more
        self._norms = norms
        self._exact = exact

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        check_k(k)
        n = len(self._vectors)
        if limit is not None and limit < 1:
            return self._exact().nearest(targets, k, exclude, limit)  # raises the error
        candidates = n if limit is None else min(limit, n)
        targets = np.asarray(targets, dtype=np.float32)
        excluded = [set(map(int, rows)) for rows in exclude] if exclude is not None else \
            [set() for _ in range(len(targets))]
        rows: list[np.ndarray] = [np.empty(0, np.int64)] * len(targets)
        scores: list[np.ndarray] = [np.empty(0, np.float32)] * len(targets)
        pending: dict[int, int] = {}  # target -> how many to fetch
        for i, left_out in enumerate(excluded):
            wanted = k + sum(1 for row in left_out if row < candidates)
            pending[i] = min(n, math.ceil(wanted * n / candidates))
        while pending:
            to_exact = [i for i, fetch in pending.items() if fetch * EXACT_SHARE > n
                        or candidates <= fetch * EXACT_ROWS_PER_FETCH]
            for i in to_exact:
                del pending[i]
            if to_exact:
                exact_rows, exact_scores = self._exact().nearest(
                    targets[to_exact], k, [sorted(excluded[i]) for i in to_exact], limit)
                for j, i in enumerate(to_exact):
                    rows[i], scores[i] = exact_rows[j], exact_scores[j]
            by_fetch: dict[int, list[int]] = {}
            for i, fetch in pending.items():
                by_fetch.setdefault(fetch, []).append(i)
            for fetch, group in by_fetch.items():
                found_rows = self._index.search(np.ascontiguousarray(targets[group]), fetch)
                for i, found in zip(group, found_rows, strict=True):
                    keep = found[(found < candidates)
                                 & ~np.isin(found, list(excluded[i]))]
                    if len(keep) >= k or fetch >= n:
                        rows[i], scores[i] = self._rescore(targets[i], keep, k)
                        del pending[i]
                    else:
                        pending[i] = min(n, fetch * 4)
        return rows, scores

    def _rescore(self, target: np.ndarray, rows: np.ndarray, k: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``rows`` by exact cosine, ties to the lower row: the same scores,
        bit for bit, as exact search gives them (:mod:`~embedstore.query.rescoring`)."""
        rows = np.unique(rows)  # sorted: local order is row order, so ties still go lower
        local, scores = rescored_top_k(self._vectors[rows], inverse(self._norms[rows]),
                                       target[None, :], [np.arange(len(rows))], k)
        return rows[local[0]], scores[0]

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        return self._exact().cosines(targets, limit)
