"""Count-based training: positive PMI of the co-occurrence counts, then a truncated SVD.

The symmetric count matrix ``C`` (both directions of every pair) becomes
``PPMI = max(0, log(C_ij * D / (r_i * c_j)) - log(shift))`` where ``r_i`` are row sums and the
context counts ``c_j`` are smoothed by raising them to ``context_smoothing`` (0.75, as
word2vec's negative sampling does; ``D`` normalises them to the same total). A randomised SVD
(Halko, Martinsson and Tropp 2011: a Gaussian sketch, ``power_iterations`` rounds of
re-orthonormalised power iteration, then an exact SVD of the small projected matrix) gives
``PPMI ~ U S V^T``; the item vectors are ``U S^p`` with ``p = eigen_weight`` (``U S^p + V S^p``
with ``add_context``). Damping the singular values helps both similarity and analogies (Levy,
Goldberg and Dagan 2015); on the benchmark corpus ``p = 0.25`` without the context side scored
best on analogies with similarity close to its best (see ``benchmarks/RESULTS.md``); on small
pair files the context side is needed (it cancels the negative-eigenvalue components of the
symmetric PPMI matrix). Deterministic for a seed. When ``dim`` exceeds what the data can support
(``n_items - 1``) the extra columns are zero.

A version keeps its signed singular values (``singular_values.npy``: ``S`` times the sign of
``u . v`` per component, for the symmetric PPMI matrix the sign of its eigenvalue), so that new
items can be folded in later (:func:`fold_in_svd`): a new item's PPMI row ``m`` over the known
items becomes ``m V S^(p-1)`` (plus ``m U S^(p-1)`` with the context side), the standard
projection of a row onto the basis of a truncated SVD.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..counting.cooccurrence import both_directions
from ..errors import TrainingError
from ..progress import Progress
from ..schema import SvdSettings
from .fitted import ROTATION, Extension, Fitted, Folded, WarmStart
from .ppmi import context_weights, pmi_values

SINGULAR_VALUES = "singular_values"
"""The key (and file name) of the signed singular values a version keeps."""

if TYPE_CHECKING:
    from ..engines import Counts, Product


def orthonormalize(matrix: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the columns of a tall ``matrix`` (float64).

    Cholesky-QR applied twice (CholeskyQR2): two small Gram matrices and matrix products,
    several times faster than Householder QR on tall matrices and as accurate once repeated.
    Falls back to QR for small or rank-deficient inputs.
    """
    basis = np.asarray(matrix, dtype=np.float64)
    if basis.shape[0] > 4 * basis.shape[1] and basis.shape[0] > 5000:
        try:
            for _ in range(2):
                factor = np.linalg.cholesky(basis.T @ basis)
                basis = basis @ np.linalg.inv(factor).T
            return basis
        except np.linalg.LinAlgError:
            pass
    return np.linalg.qr(np.asarray(matrix, dtype=np.float64))[0]


def randomized_svd(forward: Product, backward: Product, rank: int, power_iterations: int,
                   oversample: int, rng: np.random.Generator,
                   progress: Progress | None = None) -> tuple[np.ndarray, ...]:
    """``U, S, Vt`` of the best rank-``rank`` approximation of the matrix whose products are
    ``forward`` (``matrix @ dense``) and ``backward`` (``matrix.T @ dense``).

    Products run in float32; orthonormalisation in float64.
    """
    n = forward.shape[1]
    width = min(rank + oversample, min(forward.shape))
    basis = orthonormalize(forward @ rng.standard_normal((n, width)))
    for step in range(power_iterations):
        for product in (backward, forward):
            projected = product @ basis
            del basis  # not kept alive while the next one is made: one n x width copy less
            basis = orthonormalize(projected)
            del projected
        if progress is not None:
            progress("svd", step + 1, power_iterations, None)
    small = np.ascontiguousarray((backward @ basis).T, dtype=np.float64)  # basis^T matrix
    # SVD of the short, wide matrix through the eigenvectors of its small Gram matrix.
    eigenvalues, left = np.linalg.eigh(small @ small.T)
    order = np.argsort(eigenvalues)[::-1][:rank]
    singular = np.sqrt(np.maximum(eigenvalues[order], 0.0))
    left = left[:, order]
    right = left.T @ small
    del small
    right /= np.where(singular > 0, singular, 1.0)[:, None]  # in place: one copy less
    return basis @ left, singular, right


def fit_svd(counts: Counts, settings: SvdSettings, progress: Progress | None,
            warm: WarmStart | None = None) -> Fitted:
    """Item vectors (``float32``, ``n_items x dim``) from PPMI + randomised SVD, over the
    PPMI products the engine builds."""
    forward, backward = counts.ppmi_products(settings)
    vectors, signed = svd_vectors(forward, backward, settings, progress)
    return Fitted(vectors, settings, kept={SINGULAR_VALUES: signed})


def remove_top_components(vectors: np.ndarray, count: int) -> np.ndarray:
    """"All-but-the-top" (Mu and Viswanath 2018): subtract the mean vector, then the
    projections on the ``count`` leading principal directions, which carry frequency more
    than meaning."""
    centred = vectors - vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(centred[: min(len(centred), 50_000)], full_matrices=False)
    top = directions[:count]
    return centred - (centred @ top.T) @ top


def svd_vectors(forward: Product, backward: Product, settings: SvdSettings,
                progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Item vectors (``float32``, one row per row of the PPMI matrix whose products are
    ``forward`` and ``backward``) by randomised SVD, and the signed singular values (float64;
    the sign of ``u . v`` per component); the same products give the same bits."""
    n_items = forward.shape[0]
    dim = settings.dim or 100
    rank = min(dim, n_items - 1)
    rng = np.random.default_rng(settings.seed)
    u, s, vt = randomized_svd(forward, backward, rank, settings.power_iterations,
                              settings.oversample, rng, progress)
    # Fix each component's sign (largest |entry| of U positive) so runs agree exactly.
    largest = [int(np.argmax(np.abs(column))) for column in u.T]  # no n x rank |u| copy
    signs = np.sign(u[largest, np.arange(u.shape[1])])
    signs[signs == 0] = 1
    u *= signs  # in place (the same products): no second copy of these n x rank matrices
    vt *= signs[:, None]
    signed = s * np.where(np.einsum("ik,ki->k", u, vt) < 0, -1.0, 1.0)
    weight = s ** settings.eigen_weight
    u *= weight
    vectors = u
    if settings.add_context:
        vectors = vectors + vt.T * weight
    if settings.remove_components:
        vectors = remove_top_components(vectors, settings.remove_components)
    result = np.zeros((n_items, dim), dtype=np.float32)
    result[:, : vectors.shape[1]] = vectors
    return result, signed


def fold_in_svd(extension: Extension, settings: SvdSettings,
                progress: Progress | None = None) -> Folded:
    """Vectors for the new rows of ``extension``: each new item's PPMI row (marginals from
    the parent's kept counts plus the new pairs) times the known vectors, mapped onto the
    version's basis (:func:`fold_map`). A new item whose partners are all new is folded in
    after them, from their folded vectors: items are taken in order of their distance from
    the known items."""
    if settings.remove_components:
        raise TrainingError("a version trained with remove_components cannot be extended "
                            "(its removed directions are not kept); train a new version")
    mapping, notes = fold_map(extension, settings)
    n_old, n_new = extension.n_old, extension.n_new
    sums = _row_sums(extension)
    context = context_weights(sums, settings)
    rows, cols, counts = both_directions(extension.left, extension.right, extension.weight)
    mine = rows >= n_old
    rows, cols, counts = rows[mine] - n_old, cols[mine], counts[mine]
    pmi = pmi_values(counts, sums[rows + n_old], context[cols], float(np.log(context.sum())),
                     settings.shift)
    keep = pmi > 0
    rows, cols, pmi = rows[keep], cols[keep], pmi[keep]
    known = cols < n_old
    partners, inverse = np.unique(cols[known], return_inverse=True)
    from scipy import sparse

    base = sparse.csr_matrix((pmi[known], (rows[known], inverse)), shape=(n_new, len(partners)))
    base_sum = base @ np.asarray(extension.vectors[partners], dtype=np.float64)
    among_new = sparse.csr_matrix((pmi[~known], (rows[~known], cols[~known] - n_old)),
                                  shape=(n_new, n_new))
    vectors = np.zeros((n_new, extension.vectors.shape[1]))
    done = np.zeros(n_new, dtype=bool)
    ready = np.zeros(n_new, dtype=bool)
    ready[rows[known]] = True
    while ready.any():
        vectors[ready] = (base_sum[ready] + among_new[ready] @ vectors) @ mapping
        done |= ready
        ready = ~done & (np.asarray(among_new @ done.astype(np.float64)).ravel() > 0)
    if progress is not None:
        progress("folding in", 1, 1, None)
    return Folded(vectors.astype(np.float32), notes=notes)


def _row_sums(extension: Extension) -> np.ndarray:
    """Every item's summed positive weight: the parent's kept counts plus the new pairs."""
    counts, total = extension.counts, extension.n_old + extension.n_new
    positive = counts.weight > 0
    rows, _, weights = both_directions(counts.left[positive], counts.right[positive],
                                       counts.weight[positive])
    new_rows, _, new_weights = both_directions(extension.left, extension.right,
                                               extension.weight)
    return (np.bincount(rows, weights=weights, minlength=total)
            + np.bincount(new_rows, weights=new_weights, minlength=total))


def fold_map(extension: Extension, settings: SvdSettings) -> tuple[np.ndarray, list[str]]:
    """The ``dim x dim`` matrix ``M`` that takes a PPMI row's sum of the known vectors onto
    the version's basis: ``m W M`` is ``m V S^(p-1)`` (plus ``m U S^(p-1)`` with the context
    side) for vectors ``W = U S^p (+ V S^p)``, turned by a warm start's rotation ``R`` if any:
    ``M = R^T D R`` with ``D`` the diagonal of ``sign / S`` (with the context side: ``1 / S``
    for positive components, 0 for the ones that cancelled).

    A version trained before it kept its singular values has them estimated from its vectors'
    Gram matrix (the columns of ``U S^p`` have length ``S^p``), which is exact with the context
    side and assumes every component positive without it; a note says so."""
    dim = extension.vectors.shape[1]
    signed = extension.kept.get(SINGULAR_VALUES)
    if signed is not None:
        signed = np.asarray(signed, dtype=np.float64)
        size = np.abs(signed)
        inverse = np.where(size > 0, 1.0 / np.where(size > 0, size, 1.0), 0.0)
        inverse *= (signed > 0) if settings.add_context else np.sign(signed)
        diagonal = np.zeros(dim)
        diagonal[: len(inverse)] = inverse[:dim]
        rotation = np.asarray(extension.kept.get(ROTATION, np.eye(dim)), dtype=np.float64)
        return rotation.T @ (diagonal[:, None] * rotation), []
    if settings.eigen_weight == 0:
        raise TrainingError(f"version {extension.parent} keeps no singular values (it was "
                            "trained before versions kept them) and its --eigen-weight 0 "
                            "leaves none in its vectors; train a new version to extend it")
    vectors = np.asarray(extension.vectors, dtype=np.float64)
    eigenvalues, basis = np.linalg.eigh(vectors.T @ vectors)
    lengths = np.sqrt(np.maximum(eigenvalues, 0.0)) / (2.0 if settings.add_context else 1.0)
    present = lengths > 1e-3 * max(float(lengths.max()), 1e-300)  # not cancelled (U + V)
    size = np.where(present, lengths, 1.0) ** (1.0 / settings.eigen_weight)
    inverse = np.where(present, 1.0 / size, 0.0)
    return (basis * inverse) @ basis.T, [
        f"version {extension.parent} keeps no singular values (trained before versions kept "
        "them): they were estimated from its vectors' Gram matrix"
        + ("" if settings.add_context else
           ", taking every component's eigenvalue as positive")]
