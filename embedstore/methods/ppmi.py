"""Positive pointwise mutual information: the one formula every engine computes PPMI with.

For the symmetric count matrix ``C`` (both directions of every pair), row sums ``r`` and
context counts ``c = r ** context_smoothing`` (0.75, as word2vec's negative sampling smooths
them; ``D`` their total),

    ``PPMI_ij = max(0, log(C_ij * D / (r_i * c_j)) - log(shift))``.

:func:`pmi_values` is that expression, evaluated in one fixed order of operations, so that the
in-memory matrix, the row blocks on disk and the blocks on a cluster hold the same bits.
"""

from __future__ import annotations

import numpy as np

from ..errors import TrainingError
from ..schema import SvdSettings


def context_weights(row_sums: np.ndarray, settings: SvdSettings) -> np.ndarray:
    """The smoothed context counts ``c = r ** context_smoothing``."""
    return row_sums ** settings.context_smoothing


def pmi_values(counts: np.ndarray, own_sums: np.ndarray, other_context: np.ndarray,
               log_context_total: float, shift: float) -> np.ndarray:
    """``log(C_ij * D / (r_i * c_j)) - log(shift)`` for entries with counts ``counts``, row
    sums ``own_sums`` (of each entry's row) and context counts ``other_context`` (of each
    entry's column); keep the positive ones.

    >>> pmi_values(np.array([2.0]), np.array([2.0]), np.array([1.0]), float(np.log(4.0)), 1.0)
    array([1.38629436])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log(counts) + log_context_total - np.log(own_sums)
                - np.log(other_context) - np.log(shift))


def no_positive_pmi() -> TrainingError:
    """The error when no entry of the PPMI matrix is positive."""
    return TrainingError("no pair co-occurs more often than chance (all PMI values are "
                         "<= 0); add data or lower the shift")
