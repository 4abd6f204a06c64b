"""What every method takes besides the counts (a warm start) and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..engines import Counts
    from ..progress import Progress


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
    settings as used (dimension and epochs filled in)."""

    vectors: np.ndarray
    settings: Any
    epochs: int | None = None
    epoch_losses: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


FitFunction = Callable[["Counts", Any, "Progress | None", "WarmStart | None"], Fitted]
"""A method: ``(counts, settings, progress, warm start or None) -> Fitted``. It sees the
counts only through the engine seam (:class:`embedstore.engines.Counts`)."""
