"""The HNSW kind of index (``--kind hnsw``): a graph over a half-precision copy of the
vectors, built and memory-mapped with usearch.

This is the only module that imports usearch, and it does so only when an index of this kind
is built or opened. Opening walks every node of the graph (about 0.11 s per million items), so
a cold query on a very large version pays that; the IVF kind opens in constant time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import StoreError
from .searcher import search_threads

if TYPE_CHECKING:
    from usearch.compiled import Index as CompiledIndex

    from ...store import IndexRecord

LIBRARY = "usearch"
SUFFIX = "usearch"
DEFAULT_CONNECTIVITY = 16
DEFAULT_EXPANSION_ADD = 128
DEFAULT_EXPANSION_SEARCH = 64
DEFAULTS = {"connectivity": DEFAULT_CONNECTIVITY, "expansion_add": DEFAULT_EXPANSION_ADD,
            "expansion_search": DEFAULT_EXPANSION_SEARCH}
"""This kind's settings (``embed index build`` options) and their defaults."""
ADD_CHUNK = 65536
"""Rows added to the index per call (so progress can be reported and memory stays bounded)."""


def missing_library() -> StoreError:
    return StoreError("an HNSW index needs the usearch library: pip install "
                      "'embedstore[ann]'; or query with --exact")


def build_settings(chosen: dict[str, int], threads: int, n_items: int) -> dict[str, Any]:
    """The settings an index is built with and recorded under (checked, ready to store).
    ``chosen`` holds every name of :data:`DEFAULTS`."""
    for name, value in chosen.items():
        if value < 2:
            raise StoreError(f"--{name.replace('_', '-')} must be at least 2, not {value}")
    try:
        import usearch
    except ImportError:
        raise missing_library() from None
    return {"kind": "hnsw", "metric": "cos", "dtype": "f16", **chosen,
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


def extend_index(source: Path, settings: dict[str, Any], rows: np.ndarray, first: int,
                 path: Path) -> None:
    """Save to ``path`` the index ``source`` with ``rows`` added as keys ``first`` on,
    inserted into its graph."""
    from usearch.index import Index

    index = Index.restore(str(source))
    if index is None or len(index) != first:
        found = "nothing" if index is None else f"{len(index)} rows"
        raise StoreError(f"the index holds {found}, expected {first} rows")
    index.expansion_add = settings.get("expansion_add", DEFAULT_EXPANSION_ADD)
    for start in range(0, len(rows), ADD_CHUNK):
        block = np.ascontiguousarray(rows[start : start + ADD_CHUNK], dtype=np.float32)
        index.add(np.arange(first + start, first + start + len(block), dtype=np.uint64), block,
                  threads=settings.get("threads", 0))
    index.save(str(path))


def open_index(path: Path, record: IndexRecord, dim: int) -> HnswCandidates:
    """Memory-map an index file (the node headers are read once; the rest when a query walks
    the graph).

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
    return HnswCandidates(index)


class HnswCandidates:
    """An opened HNSW index proposing candidates (:class:`~.searcher.Candidates`)."""

    def __init__(self, index: CompiledIndex) -> None:
        self._index = index

    def search(self, targets: np.ndarray, fetch: int) -> list[np.ndarray]:
        keys, _, counts, *_ = self._index.search_many(
            np.ascontiguousarray(targets, dtype=np.float32), fetch, False,
            search_threads(len(targets)))
        return [keys[i, : counts[i]].astype(np.int64) for i in range(len(targets))]
