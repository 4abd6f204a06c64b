"""The in-memory engine: counts as numpy arrays, and sparse products split by rows over the
cores."""

from __future__ import annotations

import itertools
import operator
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..counting.cooccurrence import Cooccurrence, both_directions
from ..counting.token_ids import TextCorpus
from ..methods.dense import IN_MEMORY, InMemory
from ..methods.ppmi import context_weights, no_positive_pmi, pmi_values
from ..methods.propagate import hub_scale, relative_weights, step_matrix
from ..schema import PropagateSettings, SvdSettings


def default_threads() -> int:
    """Threads for sparse products: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def ordered_products(pieces: Iterable[tuple[int, int, Any]], dense: np.ndarray,
                     threads: int | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, block @ dense)`` for each ``(start, stop, sparse row block)``, in order,
    computed in parallel threads (scipy releases the GIL) with at most ``threads`` blocks in
    flight. Each row of a sparse product is summed on its own, so the rows are those of one
    product of the whole matrix, bit for bit."""
    from concurrent.futures import ThreadPoolExecutor

    threads = threads or default_threads()
    pending: deque[tuple[int, int, Any]] = deque()
    with ThreadPoolExecutor(threads) as pool:
        for start, stop, block in pieces:
            pending.append((start, stop, pool.submit(operator.matmul, block, dense)))
            if len(pending) >= threads:
                first, last, future = pending.popleft()
                yield first, last, np.asarray(future.result())
        while pending:
            first, last, future = pending.popleft()
            yield first, last, np.asarray(future.result())


class RowBlocks:
    """A sparse matrix cut into row blocks multiplied in parallel threads (scipy releases the
    GIL in its sparse products); results are identical to one product, whatever the number
    of threads."""

    def __init__(self, matrix: Any, threads: int | None = None) -> None:
        threads = threads or default_threads()
        self.shape = matrix.shape
        bounds = np.searchsorted(matrix.indptr, np.linspace(0, matrix.nnz, threads + 1))
        bounds[0], bounds[-1] = 0, matrix.shape[0]
        self.blocks = [matrix[a:b] for a, b in itertools.pairwise(bounds) if b > a]

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        from concurrent.futures import ThreadPoolExecutor

        dense = np.ascontiguousarray(dense, dtype=np.float32)
        if len(self.blocks) == 1:
            return np.asarray(self.blocks[0] @ dense)
        with ThreadPoolExecutor(len(self.blocks)) as pool:
            return np.vstack(list(pool.map(lambda block: block @ dense, self.blocks)))

    def row_products(self, dense: np.ndarray, max_rows: int
                     ) -> Iterator[tuple[int, int, np.ndarray]]:
        """The product in blocks of at most ``max_rows`` rows, in order (the same rows)."""
        def pieces() -> Iterator[tuple[int, int, Any]]:
            start = 0
            for block in self.blocks:
                for first in range(0, block.shape[0], max_rows):
                    stop = min(first + max_rows, block.shape[0])
                    yield start + first, start + stop, block[first:stop]
                start += block.shape[0]

        yield from ordered_products(pieces(), np.ascontiguousarray(dense, dtype=np.float32))


@dataclass
class MemoryCounts:
    """Counts held in memory (a :class:`~embedstore.counting.cooccurrence.Cooccurrence`),
    seen through the engine seam (:class:`embedstore.engines.Counts`)."""

    cooccurrence: Cooccurrence
    notes: list[str] = field(default_factory=list)
    text_corpus: TextCorpus | None = None

    @property
    def items(self) -> list[str]:
        return self.cooccurrence.items

    @property
    def item_counts(self) -> np.ndarray:
        return self.cooccurrence.item_counts

    @property
    def n_items(self) -> int:
        return self.cooccurrence.n_items

    @property
    def n_pairs(self) -> int:
        return self.cooccurrence.n_pairs

    @property
    def n_negative_pairs(self) -> int:
        return self.cooccurrence.n_negative_pairs

    def ppmi_products(self, settings: SvdSettings) -> tuple[RowBlocks, RowBlocks]:
        matrix = ppmi_matrix(self.cooccurrence, settings)
        if matrix.nnz == 0:
            raise no_positive_pmi()
        return RowBlocks(matrix), RowBlocks(matrix.T.tocsr())

    def svd_matrices(self, settings: SvdSettings) -> InMemory:
        return IN_MEMORY

    def step_product(self, settings: PropagateSettings) -> RowBlocks:
        return RowBlocks(propagation_matrix(self.cooccurrence, settings))

    def pairs(self) -> Cooccurrence:
        return self.cooccurrence

    def corpus(self) -> TextCorpus | None:
        corpus, self.text_corpus = self.text_corpus, None  # not held past the fit
        return corpus

    def pair_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        cooc = self.cooccurrence
        yield cooc.left, cooc.right, cooc.weight
        if cooc.n_negative_pairs:
            yield cooc.negative_left, cooc.negative_right, np.zeros(cooc.n_negative_pairs)

    def close(self) -> None:
        """Nothing to release (the counts are garbage-collected)."""


def propagation_matrix(cooc: Cooccurrence, settings: PropagateSettings) -> Any:
    """Propagation's step operator for counts in memory
    (:func:`embedstore.methods.propagate.step_matrix`)."""
    n = cooc.n_items
    rows, cols, weights = both_directions(cooc.left, cooc.right, cooc.weight)
    edge = relative_weights(weights)
    scale = hub_scale(np.bincount(rows, weights=edge, minlength=n), settings)
    negatives = (both_directions(cooc.negative_left, cooc.negative_right)
                 if cooc.n_negative_pairs else None)
    return step_matrix((n, n), rows, cols, edge, scale, settings, negatives=negatives)


def ppmi_matrix(cooc: Cooccurrence, settings: SvdSettings) -> Any:
    """The PPMI matrix of counts in memory (:func:`embedstore.methods.ppmi.pmi_values`), as a
    float32 ``scipy.sparse.csr_matrix``."""
    from scipy import sparse

    n = cooc.n_items
    rows, cols, counts = both_directions(cooc.left, cooc.right, cooc.weight)
    row_sums = np.bincount(rows, weights=counts, minlength=n)
    context = context_weights(row_sums, settings)
    pmi = pmi_values(counts, row_sums[rows], context[cols], np.log(context.sum()),
                     settings.shift)
    positive = pmi > 0
    return sparse.csr_matrix((pmi[positive].astype(np.float32),
                              (rows[positive], cols[positive])), shape=(n, n))
