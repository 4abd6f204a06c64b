"""The randomised SVD's dense matrices in row blocks on disk, when they would not fit the limit.

:class:`DiskMatrices` is the bounded engine's :class:`~embedstore.methods.dense.DenseMatrices`:
every tall ``items x k`` matrix of the SVD (the Gaussian sketch, the basis, the products, the
factors U and V) is a file of rows in a temporary directory, written and read one block of
rows at a time (:func:`~embedstore.engines.bounded.budget.dense_block_rows`: 1/64 of the
limit), so the basis lives on disk between passes. What memory holds: the ``float32`` copy of
the basis that a product of the PPMI matrix multiplies (``items x (dim + 20) x 4`` bytes, the
size of the vectors themselves; a sparse product needs all of it), a few row blocks, and the
small ``k x k`` matrices. Files are read and written with plain reads and writes, never
memory-mapped (mapped pages would count as the process's memory), and each is removed as soon
as the SVD drops its matrix.

Every block goes through the numpy expression the whole matrix goes through in memory, but the
Gram matrices are summed over blocks, and BLAS may split a product of a block differently
from the whole, so the vectors can differ from an in-memory run in the last bits.
"""

from __future__ import annotations

import itertools
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


class DiskMatrix:
    """A tall matrix in a file of rows (C order, ``dtype``); the file goes with the object."""

    def __init__(self, path: Path, shape: tuple[int, int], dtype: np.dtype[Any]) -> None:
        self.path, self.shape, self.dtype = path, shape, dtype
        weakref.finalize(self, path.unlink, missing_ok=True)


class DiskWide:
    """The transpose of a tall matrix (a :class:`DiskMatrix` or an array), read in float64."""

    def __init__(self, tall: DiskMatrix | np.ndarray) -> None:
        self.rows_of = tall
        self.shape = (tall.shape[1], tall.shape[0])


Tall = DiskMatrix | np.ndarray


class DiskMatrices:
    """Dense matrices in row blocks of ``block_rows`` rows, in files of a temporary directory
    that :meth:`close` removes (use it with ``with``)."""

    def __init__(self, block_rows: int) -> None:
        self.block_rows = block_rows
        self.scratch = tempfile.TemporaryDirectory(prefix="embedstore-svd-")
        self._names = itertools.count()

    def _write(self, blocks: Iterable[np.ndarray]) -> DiskMatrix:
        """A new matrix made of ``blocks`` (row blocks, top to bottom)."""
        path = Path(self.scratch.name) / f"dense-{next(self._names)}"
        rows, columns, dtype = 0, 0, np.dtype(np.float64)
        with path.open("wb") as handle:
            for block in blocks:
                block.tofile(handle)  # C order, whatever the block's layout
                rows, columns, dtype = rows + block.shape[0], block.shape[1], block.dtype
        return DiskMatrix(path, (rows, columns), dtype)

    def gaussian(self, rng: np.random.Generator, rows: int, columns: int) -> DiskMatrix:
        # Draws come row after row, so blocks of rows are the draws of one call.
        return self._write(rng.standard_normal((min(self.block_rows, rows - start), columns))
                           for start in range(0, rows, self.block_rows))

    def product(self, product: Any, tall: Tall) -> DiskMatrix:
        if not hasattr(product, "row_products"):
            raise TypeError(f"{type(product).__name__} cannot give its product in row blocks")
        dense = np.empty(tall.shape, dtype=np.float32)  # what every row of the product needs
        start = 0
        for block in self.rows(tall):
            dense[start:start + len(block)] = block
            start += len(block)
        return self._write(rows for _, _, rows in product.row_products(dense, self.block_rows))

    def rows(self, tall: Tall) -> Iterator[np.ndarray]:
        step = self.block_rows
        if isinstance(tall, np.ndarray):
            for start in range(0, tall.shape[0], step):
                yield np.array(tall[start:start + step])  # a copy: blocks may change in place
            return
        columns = tall.shape[1]
        with tall.path.open("rb") as handle:
            for start in range(0, tall.shape[0], step):
                count = min(step, tall.shape[0] - start)
                block = np.fromfile(handle, tall.dtype, count * columns)
                yield block.reshape(count, columns)

    def map_rows(self, function: Callable[..., np.ndarray], *talls: Tall) -> DiskMatrix:
        return self._write(function(*blocks)
                           for blocks in zip(*(self.rows(tall) for tall in talls), strict=True))

    def whole(self, tall: Tall) -> np.ndarray:
        if isinstance(tall, np.ndarray):
            return tall
        return np.fromfile(tall.path, tall.dtype).reshape(tall.shape)

    def wide(self, tall: Tall) -> DiskWide:
        return DiskWide(tall)

    def columns(self, wide: DiskWide) -> Iterator[np.ndarray]:
        for block in self.rows(wide.rows_of):
            yield np.ascontiguousarray(block.T, dtype=np.float64)

    def map_columns(self, function: Callable[[np.ndarray], np.ndarray],
                    wide: DiskWide) -> DiskWide:
        return DiskWide(self._write(function(block).T for block in self.columns(wide)))

    def tall(self, wide: DiskWide) -> Tall:
        return wide.rows_of

    def close(self) -> None:
        self.scratch.cleanup()

    def __enter__(self) -> DiskMatrices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
