"""The per-version cache of items and rows: the same answers as the store, fewer look-ups."""

from __future__ import annotations

import pytest

from embedstore.query.vocabulary_cache import VocabularyCache

VOCABULARY = ["the", "cat", "dog", "kitten", "puppy"]


class CountingStore:
    """Look-ups of a five-item vocabulary, counting what was asked."""

    def __init__(self) -> None:
        self.rows_asked: list[list[str]] = []
        self.items_asked: list[list[int]] = []

    def rows_of(self, items: list[str]) -> dict[str, int]:
        self.rows_asked.append(list(items))
        return {item: VOCABULARY.index(item) for item in items if item in VOCABULARY}

    def items_at(self, rows: list[int]) -> list[str]:
        self.items_asked.append(list(rows))
        if any(row >= len(VOCABULARY) for row in rows):
            raise LookupError("no such row")
        return [VOCABULARY[row] for row in rows]


def test_known_items_are_asked_once_and_unknown_ones_every_time() -> None:
    cache, store = VocabularyCache(), CountingStore()
    assert cache.rows_of(["cat", "zebra"], store.rows_of) == {"cat": 1}
    assert cache.rows_of(["cat", "zebra", "dog"], store.rows_of) == {"cat": 1, "dog": 2}
    assert store.rows_asked == [["cat", "zebra"], ["zebra", "dog"]]


def test_items_come_back_in_the_order_asked_with_repeats() -> None:
    cache, store = VocabularyCache(), CountingStore()
    assert cache.items_at([3, 1, 3], store.items_at) == ["kitten", "cat", "kitten"]
    assert cache.items_at([1, 4, 3, 1], store.items_at) == ["cat", "puppy", "kitten", "cat"]
    assert store.items_asked == [[3, 1], [4]]  # each missing row once, known rows never


def test_a_full_cache_starts_again_and_answers_right() -> None:
    cache, store = VocabularyCache(entries=2), CountingStore()
    cache.items_at([0, 1], store.items_at)
    # 0 and 1 are known, 2 and 3 are not: remembering them overflows the cache
    assert cache.items_at([0, 2, 1, 3], store.items_at) == ["the", "dog", "cat", "kitten"]
    assert cache.items_at([0], store.items_at) == ["the"]
    assert store.items_asked == [[0, 1], [2, 3], [0]]


def test_a_failed_look_up_remembers_nothing() -> None:
    cache, store = VocabularyCache(), CountingStore()
    with pytest.raises(LookupError):
        cache.items_at([1, 9], store.items_at)
    assert cache.items_at([1], store.items_at) == ["cat"]
    assert store.items_asked == [[1, 9], [1]]
