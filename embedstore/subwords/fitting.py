"""Bucket vectors fitted to a version's vectors: damped sparse least squares, solved by scipy.

With ``A`` the n-gram matrix (row ``i`` holds ``1 / m_i`` at each of the ``m_i`` buckets of
spelling ``i``'s n-grams, :func:`~embedstore.subwords.ngrams.bucket_ids`) and ``Y`` the unit
vectors of the items they spell, the table ``X`` (``buckets x dim``) minimises

    ``|| W (A X - Y) ||^2 + damping^2 || X ||^2``

with ``W`` weighting a row by ``log(1 + count)^2`` of its item (frequent items, whose vectors
are the most reliable, count more). The spellings are the items themselves and
:data:`TYPO_COPIES` typos of each (one inner letter dropped, swapped with the next, doubled,
replaced or inserted; random, with a fixed seed), each with its item's vector as the target:
so the table learns what the n-grams that survive a typo say, as Misspelling Oblivious
Embeddings (Piktus et al., 2019) train fastText on typos. The ``dim`` columns of ``X`` share
``A``, so they are solved as one system with :func:`scipy.sparse.linalg.lsqr` over an operator
that multiplies ``A`` by all columns at once (one sparse-dense product per step instead of
``dim`` sparse-vector products). Buckets no spelling uses stay zero. The measurements behind
each choice are in ``benchmarks/RESULTS.md`` ("Subword vectors").
"""

from __future__ import annotations

import random
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
"""Steps of LSQR at most (each one sparse-dense product forward and one back): on the
benchmark corpus fewer steps (15, 25) and more (60, 100) both found misspellings less often."""
TYPO_COPIES = 3
"""Typos of each item fitted beside it (0: the items alone)."""
TYPO_SEED = 0
LETTERS = "abcdefghijklmnopqrstuvwxyz"
TOLERANCE = 1e-3
"""LSQR's ``atol`` and ``btol``: a fit this close does not answer differently."""


@dataclass(frozen=True)
class SubwordFit:
    """A fitted table (``float32``, ``buckets x dim``) and how the fit went."""

    table: np.ndarray
    iterations: int
    residual: float
    """The share of the (weighted) targets' squared length the fit leaves unexplained, the
    typos' included."""
    seconds: float

    def note(self) -> str:
        used = int(np.count_nonzero(np.any(self.table != 0, axis=1)))
        return (f"subwords: {len(self.table):,} buckets ({used:,} used) fitted in "
                f"{self.seconds:.1f} s, {self.iterations} LSQR steps, {self.residual:.1%} of "
                "the targets left unexplained")


def typos(items: Sequence[str], copies: int = TYPO_COPIES, seed: int = TYPO_SEED
          ) -> tuple[list[str], np.ndarray]:
    """``copies`` typos of each item of at least 4 characters that are not themselves items,
    and the row of the item each one misspells.

    >>> typos(["where", "be"], 2)
    (['whyre', 'wihere'], array([0, 0]))
    """
    rng = random.Random(seed)
    known = set(items)
    spelt, owners = [], []
    for _ in range(copies):
        for row, item in enumerate(items):
            if len(item) < 4:
                continue
            at, letter = rng.randrange(1, len(item) - 2), rng.choice(LETTERS)
            typo = {"drop": item[:at] + item[at + 1:],
                    "swap": item[:at] + item[at + 1] + item[at] + item[at + 2:],
                    "double": item[:at] + item[at] + item[at:],
                    "replace": item[:at] + letter + item[at + 1:],
                    "insert": item[:at] + letter + item[at:]}[
                rng.choice(("drop", "swap", "double", "replace", "insert"))]
            if typo not in known:
                spelt.append(typo)
                owners.append(row)
    return spelt, np.array(owners, dtype=np.int64)


def fit_subwords(items: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None,
                 *, buckets: int = DEFAULT_BUCKETS, damping: float = DAMPING,
                 iterations: int = ITERATIONS, typo_copies: int = TYPO_COPIES) -> SubwordFit:
    """Fit the bucket vectors whose mean over an item's n-grams (and over those of its
    typos) reproduces its unit vector.

    ``counts`` (one per item, e.g. how often it was seen) weigh the items by
    ``log(1 + count)^2``; without them every item weighs the same.

    >>> items = ["cat", "cats", "dog", "dogs"]
    >>> vectors = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32)
    >>> from embedstore.subwords.ngrams import compose
    >>> table = fit_subwords(items, vectors, buckets=1000).table
    >>> (compose(["catz"], table)[0] > 0.3).tolist()  # nearer cat than dog
    [True, False]
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import LinearOperator, lsqr

    started = time.perf_counter()
    spelt, owners = typos(items, typo_copies)
    owners = np.concatenate([np.arange(len(items)), owners])
    starts, ids = bucket_ids([*items, *spelt], buckets, MIN_N, MAX_N)
    lengths = np.diff(starts)
    used, columns = np.unique(ids, return_inverse=True)
    weight = (np.ones(len(items)) if counts is None else
              np.log1p(np.maximum(np.asarray(counts, dtype=np.float64), 0)) ** 2)[owners]
    values = np.repeat(weight / np.maximum(lengths, 1), lengths).astype(np.float32)
    matrix = csr_matrix((values, columns, starts), shape=(len(owners), len(used)))
    matrix.sum_duplicates()
    transposed = matrix.T.tocsr()
    targets = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(targets, axis=1)
    targets = (targets / np.where(norms > 0, norms, 1)[:, None])[owners] * weight[:, None].astype(
        np.float32)
    n, dim, width = len(owners), targets.shape[1], len(used)
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
