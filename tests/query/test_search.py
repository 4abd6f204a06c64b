"""Exact search behind the search seam: the same rows and scores as a brute-force scan."""

from __future__ import annotations

import numpy as np
import pytest

from embedstore.errors import QueryError
from embedstore.query import search
from embedstore.query.search import ExactSearcher, Searcher


def brute_force(vectors: np.ndarray, target: np.ndarray, k: int, exclude: list[int],
                limit: int | None) -> tuple[list[int], list[float]]:
    candidates = vectors[:limit].astype(np.float64)
    norms = np.linalg.norm(candidates, axis=1) * np.linalg.norm(target)
    cosines = np.divide(candidates @ target, norms, out=np.zeros(len(candidates)),
                        where=norms > 0)
    order = sorted((row for row in range(len(candidates)) if row not in exclude),
                   key=lambda row: (-cosines[row], row))[:k]
    return order, [float(cosines[row]) for row in order]


@pytest.fixture
def matrix() -> np.ndarray:
    vectors = np.random.default_rng(3).standard_normal((300, 8)).astype(np.float32)
    vectors[17] = 0  # an all-zero row scores 0, never NaN
    return vectors


@pytest.mark.parametrize("budget", [None, 40])  # 40 scores at once: many blocks of rows
def test_nearest_equals_a_brute_force_scan(matrix: np.ndarray, budget: int | None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if budget is not None:
        monkeypatch.setattr("embedstore.query.search.SCORE_BUDGET", budget)
    searcher: Searcher = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1))
    targets = matrix[[0, 5, 17, 299]] + 0.01
    exclude = [[0], [5, 6], [], [299, 1]]
    for limit in (None, 50):
        rows, scores = searcher.nearest(targets, 7, exclude, limit)
        for i, target in enumerate(targets):
            expected_rows, expected_scores = brute_force(matrix, target, 7, exclude[i], limit)
            assert rows[i].tolist() == expected_rows
            assert scores[i].tolist() == pytest.approx(expected_scores, abs=1e-5)
            assert not np.isnan(scores[i]).any()


def test_fewer_candidates_than_k_and_the_limit(matrix: np.ndarray) -> None:
    searcher = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1))
    rows, _ = searcher.nearest(matrix[:1], 10, [[0, 1]], limit=4)
    assert sorted(rows[0].tolist()) == [2, 3]
    rows, _ = searcher.nearest(matrix[:2], 3)  # nothing excluded: a target finds itself
    assert [r[0] for r in rows] == [0, 1]


def test_cosines_of_every_row(matrix: np.ndarray) -> None:
    searcher = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1))
    cosines = searcher.cosines(matrix[:3], limit=100)
    assert cosines.shape == (3, 100)
    assert cosines[1, 1] == pytest.approx(1.0) and cosines[0, 17] == 0.0
    expected = brute_force(matrix, matrix[2], 1, [], 100)
    assert int(np.argmax(cosines[2])) == expected[0][0]


def test_bad_k_and_limit_are_query_errors(matrix: np.ndarray) -> None:
    searcher = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1))
    assert searcher.nearest(matrix[3:4], 5, limit=1)[0][0].tolist() == [0]  # the smallest
    with pytest.raises(QueryError, match="k must be at least 1"):
        searcher.nearest(matrix[:1], 0)
    with pytest.raises(QueryError, match="restrict must be at least 1"):
        searcher.nearest(matrix[:1], 1, limit=0)


@pytest.mark.parametrize("budget", [1 << 22, 40])
def test_a_product_split_over_threads_answers_bit_for_bit_alike(
        matrix: np.ndarray, budget: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedstore.query.search.SCORE_BUDGET", budget)
    monkeypatch.setattr("embedstore.query.search.SPLIT_SCORES", 2)
    targets = matrix[[3, 17, 250]] + 0.02
    exclude = [[3, 4], [], [250, 0, 299]]
    alone = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1)).nearest(targets, 9, exclude)
    monkeypatch.setattr(search, "_POOLS", {})  # pools made anew
    made_pool = search._pool
    handed: list[int] = []

    def pool(threads: int) -> object:
        handed.append(threads)
        return made_pool(threads)

    monkeypatch.setattr(search, "_pool", pool)
    for parts in (2, 3):
        split = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1))
        split.parts = parts
        handed.clear()
        for first in (0, 2):  # one target, and three together
            rows, scores = split.nearest(targets[first:], 9, exclude[first:])
            assert [r.tolist() for r in rows] == [r.tolist() for r in alone[0][first:]]
            assert [s.tolist() for s in scores] == [s.tolist() for s in alone[1][first:]]
        assert handed and set(handed) == {parts - 1}  # helpers were handed blocks
    expected, _ = brute_force(matrix, targets[2], 9, exclude[2], None)
    assert alone[0][2].tolist() == expected


def test_one_target_after_another_each_gets_its_own_answer(matrix: np.ndarray) -> None:
    searcher = ExactSearcher(matrix, np.linalg.norm(matrix, axis=1))
    for row, limit in ((5, 50), (7, None), (9, 20), (5, 50)):
        rows, scores = searcher.nearest(matrix[[row]], 4, [[row]], limit)
        expected_rows, expected_scores = brute_force(matrix, matrix[row], 4, [row], limit)
        assert rows[0].tolist() == expected_rows
        assert scores[0].tolist() == pytest.approx(expected_scores, abs=1e-6)
