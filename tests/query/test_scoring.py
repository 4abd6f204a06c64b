from __future__ import annotations

import numpy as np
import pytest

from embedstore.query.scoring import (
    analogy_scores,
    cosine_matrix,
    inverse,
    ranking_scores,
    top_k,
    top_k_rows,
)

MATRIX = np.array(
    [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 0], [-1, 0, 0]], dtype=np.float32
)
INVERSE = inverse(np.linalg.norm(MATRIX, axis=1))


def test_cosine_of_a_zero_vector_is_zero_not_nan() -> None:
    scores = cosine_matrix(MATRIX, INVERSE, MATRIX[[0, 3]])
    assert not np.isnan(scores).any()
    assert scores[0, 3] == 0
    assert np.all(scores[1] == 0)
    assert scores[0, 4] == -1
    assert abs(scores[0, 0] - 1) < 1e-6


def test_top_k_orders_best_first_and_excludes() -> None:
    scores = cosine_matrix(MATRIX, INVERSE, MATRIX[[0]])[0]
    rows, values = top_k(scores, 2, exclude=[0])
    assert rows.tolist() == [1, 2]  # 0.99, then the first of two zeros
    assert values[0] > values[1]
    # k larger than the candidates: all of them but the excluded, the -1 last
    assert top_k(scores, 100, exclude=[0])[0].tolist() == [1, 2, 3, 4]


def test_top_k_breaks_ties_by_row_even_at_the_cut() -> None:
    rows, _ = top_k(np.array([0.5, 0.5, 0.9, 0.5]), 3)
    assert rows.tolist() == [2, 0, 1]
    many = np.zeros(1000, dtype=np.float32)
    assert top_k(many, 3)[0].tolist() == [0, 1, 2]


def test_top_k_rows_matches_a_full_sort_per_row() -> None:
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(20, 300)).astype(np.float32)
    exclude = [rng.choice(300, size=3, replace=False).tolist() for _ in range(20)]
    rows, values = top_k_rows(scores.copy(), 7, exclude)
    for i in range(20):
        masked = scores[i].copy()
        masked[exclude[i]] = -np.inf
        assert rows[i].tolist() == np.argsort(-masked, kind="stable")[:7].tolist()
        assert np.array_equal(values[i], masked[rows[i]])


def test_analogy_add_and_mul_find_the_fourth_corner() -> None:
    # king=(1,1) man=(1,-1) woman=(-1,-1) -> queen=(-1,1); a distractor near king
    m = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1], [0.1, 1]], dtype=np.float32)
    inverse_norms = inverse(np.linalg.norm(m, axis=1))
    for method in ("add", "mul"):
        scores = analogy_scores(m, inverse_norms, m[0], m[1], m[3], method)
        rows, _ = top_k(scores, 1, exclude=[0, 1, 3])
        assert rows.tolist() == [2], method


def test_top_k_rows_large_rows_with_ties_and_a_misleading_sample() -> None:
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(6, 50_000)).astype(np.float32)
    scores[1] = 0.0  # every column ties
    scores[2, ::48] = -5.0  # the strided sample sees only low values...
    scores[2, 7:9] = 9.0  # ...while few high ones hide between its columns
    scores[3, [10, 20, 30]] = 7.0  # ties at the top
    scores[4] = -1.0
    scores[4, [0, 48]] = 3.0  # two sampled cells stand out: the sampled threshold keeps < k
    expected = []
    for row in scores:
        expected.append(np.lexsort((np.arange(len(row)), -row))[:5])
    rows, values = top_k_rows(scores.copy(), 5, [[] for _ in range(6)])
    for i in range(6):
        assert rows[i].tolist() == expected[i].tolist()
        assert np.array_equal(values[i], scores[i, expected[i]])


def full_sort(row: np.ndarray, k: int, exclude: list[int]) -> tuple[list[int], list[float]]:
    """The reference: every column sorted by score then column, excluded and -inf cells out."""
    masked = row.astype(np.float64)
    masked[[c for c in exclude if 0 <= c < len(row)]] = -np.inf
    order = [int(c) for c in np.lexsort((np.arange(len(row)), -masked)) if masked[c] > -np.inf]
    return order[:k], [float(row[c]) for c in order[:k]]


def shapes_of_scores() -> list[tuple[np.ndarray, list[list[int]]]]:
    """Rows of every kind top-k meets: ties, -inf, out-of-range exclusions, a strided
    sample that sees only low values, alone (one query) and among others."""
    rng = np.random.default_rng(7)
    found = []
    for n_queries, n_candidates in ((1, 1), (1, 6), (3, 6), (1, 5000), (4, 5000), (1, 50_000),
                                    (2, 50_000)):
        scores = rng.normal(size=(n_queries, n_candidates)).astype(np.float32)
        scores[0, ::3] = np.round(scores[0, ::3])  # ties
        if n_candidates >= 5000:
            scores[-1] = -5.0  # the sample sees only -5 ...
            scores[-1, 1:4] = [4.0, 9.0, 4.0]  # ... the best hide between its columns
            scores[0, 100:200] = -np.inf
        exclude = [[-1, n_candidates, 0, 0, n_candidates + 5, 2] for _ in range(n_queries)]
        found.append((scores, exclude))
    for n_queries in (1, 3):  # two sampled cells stand out: too few cells pass the sample's
        scores = np.full((n_queries, 50_000), -1.0, np.float32)  # threshold, and the row
        scores[:, [0, 48, 96]] = [3.0, 3.0, 2.0]  # is partitioned exactly
        scores[:, 5:9] = [1.0, 0.5, 1.0, 0.25]
        found.append((scores, [[] for _ in range(n_queries)]))
    return found


def test_top_k_rows_is_a_full_sort_whatever_the_shape() -> None:
    for scores, exclude in shapes_of_scores():
        for k in (1, 2, 5, scores.shape[1], scores.shape[1] + 3):
            rows, values = top_k_rows(scores.copy(), k, exclude)
            assert len(rows) == len(values) == len(scores)
            for i, row in enumerate(scores):
                expected_rows, expected_values = full_sort(row, k, exclude[i])
                assert rows[i].tolist() == expected_rows, (scores.shape, k, i)
                assert values[i].tolist() == expected_values
                assert rows[i].dtype == np.int64 and values[i].dtype == np.float32


def test_top_k_rows_of_nothing_asked_or_nothing_left() -> None:
    scores = np.ones((3, 4), np.float32)
    rows, values = top_k_rows(scores.copy(), 0, [[], [], []])
    assert [r.tolist() for r in rows] == [[], [], []] == [v.tolist() for v in values]
    assert all(r.dtype == np.int64 for r in rows) and all(v.dtype == np.float32 for v in values)
    assert top_k_rows(np.ones((0, 4), np.float32), 3, []) == ([], [])
    rows, _ = top_k_rows(scores.copy(), 2, [[0, 1, 2, 3], [3], []])
    assert [r.tolist() for r in rows] == [[], [0, 1], [0, 1]]


def test_the_small_formulas() -> None:
    from embedstore.query.scoring import (
        analogy_targets,
        basket_target,
        cosine,
        cosmul_scores,
        paired_cosines,
        ranking_scores,
        unit,
    )

    assert unit(np.array([3.0, 4.0])).tolist() == [0.6000000238418579, 0.800000011920929]
    assert unit(np.zeros(2)).tolist() == [0.0, 0.0] and unit([1, 0]).dtype == np.float32
    assert unit(np.array([0.3, 0.4])).tolist() == pytest.approx([0.6, 0.8])
    scores = np.array([0.5, 0.9, 0.1])
    assert top_k(scores, 2, exclude=[1])[0].tolist() == [0, 2]
    assert scores.tolist() == [0.5, 0.9, 0.1]  # the caller's scores are left as they were
    assert cosine(np.array([1.0, 0.0]), np.array([2.0, 2.0])) == 0.7071067811865475
    assert cosine(np.zeros(2), np.ones(2)) == 0.0
    assert inverse(np.array([2.0, 0.0, 4.0])).tolist() == [0.5, 0.0, 0.25]
    left = np.array([[1.0, 0.0], [0.0, 0.0], [3.0, 4.0], [0.1, 0.0]])
    right = np.array([[1.0, 1.0], [1.0, 1.0], [-3.0, -4.0], [0.1, 0.1]])
    assert paired_cosines(left, right).tolist() == pytest.approx(
        [0.7071067811865475, 0.0, -1.0, 0.7071067811865475])
    assert paired_cosines(left, right).dtype == np.float64
    rows = np.random.default_rng(4).standard_normal((50, 30)).astype(np.float32)
    assert paired_cosines(rows, rows[::-1]).tolist() == paired_cosines(  # in double precision
        rows.astype(np.float64), rows[::-1].astype(np.float64)).tolist()
    triples = np.array([[[2, 0], [0, 3], [0, 0]]], np.float32)
    assert analogy_targets(triples).tolist() == [[1.0, -1.0]]
    assert analogy_targets(triples.astype(np.float64)).dtype == np.float32
    assert cosine_matrix(MATRIX, INVERSE, np.ones((1, 3))).dtype == np.float32
    assert basket_target(np.array([[0, 5]], np.float32), np.zeros((1, 2), np.float32)
                         ).tolist() == [0.0, 1.0]
    cosines = np.array([[1.0, -1.0], [0.0, 1.0], [1.0, 0.0]])
    assert cosmul_scores(cosines).tolist() == pytest.approx(
        [1 * 1 / (0.5 + 1e-3), 0 * 0.5 / (1 + 1e-3)])
    out = np.full(len(MATRIX) + 2, np.nan, np.float32)
    query = np.array([[2.0, 1.0, 0.0]], np.float32)
    with_buffer = ranking_scores(MATRIX, INVERSE, query, out=out)
    assert with_buffer.tolist() == ranking_scores(MATRIX, INVERSE, query).tolist() == [
        [2.0, pytest.approx(1.9 / np.hypot(0.9, 0.1)), 1.0, 0.0, -2.0]]
    assert cosine_matrix(MATRIX, INVERSE, query)[0, 0] == pytest.approx(2 / np.sqrt(5))


def test_analogy_scores_are_the_two_formulas() -> None:
    a, b, c = MATRIX[0], MATRIX[2], MATRIX[4]
    added = analogy_scores(MATRIX, INVERSE, a, b, c, "add")
    target = a - b + c
    assert added.tolist() == pytest.approx(
        cosine_matrix(MATRIX, INVERSE, target[None, :])[0].tolist())
    assert analogy_scores(MATRIX, INVERSE, a, b, c).tolist() == added.tolist()  # the default
    multiplied = analogy_scores(MATRIX, INVERSE, a, b, c, "mul")
    shifted = (cosine_matrix(MATRIX, INVERSE, np.vstack([a, b, c])) + 1) / 2
    assert multiplied.tolist() == pytest.approx(
        (shifted[0] * shifted[2] / (shifted[1] + 1e-3)).tolist())


@pytest.mark.parametrize("queries", [2, 3])
def test_two_or_three_queries_score_as_each_alone(queries: int) -> None:
    """Their scores are one matrix-vector product each (faster than a matrix product of so
    few rows), so they are bit for bit those of each query alone."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((5000, 64)).astype(np.float32)
    inverse_norms = inverse(np.linalg.norm(vectors, axis=1))
    targets = rng.standard_normal((queries, 64)).astype(np.float32)
    together = ranking_scores(vectors, inverse_norms, targets)
    alone = np.vstack([ranking_scores(vectors, inverse_norms, t[None, :]) for t in targets])
    assert together.dtype == np.float32 and together.shape == (queries, 5000)
    assert np.array_equal(together, alone)
