"""The fit stage of training: counts in, item vectors out, by the method the settings name.

:func:`fit` looks the method up in :data:`embedstore.methods.registry.METHODS`, fills in the
dimension, hands the method the engine's counts (:class:`embedstore.engines.Counts`) and a
warm start if the method continues from one, rotates the result onto the parent's vectors if
it does not, and notes what the method could not use.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..counting.cooccurrence import Cooccurrence
from ..engines import Counts
from ..errors import TrainingError
from ..geometry import procrustes_rotation, unit_rows
from ..methods.fitted import ROTATION, Fitted, WarmStart
from ..methods.registry import DEFAULT_DIM, method_of, methods_using_negatives
from ..progress import Progress
from ..schema import Record


def align_to(vectors: np.ndarray, warm: WarmStart) -> np.ndarray:
    """``vectors`` rotated (orthogonal Procrustes on the unit vectors of the items both
    versions know) so that they best match the parent's: cosines between items are
    unchanged, and ``embed diff`` compares like with like.

    >>> rng = np.random.default_rng(0)
    >>> parent = rng.standard_normal((50, 4)).astype(np.float32)
    >>> rotation = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    >>> warm = WarmStart(1, parent, np.ones(50, dtype=bool))
    >>> bool(np.allclose(align_to(parent @ rotation, warm), parent, atol=1e-5))
    True
    """
    rotation = rotation_onto(vectors, warm)
    if rotation is None:
        return vectors
    return (vectors.astype(np.float64) @ rotation).astype(np.float32)


def rotation_onto(vectors: np.ndarray, warm: WarmStart) -> np.ndarray | None:
    """The rotation :func:`align_to` turns ``vectors`` by (None: too few shared items)."""
    known = warm.known
    if known.sum() < 2:
        return None
    return procrustes_rotation(unit_rows(vectors[known].astype(np.float64)),
                               unit_rows(warm.vectors[known].astype(np.float64)))


def with_dimension(settings: Record, warm: WarmStart | None) -> Record:
    """``settings`` with ``dim`` filled in: the warm start's dimension, else
    :data:`~embedstore.methods.registry.DEFAULT_DIM`; a ``dim`` that differs from the
    parent's is refused."""
    dim = getattr(settings, "dim", None)
    if dim is None:
        dim = warm.vectors.shape[1] if warm is not None else DEFAULT_DIM
        return settings.model_copy(update={"dim": dim})
    if warm is not None and dim != warm.vectors.shape[1]:
        raise TrainingError(f"--dim {dim} differs from the parent version's "
                            f"{warm.vectors.shape[1]}; leave --dim out to warm-start from it")
    return settings


def fit(counts: Counts, settings: Record, progress: Progress | None = None,
        warm: WarmStart | None = None) -> Fitted:
    """Train vectors for ``counts`` with the method ``settings`` belong to."""
    if counts.n_pairs == 0:
        raise TrainingError("no positive pairs to train on; add pairs with a weight above 0")
    method = method_of(settings)
    settings = with_dimension(settings, warm)
    fitted = method.fit_function()(counts, settings, progress,
                                   warm if method.continues else None)
    notes = [*fitted.notes, *counts.notes]
    if warm is not None and not method.continues:
        rotation = rotation_onto(fitted.vectors, warm)
        if rotation is not None:
            vectors = (fitted.vectors.astype(np.float64) @ rotation).astype(np.float32)
            kept = {**fitted.kept, ROTATION: rotation} if fitted.kept else {}
            fitted = replace(fitted, vectors=vectors, kept=kept)
        notes.append(f"{method.name} trains afresh; its vectors were rotated onto version "
                     f"{warm.parent}'s (orthogonal Procrustes on {int(warm.known.sum())} "
                     "shared items)")
    if counts.n_negative_pairs and not method.uses_negatives:
        notes.append(f"{method.name} cannot use explicit negative pairs: "
                     f"{counts.n_negative_pairs} were ignored ({methods_using_negatives()} "
                     "use them)")
    return replace(fitted, notes=notes)


def train_in_memory(cooc: Cooccurrence, settings: Record,
                    progress: Progress | None = None) -> np.ndarray:
    """The vectors :func:`fit` trains from counts in memory (no warm start, no limit)."""
    from ..engines.memory import MemoryCounts

    return fit(MemoryCounts(cooc), settings, progress).vectors
