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

New items are folded into a version (:func:`fold_in_propagate`, ``embed extend``) by the same
steps over the new rows alone, the known rows fixed: see its docstring for what it adds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..counting.cooccurrence import both_directions
from ..geometry import unit_rows
from ..progress import Progress
from ..schema import PropagateSettings
from .fitted import Extension, Fitted, Folded, WarmStart

if TYPE_CHECKING:
    from ..counting.kept import KeptCounts
    from ..engines import Counts, Product

SHARPEN = 2.0
"""How much more of a known partner's own part (its vector less its projection on the mean
of its partners) a new row reads, on top of the vector itself: 2 kept the most siblings with
held-out links at the retrain's level on debian-deps (``benchmarks/bench_extend.py``)."""


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


def fold_in_propagate(extension: Extension, settings: PropagateSettings,
                      progress: Progress | None = None) -> Folded:
    """Vectors for the new rows of ``extension`` by the parent's own steps, the known rows
    fixed at the parent's vectors.

    Each new row starts at zero and takes ``steps`` steps of the step operator
    (:func:`step_matrix`, with the parent's ``self_weight``, ``degree_exponent`` and
    ``negative_weight``; degrees are the parent's kept counts plus the new pairs, weights are
    relative to the parent's median), reading new partners at their previous step and known
    partners at a fixed vector; the result is the mean of the steps from ``average_from`` on,
    as the parent averaged (:func:`new_row_steps`). Its first step is the weighed sum of its
    known partners' fixed vectors: no random start, so the same pairs give the same vectors
    whatever the seed (a random start measured 0.004 fewer siblings). The fixed vector of a
    known partner is its vector with its own part amplified (:func:`sharpened_rows`): in a
    full run every step mixes an item into its partners, so a new item and its partners share
    part of each other's start; the parent's vectors hold no trace of the new item, and
    without this the new rows sit at the smooth mean of their partners, where new items with
    overlapping partners crowd each other out of their neighbour lists (measured: 0.91 of a
    retrain's siblings without, 0.93 with). Work and memory grow with the new pairs and their
    partners' pairs, not with the parent.
    """
    n_old, n_new = extension.n_old, extension.n_new
    median, parent_degree = parent_degrees(extension.counts, n_old)
    rows, cols, weights = both_directions(extension.left, extension.right, extension.weight)
    edge = relative_weights(weights, median)
    degree = np.bincount(rows, weights=edge, minlength=n_old + n_new)
    degree[:n_old] += parent_degree
    negative_rows, negative_cols = both_directions(extension.negative_left,
                                                   extension.negative_right)
    new_entries, new_negatives = rows >= n_old, negative_rows >= n_old
    partners = np.unique(np.concatenate([cols[new_entries & (cols < n_old)],
                                         negative_cols[new_negatives & (negative_cols < n_old)]]))
    columns = np.concatenate([partners, np.arange(n_old, n_old + n_new)])

    def compact(ids: np.ndarray) -> np.ndarray:
        return np.where(ids < n_old, np.searchsorted(partners, ids), ids - n_old + len(partners))

    step = step_matrix(
        (n_new, len(columns)), rows[new_entries] - n_old, compact(cols[new_entries]),
        edge[new_entries], hub_scale(degree[columns], settings), settings,
        first_row=len(partners),
        negatives=(negative_rows[new_negatives] - n_old, compact(negative_cols[new_negatives])))
    fixed = sharpened_rows(extension, partners, median, hub_scale(parent_degree, settings),
                           settings)
    known_part = np.asarray(step[:, : len(partners)] @ fixed, dtype=np.float32)
    new_part = step[:, len(partners):].tocsr()
    return Folded(new_row_steps(new_part, known_part, settings, progress))


def new_row_steps(new_part: Any, known_part: np.ndarray, settings: PropagateSettings,
                  progress: Progress | None = None) -> np.ndarray:
    """The steps of the new rows, ``unit(new_part @ rows + known_part)``, from zero, averaged
    from ``average_from`` on; ``steps`` of them, and more while a row further than that from
    every known item is still zero."""
    vectors = np.zeros_like(known_part)
    kept = np.zeros_like(known_part)
    first_kept, done = min(settings.average_from, settings.steps), 0
    while done < settings.steps or (not kept.any(axis=1).all()
                                    and done < settings.steps + len(kept)):
        done += 1
        vectors = unit_rows(new_part @ vectors + known_part, copy=False)
        if done >= first_kept:
            kept += vectors
        if progress is not None:
            progress("folding in", done, max(done, settings.steps), None)
    return unit_rows(kept, copy=False)


def parent_degrees(counts: KeptCounts, n_items: int) -> tuple[float, np.ndarray]:
    """The median positive weight of a version's kept counts and every item's degree (summed
    relative weight), as its training computed them."""
    positive = counts.weight > 0
    left, right, weights = counts.left[positive], counts.right[positive], counts.weight[positive]
    median = float(np.median(weights)) if weights.size else 1.0
    rows, _, edge = both_directions(left, right, relative_weights(weights, median))
    return median, np.bincount(rows, weights=edge, minlength=n_items)


def sharpened_rows(extension: Extension, rows: np.ndarray, median: float, scale: np.ndarray,
                   settings: PropagateSettings) -> np.ndarray:
    """The parent's vectors of ``rows`` (sorted), each with its own part weighed
    ``1 + SHARPEN`` times: ``v + SHARPEN (v - (v . m) m)``, ``m`` the unit mean of the row's
    partners in the parent's step operator (its off-diagonal part), re-normalised."""
    from scipy import sparse

    counts, n_old = extension.counts, extension.n_old
    local = np.full(n_old, -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    touching = (local[counts.left] >= 0) | (local[counts.right] >= 0)
    entry_rows, entry_cols, weights = both_directions(
        counts.left[touching], counts.right[touching], counts.weight[touching])
    mine = local[entry_rows] >= 0
    entry_rows, entry_cols, weights = local[entry_rows[mine]], entry_cols[mine], weights[mine]
    values = np.where(weights > 0, relative_weights(weights, median),
                      -settings.negative_weight) * scale[entry_cols]
    neighbours = sparse.csr_matrix((values.astype(np.float32), (entry_rows, entry_cols)),
                                   shape=(len(rows), n_old))
    mean = unit_rows(np.asarray(neighbours @ np.asarray(extension.vectors)), copy=False)
    own = np.array(extension.vectors[rows], dtype=np.float32)
    own_part = own - mean * np.einsum("ij,ij->i", mean, own)[:, None]
    return unit_rows(own + SHARPEN * own_part, copy=False)
