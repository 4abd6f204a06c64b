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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..progress import Progress
from ..schema import SvdSettings
from .fitted import Fitted, WarmStart

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
    return Fitted(svd_vectors(forward, backward, settings, progress), settings)


def remove_top_components(vectors: np.ndarray, count: int) -> np.ndarray:
    """"All-but-the-top" (Mu and Viswanath 2018): subtract the mean vector, then the
    projections on the ``count`` leading principal directions, which carry frequency more
    than meaning."""
    centred = vectors - vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(centred[: min(len(centred), 50_000)], full_matrices=False)
    top = directions[:count]
    return centred - (centred @ top.T) @ top


def svd_sides(forward: Product, backward: Product, settings: SvdSettings,
              context_weight: float | None = None,
              progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of the factorisation ``PPMI ~ U S V^T`` whose products are ``forward`` and
    ``backward``: item vectors ``U S^p`` (``p = settings.eigen_weight``; what
    :func:`svd_vectors` gives without ``add_context`` or ``remove_components``) and context
    vectors ``V S^q`` (``q = context_weight``, None: ``p``), both ``float32``,
    ``n_items x dim``: a start for skip-gram's two matrices (with ``q = 1 - p`` their products
    are the rank-``dim`` PPMI matrix)."""
    u, s, vt = _signed_factors(forward, backward, settings, progress)
    u *= s ** settings.eigen_weight
    context = vt.T * s ** (settings.eigen_weight if context_weight is None else context_weight)
    return _padded(u, settings), _padded(context, settings)


def _signed_factors(forward: Product, backward: Product, settings: SvdSettings,
                    progress: Progress | None = None) -> tuple[np.ndarray, ...]:
    """``U, S, Vt`` of the randomised SVD, each component's sign fixed (largest |entry| of
    ``U`` positive) so that runs agree exactly."""
    n_items = forward.shape[0]
    rank = min(settings.dim or 100, n_items - 1)
    rng = np.random.default_rng(settings.seed)
    u, s, vt = randomized_svd(forward, backward, rank, settings.power_iterations,
                              settings.oversample, rng, progress)
    largest = [int(np.argmax(np.abs(column))) for column in u.T]  # no n x rank |u| copy
    signs = np.sign(u[largest, np.arange(u.shape[1])])
    signs[signs == 0] = 1
    u *= signs  # in place (the same products): no second copy of these n x rank matrices
    vt *= signs[:, None]
    return u, s, vt


def _padded(vectors: np.ndarray, settings: SvdSettings) -> np.ndarray:
    """``vectors`` as float32 with ``dim`` columns (zeros past the rank the data supports)."""
    result = np.zeros((vectors.shape[0], settings.dim or 100), dtype=np.float32)
    result[:, : vectors.shape[1]] = vectors
    return result




def svd_vectors(forward: Product, backward: Product, settings: SvdSettings,
                progress: Progress | None = None) -> np.ndarray:
    """Item vectors (``float32``, one row per row of the PPMI matrix whose products are
    ``forward`` and ``backward``) by randomised SVD; the same products give the same bits."""
    u, s, vt = _signed_factors(forward, backward, settings, progress)
    weight = s ** settings.eigen_weight
    u *= weight
    vectors = u
    if settings.add_context:
        vectors = vectors + vt.T * weight
    if settings.remove_components:
        vectors = remove_top_components(vectors, settings.remove_components)
    return _padded(vectors, settings)
