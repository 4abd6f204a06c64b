"""Random vectors smoothed over the pair graph: the default method for pair files.

Every item starts from a random Gaussian vector; each step replaces an item's vector by
``self_weight`` times itself plus its neighbours' vectors, neighbour ``j`` weighted by the
pair's weight times ``degree(j) ** -degree_exponent`` (degree: the summed weight of ``j``'s
pairs; a hub says little about any one of its neighbours), and re-normalises every row to unit
length. The result is the mean of the steps from ``average_from`` to ``steps`` (several scales
at once), re-normalised. Items whose neighbourhoods overlap end up pointing the same way:
cosine similarity measures how much of the graph around two items they share, discounted for
hubs. Nothing is fitted
to an objective, so the method is fast (sparse matrix products only) and needs no learning
rate or epochs; it belongs to the RandNE / FastRP family (Zhang et al. 2018, Chen et al. 2019)
with a self-loop and per-step normalisation, which the measurements in
``benchmarks/RESULTS.md`` found decisive.

Explicit negative pairs enter with a negative sign: each step subtracts
``negative_weight`` times the (degree-weighted) vectors of an item's negative partners, so they
end up pointing apart. Deterministic for a seed, whatever the number of threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..counting.cooccurrence import Cooccurrence
from ..engines.memory import RowBlocks, default_threads
from ..errors import TrainingError
from ..progress import Progress
from ..schema import PropagateSettings

if TYPE_CHECKING:
    from .svd import Product


def propagation_matrix(cooc: Cooccurrence, settings: PropagateSettings):  # type: ignore[no-untyped-def]
    """The step operator ``A D^-p + self_weight I - negative_weight N D^-p`` (float32 CSR)."""
    from scipy import sparse

    n = cooc.n_items
    off = cooc.left != cooc.right
    rows = np.concatenate([cooc.left, cooc.right[off]])
    cols = np.concatenate([cooc.right, cooc.left[off]])
    edge = relative_weights(np.concatenate([cooc.weight, cooc.weight[off]]))
    degree = np.bincount(rows, weights=edge, minlength=n)
    scale = np.where(degree > 0, degree, 1.0) ** -settings.degree_exponent
    values = edge * scale[cols]
    parts_rows, parts_cols, parts_values = [rows, np.arange(n)], [cols, np.arange(n)], [
        values, np.full(n, settings.self_weight)]
    if cooc.n_negative_pairs and settings.negative_weight > 0:
        neg_off = cooc.negative_left != cooc.negative_right
        nrows = np.concatenate([cooc.negative_left, cooc.negative_right[neg_off]])
        ncols = np.concatenate([cooc.negative_right, cooc.negative_left[neg_off]])
        parts_rows.append(nrows)
        parts_cols.append(ncols)
        parts_values.append(-settings.negative_weight * scale[ncols])
    return sparse.csr_matrix(
        (np.concatenate(parts_values).astype(np.float32),
         (np.concatenate(parts_rows), np.concatenate(parts_cols))), shape=(n, n))


def relative_weights(weights: np.ndarray, median: float | None = None) -> np.ndarray:
    """Pair weights divided by their median (or ``median``), capped at a million times it: a file of
    unweighted rows keeps weight 1 everywhere, counts keep their ratios, and extreme but
    finite weights stay finite in every product.

    >>> relative_weights(np.array([1.0, 1.0, 4.0])).tolist()
    [1.0, 1.0, 4.0]
    >>> relative_weights(np.array([1e300, 1e-300, 1e-300])).tolist()
    [1000000.0, 1.0, 1.0]
    """
    if median is None:  # given when the weights are one block of a bigger set
        median = float(np.median(weights)) if weights.size else 1.0
    with np.errstate(over="ignore"):
        return np.minimum(weights / median, 1e6) if median > 0 else np.ones_like(weights)


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length in place (zero rows stay zero); returns ``vectors``."""
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    vectors /= np.where(norms > 0, norms, 1.0)[:, None]
    return vectors


def train_propagate(cooc: Cooccurrence, settings: PropagateSettings,
                    progress: Progress | None = None) -> np.ndarray:
    """Item vectors (``float32``, ``n_items x dim``, unit rows) by propagation."""
    if cooc.n_pairs == 0:
        raise TrainingError("no positive pairs to train on; add pairs with a weight above 0")
    step = RowBlocks(propagation_matrix(cooc, settings), default_threads())
    return propagate_vectors(step, cooc.n_items, settings, progress)


def propagate_vectors(step: Product, n_items: int, settings: PropagateSettings,
                      progress: Progress | None = None) -> np.ndarray:
    """The propagation steps from seeded random vectors, through the step operator's product
    (in memory, or on a cluster)."""
    dim = settings.dim or 100
    rng = np.random.default_rng(settings.seed)
    vectors = normalize_rows(rng.standard_normal((n_items, dim), dtype=np.float32))
    first_kept = min(settings.average_from, settings.steps)
    kept = np.zeros_like(vectors)
    for done in range(1, settings.steps + 1):
        vectors = normalize_rows(step @ vectors)
        if done >= first_kept:
            kept += vectors
        if progress is not None:
            progress("propagating", done, settings.steps, None)
    return normalize_rows(kept)
