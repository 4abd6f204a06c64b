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

The dense ``items x (dim + oversample)`` matrices are held by a
:class:`~embedstore.methods.dense.DenseMatrices` the engine chooses: arrays in memory, or row
blocks on disk under a memory limit. The algorithm is written once over its operations;
reductions over all rows (the Gram matrices, each column's largest entry, the mean) are sums
over row blocks, which in memory are one block: the arithmetic of plain numpy on the arrays.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..progress import Progress
from ..schema import SvdSettings
from .dense import IN_MEMORY, DenseMatrices, Tall, Wide
from .fitted import Fitted, WarmStart

if TYPE_CHECKING:
    from ..engines import Counts, Product

HEAD_ROWS = 50_000
"""``remove_components`` finds the leading directions on at most this many first rows."""


def gram(dense: DenseMatrices, tall: Tall) -> np.ndarray:
    """``tall.T @ tall`` in float64, summed over the row blocks (in memory: one product)."""
    total: np.ndarray | None = None
    for block in dense.rows(tall):
        block = np.asarray(block, dtype=np.float64)
        part = block.T @ block
        total = part if total is None else np.add(total, part, out=total)
    assert total is not None
    return total


def wide_gram(dense: DenseMatrices, wide: Wide) -> np.ndarray:
    """``wide @ wide.T``, summed over the column blocks (in memory: one product)."""
    total: np.ndarray | None = None
    for block in dense.columns(wide):
        part = block @ block.T
        total = part if total is None else np.add(total, part, out=total)
    assert total is not None
    return total


def _times_float64(small: np.ndarray, block: np.ndarray) -> np.ndarray:
    return np.asarray(block, dtype=np.float64) @ small


def orthonormalize(matrix: Tall, dense: DenseMatrices = IN_MEMORY) -> Tall:
    """An orthonormal basis of the columns of a tall ``matrix`` (float64).

    Cholesky-QR applied twice (CholeskyQR2): two small Gram matrices and matrix products,
    several times faster than Householder QR on tall matrices and as accurate once repeated.
    Falls back to QR (in memory) for small or rank-deficient inputs.
    """
    rows, columns = matrix.shape
    if rows > 4 * columns and rows > 5000:
        basis = matrix
        try:
            for _ in range(2):
                inverse = np.linalg.inv(np.linalg.cholesky(gram(dense, basis))).T
                basis = dense.map_rows(partial(_times_float64, inverse), basis)
            return basis
        except np.linalg.LinAlgError:
            pass
    return np.linalg.qr(np.asarray(dense.whole(matrix), dtype=np.float64))[0]


def randomized_svd(forward: Product, backward: Product, rank: int, power_iterations: int,
                   oversample: int, rng: np.random.Generator,
                   progress: Progress | None = None,
                   dense: DenseMatrices = IN_MEMORY) -> tuple[Tall, np.ndarray, Wide]:
    """``U, S, Vt`` of the best rank-``rank`` approximation of the matrix whose products are
    ``forward`` (``matrix @ dense``) and ``backward`` (``matrix.T @ dense``); ``U`` and
    ``Vt`` as ``dense`` holds them (arrays in memory).

    Products run in float32; orthonormalisation in float64.
    """
    n = forward.shape[1]
    width = min(rank + oversample, min(forward.shape))
    basis = orthonormalize(dense.product(forward, dense.gaussian(rng, n, width)), dense)
    for step in range(power_iterations):
        for product in (backward, forward):
            projected = dense.product(product, basis)
            del basis  # not kept alive while the next one is made: one n x width copy less
            basis = orthonormalize(projected, dense)
            del projected
        if progress is not None:
            progress("svd", step + 1, power_iterations, None)
    small = dense.wide(dense.product(backward, basis))  # basis^T matrix
    # SVD of the short, wide matrix through the eigenvectors of its small Gram matrix.
    eigenvalues, left = np.linalg.eigh(wide_gram(dense, small))
    order = np.argsort(eigenvalues)[::-1][:rank]
    singular = np.sqrt(np.maximum(eigenvalues[order], 0.0))
    left = left[:, order]
    right = dense.map_columns(partial(np.matmul, left.T), small)
    del small
    divisor = np.where(singular > 0, singular, 1.0)[:, None]
    right = dense.map_columns(partial(_divide_in_place, divisor), right)  # one copy less
    return dense.map_rows(partial(_times, left), basis), singular, right


def _times(small: np.ndarray, block: np.ndarray) -> np.ndarray:
    return block @ small


def _divide_in_place(divisor: np.ndarray, block: np.ndarray) -> np.ndarray:
    return np.divide(block, divisor, out=block)


def _multiply_in_place(factor: np.ndarray, block: np.ndarray) -> np.ndarray:
    return np.multiply(block, factor, out=block)


def fit_svd(counts: Counts, settings: SvdSettings, progress: Progress | None,
            warm: WarmStart | None = None) -> Fitted:
    """Item vectors (``float32``, ``n_items x dim``) from PPMI + randomised SVD, over the
    PPMI products the engine builds, its dense matrices where the engine keeps them."""
    forward, backward = counts.ppmi_products(settings)
    dense = counts.svd_matrices(settings)
    return Fitted(svd_vectors(forward, backward, settings, progress, dense), settings)


def sketch_width(n_items: int, settings: SvdSettings) -> int:
    """Columns of the SVD's dense matrices for ``n_items`` items: ``dim + oversample``, at
    most ``n_items``."""
    rank = min(settings.dim or 100, n_items - 1)
    return min(rank + settings.oversample, n_items)


def largest_entries(dense: DenseMatrices, tall: Tall) -> np.ndarray:
    """Each column's entry of largest magnitude (the first of equals, from the top)."""
    best: np.ndarray | None = None
    for block in dense.rows(tall):
        at = [int(np.argmax(np.abs(column))) for column in block.T]  # no |block| copy
        values = block[at, np.arange(block.shape[1])]
        best = values if best is None else np.where(np.abs(values) > np.abs(best), values, best)
    assert best is not None
    return best


def remove_top_components(vectors: Tall, count: int, dense: DenseMatrices = IN_MEMORY) -> Tall:
    """"All-but-the-top" (Mu and Viswanath 2018): subtract the mean vector, then the
    projections on the ``count`` leading principal directions, which carry frequency more
    than meaning."""
    means, sizes, head = [], [], []
    for block in dense.rows(vectors):
        means.append(block.mean(axis=0))
        sizes.append(len(block))
        if sum(len(part) for part in head) < HEAD_ROWS:
            head.append(block[: HEAD_ROWS - sum(len(part) for part in head)])
    mean = means[0] if len(means) == 1 else np.average(means, axis=0, weights=sizes)
    sample = (head[0] if len(head) == 1 else np.concatenate(head)) - mean
    _, _, directions = np.linalg.svd(sample, full_matrices=False)
    del sample, head
    return dense.map_rows(partial(_project_out, mean, directions[:count]), vectors)


def _project_out(mean: np.ndarray, top: np.ndarray, block: np.ndarray) -> np.ndarray:
    centred = block - mean
    return centred - (centred @ top.T) @ top


def svd_vectors(forward: Product, backward: Product, settings: SvdSettings,
                progress: Progress | None = None,
                dense: DenseMatrices = IN_MEMORY) -> np.ndarray:
    """Item vectors (``float32``, one row per row of the PPMI matrix whose products are
    ``forward`` and ``backward``) by randomised SVD; the same products give the same bits
    (with the dense matrices in memory; in row blocks, up to the rounding of the sums over
    blocks)."""
    n_items = forward.shape[0]
    dim = settings.dim or 100
    rank = min(dim, n_items - 1)
    rng = np.random.default_rng(settings.seed)
    u, s, vt = randomized_svd(forward, backward, rank, settings.power_iterations,
                              settings.oversample, rng, progress, dense)
    # Fix each component's sign (largest |entry| of U positive) so runs agree exactly.
    signs = np.sign(largest_entries(dense, u))
    signs[signs == 0] = 1
    weight = s ** settings.eigen_weight
    combine = partial(_signed_weighted, signs, weight)
    if settings.add_context:
        vt = dense.map_columns(partial(_multiply_in_place, signs[:, None]), vt)
        vectors = dense.map_rows(combine, u, dense.tall(vt))
    else:
        vectors = dense.map_rows(combine, u)
    del u, vt
    if settings.remove_components:
        vectors = remove_top_components(vectors, settings.remove_components, dense)
    return _padded(dense, vectors, dim)


def _signed_weighted(signs: np.ndarray, weight: np.ndarray, u: np.ndarray,
                     context: np.ndarray | None = None) -> np.ndarray:
    """``U S^p`` (``+ V S^p``) of one row block, the signs fixed; in place on ``u`` (in memory:
    no second copy of these n x rank matrices)."""
    u *= signs
    u *= weight
    return u if context is None else u + context * weight


def svd_sides(forward: Product, backward: Product, settings: SvdSettings,
              context_weight: float | None = None, progress: Progress | None = None,
              dense: DenseMatrices = IN_MEMORY) -> tuple[np.ndarray, np.ndarray]:
    """Both sides of the factorisation ``PPMI ~ U S V^T`` whose products are ``forward`` and
    ``backward``, in memory: item vectors ``U S^p`` (``p = settings.eigen_weight``; what
    :func:`svd_vectors` gives without ``add_context`` or ``remove_components``) and context
    vectors ``V S^q`` (``q = context_weight``, None: ``p``), both ``float32``,
    ``n_items x dim``: a start for skip-gram's two matrices. ``dense`` holds the SVD's dense
    matrices, as for :func:`svd_vectors`."""
    dim = settings.dim or 100
    rank = min(dim, forward.shape[0] - 1)
    rng = np.random.default_rng(settings.seed)
    u, s, vt = randomized_svd(forward, backward, rank, settings.power_iterations,
                              settings.oversample, rng, progress, dense)
    signs = np.sign(largest_entries(dense, u))
    signs[signs == 0] = 1
    u = dense.map_rows(partial(_signed_weighted, signs, s ** settings.eigen_weight), u)
    vt = dense.map_columns(partial(_multiply_in_place, signs[:, None]), vt)
    weight = s ** (settings.eigen_weight if context_weight is None else context_weight)
    context = dense.map_rows(partial(_times_weight, weight), dense.tall(vt))
    del vt
    return _padded(dense, u, dim), _padded(dense, context, dim)


def _times_weight(weight: np.ndarray, block: np.ndarray) -> np.ndarray:
    return block * weight


def _padded(dense: DenseMatrices, vectors: Tall, dim: int) -> np.ndarray:
    """``vectors`` in memory as float32 with ``dim`` columns (zeros past the rank the data
    supports), filled block by block."""
    result = np.zeros((vectors.shape[0], dim), dtype=np.float32)
    start = 0
    for block in dense.rows(vectors):
        result[start:start + len(block), : block.shape[1]] = block
        start += len(block)
    return result
