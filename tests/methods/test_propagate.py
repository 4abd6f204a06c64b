"""The propagation method on hand-checkable data: groups, analogies, negatives, seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from embedstore.engines.memory import propagation_matrix
from embedstore.errors import TrainingError
from embedstore.inputs.pair_file import read_pairs
from embedstore.schema import PropagateSettings
from embedstore.training.fitting import train_in_memory as train_propagate
from tests.conftest import (
    ANIMALS,
    VEHICLES,
    classic_rows,
    grid_analogies_solved,
    two_attribute_rows,
)

Write = Callable[[str, str | bytes], Path]


def cosines(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


def test_groups_are_each_others_nearest_and_negatives_push_apart(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    cosine = cosines(train_propagate(data, PropagateSettings()))
    row = {item: i for i, item in enumerate(data.items)}
    for group in (ANIMALS, VEHICLES):
        for item in group:
            scores = cosine[row[item]].copy()
            scores[row[item]] = -np.inf
            assert {data.items[i] for i in np.argsort(-scores)[:3]} == set(group) - {item}
    across = [cosine[row[a], row[b]] for a in ANIMALS for b in VEHICLES]
    # the two groups share no positive pair; the explicit negatives make them point apart
    assert max(across) < -0.5
    without = cosines(train_propagate(data, PropagateSettings(negative_weight=0)))
    assert abs(np.mean([without[row[a], row[b]] for a in ANIMALS for b in VEHICLES])) < 0.3


def test_analogies_over_two_attributes(write: Write) -> None:
    data = read_pairs(write("grid.csv", "\n".join(two_attribute_rows())))
    vectors = train_propagate(data, PropagateSettings(seed=3))
    correct, total = grid_analogies_solved(data.items, vectors)
    assert correct == total == 30


def test_same_seed_same_vectors_other_seed_other_vectors(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    first = train_propagate(data, PropagateSettings(seed=5))
    assert np.array_equal(first, train_propagate(data, PropagateSettings(seed=5)))
    assert not np.array_equal(first, train_propagate(data, PropagateSettings(seed=6)))
    assert first.dtype == np.float32 and first.shape == (len(data.items), 100)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)


def test_the_step_weighs_neighbours_by_degree_and_keeps_a_self_loop(write: Write) -> None:
    # a star: hub h with leaves a, b, c, and a pair a-b
    data = read_pairs(write("star.csv", "h,a\nh,b\nh,c\na,b\n"))
    row = {item: i for i, item in enumerate(data.items)}
    step = propagation_matrix(data, PropagateSettings(self_weight=0.5,
                                                      degree_exponent=1.0)).toarray()
    assert step[row["a"], row["a"]] == pytest.approx(0.5)
    assert step[row["a"], row["h"]] == pytest.approx(1 / 3)  # the hub has degree 3
    assert step[row["h"], row["c"]] == pytest.approx(1.0)  # the leaf c has degree 1
    assert step[row["c"], row["a"]] == 0


def test_no_positive_pair_is_an_error(write: Write) -> None:
    data = read_pairs(write("negative.csv", "a,b,0\nc,d,0\n"), min_count=0)
    with pytest.raises(TrainingError, match="no positive pairs"):
        train_propagate(data, PropagateSettings())


def test_the_same_vectors_on_any_number_of_threads(write: Write,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"i{a},i{(a * 7 + 3) % 50}" for a in range(50)] + [f"i{a},i{a + 1}" for a in range(49)]
    data = read_pairs(write("ring.csv", "\n".join(rows)))
    results = []
    for cores in (1, 3, 8):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        results.append(train_propagate(data, PropagateSettings(dim=16)))
    assert all(np.array_equal(results[0], other) for other in results[1:])
