"""The aggregated co-occurrence data that every training method consumes.

Pair files (:mod:`embedstore.inputs.pair_file`) and text corpora both reduce to a
:class:`Cooccurrence`:
a vocabulary ordered by frequency and the distinct unordered pairs with their summed weights.
Its size grows with the distinct items and pairs, never with the length of the input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cooccurrence:
    """Distinct items and the distinct pairs between them.

    Attributes
    ----------
    items:
        The vocabulary in row order: most frequent first (ties keep first-seen order).
    item_counts:
        ``float64`` per item: how often it occurred (pair weight marginals for pair files,
        token counts for text).
    left, right:
        ``int64`` row ids of the distinct positive pairs, ``left <= right``; each unordered
        pair appears once.
    weight:
        ``float64`` summed co-occurrence weight of each positive pair (> 0).
    negative_left, negative_right:
        ``int64`` row ids of explicit negative pairs (weight 0 in a pair file), ``left <= right``.
    """

    items: list[str]
    item_counts: np.ndarray
    left: np.ndarray
    right: np.ndarray
    weight: np.ndarray
    negative_left: np.ndarray
    negative_right: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_pairs(self) -> int:
        return int(self.left.shape[0])

    @property
    def n_negative_pairs(self) -> int:
        return int(self.negative_left.shape[0])


def both_directions(left: np.ndarray, right: np.ndarray,
                    values: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """The entries of a symmetric matrix from its pairs (``left <= right``): each pair in
    both directions, a pair of an item with itself once; rows first, then columns, then the
    values if given."""
    off = left != right
    found = (np.concatenate([left, right[off]]), np.concatenate([right, left[off]]))
    if values is None:
        return found
    return (*found, np.concatenate([values, values[off]]))
