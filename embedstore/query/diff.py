"""What changed between two versions of a model: vocabulary and neighbourhoods.

Answers "can I ship the retrained model?": how many items came and went, and for a sample of
the items both versions share, how much their ``k`` nearest neighbours overlap (1.0: the same
neighbours, 0.0: none in common), with the items whose neighbourhoods moved most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import QueryError
from ..store import Store, StoreLike, opened
from .embeddings import Embeddings

LISTED = 10


@dataclass(frozen=True)
class ItemShift:
    """A shared item and the share of its nearest neighbours that both versions agree on
    (common neighbours over ``k``, or over the longer list when a vocabulary has fewer)."""

    item: str
    overlap: float


@dataclass(frozen=True)
class VersionDiff:
    model: str
    old: int
    new: int
    added: int
    removed: int
    shared: int
    added_examples: list[str]
    removed_examples: list[str]
    k: int
    sampled: int
    mean_overlap: float | None
    moved_most: list[ItemShift]


def _neighbours(vectors: Embeddings, rows: list[int], k: int) -> list[set[str]]:
    """The items of the ``k`` nearest neighbours of each row (itself left out)."""
    return [{n.item for n in neighbours} for neighbours in
            vectors.nearest(vectors.row_vectors(rows), k, [[row] for row in rows])]


def diff_versions(
    store: StoreLike, model: str, old: int | str, new: int | str, *, k: int = 10,
    sample: int = 1000, seed: int = 0,
) -> VersionDiff:
    """Compare version ``old`` with version ``new`` of ``model``.

    ``sample`` shared items (chosen with ``seed``; all of them when fewer) have their ``k``
    nearest neighbours computed in both versions.
    """
    if k < 1 or sample < 1:
        raise QueryError("k and sample must be at least 1")
    with opened(store) as handle:
        return _diff(handle, model, old, new, k, sample, seed)


def _diff(store: Store, model: str, old: int | str, new: int | str, k: int, sample: int,
          seed: int) -> VersionDiff:
    old_info, *old_arrays = store.open_version(model, old)
    new_info, *new_arrays = store.open_version(model, new)
    added, added_examples = store.items_only_in(new_info, old_info, LISTED)
    removed, removed_examples = store.items_only_in(old_info, new_info, LISTED)
    shared_rows = store.shared_rows(old_info, new_info)
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(shared_rows), size=min(sample, len(shared_rows)),
                               replace=False)) if shared_rows else []
    chosen = [shared_rows[i] for i in picked]
    shifts: list[ItemShift] = []
    if chosen:
        old_vectors = Embeddings(store, old_info, *old_arrays)
        new_vectors = Embeddings(store, new_info, *new_arrays)
        before = _neighbours(old_vectors, [row for _, row, _ in chosen], k)
        after = _neighbours(new_vectors, [row for _, _, row in chosen], k)
        for (item, _, _), old_set, new_set in zip(chosen, before, after, strict=True):
            largest = max(len(old_set), len(new_set))
            shifts.append(ItemShift(item, len(old_set & new_set) / largest if largest else 1.0))
    moved = sorted(shifts, key=lambda shift: (shift.overlap, shift.item))[:LISTED]
    return VersionDiff(
        model=model, old=old_info.version, new=new_info.version, added=added, removed=removed,
        shared=len(shared_rows), added_examples=added_examples,
        removed_examples=removed_examples, k=k, sampled=len(chosen),
        mean_overlap=float(np.mean([s.overlap for s in shifts])) if shifts else None,
        moved_most=moved,
    )
