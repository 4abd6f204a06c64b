"""Propagation's step operator built on a Dask cluster, row block by row block, from the count
blocks of :class:`embedstore.engines.cluster.matrix.ClusterMatrix`.

With the formula every engine uses (:func:`embedstore.methods.propagate.step_matrix`): the pair
weights
are divided by their median (found exactly from each block's distinct weights and how often
they occur), the degrees are gathered here, and each worker scales its block's entries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...methods.propagate import hub_scale, relative_weights, step_matrix
from ...schema import PropagateSettings


def weight_histogram(block: Any) -> tuple[np.ndarray, np.ndarray]:
    """A count block's distinct positive weights and how many entries hold each."""
    values, counts = np.unique(block.data[block.data > 0], return_counts=True)
    return values, counts


def median_of(histograms: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The median of the weights the histograms count, as ``np.median`` of them all.

    >>> median_of([(np.array([1.0, 3.0]), np.array([1, 1])), (np.array([2.0, 4.0]),
    ...            np.array([1, 1]))])
    2.5
    """
    values = np.concatenate([v for v, _ in histograms])
    if values.size == 0:
        return 1.0
    distinct, inverse = np.unique(values, return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([c for _, c in histograms]))
    ends = np.cumsum(counts)
    total = int(ends[-1])
    low = distinct[np.searchsorted(ends, (total - 1) // 2, side="right")]
    high = distinct[np.searchsorted(ends, total // 2, side="right")]
    return float(np.mean([low, high]))


def block_degrees(block: Any, median: float) -> np.ndarray:
    """Each row's summed relative weight over its positive entries."""
    edge = np.where(block.data > 0, relative_weights(block.data, median), 0.0)
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    return np.bincount(rows, weights=edge, minlength=block.shape[0])


def step_block(block: Any, start: int, median: float, scale: np.ndarray,
               settings: PropagateSettings, negatives: bool) -> Any:
    """A row block of the step operator (:func:`embedstore.methods.propagate.step_matrix`)."""
    rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    cols = block.indices
    positive = block.data > 0
    edge = relative_weights(block.data[positive], median)
    return step_matrix(block.shape, rows[positive], cols[positive], edge, scale, settings,
                       first_row=start,
                       negatives=(rows[~positive], cols[~positive]) if negatives else None)


def step_blocks(client: Any, counts: list[Any], bounds: np.ndarray,
                settings: PropagateSettings, negatives: bool) -> list[Any]:
    """The step operator's row blocks (futures on the cluster) from the count blocks."""
    median = median_of(client.gather(client.map(weight_histogram, counts)))
    degree = np.concatenate(client.gather(client.map(block_degrees, counts, median=median)))
    scale = hub_scale(degree, settings)
    shared = client.scatter(scale, broadcast=True, hash=False)
    return client.map(step_block, counts, bounds[:-1].tolist(), median=median, scale=shared,
                      settings=settings, negatives=negatives)
