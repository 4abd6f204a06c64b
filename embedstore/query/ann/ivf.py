"""The IVF kind of index (``--kind ivf``, the default): the unit-length rows split into
``lists`` clusters by k-means, each cluster's rows stored together in single precision, built
and memory-mapped with faiss.

A query scores the cluster centres, then only the rows of the ``probes`` nearest clusters
(inner product of unit vectors: cosine). Opening maps the file and reads only the centres, in
the same time for any number of rows. This is the only module that imports faiss, and it does
so only when an index of this kind is built or opened.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import StoreError
from ...geometry import unit_rows
from .searcher import search_threads

if TYPE_CHECKING:
    from faiss import Index

    from ...store import IndexRecord

LIBRARY = "faiss"
SUFFIX = "faiss"
DEFAULT_PROBES = 32
DEFAULT_SEED = 0
DEFAULTS: dict[str, int | None] = {"lists": None, "probes": DEFAULT_PROBES,
                                   "seed": DEFAULT_SEED}
"""This kind's settings (``embed index build`` options) and their defaults (``lists``: from
the number of rows, :func:`default_lists`)."""
LISTS_PER_ROOT = 4
"""The default number of lists is about this many times the square root of the rows..."""
MIN_ROWS_PER_LIST = 39
"""...but no more than leaves this many rows per list on average (k-means needs them)."""
SAMPLE_PER_LIST = 64
"""k-means learns the clusters from a random sample of this many rows per list."""
ADD_CHUNK = 65536
"""Rows added to the index per call (so progress can be reported and memory stays bounded)."""
PROBES_PER_FETCH = 2
"""A search fetching many candidates probes at least enough lists to hold this many times
as many rows as it fetches (on average), so that over-fetching finds them."""


def missing_library() -> StoreError:
    return StoreError("an IVF index needs the faiss library: pip install 'embedstore[ann]'; "
                      "or query with --exact")


def default_lists(n_items: int) -> int:
    """``4 * sqrt(n)`` rounded to a power of two, halved until each list averages at least
    :data:`MIN_ROWS_PER_LIST` rows (one list for the smallest versions).

    >>> [default_lists(n) for n in (3, 3000, 200_000, 1_000_000, 10_000_000)]
    [1, 64, 2048, 4096, 16384]
    """
    lists = 2 ** round(math.log2(LISTS_PER_ROOT * math.sqrt(max(n_items, 1))))
    while lists > 1 and lists * MIN_ROWS_PER_LIST > n_items:
        lists //= 2
    return lists


def build_settings(chosen: dict[str, int | None], threads: int, n_items: int
                   ) -> dict[str, Any]:
    """The settings an index of ``n_items`` rows is built with and recorded under (checked,
    ready to store). ``chosen`` holds every name of :data:`DEFAULTS`."""
    lists = chosen["lists"] if chosen["lists"] is not None else default_lists(n_items)
    probes, seed = chosen["probes"], chosen["seed"]
    assert probes is not None and seed is not None
    if not 1 <= lists <= n_items:
        raise StoreError(f"--lists must be between 1 and the version's {n_items} items, "
                         f"not {lists}; leave it out for the default")
    if probes < 1:
        raise StoreError(f"--probes must be at least 1, not {probes}")
    if seed < 0:
        raise StoreError(f"--seed must be 0 or more, not {seed}")
    try:
        import faiss
    except ImportError:
        raise missing_library() from None
    return {"kind": "ivf", "metric": "ip", "rows": "unit", "dtype": "f32", "lists": lists,
            "probes": probes, "seed": seed, "sample_per_list": SAMPLE_PER_LIST,
            "threads": threads, "library_version": faiss.__version__}


def write_index(vectors: np.ndarray, settings: dict[str, Any], path: Path,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Build the IVF index of ``vectors`` (rows are ids) and save it to ``path``.

    The k-means sample and starting centres follow ``seed``; with ``threads`` 1 in the
    settings the file is the same, byte for byte, on every run.
    """
    import faiss

    n, dim = vectors.shape
    faiss.omp_set_num_threads(settings["threads"] or os.cpu_count() or 1)
    lists = settings["lists"]
    # Full precision: faiss scans float32 lists four times faster than half-precision ones
    # (its half-precision decoding is not vectorised here), for 1.02x the vectors' bytes.
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = settings["seed"]
    index.cp.max_points_per_centroid = settings["sample_per_list"]
    index.cp.min_points_per_centroid = 1  # fewer rows than advised is our choice, not a warning
    rng = np.random.default_rng(settings["seed"])
    sample = min(n, settings["sample_per_list"] * lists)
    index.train(unit_rows(vectors[np.sort(rng.choice(n, sample, replace=False))]))
    for start in range(0, n, ADD_CHUNK):
        block = unit_rows(vectors[start : start + ADD_CHUNK])
        index.add(block)
        if progress is not None:
            progress(start + len(block), n)
    faiss.write_index(index, str(path))


def extend_index(source: Path, settings: dict[str, Any], rows: np.ndarray, first: int,
                 path: Path) -> None:
    """Save to ``path`` the index ``source`` with ``rows`` added (ids ``first`` on): they
    join the lists of their nearest centres, which stay as k-means found them."""
    import faiss

    index = faiss.read_index(str(source))
    if index.ntotal != first:
        raise StoreError(f"the index holds {index.ntotal} rows, expected {first}")
    faiss.omp_set_num_threads(settings.get("threads") or os.cpu_count() or 1)
    for start in range(0, len(rows), ADD_CHUNK):
        index.add(unit_rows(rows[start : start + ADD_CHUNK]))
    faiss.write_index(index, str(path))


def open_index(path: Path, record: IndexRecord, dim: int) -> IvfCandidates:
    """Map an index file: the cluster centres are read, the lists only when probed."""
    try:
        import faiss
    except ImportError:
        raise missing_library() from None
    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
    except RuntimeError as exc:  # the library's own errors for a file it cannot read
        raise StoreError(f"the index {record.path} cannot be read ({exc}); run embed verify "
                         "and rebuild it with embed index build, or query with --exact"
                         ) from None
    lists = faiss.downcast_InvertedLists(index.invlists)
    if hasattr(lists, "prefetch_nthread"):
        # Mapped lists would otherwise start threads to prefetch the probed lists on every
        # search: three times the search's own time for a single query (see RESULTS.md).
        lists.prefetch_nthread = 0
    if index.d != dim:
        raise StoreError(f"the index {record.path} does not fit its version (dimension "
                         f"{index.d}, expected {dim}); rebuild it with embed index build, "
                         "or query with --exact")
    return IvfCandidates(index, int(record.settings.get("probes", DEFAULT_PROBES)))


class IvfCandidates:
    """An opened IVF index proposing candidates (:class:`~.searcher.Candidates`)."""

    def __init__(self, index: Index, probes: int) -> None:
        self._index = index
        self._probes = probes

    def search(self, targets: np.ndarray, fetch: int) -> list[np.ndarray]:
        import faiss

        lists, rows = self._index.nlist, self._index.ntotal
        probes = max(self._probes, math.ceil(PROBES_PER_FETCH * fetch * lists / max(rows, 1)))
        faiss.omp_set_num_threads(search_threads(len(targets)))  # this thread's setting
        _, found = self._index.search(
            np.ascontiguousarray(targets, dtype=np.float32), min(fetch, rows),
            params=faiss.SearchParametersIVF(nprobe=min(probes, lists)))
        return [hits[hits >= 0] for hits in found.astype(np.int64)]
