from __future__ import annotations

import numpy as np

from embedstore.query import analogy_scores, cosine_scores, top_k

MATRIX = np.array(
    [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 0], [-1, 0, 0]], dtype=np.float32
)
NORMS = np.linalg.norm(MATRIX, axis=1).astype(np.float32)


def test_cosine_of_a_zero_vector_is_zero_not_nan() -> None:
    scores = cosine_scores(MATRIX, NORMS, MATRIX[0])
    assert not np.isnan(scores).any()
    assert scores[3] == 0
    assert np.all(cosine_scores(MATRIX, NORMS, MATRIX[3]) == 0)
    assert scores[4] == -1


def test_top_k_orders_best_first_and_excludes() -> None:
    scores = cosine_scores(MATRIX, NORMS, MATRIX[0])
    rows, values = top_k(scores, 2, exclude=[0])
    assert rows.tolist() == [1, 2]  # 0.99, then the first of two zeros
    assert values[0] > values[1]
    # k larger than the candidates: all of them, the -1 last
    assert top_k(scores, 100, exclude=[0])[0].tolist() == [1, 2, 3, 4]


def test_top_k_breaks_ties_by_row() -> None:
    rows, _ = top_k(np.array([0.5, 0.5, 0.9, 0.5]), 3)
    assert rows.tolist() == [2, 0, 1]


def test_analogy_add_and_mul_find_the_fourth_corner() -> None:
    # a - b + c with a=(1,1), b=(1,0), c=(0,0)+... build a parallelogram in 2-D plus noise rows
    m = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1], [0.1, 1]], dtype=np.float32)
    norms = np.linalg.norm(m, axis=1)
    for method in ("add", "mul"):
        # king=(1,1) man=(1,-1) woman=(-1,-1) -> queen=(-1,1)
        scores = analogy_scores(m, norms, m[0], m[1], m[3], method)
        rows, _ = top_k(scores, 1, exclude=[0, 1, 3])
        assert rows.tolist() == [2], method
