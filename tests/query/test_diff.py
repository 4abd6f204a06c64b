"""What changed between two versions, on vectors whose neighbours are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.errors import QueryError
from embedstore.query.diff import diff_versions


def publish(store: Path, items: dict[str, list[float]]) -> None:
    embedstore.publish_vectors(list(items), np.array(list(items.values()), np.float32),
                               store=store)


def test_items_added_removed_and_neighbourhoods_moved(store: Path) -> None:
    publish(store, {"a": [1, 0], "b": [0.9, 0.1], "c": [0, 1], "d": [0.1, 0.9], "gone": [-1, 0]})
    # b now sits with c and d; a's nearest is new
    publish(store, {"a": [1, 0], "b": [0, 1], "c": [0.1, 1], "d": [0.2, 1], "new": [0.95, 0]})
    report = diff_versions(store, "default", 1, 2, k=1)
    assert (report.added, report.removed, report.shared) == (1, 1, 4)
    assert (report.added_examples, report.removed_examples) == (["new"], ["gone"])
    assert report.sampled == 4
    overlap = {shift.item: shift.overlap for shift in report.moved_most}
    # nearest before -> after: a: b -> new, b: a -> c, c: d -> d, d: c -> c
    assert overlap == {"a": 0.0, "b": 0.0, "c": 1.0, "d": 1.0}
    assert report.mean_overlap == 0.5
    assert [shift.item for shift in report.moved_most][:2] == ["a", "b"]


def test_a_sample_of_shared_items_is_seeded(store: Path) -> None:
    items = {f"i{n}": [np.cos(n), np.sin(n)] for n in range(30)}
    publish(store, items)
    publish(store, items)
    first = diff_versions(store, "default", 1, 2, sample=5, seed=1)
    again = diff_versions(store, "default", 1, 2, sample=5, seed=1)
    assert first == again and first.sampled == 5 and first.mean_overlap == 1.0
    with pytest.raises(QueryError, match="at least 1"):
        diff_versions(store, "default", 1, 2, sample=0)
