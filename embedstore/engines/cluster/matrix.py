"""Training the count-based methods on an existing Dask cluster (``embed train --engine dask``).

The pair data (Parquet shards, a glob or a pair file the workers can read) never comes here
as pairs. The workers read it twice:

1. Each partition lists its items in first-seen order with their summed weights; the
   vocabulary is decided here from those lists (count order, ties in first-seen order,
   ``min_count``: the items and row order of the local reader), so it must fit one machine.
2. Each partition turns its rows into ids (both directions of every pair) and cuts them by row
   block; each row block of the count matrix is summed on a worker into a ``scipy.sparse``
   matrix and stays there. Row sums (and for propagate, the median weight and the degrees)
   are gathered here, then each worker builds the row blocks of the PPMI matrix and of its
   transpose (or of propagation's step operator) from its count block.

The randomised SVD of :mod:`embedstore.methods.svd` (and propagation's steps) run here
unchanged: each product sends the small dense matrix (``n_items x ~110``) to every worker and
gathers the product's rows, so the same seed draws the same Gaussian sketch and the vectors
match the local run's within float tolerance. Only the vocabulary and the vectors need to fit
one machine.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...errors import InputError, TrainingError
from ...inputs.pair_file import check_sums, count_order
from ...methods.dense import IN_MEMORY, InMemory
from ...methods.ppmi import context_weights, no_positive_pmi, pmi_values
from ...progress import Progress
from ...schema import PairFileOptions, PropagateSettings, SvdSettings

ROWS_PER_BLOCK = 250_000
"""Rows of the matrix per block at most (at least two blocks per worker)."""
STEPS = 3
"""Steps reported as ``progress("cluster", step, STEPS, None)``: vocabulary, counts, matrix."""


class ClusterProduct:
    """A matrix kept as row blocks on the workers: ``product @ dense`` sends ``dense`` to
    every worker and stacks the blocks' products here (a
    :class:`~embedstore.methods.svd.Product`)."""

    def __init__(self, client: Any, blocks: list[Any], shape: tuple[int, int]) -> None:
        self.client = client
        self.blocks = blocks
        self.shape = shape

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        dense = np.ascontiguousarray(dense, dtype=np.float32)
        shared = self.client.scatter(dense, broadcast=True, hash=False)
        products = self.client.map(multiply, self.blocks, shared=shared, pure=False)
        return np.vstack(self.client.gather(products))


def multiply(block: Any, shared: np.ndarray) -> np.ndarray:
    """One row block's product with the dense matrix."""
    return np.asarray(block @ shared)


def partition_items(frame: Any) -> tuple[np.ndarray, np.ndarray]:
    """A partition's items in first-seen order (``item_a`` before ``item_b`` in each row) and
    each one's summed weight (a pair of an item with itself counts twice, as locally)."""
    import pandas as pd

    both = np.empty(2 * len(frame), dtype=object)
    both[0::2] = frame["item_a"].to_numpy(dtype=object)
    both[1::2] = frame["item_b"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(both)
    weights = np.repeat(frame["weight"].to_numpy(dtype=np.float64), 2)
    return np.asarray(uniques, dtype=object), np.bincount(codes, weights=weights,
                                                          minlength=len(uniques))


def merge_vocabulary(found: list[tuple[np.ndarray, np.ndarray]],
                     min_count: float, where: str) -> tuple[list[str], np.ndarray]:
    """The items (count order, ties in first-seen order over the partitions in order) with a
    count of at least ``min_count``, and their counts."""
    import pandas as pd

    names = np.concatenate([items for items, _ in found]) if found else np.empty(0, object)
    codes, uniques = pd.factorize(names)
    counts = np.bincount(codes, weights=np.concatenate([c for _, c in found]) if found else
                         None, minlength=len(uniques))
    check_sums(where, uniques, counts)
    keep = counts >= min_count
    if int(keep.sum()) < 2:
        raise InputError(f"{where}: fewer than two items have a count of at least "
                         f"{min_count:g}; lower --min-count or add pairs")
    order = count_order(counts)
    order = order[keep[order]]
    return [str(uniques[i]) for i in order], counts[order]


def partition_entries(frame: Any, index: Any, bounds: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """A partition's rows as matrix entries ``(row, column, weight)`` of kept items, both
    directions of every pair (a pair of an item with itself once), cut by row block."""
    a = index.get_indexer(frame["item_a"].to_numpy(dtype=object))
    b = index.get_indexer(frame["item_b"].to_numpy(dtype=object))
    weight = frame["weight"].to_numpy(dtype=np.float64)
    valid = (a >= 0) & (b >= 0)
    a, b, weight = a[valid], b[valid], weight[valid]
    off = a != b
    rows = np.concatenate([a, b[off]])
    cols = np.concatenate([b, a[off]])
    weights = np.concatenate([weight, weight[off]])
    block = np.searchsorted(bounds, rows, side="right") - 1
    order = np.argsort(block, kind="stable")
    cuts = np.searchsorted(block[order], np.arange(len(bounds)))
    return [(rows[order[s:e]] - bounds[k], cols[order[s:e]], weights[order[s:e]])
            for k, (s, e) in enumerate(itertools.pairwise(cuts))]


def count_block(height: int, n_items: int, *pieces: tuple[np.ndarray, ...]) -> Any:
    """A row block of the symmetric count matrix (weights summed; a pair seen only with
    weight 0 stays as an explicit zero)."""
    from scipy import sparse

    rows, cols, weights = (np.concatenate([piece[k] for piece in pieces]) for k in range(3))
    return sparse.csr_matrix((weights, (rows, cols)), shape=(height, n_items))


def block_facts(block: Any, start: int) -> tuple[np.ndarray, int, int]:
    """A count block's row sums, and its distinct positive and negative pairs (counted in the
    block holding their smaller id)."""
    rows = np.repeat(np.arange(block.shape[0]) + start, np.diff(block.indptr))
    upper = block.indices >= rows
    return (np.asarray(block.sum(axis=1)).ravel(), int((upper & (block.data > 0)).sum()),
            int((upper & (block.data == 0)).sum()))


def ppmi_block(block: Any, start: int, row_sums: np.ndarray, context: np.ndarray,
               log_context_total: float, shift: float, transposed: bool) -> Any:
    """A row block of the PPMI matrix (or of its transpose) from its count block, entry by
    entry by :func:`embedstore.methods.ppmi.pmi_values`."""
    rows = np.repeat(np.arange(block.shape[0]) + start, np.diff(block.indptr))
    cols = block.indices
    own, other = (cols, rows) if transposed else (rows, cols)
    pmi = pmi_values(block.data, row_sums[own], context[other], log_context_total, shift)
    return without_zeros(block, np.where(pmi > 0, pmi, 0.0))


def without_zeros(block: Any, values: np.ndarray) -> Any:
    """``block``'s pattern with ``values`` (float32), zeros dropped."""
    from scipy import sparse

    result = sparse.csr_matrix((values.astype(np.float32), block.indices.copy(),
                                block.indptr.copy()), shape=block.shape)
    result.eliminate_zeros()
    return result


class ClusterMatrix:
    """The count matrix of the pair data as row blocks on the cluster, and the vocabulary:
    the cluster engine's :class:`~embedstore.engines.Counts`. Only the vocabulary, the row
    sums and the vectors come to this machine; the pairs never do, so methods that visit
    pairs one by one (:meth:`pairs`) do not run here."""

    def __init__(self, client: Any, inputs: str, reading: PairFileOptions,
                 progress: Progress | None) -> None:
        from dask import compute, delayed

        from ...inputs.pieces import plan_pieces
        from .dask_io import input_files, located, no_pairs, piece_frame

        self.client, self.progress, self.notes = client, progress, []

        def vocabulary(pieces: list[Any]) -> tuple[list[Any], Any]:
            parts = [delayed(piece_frame)(piece) for piece in pieces]
            return parts, compute(*[delayed(partition_items)(part) for part in parts])

        pieces = plan_pieces(input_files(inputs), reading.header)
        parts, found = located(client, pieces, vocabulary)
        if not any(len(names) for names, _ in found):
            raise no_pairs(inputs, pieces)
        items, counts = merge_vocabulary(list(found), reading.min_count, inputs)
        step(progress, 1)
        import pandas as pd

        n = len(items)
        workers = max(1, len(client.scheduler_info()["workers"]))
        n_blocks = max(min(n, 2 * workers), -(-n // ROWS_PER_BLOCK))
        self.bounds = np.linspace(0, n, n_blocks + 1).astype(np.int64)
        index = client.scatter(pd.Index(items), broadcast=True)
        entries = [delayed(partition_entries, nout=n_blocks)(part, index, self.bounds)
                   for part in parts]
        self.counts = client.compute([
            delayed(count_block)(int(b - a), n, *[part[k] for part in entries])
            for k, (a, b) in enumerate(itertools.pairwise(self.bounds))])
        facts = client.gather(client.map(block_facts, self.counts, self.bounds[:-1].tolist()))
        self.row_sums = np.concatenate([sums for sums, _, _ in facts])
        self.items, self.item_counts = items, counts
        self.n_pairs = sum(f[1] for f in facts)
        self.n_negative_pairs = sum(f[2] for f in facts)
        step(progress, 2)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def corpus(self) -> None:
        """Text is counted on a cluster by ``embed pairs``; training there reads pairs."""
        return None

    def pair_chunks(self) -> None:
        """The pairs stay on the cluster: a version trained there keeps no counts."""
        return None

    def pairs(self) -> Any:
        raise TrainingError("the pairs stay on the Dask cluster; choose --method svd or "
                            "propagate, or train here without --engine dask")

    def ppmi_products(self, settings: SvdSettings) -> tuple[ClusterProduct, ClusterProduct]:
        """The products of the PPMI matrix and of its transpose, their blocks on the cluster."""
        step(self.progress, STEPS)
        context = context_weights(self.row_sums, settings)
        shared = self.client.scatter([self.row_sums, context], broadcast=True, hash=False)
        starts = self.bounds[:-1].tolist()
        shape = (self.n_items, self.n_items)
        products = []
        for transposed in (False, True):
            blocks = self.client.map(ppmi_block, self.counts, starts, row_sums=shared[0],
                                     context=shared[1],
                                     log_context_total=float(np.log(context.sum())),
                                     shift=settings.shift, transposed=transposed)
            products.append(ClusterProduct(self.client, blocks, shape))
        if sum(self.client.gather(self.client.map(nnz, products[0].blocks))) == 0:
            raise no_positive_pmi()
        return products[0], products[1]

    def svd_matrices(self, settings: SvdSettings) -> InMemory:
        """The SVD's dense matrices stay here, in memory (each product sends one to the
        workers)."""
        return IN_MEMORY

    def step_product(self, settings: PropagateSettings) -> ClusterProduct:
        """The product of propagation's step operator, its blocks on the cluster."""
        from .propagation import step_blocks

        step(self.progress, STEPS)
        blocks = step_blocks(self.client, self.counts, self.bounds, settings,
                             negatives=self.n_negative_pairs > 0)
        return ClusterProduct(self.client, blocks, (self.n_items,) * 2)


@contextmanager
def cluster_matrix(inputs: str, *, scheduler: str, reading: PairFileOptions,
                   progress: Progress | None = None) -> Iterator[ClusterMatrix]:
    """The count matrix of the pair data ``inputs`` on the Dask cluster at ``scheduler``, for
    as long as the block runs (the blocks are released when the connection closes)."""
    from .dask_io import connect, dask_modules

    _, _, client_class = dask_modules()
    with connect(client_class, scheduler) as client:
        step(progress, 0)
        yield ClusterMatrix(client, inputs, reading, progress)


def nnz(block: Any) -> int:
    """Stored entries of a block."""
    return int(block.nnz)


def step(progress: Progress | None, done: int) -> None:
    if progress is not None:
        progress("cluster", done, STEPS, None)
