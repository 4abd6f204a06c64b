"""The geometry of vectors shared by training, the index and the maps: unit rows and rotations.

numpy only, so the query path may use it without loading anything else.
"""

from __future__ import annotations

import numpy as np


def unit_rows(vectors: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """Each row scaled to length 1 (all-zero rows stay zero), in the dtype of ``vectors``.

    ``copy=False`` scales a float array in place and returns it (propagation's steps do, on
    matrices of ``items x dim``).

    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    if copy or not np.issubdtype(np.asarray(vectors).dtype, np.floating):
        vectors = np.array(vectors, dtype=np.result_type(np.asarray(vectors).dtype, np.float32))
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    vectors /= np.where(norms > 0, norms, 1.0)[:, None]
    return vectors


def pad_columns(matrix: np.ndarray, width: int) -> np.ndarray:
    """``matrix`` with zero columns appended up to ``width`` columns."""
    return np.hstack([matrix, np.zeros((len(matrix), width - matrix.shape[1]))])


def procrustes_rotation(moving: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """The orthogonal matrix ``R`` that minimises ``|moving @ R - fixed|`` (Schoenemann).

    Rows are the same items in two spaces. Spaces of different dimension are zero-padded to
    the larger one, so ``R`` is square of that size; pad ``moving`` the same way
    (:func:`pad_columns`) before applying it.

    >>> angle = np.pi / 3
    >>> turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    >>> fixed = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    >>> rotation = procrustes_rotation(fixed @ turn, fixed)
    >>> bool(np.allclose(fixed @ turn @ rotation, fixed))
    True
    """
    width = max(moving.shape[1], fixed.shape[1])
    cross = pad_columns(moving, width).T @ pad_columns(fixed, width)
    left, _, right = np.linalg.svd(cross)
    return left @ right
