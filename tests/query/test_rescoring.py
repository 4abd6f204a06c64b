"""The shortlist and its exact rescoring: what every exact answer is made of."""

from __future__ import annotations

import numpy as np
import pytest

from embedstore.query import rescoring
from embedstore.query.rescoring import (
    exclude_cells,
    rescored_top_k,
    score_margins,
    shortlist,
    target_norms,
)
from tests.query.test_scoring import shapes_of_scores


def near_the_kth(row: np.ndarray, k: int, exclude: list[int], margin: float) -> list[int]:
    """The reference shortlist: every column left within ``margin`` of the k-th best."""
    masked = row.astype(np.float64)
    masked[[c for c in exclude if 0 <= c < len(row)]] = -np.inf
    left = np.flatnonzero(masked > -np.inf)
    if len(left) <= k:
        return left.tolist()
    kth = np.sort(masked[left])[::-1][k - 1]
    return [int(c) for c in left if masked[c] >= kth - margin]


def test_a_shortlist_holds_every_column_near_the_kth_best_and_no_other() -> None:
    for scores, exclude in shapes_of_scores():
        for k in (1, 3, scores.shape[1] + 2):
            for margin in (1e-6, 0.5):
                margins = np.full(len(scores), margin)
                found = shortlist(scores.copy(), k, exclude, margins)
                for i, row in enumerate(scores):
                    assert sorted(found[i].tolist()) == near_the_kth(row, k, exclude[i], margin)
                    assert found[i].dtype == np.int64


def test_a_shortlist_of_a_zero_target_is_its_first_columns_left() -> None:
    scores = np.zeros((2, 6), np.float32)
    scores[1] = [0.3, 0.1, 0.2, 0.9, 0.0, 0.5]
    found = shortlist(scores, 2, [[0, 2], [3]], np.array([0.0, 0.0]))
    assert [f.tolist() for f in found] == [[1, 3], [0, 1]]
    found = shortlist(np.ones((2, 3), np.float32), 0, [[], []], np.ones(2))
    assert [f.tolist() for f in found] == [[], []] and found[0].dtype == np.int64


def test_excluded_cells_in_range_only_become_minus_infinity() -> None:
    scores = np.zeros((2, 3), np.float32)
    exclude_cells(scores, [[0, 3, -1], [2, 2]])
    assert scores.tolist() == [[-np.inf, 0, 0], [0, 0, -np.inf]]


def test_margins_bound_the_rounding_of_any_product() -> None:
    targets = np.array([[3, 4, 0, 0], [0, 0, 0, 0]], np.float32)
    assert score_margins(targets).tolist() == [8 * (4 + 4) * 2.0**-24 * 5, 0.0]
    assert target_norms(np.array([[1e20, 1e20]], np.float32))[0] == pytest.approx(
        np.sqrt(2) * 1e20)  # in double precision: no overflow


@pytest.mark.parametrize("chunk", [4096, 3])
def test_rescored_answers_are_exact_cosines_best_first_ties_to_the_lower_row(
        chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rescoring, "RESCORE_CHUNK", chunk)
    m = np.array([[1, 0], [2, 0], [0, 1], [1, 1], [0, 0], [-1, 0]], np.float32)
    inverse_norms = np.divide(1, np.linalg.norm(m, axis=1), out=np.zeros(6, np.float32),
                              where=np.linalg.norm(m, axis=1) > 0).astype(np.float32)
    targets = np.array([[3, 0], [0, 0], [1, 1]], np.float32)
    lists = [np.array([5, 3, 1, 0, 4]), np.array([2, 0]), np.array([], np.int64)]
    rows, scores = rescored_top_k(m, inverse_norms, targets, lists, 3)
    assert [r.tolist() for r in rows] == [[0, 1, 3], [0, 2], []]
    assert scores[0].tolist() == [1.0, 1.0, np.float32(np.sqrt(0.5))]
    assert scores[1].tolist() == [0.0, 0.0]  # a zero target: every cosine 0, not NaN
    assert rows[0].dtype == np.int64 and scores[0].dtype == np.float32
    assert rescored_top_k(m, inverse_norms, targets[:0], [], 3) == ([], [])


def test_rescored_cosines_are_double_precision_rounded_once() -> None:
    rng = np.random.default_rng(12)
    m = rng.standard_normal((40, 24)).astype(np.float32)
    norms = np.linalg.norm(m, axis=1).astype(np.float32)
    inverse_norms = (1 / norms).astype(np.float32)
    targets = rng.standard_normal((3, 24)).astype(np.float32)
    lists = [np.arange(40), np.arange(0, 40, 3), np.array([], np.int64)]
    rows, scores = rescored_top_k(m, inverse_norms, targets, lists, 40)
    wide = targets.astype(np.float64)
    for i in range(2):
        exact = (m[rows[i]].astype(np.float64) @ wide[i]) * inverse_norms[rows[i]].astype(
            np.float64) / np.sqrt((wide[i] * wide[i]).sum())
        assert scores[i].tolist() == exact.astype(np.float32).tolist()
    assert scores[2].dtype == np.float32 and rows[2].dtype == np.int64
    nothing, none_scored = rescored_top_k(m, inverse_norms, targets[:1], [lists[2]], 3)
    assert nothing[0].dtype == np.int64 and none_scored[0].dtype == np.float32
