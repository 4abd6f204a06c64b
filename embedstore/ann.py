"""Approximate nearest-neighbour search: an HNSW index (usearch) behind the search seam.

:class:`IndexSearcher` is a :class:`~embedstore.search.Searcher` like the exact one: rows and
scores in and out. The index holds a half-precision copy of the vectors and the HNSW graph; it
proposes candidates, and every candidate is scored again exactly from the stored vectors and
norms, so a score is the same cosine exact search gives and only the set of candidates is
approximate. The index has no filter: rows left out of a query (its own items) and rows beyond
``restrict`` are dropped after the search, which fetches more candidates to make up for them,
and again more (up to every row) until ``k`` are left; when that would be a large share of the
candidates, exact search over them is cheaper and answers instead.

This is the only module that imports usearch, and it does so only when an index is built or
opened: a version without an index never loads it. Another library (faiss, say) would be
another class here with the same two methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import StoreError
from .query import inverse
from .search import ExactSearcher, Ranked, check_k

if TYPE_CHECKING:
    from usearch.compiled import Index as CompiledIndex

    from .store import IndexRecord

LIBRARY = "usearch"
SUFFIX = "usearch"
DEFAULT_CONNECTIVITY = 16
DEFAULT_EXPANSION_ADD = 128
DEFAULT_EXPANSION_SEARCH = 64
SEARCH_THREADS = 1
"""Threads per index search: queries already run side by side (server threads and workers),
as exact search runs on one BLAS thread in the server."""
ADD_CHUNK = 65536
"""Rows added to the index per call (so progress can be reported and memory stays bounded)."""
EXACT_SHARE = 4
"""A query that would have to fetch more than ``1 / EXACT_SHARE`` of the rows from the index
is answered by exact search instead (cheaper, and the whole answer)."""
EXACT_ROWS_PER_FETCH = 32
"""A restricted query whose candidates number at most this many per row it would fetch is
answered by exact search over the candidates (scanning them costs less than the graph walk)."""


def missing_library() -> StoreError:
    return StoreError("approximate search needs the usearch library: pip install "
                      "'embedstore[ann]'; or query with --exact")


def build_settings(connectivity: int, expansion_add: int, expansion_search: int,
                   threads: int) -> dict[str, Any]:
    """The settings an index is built with and recorded under (checked, ready to store)."""
    for name, value in (("connectivity", connectivity), ("expansion_add", expansion_add),
                        ("expansion_search", expansion_search)):
        if value < 2:
            raise StoreError(f"--{name.replace('_', '-')} must be at least 2, not {value}")
    if threads < 0:
        raise StoreError(f"--threads must be 0 (every core) or more, not {threads}")
    try:
        import usearch
    except ImportError:
        raise missing_library() from None
    return {"metric": "cos", "dtype": "f16", "connectivity": connectivity,
            "expansion_add": expansion_add, "expansion_search": expansion_search,
            "threads": threads, "library_version": usearch.__version__}


def write_index(vectors: np.ndarray, settings: dict[str, Any], path: Path,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Build the HNSW index of ``vectors`` (rows are keys) and save it to ``path``.

    With ``threads`` 1 in the settings the file is the same, byte for byte, on every run.
    """
    from usearch.index import Index

    index = Index(ndim=vectors.shape[1], metric=settings["metric"], dtype=settings["dtype"],
                  connectivity=settings["connectivity"],
                  expansion_add=settings["expansion_add"],
                  expansion_search=settings["expansion_search"])
    n = len(vectors)
    for start in range(0, n, ADD_CHUNK):
        block = np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32)
        index.add(np.arange(start, start + len(block), dtype=np.uint64), block,
                  threads=settings["threads"])
        if progress is not None:
            progress(start + len(block), n)
    index.save(str(path))


def open_index(path: Path, record: IndexRecord, dim: int) -> CompiledIndex:
    """Memory-map an index file (nothing is read until a query walks the graph).

    The compiled core is used directly: its Python wrapper imports more than a cold query
    needs (a progress bar library among others).
    """
    try:
        from usearch.compiled import Index, MetricKind, ScalarKind
    except ImportError:
        raise missing_library() from None
    settings = record.settings
    index = Index(ndim=dim, dtype=ScalarKind.F16 if settings.get("dtype") == "f16"
                  else ScalarKind.F32, metric_kind=MetricKind.Cos,
                  connectivity=int(settings.get("connectivity", DEFAULT_CONNECTIVITY)))
    try:
        index.view_index_from_path(str(path), None)
    except Exception as exc:  # the library's own errors for a file it cannot read
        raise StoreError(f"the index {record.path} cannot be read ({exc}); run embed verify "
                         "and rebuild it with embed index build, or query with --exact"
                         ) from None
    if index.ndim != dim:
        raise StoreError(f"the index {record.path} does not fit its version (dimension "
                         f"{index.ndim}, expected {dim}); rebuild it with embed index build, "
                         "or query with --exact")
    index.expansion_search = int(settings.get("expansion_search", DEFAULT_EXPANSION_SEARCH))
    return index


class IndexSearcher:
    """Cosine search through an HNSW index, candidates rescored exactly.

    ``exact`` answers what the index cannot: :meth:`cosines` (3CosMul needs every score) and
    queries that would fetch a large share of the rows.
    """

    approximate = True

    def __init__(self, index: CompiledIndex, vectors: np.ndarray, norms: np.ndarray,
                 exact: Callable[[], ExactSearcher]) -> None:
        self._index = index
        self._vectors = vectors
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
                for i, found in zip(group, self._search(targets[group], fetch), strict=True):
                    keep = found[(found < candidates)
                                 & ~np.isin(found, list(excluded[i]))]
                    if len(keep) >= k or fetch >= n:
                        rows[i], scores[i] = self._rescore(targets[i], keep, k)
                        del pending[i]
                    else:
                        pending[i] = min(n, fetch * 4)
        return rows, scores

    def _search(self, targets: np.ndarray, fetch: int) -> list[np.ndarray]:
        keys, _, counts, *_ = self._index.search_many(
            np.ascontiguousarray(targets, dtype=np.float32), fetch, False, SEARCH_THREADS)
        return [keys[i, : counts[i]].astype(np.int64) for i in range(len(targets))]

    def _rescore(self, target: np.ndarray, rows: np.ndarray, k: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``rows`` by exact cosine, ties to the lower row."""
        rows = np.unique(rows)
        scale = inverse(np.linalg.norm(target)[None])[0]
        scores = (self._vectors[rows] @ target) * inverse(self._norms[rows]) * scale
        order = np.lexsort((rows, -scores))[:k]
        return rows[order], scores[order].astype(np.float32)

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        return self._exact().cosines(targets, limit)
