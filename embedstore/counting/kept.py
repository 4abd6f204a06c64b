"""The counts a version keeps beside its vectors, so that its neighbours can be explained and
new items folded in later.

Two ``.npy`` files in the version's directory: ``pairs.npy`` (``int32``, one row ``left,
right`` per distinct pair, ``left <= right``, rows of the version's vocabulary) and
``weights.npy`` (``float64``, the pair's summed weight; 0 marks an explicit negative pair).
They are written while the run's counts are at hand, in chunks, so counts on disk never come
into memory whole, and they are checksummed, verified and removed with the version.

A method may keep further arrays beside them the same way (``KEY.npy``; svd its singular
values, sgns its context vectors: :attr:`embedstore.methods.fitted.Fitted.kept`), which
:func:`write_kept_arrays` writes and :func:`read_kept_arrays` maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PAIRS = "pairs"
WEIGHTS = "weights"
"""The keys of the kept files in a version's record (``files``), and their names
(``KEY.npy``)."""
SUBWORDS = "subwords"
"""The key (and ``KEY.npy`` name) of a version's subword vectors (:mod:`embedstore.subwords`):
not a method's array: a fold-in refits it or carries the parent's over as it is."""
NOT_KEPT = frozenset({"vectors", "norms", PAIRS, WEIGHTS, SUBWORDS})
"""Keys of a version's files that are not a method's kept arrays."""
WRITE_ROWS = 1 << 20
"""Pairs written at a time."""


@dataclass(frozen=True)
class KeptCounts:
    """A version's kept counts: ``left``, ``right`` (rows) and ``weight`` per distinct pair."""

    left: np.ndarray
    right: np.ndarray
    weight: np.ndarray

    @property
    def n_pairs(self) -> int:
        return int(self.weight.shape[0])

    def partners(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows paired with ``row`` and the pairs' weights (a pair with itself once)."""
        as_left = self.left == row
        as_right = (self.right == row) & ~as_left
        return (np.concatenate([self.right[as_left], self.left[as_right]]),
                np.concatenate([self.weight[as_left], self.weight[as_right]]))


def write_kept_counts(chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
                      n_pairs: int, directory: Path) -> dict[str, Path]:
    """Write ``n_pairs`` pairs given in ``(left, right, weight)`` chunks to ``directory``;
    the files by key, for :meth:`embedstore.store.Store.publish`'s ``kept``.

    The files are appended to piece by piece (at most :data:`WRITE_ROWS` rows at a time),
    never memory-mapped: written pages of a mapping would stay in the process's memory until
    it is closed, all of the pairs at once."""
    from numpy.lib import format as npy

    paths = {PAIRS: directory / f"{PAIRS}.npy", WEIGHTS: directory / f"{WEIGHTS}.npy"}
    done = 0
    with paths[PAIRS].open("wb") as pairs, paths[WEIGHTS].open("wb") as weights:
        for handle, dtype, shape in ((pairs, np.int32, (n_pairs, 2)),
                                     (weights, np.float64, (n_pairs,))):
            npy.write_array_header_1_0(handle, {"descr": npy.dtype_to_descr(np.dtype(dtype)),
                                                "fortran_order": False, "shape": shape})
        for left, right, weight in chunks:
            for start in range(0, len(weight), WRITE_ROWS):
                stop = start + WRITE_ROWS
                piece = np.empty((len(weight[start:stop]), 2), dtype=np.int32)
                piece[:, 0], piece[:, 1] = left[start:stop], right[start:stop]
                piece.tofile(pairs)
                np.asarray(weight[start:stop], dtype=np.float64).tofile(weights)
            done += len(weight)
    if done != n_pairs:
        raise ValueError(f"{done} pairs written where {n_pairs} were announced")
    return paths


def read_kept_counts(pairs_path: Path, weights_path: Path) -> KeptCounts:
    """A version's kept counts, memory-mapped (no pickles)."""
    pairs = np.load(pairs_path, mmap_mode="r", allow_pickle=False)
    weights = np.load(weights_path, mmap_mode="r", allow_pickle=False)
    return KeptCounts(np.asarray(pairs[:, 0]), np.asarray(pairs[:, 1]), np.asarray(weights))


def write_kept_arrays(arrays: Mapping[str, np.ndarray], directory: Path) -> dict[str, Path]:
    """Write a method's arrays (or a version's subword vectors) to ``directory`` as
    ``KEY.npy``; the files by key. A disk that fails raises :class:`StoreError`."""
    from ..errors import StoreError

    paths = {}
    for key, array in arrays.items():
        paths[key] = directory / f"{key}.npy"
        try:
            np.save(paths[key], np.ascontiguousarray(array), allow_pickle=False)
        except OSError as exc:
            raise StoreError(f"cannot write {paths[key]}: {exc}; check free space and "
                             "permissions of the temporary folder (TMPDIR)") from None
    return paths


def read_kept_arrays(paths: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """A version's kept method arrays, memory-mapped (no pickles); ``paths`` by key."""
    return {key: np.load(path, mmap_mode="r", allow_pickle=False)
            for key, path in paths.items() if key not in NOT_KEPT}
