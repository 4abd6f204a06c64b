from __future__ import annotations

import numpy as np

from embedstore.query.scoring import analogy_scores, cosine_matrix, inverse, top_k, top_k_rows

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
