"""One sparse matrix product split by rows over the cores."""

from __future__ import annotations

import itertools
import os

import numpy as np


def default_threads() -> int:
    """Threads for sparse products: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


class RowBlocks:
    """A sparse matrix cut into row blocks multiplied in parallel threads (scipy releases the
    GIL in its sparse products); results are identical to one product, whatever the number
    of threads."""

    def __init__(self, matrix, threads: int) -> None:  # type: ignore[no-untyped-def]
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
