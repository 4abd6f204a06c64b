"""Where the randomised SVD keeps its dense matrices: in memory, or in row blocks elsewhere.

The SVD (:mod:`embedstore.methods.svd`) works on tall matrices, one row per item and a few
hundred columns at most (the basis, the products, the factors), and on their transposes
("wide" matrices). It sees them only through :class:`DenseMatrices`: a handful of operations
that either act on whole numpy arrays (:data:`IN_MEMORY`, what every engine uses when the
matrices fit) or stream row blocks (the bounded engine's
:class:`~embedstore.engines.bounded.dense_rows.DiskMatrices`, the blocks in files between
passes). Reductions over all rows (Gram matrices, the largest entry of a column) are written
once, in the SVD, over :meth:`DenseMatrices.rows`; in memory that is one block, the whole
matrix, so the arithmetic is exactly that of plain numpy on the arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..engines import Product

Tall = Any
"""An ``items x k`` matrix as a :class:`DenseMatrices` holds it (for :data:`IN_MEMORY`, an
array)."""
Wide = Any
"""A ``k x items`` matrix, the transpose of a :data:`Tall` one, as it is held."""


class DenseMatrices(Protocol):
    """The operations the randomised SVD performs on its tall and wide matrices."""

    def gaussian(self, rng: np.random.Generator, rows: int, columns: int) -> Tall:
        """Standard normal draws (float64), row after row, as ``rng.standard_normal``."""
        ...

    def product(self, product: Product, tall: Tall) -> Tall:
        """``product @ tall`` (float32, as the product gives it)."""
        ...

    def rows(self, tall: Tall) -> Iterator[np.ndarray]:
        """The rows of ``tall`` in blocks, top to bottom, as stored (read only)."""
        ...

    def map_rows(self, function: Callable[..., np.ndarray], *talls: Tall) -> Tall:
        """A tall matrix made of ``function(block, ...)`` for the matching row blocks of
        ``talls`` (the function may work in place on its blocks)."""
        ...

    def whole(self, tall: Tall) -> np.ndarray:
        """``tall`` as one array in memory."""
        ...

    def wide(self, tall: Tall) -> Wide:
        """``tall.T`` in float64, C-contiguous."""
        ...

    def columns(self, wide: Wide) -> Iterator[np.ndarray]:
        """The columns of ``wide`` in blocks, left to right (read only)."""
        ...

    def map_columns(self, function: Callable[[np.ndarray], np.ndarray], wide: Wide) -> Wide:
        """A wide matrix made of ``function(block)`` for each column block of ``wide`` (the
        function may work in place)."""
        ...

    def tall(self, wide: Wide) -> Tall:
        """``wide.T`` as a tall matrix, without copying where it can."""
        ...


class InMemory:
    """:class:`DenseMatrices` as numpy arrays: every operation is one numpy expression on the
    whole matrix."""

    def gaussian(self, rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
        return rng.standard_normal((rows, columns))

    def product(self, product: Product, tall: np.ndarray) -> np.ndarray:
        return product @ tall

    def rows(self, tall: np.ndarray) -> Iterator[np.ndarray]:
        yield tall

    def map_rows(self, function: Callable[..., np.ndarray], *talls: np.ndarray) -> np.ndarray:
        return function(*talls)

    def whole(self, tall: np.ndarray) -> np.ndarray:
        return tall

    def wide(self, tall: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(tall.T, dtype=np.float64)

    def columns(self, wide: np.ndarray) -> Iterator[np.ndarray]:
        yield wide

    def map_columns(self, function: Callable[[np.ndarray], np.ndarray],
                    wide: np.ndarray) -> np.ndarray:
        return function(wide)

    def tall(self, wide: np.ndarray) -> np.ndarray:
        return wide.T


IN_MEMORY = InMemory()
"""The dense matrices as arrays in memory (what every engine uses when they fit)."""
