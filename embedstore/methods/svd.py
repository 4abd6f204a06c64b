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

A version keeps its signed singular values (``singular_values.npy``: ``S`` times the sign of
``u . v`` per component, for the symmetric PPMI matrix the sign of its eigenvalue), so that new
items can be folded in later (:func:`fold_in_svd`): a new item's PPMI row ``m`` over the known
items becomes ``m V S^(p-1)`` (plus ``m U S^(p-1)`` with the context side), the standard
projection of a row onto the basis of a truncated SVD.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..counting.cooccurrence import both_directions
from ..errors import TrainingError
from ..progress import Progress
from ..schema import SvdSettings
from .dense import IN_MEMORY, DenseMatrices, Tall, Wide
from .fitted import ROTATION, Extension, Fitted, Folded, WarmStart
from .ppmi import context_weights, pmi_values

if TYPE_CHECKING:
    from ..engines import Counts, Product

HEAD_ROWS = 50_000
"""``remove_components`` finds the leading directions on at most this many first rows."""
SINGULAR_VALUES = "singular_values"
"""The key (and file name) of the signed singular values a version keeps."""


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
    vectors, signed = svd_factors(forward, backward, settings, progress, dense)
    return Fitted(vectors, settings, kept={SINGULAR_VALUES: signed})


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
    return svd_factors(forward, backward, settings, progress, dense)[0]


def svd_factors(forward: Product, backward: Product, settings: SvdSettings,
                progress: Progress | None = None,
                dense: DenseMatrices = IN_MEMORY) -> tuple[np.ndarray, np.ndarray]:
    """:func:`svd_vectors`, and the signed singular values (float64; ``S`` times the sign of
    ``u . v`` per component) that a version keeps for folding new items in."""
    n_items = forward.shape[0]
    dim = settings.dim or 100
    rank = min(dim, n_items - 1)
    rng = np.random.default_rng(settings.seed)
    u, s, vt = randomized_svd(forward, backward, rank, settings.power_iterations,
                              settings.oversample, rng, progress, dense)
    signed = s * np.where(_column_dots(dense, u, dense.tall(vt)) < 0, -1.0, 1.0)
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
    return _padded(dense, vectors, dim), signed


def _column_dots(dense: DenseMatrices, first: Tall, second: Tall) -> np.ndarray:
    """``sum_i first[i, k] * second[i, k]`` for every column ``k``, over the row blocks."""
    total = np.zeros(first.shape[1])
    for a, b in zip(dense.rows(first), dense.rows(second), strict=True):
        total += np.einsum("ik,ik->k", a, b)
    return total


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
