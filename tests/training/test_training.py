"""Training as read -> count -> fit -> publish: defaults, the fit dispatch, normalised items."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.engines.memory import MemoryCounts
from embedstore.errors import InputError, TrainingError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.vector_files import read_vectors
from embedstore.methods.fitted import Fitted
from embedstore.methods.registry import METHODS, Method
from embedstore.schema import (
    PairFileOptions,
    PropagateSettings,
    Record,
    SgnsSettings,
    SvdSettings,
    SvdSgnsSettings,
    TextOptions,
)
from embedstore.training.fitting import fit
from embedstore.training.pipeline import train_file
from embedstore.training.settings import (
    auto_method,
    choose_reading,
    choose_settings,
    default_settings,
)
from embedstore.training.sources import count_text
from tests.conftest import DATA, grid_analogies_solved, two_attribute_rows

CAFE_NFC, CAFE_NFD = "caf\u00e9", "cafe\u0301"


def test_the_library_decides_the_defaults() -> None:
    assert choose_settings(False) == PropagateSettings() == default_settings(False)
    assert choose_settings(True, "svd") == SvdSettings(add_context=False) == default_settings(
        True, "svd")
    assert choose_settings(True) == SvdSgnsSettings() == default_settings(True)  # kernel extra
    assert choose_settings(False, "svd").add_context is True
    with pytest.raises(TrainingError, match="--power-iterations, --steps are not settings of "
                                            "--method sgns"):
        choose_settings(False, "sgns", power_iterations=9, steps=3)
    chosen = choose_settings(False, "sgns", negative=2, dim=None)
    assert (chosen.negative, chosen.dim) == (2, None)
    assert choose_reading(True) == TextOptions() and choose_reading(False) == PairFileOptions()
    assert choose_reading(True, min_count=2.0, seed=4) == TextOptions(min_count=2, seed=4)
    assert choose_reading(False, min_count=0, header=True) == PairFileOptions(min_count=0,
                                                                                header=True)


class ConstantSettings(Record):
    method: str = "constant"
    dim: int | None = None
    value: float = 1.0


def fit_constant(counts: MemoryCounts, settings: ConstantSettings, progress: object,
                 warm: object) -> Fitted:
    return Fitted(np.full((counts.n_items, settings.dim or 1), settings.value, np.float32),
                  settings)


def test_a_new_method_plugs_into_the_fit_stage_with_one_record(
        monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    here = "tests.training.test_training"
    monkeypatch.setitem(METHODS, "constant", Method(
        "constant", f"{here}:ConstantSettings", f"{here}:fit_constant", "every vector equal",
        continues=False, uses_negatives=False, engines=("local",)))
    cooc = read_pairs(DATA / "animals.csv")
    fitted = fit(MemoryCounts(cooc), ConstantSettings(value=2.0))
    assert fitted.vectors.shape == (8, 100) and float(fitted.vectors[0, 0]) == 2.0
    assert fitted.settings.dim == 100 and fitted.epochs is None


def test_fit_dispatches_on_the_settings_type() -> None:
    cooc = MemoryCounts(read_pairs(DATA / "animals.csv"))
    sgns = fit(cooc, SgnsSettings(dim=8, epochs=3))
    assert (sgns.vectors.shape, sgns.epochs, len(sgns.epoch_losses)) == ((8, 8), 3, 3)
    svd = fit(cooc, SvdSettings(dim=4))
    assert svd.vectors.shape == (8, 4) and svd.settings == SvdSettings(dim=4)
    propagated = fit(cooc, PropagateSettings(dim=6))
    assert propagated.vectors.shape == (8, 6) and propagated.notes == []
    assert {method.settings_type() for method in METHODS.values()} == {
        SgnsSettings, SvdSettings, PropagateSettings, SvdSgnsSettings}
    assert "svd cannot use explicit negative pairs: 12 were ignored" in svd.notes[0]


def test_a_method_that_trains_afresh_is_rotated_onto_its_parent(store: Path) -> None:
    first = embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    for settings in (SvdSettings(), PropagateSettings(seed=9)):
        child = train_file(DATA / "sample.csv", store=store, settings=settings, parent=1)
        assert child.parent == first.version and child.dim == first.dim
        assert any("rotated onto version 1's" in note for note in child.notes)
        with embedstore.open(store, version=1) as old, \
                embedstore.open(store, version=child.version) as new:
            # the same structure learned again: after the rotation each item's vector points
            # where its parent's did, so embed diff compares like with like
            cosines = [float(np.dot(old.vector(item), new.vector(item))
                             / np.linalg.norm(old.vector(item)) / np.linalg.norm(new.vector(item)))
                       for item in ("cat", "car", "king", "woman")]
            # (svd's vectors of the 48-item sample are not all determined: its mean is what
            # a rotation shows; unrotated, the cosines would scatter around 0)
            assert min(cosines) > 0.9 if settings.method == "propagate" else \
                sum(cosines) / len(cosines) > 0.6
    with pytest.raises(TrainingError, match="unknown method 'best'"):
        train_file(DATA / "animals.csv", store=store, method="best")


def test_pair_files_read_both_spellings_as_one_item(write) -> None:  # type: ignore[no-untyped-def]
    path = write("p.csv", f"{CAFE_NFD},tea\n{CAFE_NFC},tea,2\na,x\n")
    data = read_pairs(path)
    assert sorted(data.items) == sorted([CAFE_NFC, "tea", "a", "x"])
    assert dict(zip(data.items, data.item_counts.tolist(), strict=True))[CAFE_NFC] == 3.0


def test_corpora_count_both_spellings_as_one_token(tmp_path: Path) -> None:
    path = tmp_path / "corpus.txt.gz"
    path.write_bytes(gzip.compress(f"{CAFE_NFD} tea\n{CAFE_NFC} tea\ntea\n".encode()))
    data = count_text(path, window=1, min_count=1, sample=0)
    assert data.items == ["tea", CAFE_NFC] and data.item_counts.tolist() == [3.0, 2.0]
    assert data.weight.tolist() == [2.0]


def test_an_import_whose_items_collide_after_normalisation_names_both(write, store) -> None:  # type: ignore[no-untyped-def]
    path = write("v.txt", f"2 2\n{CAFE_NFC} 1 0\n{CAFE_NFD} 0 1\n")
    with pytest.raises(InputError, match=rf"v.txt, line 3: item '{CAFE_NFD}' is the same text "
                                         rf"as '{CAFE_NFC}' \(at line 2\)"):
        read_vectors(path)
    with pytest.raises(InputError, match=rf"'{CAFE_NFC}' and '{CAFE_NFD}' are the same text"):
        embedstore.publish_vectors([CAFE_NFC, CAFE_NFD], np.eye(2, dtype=np.float32),
                                   store=store)
    assert not store.exists()
    record = embedstore.publish_vectors([CAFE_NFD, "tea"], np.eye(2, dtype=np.float32),
                                        store=store)
    with embedstore.open(store) as vectors:
        assert record.n_items == 2 and vectors.similar("tea", k=1)[0].item == CAFE_NFC


def test_every_stage_reports_through_the_one_progress_callback(store: Path, write) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, tuple[int, int, float | None]] = {}

    def progress(stage: str, done: int, total: int, loss: float | None) -> None:
        seen[stage] = (done, total, loss)

    train_file(DATA / "animals.csv", store=store, settings=SgnsSettings(epochs=2),
               progress=progress)
    assert seen["reading"][0] == seen["reading"][1] == (DATA / "animals.csv").stat().st_size
    assert seen["training"][:2] == (1000, 1000) and seen["training"][2] is not None
    corpus = write("corpus.txt", "a b c\nb c a\nc a b\n" * 5)
    train_file(corpus, text=True, store=store, reading=TextOptions(min_count=1, sample=0),
               settings=SvdSettings(dim=2, power_iterations=2), progress=progress)
    size = corpus.stat().st_size
    assert seen["vocabulary"] == seen["counting"] == (size, size, None)
    assert seen["svd"] == (2, 2, None)


def test_svd_solves_the_analogy_grid(write) -> None:  # type: ignore[no-untyped-def]
    data = read_pairs(write("grid.csv", "\n".join(two_attribute_rows())))
    for add_context in (True, False):
        vectors = fit(MemoryCounts(data), SvdSettings(add_context=add_context)).vectors
        assert grid_analogies_solved(data.items, vectors) == (30, 30)


def test_auto_sends_dense_counts_to_svd_and_sparse_pairs_to_propagate(write) -> None:  # type: ignore[no-untyped-def]
    words = [f"w{i}" for i in range(120)]
    dense = read_pairs(write("dense.csv", "\n".join(
        f"{a},{b},{1 + (i + j) % 3}" for i, a in enumerate(words)
        for j, b in enumerate(words) if i < j)))
    method, reason = auto_method(False, dense)
    assert method == "svd" and "119.0 distinct partners" in reason
    assert choose_settings(False, "auto", dense) == SvdSettings(add_context=False)
    sparse = read_pairs(DATA / "sample.csv")
    assert auto_method(False, sparse)[0] == "propagate"
    assert choose_settings(False, "auto", sparse) == PropagateSettings()
    assert choose_settings(False, "svd", sparse).add_context is True


def test_svd_sgns_trains_from_text_in_two_stages(store: Path, tmp_path: Path) -> None:
    """One read keeps the tokens for the skip-gram stage; one thread and a seed give the same
    vectors twice; the record holds both stages' settings and the reading's window."""
    pytest.importorskip("numba", reason="the kernel extra is not installed")
    rng = np.random.default_rng(4)
    groups = [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]
    lines = [" ".join(rng.choice(groups[g], 8)) for g in (0, 1) * 150]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n")
    options = {"text": True, "method": "svd+sgns", "quiet": True, "store": store,
               "reading": TextOptions(min_count=1, window=3, sample=0),
               "given": {"dim": 8, "epochs": 3, "threads": 1}}
    first = train_file(corpus, **options)
    second = train_file(corpus, **options)
    assert first.settings == second.settings
    assert (first.settings.method, first.settings.window, first.settings.threads) == (
        "svd+sgns", 3, 1)
    with embedstore.open(store, version=1) as one, embedstore.open(store, version=2) as two:
        assert np.array_equal(np.asarray(one._vectors), np.asarray(two._vectors))
        assert one.similar("a0", k=5)[0].item.startswith("a")
    with pytest.raises(TrainingError, match="trains from a text corpus"):
        train_file(DATA / "animals.csv", method="svd+sgns", quiet=True, store=store)


def hierarchy_rows() -> tuple[list[str], dict[str, int]]:
    """A three-level tree: a root, 4 categories, 5 subcategories in each, 8 leaves in each
    subcategory (185 items); the category of every leaf."""
    rows, category = [], {}
    for c in range(4):
        rows.append(f"c{c},root")
        for m in range(5):
            rows.append(f"m{c}_{m},c{c}")
            for leaf in range(8):
                rows.append(f"l{c}_{m}_{leaf},m{c}_{m}")
                category[f"l{c}_{m}_{leaf}"] = c
    return rows, category


def test_auto_weighs_the_hubs_of_a_tree_like_graph_less(write) -> None:  # type: ignore[no-untyped-def]
    rows, category = hierarchy_rows()
    tree = read_pairs(write("tree.csv", "\n".join(rows)))
    method, reason = auto_method(False, tree)
    assert method == "propagate" and "2.0 distinct partners" in reason
    assert "tree-like" in reason and "degree exponent 0.25, 32 steps" in reason
    chosen = choose_settings(False, "auto", tree)
    assert chosen == PropagateSettings(degree_exponent=0.25, steps=32, average_from=16)
    assert choose_settings(False, "propagate", tree) == chosen
    assert choose_settings(False, "auto", tree, degree_exponent=0.75).degree_exponent == 0.75
    assert choose_settings(False, "auto", read_pairs(DATA / "animals.csv")) == PropagateSettings()

    def leaf_recall(settings: PropagateSettings) -> float:
        """The share of each leaf's 10 nearest leaves in its category (7 are its siblings)."""
        vectors = fit(MemoryCounts(tree), settings).vectors
        leaves = [i for i, item in enumerate(tree.items) if item in category]
        unit = vectors[leaves] / np.linalg.norm(vectors[leaves], axis=1, keepdims=True)
        scores = unit @ unit.T
        np.fill_diagonal(scores, -np.inf)
        labels = np.array([category[tree.items[i]] for i in leaves])
        return float(np.mean(labels[np.argsort(-scores, axis=1)[:, :10]] == labels[:, None]))

    assert leaf_recall(chosen) == 1.0
    assert leaf_recall(PropagateSettings()) < 0.85  # hubs discounted as in a dependency graph
