"""Bucket vectors fitted to a version's vectors: damped sparse least squares, solved by scipy.

With ``A`` the items' n-gram matrix (row ``i`` holds ``1 / m_i`` at each of the ``m_i``
buckets of item ``i``'s n-grams, :func:`~embedstore.subwords.ngrams.bucket_ids`) and ``Y`` the
items' unit vectors, the table ``X`` (``buckets x dim``) minimises

    ``|| W (A X - Y) ||^2 + damping^2 || X ||^2``

with ``W`` weighting item ``i`` by ``log(1 + count_i)``. The ``dim`` columns of ``X`` share
``A``, so they are solved as one system with :func:`scipy.sparse.linalg.lsqr` over an operator
that multiplies ``A`` by all columns at once (one sparse-dense product per step instead of
``dim`` sparse-vector products). Buckets no item uses stay zero.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .ngrams import HASHING, MAX_N, MIN_N, bucket_ids

if TYPE_CHECKING:
    from pathlib import Path

    from ..progress import Progress
    from ..schema import SubwordSettings

DEFAULT_BUCKETS = 200_000
"""Buckets when none are asked for: on the benchmark corpus (69,751 words, about 390,000
distinct n-grams) more buckets answered misspellings no better (``benchmarks/RESULTS.md``),
and the table costs ``buckets x dim x 4`` bytes (80 MB at dimension 100)."""
MAX_BUCKETS = 1 << 24
"""Most buckets a version may keep."""
DAMPING = 0.01
"""``damping`` of the least squares: keeps bucket vectors small where the items say little
about them (a rare n-gram), so that a misspelling's unseen n-grams pull its vector less."""
ITERATIONS = 40
"""Steps of LSQR at most (each one sparse-dense product forward and one back)."""
TOLERANCE = 1e-3
"""LSQR's ``atol`` and ``btol``: a fit this close does not answer differently."""


@dataclass(frozen=True)
class SubwordFit:
    """A fitted table (``float32``, ``buckets x dim``) and how the fit went."""

    table: np.ndarray
    iterations: int
    residual: float
    """The share of the unit targets' squared length the fit leaves unexplained."""
    seconds: float

    def note(self) -> str:
        used = int(np.count_nonzero(np.any(self.table != 0, axis=1)))
        return (f"subwords: {len(self.table):,} buckets ({used:,} used) fitted in "
                f"{self.seconds:.1f} s, {self.iterations} LSQR steps, {self.residual:.1%} of "
                "the items' unit vectors left unexplained")


def fit_subwords(items: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None,
                 *, buckets: int = DEFAULT_BUCKETS, damping: float = DAMPING,
                 iterations: int = ITERATIONS) -> SubwordFit:
    """Fit the bucket vectors whose mean over an item's n-grams reproduces its unit vector.

    ``counts`` (one per item, e.g. how often it was seen) weigh the items by
    ``log(1 + count)``; without them every item weighs the same.

    >>> items = ["cat", "cats", "dog", "dogs"]
    >>> vectors = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    >>> from embedstore.subwords.ngrams import compose
    >>> table = fit_subwords(items, vectors, buckets=1000).table
    >>> compose(["catz"], table).round(1).tolist()
    [[0.5, 0.0]]
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import LinearOperator, lsqr

    started = time.perf_counter()
    starts, ids = bucket_ids(items, buckets, MIN_N, MAX_N)
    lengths = np.diff(starts)
    used, columns = np.unique(ids, return_inverse=True)
    weight = np.ones(len(items)) if counts is None else \
        np.log1p(np.maximum(np.asarray(counts, dtype=np.float64), 0))
    values = np.repeat(weight / np.maximum(lengths, 1), lengths).astype(np.float32)
    matrix = csr_matrix((values, columns, starts), shape=(len(items), len(used)))
    matrix.sum_duplicates()
    transposed = matrix.T.tocsr()
    targets = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(targets, axis=1)
    targets = targets / np.where(norms > 0, norms, 1)[:, None] * weight[:, None].astype(
        np.float32)
    n, dim, width = len(items), targets.shape[1], len(used)
    operator = LinearOperator(
        (n * dim, width * dim), dtype=np.float32,
        matvec=lambda x: np.asarray(matrix @ x.reshape(width, dim), np.float32).ravel(),
        rmatvec=lambda y: np.asarray(transposed @ y.reshape(n, dim), np.float32).ravel())
    found = lsqr(operator, targets.ravel(), damp=damping, atol=TOLERANCE, btol=TOLERANCE,
                 iter_lim=iterations)
    table = np.zeros((buckets, dim), dtype=np.float32)
    table[used] = np.asarray(found[0], dtype=np.float32).reshape(width, dim)
    total = float(np.einsum("ij,ij->", targets, targets, dtype=np.float64))
    residual = float(found[3]) ** 2 / total if total > 0 else 0.0
    return SubwordFit(table, int(found[2]), residual, time.perf_counter() - started)


def subword_settings(buckets: int | None) -> SubwordSettings:
    """The settings of a fit with ``buckets`` (None: :data:`DEFAULT_BUCKETS`), checked before
    anything is read."""
    from ..errors import TrainingError
    from ..schema import SubwordSettings

    chosen = DEFAULT_BUCKETS if buckets is None else buckets
    if not 1 <= chosen <= MAX_BUCKETS:
        raise TrainingError(f"--subword-buckets must be between 1 and {MAX_BUCKETS:,}, not "
                            f"{chosen:,}")
    return SubwordSettings(buckets=chosen, min_n=MIN_N, max_n=MAX_N, hashing=HASHING,
                           damping=DAMPING)


def keep_subwords(settings: SubwordSettings, items: Sequence[str], vectors: np.ndarray,
                  counts: np.ndarray | None, directory: Path,
                  progress: Progress | None = None) -> tuple[dict[str, Path], str]:
    """Fit the bucket vectors of ``items`` and write them to ``directory`` for the version
    to keep (``subwords.npy``); the file by key and the note saying how the fit went."""
    from ..counting.kept import SUBWORDS, write_kept_arrays

    if progress is not None:
        progress("subwords", 0, 1, None)
    fitted = fit_subwords(items, vectors, counts, buckets=settings.buckets,
                          damping=settings.damping)
    if progress is not None:
        progress("subwords", 1, 1, None)
    return write_kept_arrays({SUBWORDS: fitted.table}, directory), fitted.note()
