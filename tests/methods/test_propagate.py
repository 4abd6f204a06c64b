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


def test_a_graph_smaller_than_the_dimension_runs_as_many_steps_as_its_diameter(
        write: Write) -> None:
    from embedstore.engines.memory import MemoryCounts
    from embedstore.training.fitting import fit

    path = read_pairs(write("path.csv", "a,b\nb,c\nc,d\nd,e\ne,f\n"))  # diameter 5
    fitted = fit(MemoryCounts(path), PropagateSettings(), None)
    assert (fitted.settings.steps, fitted.settings.average_from) == (5, 2)
    assert fitted.notes == ["propagate: 5 steps, the diameter of this graph of 6 items (fewer "
                            "items than dimensions), averaged from step 2"]
    assert fit(MemoryCounts(path), PropagateSettings(steps=3), None).settings.steps == 3
    wide = fit(MemoryCounts(path), PropagateSettings(dim=4), None)  # 6 items > 4 dimensions
    assert (wide.settings.steps, wide.settings.average_from, wide.notes) == (16, 8, [])


def test_small_graph_cosines_are_exact_whatever_the_seed(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    first = cosines(train_propagate(data, PropagateSettings(seed=1)))
    assert np.allclose(first, cosines(train_propagate(data, PropagateSettings(seed=9))),
                       atol=1e-5)
    # four items that pair with each other alike are exactly alike, whatever the start
    square = read_pairs(write("k4.csv", "a,b\na,c\na,d\nb,c\nb,d\nc,d\n"))
    alike = cosines(train_propagate(square, PropagateSettings(seed=2)))
    assert np.ptp(alike[np.triu_indices(4, 1)]) < 1e-5
    larger = read_pairs(write("ring.csv", "\n".join(f"i{a},i{(a + 1) % 150}" for a in range(150))))
    ring = cosines(train_propagate(larger, PropagateSettings(seed=1)))
    assert not np.allclose(ring, cosines(train_propagate(larger, PropagateSettings(seed=9))),
                           atol=1e-3)  # more items than dimensions: random projections
