"""The fit stage of training: co-occurrence counts in, item vectors out, one module per method.

Every method is a function ``(counts, settings, progress, warm start) -> Fitted``, registered
in :data:`FIT_METHODS` under the type of its settings record; :func:`fit` dispatches on the
settings it is given. A method that is a plain function of the counts and its settings
(vectors out) registers through :func:`vectors_only`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..counting.cooccurrence import Cooccurrence
from ..engines.bounded.text_counts import DiskCooccurrence
from ..errors import TrainingError
from ..methods.propagate import train_propagate
from ..methods.sgns import DEFAULT_DIM, train_sgns
from ..methods.svd import train_svd
from ..progress import Progress
from ..schema import PropagateSettings, Record, SgnsSettings, SvdSettings


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
    PropagateSettings: vectors_only(train_propagate),
}
WARM_STARTS: frozenset[type[Record]] = frozenset({SgnsSettings})
"""Settings types whose method continues from a parent version's vectors; every other
method's result is rotated onto the parent's (:func:`align_to`)."""
USES_NEGATIVES: frozenset[type[Record]] = frozenset({SgnsSettings, PropagateSettings})
"""Settings types whose method pushes explicit negative pairs apart."""


def align_to(vectors: np.ndarray, warm: WarmStart) -> np.ndarray:
    """``vectors`` rotated (orthogonal Procrustes on the items both versions know) so that
    they best match the parent's: cosines between items are unchanged, and ``embed diff``
    compares like with like.

    >>> rng = np.random.default_rng(0)
    >>> parent = rng.standard_normal((50, 4)).astype(np.float32)
    >>> rotation = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    >>> warm = WarmStart(1, parent, np.ones(50, dtype=bool))
    >>> bool(np.allclose(align_to(parent @ rotation, warm), parent, atol=1e-5))
    True
    """
    known = warm.known
    if known.sum() < 2:
        return vectors
    source = vectors[known].astype(np.float64)
    target = warm.vectors[known].astype(np.float64)
    source_scale = np.linalg.norm(source, axis=1, keepdims=True)
    target_scale = np.linalg.norm(target, axis=1, keepdims=True)
    cross = (source / np.where(source_scale > 0, source_scale, 1.0)).T @ (
        target / np.where(target_scale > 0, target_scale, 1.0))
    left, _, right = np.linalg.svd(cross)
    return (vectors.astype(np.float64) @ (left @ right)).astype(np.float32)


def fit(cooc: Cooccurrence | DiskCooccurrence, settings: Record,
        progress: Progress | None = None, warm: WarmStart | None = None,
        memory_limit: int | None = None) -> Fitted:
    """Train vectors for ``cooc`` with the method ``settings`` belong to.

    A ``dim`` of None becomes the warm start's dimension, else :data:`DEFAULT_DIM`. A method
    that cannot continue from a warm start trains afresh and is rotated onto it; one that
    cannot use explicit negative pairs says so in the notes. With ``memory_limit``, svd builds
    its PPMI matrix on disk when it would not fit (:mod:`embedstore.engines.bounded.disk_rows`,
    same vectors);
    the other methods take counts on disk into memory.
    """
    notes = []
    method = FIT_METHODS[type(settings)]
    if memory_limit is not None and type(settings) is SvdSettings:
        from ..engines.bounded.disk_rows import train_svd_within

        def method(cooc: Any, settings: Any, progress: Progress | None,
                   warm: WarmStart | None) -> Fitted:
            return Fitted(train_svd_within(cooc, settings, memory_limit, progress), settings)
    elif isinstance(cooc, DiskCooccurrence):
        cooc = cooc.load()
        notes.append(f"{settings.method} trains in memory: the {cooc.n_pairs} counted pairs "
                     "were over the memory limit and were loaded back (only svd streams them)")
    dim = getattr(settings, "dim", None)
    if dim is None:
        dim = warm.vectors.shape[1] if warm is not None else DEFAULT_DIM
        settings = settings.model_copy(update={"dim": dim})
    elif warm is not None and dim != warm.vectors.shape[1]:
        raise TrainingError(f"--dim {dim} differs from the parent version's "
                            f"{warm.vectors.shape[1]}; leave --dim out to warm-start from it")
    continues = type(settings) in WARM_STARTS
    fitted = method(cooc, settings, progress, warm if continues else None)  # type: ignore[arg-type]
    notes += fitted.notes
    if warm is not None and not continues:
        fitted = replace(fitted, vectors=align_to(fitted.vectors, warm))
        notes.append(f"{settings.method} trains afresh; its vectors were rotated onto version "
                     f"{warm.parent}'s (orthogonal Procrustes on {int(warm.known.sum())} "
                     "shared items)")
    if cooc.n_negative_pairs and type(settings) not in USES_NEGATIVES:
        notes.append(f"{settings.method} cannot use explicit negative pairs: "
                     f"{cooc.n_negative_pairs} were ignored (propagate and sgns use them)")
    return replace(fitted, notes=notes)
