"""How one item's neighbourhood moved between two versions, as plain data for a picture.

The new version's vectors are rotated onto the old one's by orthogonal Procrustes on the items
both versions share (the most frequent :data:`ANCHORS` of them, plus every item shown), so
positions in the two versions can be compared; then both are projected together. The rotation
is fitted twice: the second time without the tenth of the items that moved most under the
first, so that the items that really moved do not drag the others along.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..geometry import pad_columns, procrustes_rotation, unit_rows
from ..names import normalize_item
from ..query.embeddings import Embeddings, open_embeddings
from ..store import StoreLike, opened
from .points import DEFAULT_K, check_settings, most_frequent, neighbourhood
from .projection import project

ANCHORS = 5000
"""Most shared items the rotation is fitted on (the most frequent of the old version)."""
MARKED = 5
"""How many of the items that moved most are marked."""
TRIMMED = 10
"""The second Procrustes fit leaves out 1 in this many shared items (those that moved most)."""
MOVED_AT_LEAST = 0.01
"""An item is marked only if it moved at least this far (1 - cosine), however few moved."""


@dataclass(frozen=True)
class DiffPoint:
    """An item of either neighbourhood with its position in each version (None where that
    version lacks it), how far it moved (1 - cosine of its old vector and its rotated new
    vector; None unless both versions have it), whether it is among the neighbours in each
    version, and whether it is marked as one of those that moved most."""

    item: str
    old: tuple[float, float] | None
    new: tuple[float, float] | None
    moved: float | None
    near_in_old: bool
    near_in_new: bool
    marked: bool


@dataclass(frozen=True)
class DiffMap:
    model: str
    old_version: int
    new_version: int
    around: str
    k: int
    method: str
    seed: int
    anchors: int
    points: list[DiffPoint]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _vectors_of(vectors: Embeddings, items: list[str]) -> dict[str, np.ndarray]:
    rows = vectors.known_rows(items)
    present = [item for item in items if item in rows]
    matrix = unit_rows(np.asarray(vectors.row_vectors([rows[item] for item in present]),
                                 dtype=np.float64))
    return dict(zip(present, matrix, strict=True))


def diff_map(
    store: StoreLike, model: str, old: int | str, new: int | str, around: str,
    *, k: int = DEFAULT_K, method: str = "pca", seed: int = 0,
) -> DiffMap:
    """The neighbourhoods of ``around`` (it and its ``k`` nearest neighbours) in versions
    ``old`` and ``new`` of ``model``, aligned and projected into one 2-D picture.

    Examples
    --------
    >>> import embedstore, tempfile
    >>> from embedstore.schema import SgnsSettings
    >>> store = tempfile.mkdtemp()
    >>> for seed in (0, 1):
    ...     _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True,
    ...                                settings=SgnsSettings(seed=seed))
    >>> moved = diff_map(store, "default", 1, 2, "cat", k=3)
    >>> moved.points[0].item, moved.points[0].near_in_old, moved.points[0].near_in_new
    ('cat', True, True)
    """
    check_settings(method, k, "k")
    around = normalize_item(around)
    with opened(store) as handle, open_embeddings(handle, model, old) as old_vectors, \
            open_embeddings(handle, model, new) as new_vectors:
        old_near, _ = neighbourhood(old_vectors, around, k)
        new_near, _ = neighbourhood(new_vectors, around, k)
        shown = list(dict.fromkeys([*old_near, *new_near]))
        anchor_items, _ = most_frequent(old_vectors, ANCHORS)
        anchors = list(dict.fromkeys([*anchor_items, *shown]))
        old_of = _vectors_of(old_vectors, anchors)
        new_of = _vectors_of(new_vectors, anchors)
        versions = (old_vectors.version, new_vectors.version)
    shared = [item for item in anchors if item in old_of and item in new_of]
    old_dim, new_dim = len(next(iter(old_of.values()))), len(next(iter(new_of.values())))
    width = max(old_dim, new_dim)
    rotation = _trimmed_rotation(np.array([new_of[i] for i in shared]),
                                 np.array([old_of[i] for i in shared]))
    old_rows = {item: pad_columns(old_of[item][None, :], width)[0]
                for item in shown if item in old_of}
    new_rows = {item: (pad_columns(new_of[item][None, :], width) @ rotation)[0]
                for item in shown if item in new_of}
    stacked = np.array([*old_rows.values(), *new_rows.values()])
    coordinates = project(stacked, method, seed)
    old_at = dict(zip(old_rows, map(tuple, coordinates[: len(old_rows)]), strict=True))
    new_at = dict(zip(new_rows, map(tuple, coordinates[len(old_rows):]), strict=True))
    moved = {item: float(1 - old_rows[item] @ new_rows[item])
             for item in shown if item in old_rows and item in new_rows}
    marked = {item for item in sorted(moved, key=lambda item: (-moved[item], item))[:MARKED]
              if moved[item] >= MOVED_AT_LEAST}
    old_set, new_set = set(old_near), set(new_near)
    points = [
        DiffPoint(item=item,
                  old=_pair(old_at.get(item)), new=_pair(new_at.get(item)),
                  moved=moved.get(item), near_in_old=item in old_set,
                  near_in_new=item in new_set, marked=item in marked)
        for item in shown
    ]
    return DiffMap(model=model, old_version=versions[0], new_version=versions[1],
                   around=around, k=k, method=method, seed=seed, anchors=len(shared),
                   points=points)


def _trimmed_rotation(moving: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Procrustes on all rows, then again on the rows that moved least (all but a tenth)."""
    rotation = procrustes_rotation(moving, fixed)
    width = rotation.shape[0]
    residual = np.linalg.norm(pad_columns(moving, width) @ rotation
                              - pad_columns(fixed, width), axis=1)
    keep = np.argsort(residual, kind="stable")[: len(residual) - len(residual) // TRIMMED]
    return procrustes_rotation(moving[keep], fixed[keep])


def _pair(values: tuple[Any, ...] | None) -> tuple[float, float] | None:
    return None if values is None else (float(values[0]), float(values[1]))
