"""PPMI + randomised SVD when the matrix does not fit in memory: row blocks on disk.

The PPMI matrix ``A`` (:func:`embedstore.methods.ppmi.pmi_values`) and its transpose are built
as CSR arrays in files (column indices ``int32``, values ``float32``; the row pointers stay in
memory), one pass over the count matrix's entries in row order (:meth:`SpilledCounts.entries`:
the count matrix is symmetric, so ``A`` and ``A.T`` have their entries at the same places and
one sorted pass gives both). Each value is computed by the same expression, in the same
order, as in memory, and rows keep their columns ascending, as scipy's canonical CSR does, so
every row of a product, and so the vectors, are the in-memory run's bit for bit.

:class:`DiskRows` is a :class:`~embedstore.engines.RowProduct` that reads one block of rows
at a time: every product (one per pass of the randomised SVD) streams the file once, and
memory holds a block per thread, the dense input and the output (or, for dense matrices kept
on disk, a block of the output per thread).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ...methods.ppmi import context_weights, pmi_values
from ...progress import Progress
from ...schema import SvdSettings
from ..memory import ordered_products
from .text_counts import DiskCooccurrence

BLOCK_SHARE = 1 / 64
"""A block of rows read at a time holds at most this share of the memory limit."""
ENTRY_BYTES = 8  # one int32 column index and one float32 value


class DiskRows:
    """A CSR matrix in two files (``indices`` int32, ``data`` float32) with its row pointers,
    multiplied by a dense matrix one block of rows at a time."""

    def __init__(self, directory: Path, indptr: np.ndarray, shape: tuple[int, int],
                 block_entries: int, passes: Iterator[int],
                 progress: Progress | None = None) -> None:
        self.indices_path, self.data_path = directory / "indices", directory / "data"
        self.indptr = indptr
        self.shape = shape
        self.block_entries = max(1, block_entries)
        self.passes, self.progress = passes, progress  # passes: shared pass numbers
        cuts = np.searchsorted(indptr, np.arange(0, indptr[-1], self.block_entries))
        self.bounds = np.unique(np.r_[0, np.minimum(cuts, shape[0]), shape[0]])

    def blocks(self, bounds: np.ndarray | None = None) -> Iterator[tuple[int, int, Any]]:
        """(first row, end row, scipy CSR block) in row order, read from the files; cut at
        ``bounds`` (default: blocks of ``block_entries`` entries)."""
        from scipy import sparse

        bounds = self.bounds if bounds is None else bounds
        with self.indices_path.open("rb") as indices, self.data_path.open("rb") as data:
            for start, stop in itertools.pairwise(bounds.tolist()):
                first, last = int(self.indptr[start]), int(self.indptr[stop])
                block_indices = np.fromfile(indices, np.int32, last - first, offset=0)
                block_data = np.fromfile(data, np.float32, last - first, offset=0)
                pointers = self.indptr[start:stop + 1] - first
                yield start, stop, sparse.csr_matrix(
                    (block_data, block_indices, pointers), shape=(stop - start, self.shape[1]))

    def row_products(self, dense: np.ndarray, max_rows: int
                     ) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, rows start:stop of the product)`` in order, each block at most
        ``block_entries`` entries and ``max_rows`` rows: one pass over the files."""
        dense = np.ascontiguousarray(dense, dtype=np.float32)
        bounds = np.union1d(self.bounds, np.arange(0, self.shape[0], max(1, max_rows)))
        stage = f"svd pass {next(self.passes)}"
        total = len(bounds) - 1

        def read() -> Iterator[tuple[int, int, Any]]:
            for number, block in enumerate(self.blocks(bounds)):
                yield block
                if self.progress is not None:
                    self.progress(stage, number + 1, total, None)

        yield from ordered_products(read(), dense)

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        result = np.empty((self.shape[0], dense.shape[1]), dtype=np.float32)
        # a block's result takes at most the bytes of its entries
        max_rows = self.block_entries * ENTRY_BYTES // (4 * max(1, dense.shape[1]))
        for start, stop, rows in self.row_products(dense, max_rows):
            result[start:stop] = rows
        return result


class _CsrWriter:
    """Appends rows (in order) of a CSR matrix to the files of a :class:`DiskRows`."""

    def __init__(self, directory: Path, n_rows: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.indices = (directory / "indices").open("wb")
        self.data = (directory / "data").open("wb")
        self.row_sizes = np.zeros(n_rows, dtype=np.int64)

    def add(self, rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
        columns.astype(np.int32).tofile(self.indices)
        values.astype(np.float32).tofile(self.data)
        self.row_sizes += np.bincount(rows, minlength=len(self.row_sizes))

    def close(self) -> np.ndarray:
        """The row pointers."""
        self.indices.close()
        self.data.close()
        return np.r_[0, np.cumsum(self.row_sizes)]


def row_sums(cooc: DiskCooccurrence) -> np.ndarray:
    """Row sums of the symmetric count matrix, added in the order ``np.bincount`` adds them
    in :func:`~embedstore.methods.svd.ppmi_matrix` (every pair's left side first, then the
    right side of the off-diagonal pairs), so the sums are the same bits."""
    sums = np.zeros(cooc.n_items)
    for left, _, weight in cooc.chunks():
        np.add.at(sums, left, weight)
    for left, right, weight in cooc.chunks():
        off = left != right
        np.add.at(sums, right[off], weight[off])
    return sums


def disk_ppmi(cooc: DiskCooccurrence, settings: SvdSettings, memory_limit: int,
              progress: Progress | None = None) -> tuple[DiskRows, DiskRows]:
    """The products of the PPMI matrix of ``cooc`` and of its transpose, built on disk in
    ``cooc``'s temporary directory."""
    n = cooc.n_items
    sums = row_sums(cooc)
    context = context_weights(sums, settings)
    log_context_total = np.log(context.sum())
    root = Path(cooc.counts.directory)
    forward, backward = _CsrWriter(root / "ppmi", n), _CsrWriter(root / "ppmi-t", n)
    done = 0
    for rows, columns, numerators in cooc.counts.entries(n):
        counts = numerators / cooc.divisor
        for writer, r, c in ((forward, rows, columns), (backward, columns, rows)):
            pmi = pmi_values(counts, sums[r], context[c], log_context_total, settings.shift)
            positive = pmi > 0  # A.T[i, j] = A[j, i]: the same places, the other formula
            writer.add(rows[positive], columns[positive], pmi[positive])
        done += len(rows)
        if progress is not None:
            progress("ppmi", done, 2 * cooc.n_pairs, None)
    cooc.counts.release()  # the counts are no longer needed; DuckDB's memory goes back
    block_entries = max(1, int(memory_limit * BLOCK_SHARE) // ENTRY_BYTES)
    shape = (n, n)
    passes = itertools.count(1)
    return (DiskRows(root / "ppmi", forward.close(), shape, block_entries, passes, progress),
            DiskRows(root / "ppmi-t", backward.close(), shape, block_entries, passes, progress))
