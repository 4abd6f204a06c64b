from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedstore.inputs.pair_file import read_pairs
from embedstore.methods.sgns import auto_epochs, sum_by_row, train_sgns
from embedstore.schema import SgnsSettings
from tests.conftest import (
    ANIMALS,
    VEHICLES,
    classic_rows,
    grid_analogies_solved,
    two_attribute_rows,
)

Write = Callable[[str, str | bytes], Path]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_classic_example_groups_are_each_others_nearest(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    vectors = unit_rows(train_sgns(data, SgnsSettings()).vectors)
    cosine = vectors @ vectors.T
    row = {item: i for i, item in enumerate(data.items)}
    for group in (ANIMALS, VEHICLES):
        for item in group:
            others = np.argsort(-cosine[row[item]])[1:4]
            assert {data.items[i] for i in others} == set(group) - {item}
    animals = [row[i] for i in ANIMALS]
    vehicles = [row[i] for i in VEHICLES]
    within = np.mean([cosine[a, b] for g in (animals, vehicles) for a in g for b in g if a != b])
    across = np.mean([cosine[a, b] for a in animals for b in vehicles])
    assert within > 0.9
    assert within - across > 0.5


def test_analogies_over_two_attributes(write: Write) -> None:
    data = read_pairs(write("grid.csv", "\n".join(two_attribute_rows())))
    vectors = train_sgns(data, SgnsSettings(seed=3)).vectors
    correct, total = grid_analogies_solved(data.items, vectors)
    assert correct == total == 30


def test_same_seed_same_vectors_other_seed_other_vectors(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    first = train_sgns(data, SgnsSettings(epochs=20, seed=5))
    again = train_sgns(data, SgnsSettings(epochs=20, seed=5))
    other = train_sgns(data, SgnsSettings(epochs=20, seed=6))
    assert np.array_equal(first.vectors, again.vectors)
    assert first.epoch_losses == again.epoch_losses
    assert not np.array_equal(first.vectors, other.vectors)


def test_loss_goes_down_and_is_recorded_per_epoch(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    result = train_sgns(data, SgnsSettings(epochs=300, batch_size=64))
    assert result.epochs == 300
    assert len(result.epoch_losses) == 300
    assert np.mean(result.epoch_losses[-20:]) < 0.6 * result.epoch_losses[0]
    assert result.vectors.dtype == np.float32
    assert result.vectors.shape == (8, 100)


def test_auto_epochs_scale_with_the_data() -> None:
    assert auto_epochs(10) == 2000
    assert auto_epochs(10_000) == 10
    assert auto_epochs(5_000_000) == 5


def test_sum_by_row_matches_add_at() -> None:
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 20, size=500)
    values = rng.normal(size=(500, 4))
    expected = np.zeros((20, 4))
    np.add.at(expected, rows, values)
    ids, sums = sum_by_row(rows, values)
    assert np.allclose(expected[ids], sums)
    assert np.allclose(np.delete(expected, ids, axis=0), 0)
