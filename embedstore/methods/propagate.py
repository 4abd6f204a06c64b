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

from typing import TYPE_CHECKING, Any

import numpy as np

from ..geometry import unit_rows
from ..progress import Progress
from ..schema import PropagateSettings
from .fitted import Fitted, WarmStart

if TYPE_CHECKING:
    from ..engines import Counts, Product


def hub_scale(degree: np.ndarray, settings: PropagateSettings) -> np.ndarray:
    """``degree(j) ** -degree_exponent`` for every item (items without pairs: 1)."""
    return np.where(degree > 0, degree, 1.0) ** -settings.degree_exponent


def step_matrix(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, edge: np.ndarray,
                scale: np.ndarray, settings: PropagateSettings, *, first_row: int = 0,
                negatives: tuple[np.ndarray, np.ndarray] | None = None) -> Any:
    """Rows ``first_row`` onwards (``shape[0]`` of them) of the step operator
    ``A D^-p + self_weight I - negative_weight N D^-p`` as a float32 CSR matrix: the one
    formula every engine builds propagation with.

    ``rows`` (block-local) and ``cols`` are the positive entries with relative weights
    ``edge`` (:func:`relative_weights`), ``scale`` is :func:`hub_scale` of every item, and
    ``negatives`` the (block-local) rows and columns of explicit negative pairs.
    """
    from scipy import sparse

    diagonal = np.arange(shape[0])
    parts_rows, parts_cols = [rows, diagonal], [cols, diagonal + first_row]
    parts_values = [edge * scale[cols], np.full(shape[0], settings.self_weight)]
    if negatives is not None and settings.negative_weight > 0:
        parts_rows.append(negatives[0])
        parts_cols.append(negatives[1])
        parts_values.append(-settings.negative_weight * scale[negatives[1]])
    return sparse.csr_matrix(
        (np.concatenate(parts_values).astype(np.float32),
         (np.concatenate(parts_rows), np.concatenate(parts_cols))), shape=shape)


def relative_weights(weights: np.ndarray, median: float | None = None) -> np.ndarray:
    """Pair weights divided by their median (or ``median``), capped at a million times it: a
    file of unweighted rows keeps weight 1 everywhere, counts keep their ratios, and extreme
    but finite weights stay finite in every product.

    >>> relative_weights(np.array([1.0, 1.0, 4.0])).tolist()
    [1.0, 1.0, 4.0]
    >>> relative_weights(np.array([1e300, 1e-300, 1e-300])).tolist()
    [1000000.0, 1.0, 1.0]
    """
    if median is None:  # given when the weights are one block of a bigger set
        median = float(np.median(weights)) if weights.size else 1.0
    with np.errstate(over="ignore"):
        return np.minimum(weights / median, 1e6) if median > 0 else np.ones_like(weights)


def fit_propagate(counts: Counts, settings: PropagateSettings, progress: Progress | None,
                  warm: WarmStart | None = None) -> Fitted:
    """Item vectors (``float32``, ``n_items x dim``, unit rows) by propagation; on a graph
    whose items fit in the dimension, at most as many steps as its diameter
    (:func:`small_graph_settings`)."""
    step = counts.step_product(settings)
    settings, notes = small_graph_settings(step, counts.n_items, settings)
    vectors = propagate_vectors(step, counts.n_items, settings, progress)
    return Fitted(vectors, settings, notes=notes)


def small_graph_settings(step: Product, n_items: int, settings: PropagateSettings
                         ) -> tuple[PropagateSettings, list[str]]:
    """``settings`` for a graph whose items fit in the dimension: no more steps than the
    longest shortest path between two of its items (the diameter; a step further adds no
    structure, it only pulls every item of a connected part towards one direction, so that
    all scores tend to 1), averaged from the second step; unchanged for other graphs."""
    from scipy.sparse.csgraph import shortest_path

    if n_items > (settings.dim or 100):
        return settings, []
    links = np.abs(step @ np.eye(n_items, dtype=np.float32)) > 0
    distances = shortest_path(links, unweighted=True)
    diameter = int(distances[np.isfinite(distances)].max(initial=1.0))
    steps = max(1, min(settings.steps, diameter))
    if steps == settings.steps:
        return settings, []
    used = settings.model_copy(update={"steps": steps,
                                       "average_from": min(settings.average_from, 2, steps)})
    return used, [f"propagate: {steps} steps, the diameter of this graph of {n_items} items "
                  f"(fewer items than dimensions), averaged from step {used.average_from}"]


def start_vectors(n_items: int, dim: int, seed: int) -> np.ndarray:
    """Seeded random unit vectors, one row per item: Gaussian, and orthonormal when the items
    fit in the dimension, so that the cosines of a small graph are exact functions of the
    graph (the same for every seed), with nothing left of the random start."""
    rng = np.random.default_rng(seed)
    gaussian = rng.standard_normal((n_items, dim), dtype=np.float32)
    if n_items > dim:
        return unit_rows(gaussian, copy=False)
    basis = np.linalg.qr(gaussian.T.astype(np.float64))[0]
    return np.ascontiguousarray(basis.T, dtype=np.float32)


def propagate_vectors(step: Product, n_items: int, settings: PropagateSettings,
                      progress: Progress | None = None) -> np.ndarray:
    """The propagation steps from seeded random vectors (:func:`start_vectors`), through the
    step operator's product (wherever it lives)."""
    vectors = start_vectors(n_items, settings.dim or 100, settings.seed)
    first_kept = min(settings.average_from, settings.steps)
    kept = np.zeros_like(vectors)
    for done in range(1, settings.steps + 1):
        vectors = unit_rows(step @ vectors, copy=False)
        if done >= first_kept:
            kept += vectors
        if progress is not None:
            progress("propagating", done, settings.steps, None)
    return unit_rows(kept, copy=False)
