"""The fit stage of training: co-occurrence counts in, item vectors out, one module per method.

Every method is a function ``(counts, settings, progress, warm start) -> Fitted``, registered
in :data:`FIT_METHODS` under the type of its settings record; :func:`fit` dispatches on the
settings it is given. A method that is a plain function of the counts and its settings
(vectors out) registers through :func:`vectors_only`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cooccurrence import Cooccurrence
from .errors import TrainingError
from .factorize import train_svd
from .progress import Progress
from .schema import Record, SgnsSettings, SvdSettings
from .sgns import DEFAULT_DIM, train_sgns


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


FitMethod = Callable[[Cooccurrence, Any, "Progress | None", "WarmStart | None"], Fitted]


def _fit_sgns(cooc: Cooccurrence, settings: SgnsSettings, progress: Progress | None,
              warm: WarmStart | None) -> Fitted:
    result = train_sgns(cooc, settings, progress=progress,
                        initial=(warm.vectors, warm.known) if warm is not None else None)
    return Fitted(result.vectors, settings.model_copy(update={"epochs": result.epochs}),
                  result.epochs, result.epoch_losses)


def vectors_only(method: Callable[..., np.ndarray]) -> FitMethod:
    """A fit method from a function ``method(counts, settings, progress=...)`` that returns
    vectors and cannot warm-start."""

    def fit_method(cooc: Cooccurrence, settings: Any, progress: Progress | None,
                   warm: WarmStart | None) -> Fitted:
        return Fitted(method(cooc, settings, progress=progress), settings)

    return fit_method


FIT_METHODS: dict[type[Record], FitMethod] = {
    SgnsSettings: _fit_sgns,
    SvdSettings: vectors_only(train_svd),
}
WARM_STARTS: frozenset[type[Record]] = frozenset({SgnsSettings})
"""Settings types whose method can start from a parent version's vectors."""


def check_warm_start(settings: Record) -> None:
    """Refuse a warm start for a method that cannot use one (before any work is done)."""
    if type(settings) not in WARM_STARTS:
        raise TrainingError("a warm start (--from) needs --method sgns")


def fit(cooc: Cooccurrence, settings: Record, progress: Progress | None = None,
        warm: WarmStart | None = None) -> Fitted:
    """Train vectors for ``cooc`` with the method ``settings`` belong to.

    A ``dim`` of None becomes the warm start's dimension, else :data:`DEFAULT_DIM`.
    """
    if warm is not None:
        check_warm_start(settings)
    dim = getattr(settings, "dim", None)
    if dim is None:
        dim = warm.vectors.shape[1] if warm is not None else DEFAULT_DIM
        settings = settings.model_copy(update={"dim": dim})
    return FIT_METHODS[type(settings)](cooc, settings, progress, warm)
