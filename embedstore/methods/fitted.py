"""What every method takes besides the counts (a warm start) and what it gives back, and what
a method's fold-in (``embed extend``) takes and gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..counting.kept import KeptCounts
    from ..engines import Counts
    from ..progress import Progress


ROTATION = "rotation"
"""The key (and file name) of the rotation a warm start turned a method's vectors by, kept
with the other arrays of a method that keeps any (:attr:`Fitted.kept`): ``vectors @ R``."""


@dataclass(frozen=True)
class WarmStart:
    """Starting vectors from a parent version: ``vectors`` (one row per item) hold the
    parent's vector where ``known`` is set."""

    parent: int
    vectors: np.ndarray
    known: np.ndarray


@dataclass(frozen=True)
class Fitted:
    """What a method made: ``float32`` vectors in the row order of the counts' items, and the
    settings as used (dimension and epochs filled in).

    ``kept`` holds further arrays the version keeps beside its vectors (``KEY.npy``), for its
    fold-in to start from later (svd: its signed singular values, sgns: its context vectors).
    """

    vectors: np.ndarray
    settings: Any
    epochs: int | None = None
    epoch_losses: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept: dict[str, np.ndarray] = field(default_factory=dict)


FitFunction = Callable[["Counts", Any, "Progress | None", "WarmStart | None"], Fitted]
"""A method: ``(counts, settings, progress, warm start or None) -> Fitted``. It sees the
counts only through the engine seam (:class:`embedstore.engines.Counts`)."""


@dataclass(frozen=True)
class Extension:
    """What a fold-in starts from: the parent version and the new pairs.

    The new version's rows are the parent's (``0 .. n_old - 1``, their vectors unchanged)
    followed by the ``n_new`` new items. ``left``, ``right`` and ``weight`` are the new positive
    pairs in those rows (``left <= right``, each with a new item at one end at least), and
    ``negative_left``, ``negative_right`` its explicit negative pairs; ``item_counts`` are the
    new items' summed positive weights in the new pairs. ``vectors`` (memory-mapped),
    ``counts`` and ``kept`` (the method's arrays, :attr:`Fitted.kept`, possibly missing for a
    version trained before they were kept) are the parent's.
    """

    parent: int
    vectors: np.ndarray
    counts: KeptCounts
    kept: dict[str, np.ndarray]
    n_new: int
    left: np.ndarray
    right: np.ndarray
    weight: np.ndarray
    negative_left: np.ndarray
    negative_right: np.ndarray
    item_counts: np.ndarray

    @property
    def n_old(self) -> int:
        return int(self.vectors.shape[0])


@dataclass(frozen=True)
class Folded:
    """What a fold-in made: ``float32`` vectors of the new items (rows ``n_old`` on), arrays
    the new version keeps in place of the parent's (``kept``; the parent's others are kept as
    they are), and rows to append to the parent's arrays of the same name (``kept_rows``)."""

    vectors: np.ndarray
    kept: dict[str, np.ndarray] = field(default_factory=dict)
    kept_rows: dict[str, np.ndarray] = field(default_factory=dict)
    epoch_losses: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


FoldFunction = Callable[[Extension, Any, "Progress | None"], Folded]
"""A method's fold-in: ``(extension, the parent's settings, progress) -> Folded``; the
parent's vectors are never written."""
