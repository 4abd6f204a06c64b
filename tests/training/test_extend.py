"""embed extend's library side: the parent's rows bit for bit, the fold-in of each method, the
items left out and the pairs ignored, the counts and arrays the new version keeps."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.counting.kept import read_kept_counts
from embedstore.errors import InputError, TrainingError
from embedstore.methods.fitted import Extension
from embedstore.methods.propagate import SHARPEN, hub_scale
from embedstore.methods.svd import SINGULAR_VALUES, fold_map
from embedstore.schema import PropagateSettings, SgnsSettings, SvdSettings
from embedstore.store import Store
from embedstore.store.registry import verify
from embedstore.training.extend import components, extend_version
from embedstore.training.pipeline import train_file
from tests.conftest import DATA


def group_rows(groups: int = 6, size: int = 8, prefix: str = "g") -> list[str]:
    """Items in groups, each paired with the next three of its group (a ring)."""
    rows = []
    for group in range(groups):
        names = [f"{prefix}{group}-{i}" for i in range(size)]
        rows += [f"{names[i]},{names[(i + step) % size]}" for i in range(size)
                 for step in (1, 2, 3)]
    return rows


def write_rows(path: Path, rows: list[str]) -> Path:
    path.write_text("item_a,item_b\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def stored(store: Path, version: int) -> tuple[list[str], np.ndarray, Store]:
    handle = Store.open(store)
    info, vectors, _ = handle.open_version("default", version)
    items = [item for item, _ in handle.items_and_counts(info)]
    return items, np.array(vectors), handle


def kept_of(store: Path, version: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    with Store.open(store) as handle:
        info = handle.version_info("default", version)
        record = handle.version_record(info)
        counts = read_kept_counts(handle.inside_store(record.files["pairs"].path),
                                  handle.inside_store(record.files["weights"].path))
        items = [item for item, _ in handle.items_and_counts(info)]
        return items, np.stack([counts.left, counts.right], axis=1), np.array(counts.weight)


@pytest.mark.parametrize("settings", [PropagateSettings(dim=16), SvdSettings(dim=8),
                                      SgnsSettings(dim=8, epochs=20)])
def test_the_parents_rows_are_kept_bit_for_bit(tmp_path: Path, store: Path,
                                               settings: object) -> None:
    parent = write_rows(tmp_path / "parent.csv", group_rows())
    train_file(parent, store=store, settings=settings, quiet=True)
    new = write_rows(tmp_path / "new.csv", ["n1,g0-0", "n1,g0-1", "n2,n1", "n3,g3-4"])
    record = extend_version(new, store=store, quiet=True)
    assert (record.origin, record.parent, record.n_items) == ("extend", 1, 51)
    assert record.settings == Store.open(store).version_record(
        Store.open(store).version_info("default", 1)).settings
    old_items, old_vectors, handle = stored(store, 1)
    items, vectors, _ = stored(store, 2)
    assert items[:48] == old_items and items[48:] == ["n1", "n2", "n3"]
    assert vectors[:48].tobytes() == old_vectors.tobytes()
    assert np.isfinite(vectors).all() and (np.linalg.norm(vectors[48:], axis=1) > 0).all()
    files = {key: handle.inside_store(file.path) for key, file in
             handle.version_record(handle.version_info("default", 2)).files.items()}
    old_files = {key: handle.inside_store(file.path) for key, file in
                 handle.version_record(handle.version_info("default", 1)).files.items()}
    for name in ("vectors", "norms"):  # the bytes np.save writes for the whole matrix
        joined = np.load(files[name])
        assert joined[:48].tobytes() == np.load(old_files[name]).tobytes()
        expected = tmp_path / f"{name}.npy"
        np.save(expected, joined)
        assert files[name].read_bytes() == expected.read_bytes()
    assert set(files) == set(old_files)
    assert [report.ok for report in verify(handle, "default")] == [True, True]


def test_a_new_items_propagate_vector_is_the_step_computed_by_hand(tmp_path: Path,
                                                                    store: Path) -> None:
    """The steps of the new rows, written out: x reads its known partners at their sharpened
    vectors, y (paired with x alone) reads x; self weight 0, so no row reads itself."""
    parent = write_rows(tmp_path / "parent.csv", group_rows(groups=3))
    settings = PropagateSettings(dim=12, self_weight=0.0, seed=4)
    train_file(parent, store=store, settings=settings, quiet=True)
    new = write_rows(tmp_path / "new.csv", ["x,g0-0", "x,g0-1", "x,g1-5", "y,x"])
    extend_version(new, store=store, quiet=True)
    items, vectors, _ = stored(store, 2)
    old_items, pairs, _ = kept_of(store, 1)
    row = {item: i for i, item in enumerate(items)}
    parent_vectors = vectors[: len(old_items)].astype(np.float64)
    partners: dict[int, list[int]] = {i: [] for i in range(len(old_items))}
    for a, b in pairs:
        partners[a].append(b)
        partners[b].append(a)
    degree = np.array([len(partners[i]) for i in range(len(old_items))], dtype=np.float64)
    scale = hub_scale(degree, settings)

    def fixed(p: int) -> np.ndarray:
        mean = sum(scale[c] * parent_vectors[c] for c in partners[p])
        mean /= np.linalg.norm(mean)
        own = parent_vectors[p]
        sharpened = own + SHARPEN * (own - mean * (mean @ own))
        return sharpened / np.linalg.norm(sharpened)

    known = [row[p] for p in ("g0-0", "g0-1", "g1-5")]
    known_part = sum((degree[p] + 1) ** -0.75 * fixed(p) for p in known)
    x, y = np.zeros(12), np.zeros(12)  # the new rows start at zero
    mean = np.zeros((2, 12))
    for step in range(1, 17):
        x, y = known_part + 1.0 * y, 4 ** -0.75 * x  # y's degree is 1, x's is 4
        x, y = (v / max(np.linalg.norm(v), 1e-300) for v in (x, y))
        if step >= 8:
            mean += (x, y)
    expected = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    assert np.allclose(vectors[[row["x"], row["y"]]], expected, atol=5e-6)


def test_a_new_item_further_than_the_steps_still_gets_a_vector(tmp_path: Path,
                                                                store: Path) -> None:
    train_file(write_rows(tmp_path / "parent.csv", group_rows(groups=3)), store=store,
               settings=PropagateSettings(dim=12, steps=3, average_from=2), quiet=True)
    chain = ["c0,g0-0", *(f"c{i},c{i + 1}" for i in range(6))]
    extend_version(write_rows(tmp_path / "new.csv", chain), store=store, quiet=True)
    items, vectors, _ = stored(store, 2)
    assert np.linalg.norm(vectors[items.index("c6")]) > 0.99  # 7 steps away, 3 steps taken
    with embedstore.open(store) as opened:
        assert {n.item for n in opened.similar("c6", k=3)} < {f"c{i}" for i in range(6)}


def test_items_without_a_path_are_left_out_and_known_pairs_ignored(tmp_path: Path,
                                                                   store: Path) -> None:
    train_file(write_rows(tmp_path / "parent.csv", group_rows()), store=store, quiet=True)
    new = write_rows(tmp_path / "new.csv", ["a,g0-0", "b,a", "island,lonely", "lonely,reef",
                                            "g0-0,g5-5", "g1-1,g1-2", "a,g0-3,0"])
    record = extend_version(new, store=store, quiet=True)
    assert record.notes == [
        "propagate folded 2 new items into version 1 (its step operator over the new rows, "
        "the known rows fixed); its 48 vectors are unchanged",
        "3 items of new.csv have no path of positive pairs to an item of version 1: left out "
        "('lonely', 'island', 'reef')",
        "2 pairs between items of version 1 ignored: their vectors do not move (train a new "
        "version to take them in)"]
    items, pairs, weights = kept_of(store, 2)
    old_items, old_pairs, _ = kept_of(store, 1)
    assert items == [*old_items, "a", "b"]
    assert pairs[: len(old_pairs)].tolist() == old_pairs.tolist()
    added = {(items[a], items[b], w) for (a, b), w in zip(pairs[len(old_pairs):].tolist(),
                                                          weights[len(old_pairs):].tolist(),
                                                          strict=True)}
    assert added == {("g0-0", "a", 1.0), ("a", "b", 1.0), ("g0-3", "a", 0.0)}
    single = write_rows(tmp_path / "one.csv", ["c,g2-2"])
    assert "1 item" not in " ".join(extend_version(single, store=store, quiet=True).notes)


def test_explain_and_a_second_extension_read_the_new_versions_counts(tmp_path: Path,
                                                                    store: Path) -> None:
    # 16 dimensions for 48 items: propagation as on any graph bigger than the dimension
    train_file(write_rows(tmp_path / "parent.csv", group_rows()), store=store, quiet=True,
               given={"dim": 16})
    extend_version(write_rows(tmp_path / "new.csv", ["a,g0-0", "a,g0-1", "b,a"]),
                   store=store, quiet=True)
    third = extend_version(write_rows(tmp_path / "more.csv", ["c,b", "c,g0-2"]), store=store,
                           quiet=True)
    assert (third.parent, third.n_items) == (2, 51)
    from embedstore.query.explain import explain

    with embedstore.open(store) as vectors:
        found = explain(vectors, "a", "g0-0", k=5)
        assert {partner.item for partner in found.only_a} >= {"b"}
        assert [partner.item for partner in explain(vectors, "c", "a").shared] == ["b"]
        neighbours = [n.item for n in vectors.similar("a", k=6)]
    assert sum(item.startswith("g0-") for item in neighbours) >= 4


def irregular_rows(seed: int) -> list[str]:
    """The group graph with random weighted pairs across it: no symmetry, so singular
    values of every size."""
    rng = np.random.default_rng(seed)
    return group_rows(groups=5, size=10) + [
        f"g{a // 10}-{a % 10},g{b // 10}-{b % 10},{w}" for a, b, w in
        zip(rng.integers(0, 50, 80), rng.integers(0, 50, 80), rng.integers(1, 5, 80),
            strict=True) if a != b]


@pytest.mark.parametrize("context", [True, False])
def test_a_duplicate_items_svd_fold_in_is_that_items_vector(tmp_path: Path, store: Path,
                                                            context: bool) -> None:
    """The fold-in of an item's own PPMI row gives back its vector, also for a version a warm
    start turned (it keeps the rotation)."""
    settings = SvdSettings(dim=8, add_context=context, power_iterations=10)
    train_file(write_rows(tmp_path / "other.csv", irregular_rows(4)), store=store,
               settings=settings, quiet=True)
    rows = irregular_rows(3)
    warm = train_file(write_rows(tmp_path / "parent.csv", rows), store=store,
                      settings=settings, parent=1, quiet=True)
    with Store.open(store) as handle:
        rotation = np.load(handle.inside_store(warm.files["rotation"].path))
    assert np.abs(rotation - np.eye(8)).max() > 0.5 and SINGULAR_VALUES in warm.files
    twin = [row.replace("g2-3", "twin") for row in rows if "g2-3" in row.split(",")[:2]]
    record = extend_version(write_rows(tmp_path / "new.csv", twin), store=store, quiet=True)
    items, vectors, _ = stored(store, record.version)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = unit @ unit[items.index("twin")]
    assert float(cosines[items.index("g2-3")]) > 0.98
    assert items[int(np.argsort(-cosines)[1])] == "g2-3"


def test_svds_fold_map_is_estimated_from_the_vectors_when_not_kept(tmp_path: Path,
                                                                   store: Path) -> None:
    train_file(write_rows(tmp_path / "parent.csv", group_rows(size=10)), store=store,
               settings=SvdSettings(dim=10), quiet=True)
    with Store.open(store) as handle:
        info, vectors, _ = handle.open_version("default", 1)
        record = handle.version_record(info)
        signed = np.load(handle.inside_store(record.files[SINGULAR_VALUES].path))
    empty = np.zeros(0, dtype=np.int64)
    extension = Extension(1, vectors, None, {SINGULAR_VALUES: signed}, 0, empty, empty,  # type: ignore[arg-type]
                          np.zeros(0), empty, empty, np.zeros(0))
    kept, notes = fold_map(extension, record.settings)
    estimated, estimate_notes = fold_map(
        Extension(1, vectors, None, {}, 0, empty, empty, np.zeros(0), empty, empty,  # type: ignore[arg-type]
                  np.zeros(0)), record.settings)
    assert notes == [] and "estimated from its vectors' Gram matrix" in estimate_notes[0]
    projected = np.asarray(vectors, dtype=np.float64)
    assert np.allclose(projected @ estimated, projected @ kept, atol=1e-4 * np.abs(
        projected @ kept).max())


def test_sgns_keeps_its_context_vectors_and_extends_them(tmp_path: Path, store: Path) -> None:
    train_file(write_rows(tmp_path / "parent.csv", group_rows()), store=store,
               settings=SgnsSettings(dim=8, epochs=50), quiet=True)
    record = extend_version(write_rows(tmp_path / "new.csv", ["a,g4-0", "a,g4-1", "a,g4-2"]),
                            store=store, quiet=True)
    with Store.open(store) as handle:
        context = [np.load(handle.inside_store(
            handle.version_record(handle.version_info("default", v)).files["context"].path))
            for v in (1, 2)]
    assert context[0].shape == (48, 8) and context[1].shape == (49, 8)
    assert context[1][:48].tobytes() == context[0].tobytes()
    assert any("sgns trained the new items for" in note for note in record.notes)
    with embedstore.open(store) as vectors:
        assert sum(n.item.startswith("g4-") for n in vectors.similar("a", k=5)) >= 3


def test_nothing_new_no_counts_and_no_method_are_refused(tmp_path: Path, store: Path) -> None:
    train_file(write_rows(tmp_path / "parent.csv", group_rows()), store=store, quiet=True)
    with pytest.raises(InputError, match=r"every item is in model 'default' version 1 already"):
        extend_version(write_rows(tmp_path / "old.csv", ["g0-0,g0-5"]), store=store)
    with pytest.raises(InputError, match="none of its 2 new items has a path of positive "
                                         "pairs to an item of model 'default' version 1"):
        extend_version(write_rows(tmp_path / "far.csv", ["x,y"]), store=store)
    embedstore.publish_vectors(["a", "b"], np.eye(2, dtype=np.float32), store=store,
                               model="imported")
    with pytest.raises(TrainingError, match="was imported from a vector file"):
        extend_version(write_rows(tmp_path / "new.csv", ["c,a"]), store=store,
                       model="imported")
    with Store.open(store) as handle:
        assert [info.version for info in handle.version_infos("default")] == [1]


def test_components_join_every_chain() -> None:
    left, right = np.array([5, 0, 3, 2, 7]), np.array([6, 1, 4, 3, 6])
    assert components(8, left, right).tolist() == [0, 0, 2, 2, 2, 5, 5, 5]
    chain = np.arange(999)
    assert set(components(1000, chain[::-1], chain[::-1] + 1).tolist()) == {0}
    found = components(6, *np.array(list(itertools.combinations([1, 3, 5], 2))).T)
    assert found.tolist() == [0, 1, 2, 1, 4, 1]


def test_extend_version_is_part_of_the_python_api(tmp_path: Path, store: Path) -> None:
    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    record = embedstore.extend_version(write_rows(tmp_path / "new.csv", ["lion,cat"]),
                                       store=store, name="lions", quiet=True)
    assert (record.version, record.name, record.n_items) == (2, "lions", 9)


def test_a_parent_removed_while_it_is_extended_is_not_extended(
        tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedstore.methods import propagate
    from embedstore.store.registry import remove_version

    train_file(write_rows(tmp_path / "parent.csv", group_rows()), store=store, quiet=True)
    train_file(write_rows(tmp_path / "parent.csv", group_rows()), store=store, quiet=True)
    fold_in = propagate.fold_in_propagate

    def removing(*args: object) -> object:
        with Store.open(store) as other:
            remove_version(other, "default", 1)
        return fold_in(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(propagate, "fold_in_propagate", removing)
    from embedstore.errors import NotFoundError

    with pytest.raises(NotFoundError, match="version 1 was removed while it was extended; "
                                            "nothing was published"):
        extend_version(write_rows(tmp_path / "new.csv", ["a,g0-0"]), store=store, parent=1)
    with Store.open(store) as handle:
        assert [info.version for info in handle.version_infos("default")] == [2]
        assert [report.ok for report in verify(handle, "default")] == [True]
