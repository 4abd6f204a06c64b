"""Vocabulary look-ups: rows of items and back, spelling suggestions, completions, and what
two versions share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.errors import StoreError
from embedstore.store import Store
from embedstore.store import vocabulary as vocabulary_module

ITEMS = ["cat", "Cattle", "category", "dog", "caf\u00e9", "catalog", "zebra", "Cat"]


@pytest.fixture
def two_versions(store: Path) -> Path:
    vectors = np.eye(len(ITEMS), dtype=np.float32)
    embedstore.publish_vectors(ITEMS, vectors, store=store)
    embedstore.publish_vectors(["dog", "cat", "emu", "owl"], vectors[:4, :4], store=store)
    return store


def test_rows_and_items_both_ways(two_versions: Path) -> None:
    with Store.open(two_versions) as store:
        first = store.version_info("default", 1)
        assert store.rows_of(first, ["dog", "cafe\u0301", "nope", "cat"]) == {
            "dog": 3, "cafe\u0301": 4, "cat": 0}
        assert store.items_at(first, [7, 0, 3]) == ["Cat", "cat", "dog"]
        assert store.all_rows(first) == {item: row for row, item in enumerate(ITEMS)}
        assert [item for item, _ in store.items_and_counts(first)] == ITEMS
        many = [f"x{i}" for i in range(2000)] + ["zebra"]
        assert store.rows_of(first, many) == {"zebra": 6}  # past one SQL chunk
        with pytest.raises(StoreError, match="no item for row 99"):
            store.items_at(first, [1, 99])


def test_suggestions_are_close_spellings_best_first(
        two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(two_versions) as store:
        first = store.version_info("default", 1)
        assert store.close_items(first, "catt") == ["cat", "Cattle"]
        assert store.close_items(first, "catt", n=1) == ["cat"]
        assert store.close_items(first, "CAFE\u0301") == ["caf\u00e9"]
        assert store.close_items(first, "qqqq") == []
        monkeypatch.setattr(vocabulary_module, "SUGGESTION_SCAN", 2)  # a large vocabulary:
        assert store.close_items(first, "dgo") == ["dog"]  # items of the same first letter
        assert store.close_items(first, "cattle") == ["cat"]  # the first two by name: café,
        assert store.close_items(first, "Cattl") == ["Cattle", "Cat"]  # cat; Cat, Cattle


def test_completions_are_the_most_frequent_items_with_the_prefix(
        two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(two_versions) as store:
        first = store.version_info("default", 1)
        assert store.items_with_prefix(first, "cat") == ["cat", "category", "catalog"]
        assert store.items_with_prefix(first, "cat", limit=2) == ["cat", "category"]
        assert store.items_with_prefix(first, "cat", limit=1) == ["cat"]
        assert store.items_with_prefix(first, "", limit=1) == ["cat"]
        assert len(store.items_with_prefix(first, "")) == len(ITEMS)  # at most 10 by default
        assert store.items_with_prefix(first, "cafe\u0301") == ["caf\u00e9"]
        assert store.items_with_prefix(first, "", limit=3) == ["cat", "Cattle", "category"]
        assert store.items_with_prefix(first, "cat", limit=0) == []
        assert store.items_with_prefix(first, "q") == []
        monkeypatch.setattr(vocabulary_module, "PREFIX_SCAN", 2)  # only the first two by name
        assert store.items_with_prefix(first, "cat") == ["cat", "catalog"]


def test_lower_case_rows_keep_the_most_frequent_spelling(two_versions: Path) -> None:
    with Store.open(two_versions) as store:
        first = store.version_info("default", 1)
        lowered = store.lowercase_rows(first)
        assert lowered["cat"] == 0 and lowered["cattle"] == 1 and len(lowered) == 7
        assert store.lowercase_rows(first, limit=2) == {"cat": 0, "cattle": 1}


def test_what_two_versions_share_and_do_not(two_versions: Path) -> None:
    with Store.open(two_versions) as store:
        first, second = store.version_info("default", 1), store.version_info("default", 2)
        assert store.items_only_in(first, second, 3) == (6, ["Cattle", "category", "caf\u00e9"])
        assert store.items_only_in(second, first, 5) == (2, ["emu", "owl"])
        assert store.shared_rows(first, second) == [("cat", 0, 1), ("dog", 3, 0)]
        assert store.row_numbering(first) == (8, 0, 7)
