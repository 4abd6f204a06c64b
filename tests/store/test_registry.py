from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import embedstore
from embedstore.errors import NotFoundError
from embedstore.store import DB_NAME, Store
from tests.conftest import DATA

Run = Callable[..., Result]


def train(run: Run, *args: str) -> dict:  # type: ignore[type-arg]
    result = run("train", str(DATA / "animals.csv"), "--quiet", "--json", "--dim", "8", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_alias_resolves_moves_and_keeps_history(run: Run) -> None:
    for seed in ("1", "2"):
        train(run, "--seed", seed)
    assert run("tag", "1", "prod").stdout == "default: prod -> version 1\n"
    assert json.loads(run("similar", "cat", "--version", "prod", "--json").stdout)["version"] == 1
    assert run("tag", "2", "prod").stdout == "default: prod -> version 2 (was version 1)\n"
    assert json.loads(run("similar", "cat", "--version", "prod", "--json").stdout)["version"] == 2
    history = json.loads(run("aliases", "--history", "--json").stdout)
    assert [(h["name"], h["previous"], h["version"]) for h in history] == [
        ("prod", None, 1), ("prod", 1, 2)]
    listing = run("versions").stdout.splitlines()
    assert listing[2].split()[:2] == ["2", "prod"]


def test_bad_aliases_change_nothing(run: Run, store: Path) -> None:
    train(run)
    result = run("tag", "7", "prod")
    assert result.exit_code == 1 and "has no version 7" in result.stderr
    result = run("tag", "1", "9lives")  # would read as a version number
    assert result.exit_code == 1 and "invalid alias '9lives'" in result.stderr
    assert json.loads(run("aliases", "--json").stdout) == []
    result = run("similar", "cat", "--version", "nope")
    assert result.exit_code == 1 and "no version or alias 'nope'" in result.stderr


def test_rm_is_refused_while_aliased_and_numbers_are_never_reused(run: Run, store: Path) -> None:
    first, second = train(run), train(run)
    run("tag", "2", "prod")
    result = run("rm", "2")
    assert result.exit_code == 1 and "aliased as prod" in result.stderr
    assert (store / Path(second["files"]["vectors"]["path"])).exists()
    assert run("rm", "2", "--force").stdout == "removed default version 2\n"
    assert not (store / Path(second["files"]["vectors"]["path"]).parent).exists()
    assert (store / Path(first["files"]["vectors"]["path"])).exists()
    history = json.loads(run("aliases", "--history", "--json").stdout)
    assert history[-1]["version"] is None and history[-1]["previous"] == 2
    assert train(run)["version"] == 3  # 2 is gone for good
    versions = [r["version"] for r in json.loads(run("versions", "--json").stdout)]
    assert versions == [1, 3]


def test_gc_removes_only_unowned_files(run: Run, store: Path) -> None:
    kept = train(run)
    orphan = store / "versions" / "deadbeef"
    orphan.mkdir()
    (orphan / "vectors.npy").write_bytes(b"x" * 100)
    leftover = store / "tmp" / "cafe"
    leftover.mkdir(parents=True)
    (leftover / "norms.npy").write_bytes(b"y" * 10)
    report = json.loads(run("gc", "--json").stdout)
    assert sorted(report["removed"]) == ["tmp/cafe", "versions/deadbeef"]
    assert report["bytes"] == 110
    assert not orphan.exists() and not leftover.exists()
    assert (store / kept["files"]["vectors"]["path"]).exists()
    assert run("gc").stdout == "freed 0 bytes in 0 path(s)\n"


def test_verify_names_what_is_wrong(run: Run, store: Path) -> None:
    train(run)
    second = train(run)
    assert run("verify").stdout == "default version 1: ok\ndefault version 2: ok\n"
    vectors_file = store / second["files"]["vectors"]["path"]
    data = bytearray(vectors_file.read_bytes())
    data[-1] ^= 0xFF
    vectors_file.write_bytes(bytes(data))
    result = run("verify", "--all")
    assert result.exit_code == 1
    assert "default version 2: DAMAGED: " in result.stdout and "checksum differs" in result.stdout
    with sqlite3.connect(store / DB_NAME) as connection:
        connection.execute("DELETE FROM items WHERE version_id = 1 AND row = 3")
    reports = json.loads(run("verify", "1", "--json").stdout)
    assert reports[0]["ok"] is False
    assert "vocabulary has 7 rows, expected 8" in reports[0]["problems"][0]
    (store / second["files"]["norms"]["path"]).unlink()
    assert "norms.npy is missing" in run("verify", "2").stdout


def test_diff_counts_items_and_neighbourhood_overlap(run: Run, write) -> None:  # type: ignore[no-untyped-def]
    train(run, "--seed", "4")
    train(run, "--seed", "4")  # same file and seed: identical vectors
    report = json.loads(run("diff", "1", "2", "--json", "--k", "3").stdout)
    assert (report["added"], report["removed"], report["shared"]) == (0, 0, 8)
    assert report["mean_overlap"] == 1.0 and report["sampled"] == 8
    other = write("other.csv", "cat,dog\ncat,lion\ndog,wolf\n")
    assert run("train", str(other), "--quiet", "--method", "sgns", "--epochs", "5",
               "--dim", "8").exit_code == 0
    report = json.loads(run("diff", "2", "3", "--json", "--k", "2", "--sample", "2").stdout)
    assert (report["added"], report["removed"], report["shared"]) == (2, 6, 2)
    assert report["added_examples"] == ["lion", "wolf"]
    assert report["sampled"] == 2 and 0.0 <= report["mean_overlap"] <= 1.0
    text = run("diff", "1", "2").stdout
    assert "items: 8 shared, 0 added, 0 removed" in text and "mean 1.000" in text


def test_warm_start_from_a_parent_version(run: Run, store: Path, write) -> None:  # type: ignore[no-untyped-def]
    parent = train(run, "--dim", "16")
    grown = write("grown.csv", (DATA / "animals.csv").read_text() + "cat,lion\n")
    result = run("train", str(grown), "--from", "1", "--method", "sgns", "--epochs", "1",
                 "--lr", "0.0001", "--quiet", "--json")
    child = json.loads(result.stdout)
    assert (child["parent"], child["dim"], child["version"]) == (1, 16, 2)
    with embedstore.open(store, version=1) as old, embedstore.open(store, version=2) as new:
        # a barely trained child still holds its parent's vectors for the shared items
        assert np.allclose(old.vector("cat"), new.vector("cat"), atol=1e-3)
        assert len(new) == 9 and parent["n_items"] == 8
    result = run("train", str(grown), "--from", "1", "--dim", "32", "--quiet")
    assert result.exit_code == 1 and "--dim 32 differs from the 16" in result.stderr


def test_model_and_version_errors_name_what_exists(store: Path) -> None:
    """(Numbering across an older store is tested on a real one, in test_migrations.py.)"""
    embedstore.publish_vectors(["a", "b"], np.eye(2, dtype=np.float32), store=store)
    with pytest.raises(embedstore.StoreError, match="invalid model name"):
        embedstore.publish_vectors(["a", "b"], np.eye(2, dtype=np.float32), store=store,
                                   model="bad/name")
    with Store.open(store) as opened:
        assert opened.version_info("default").version == 1
        with pytest.raises(NotFoundError, match=r"no model 'nope'.*models here: default"):
            opened.version_info("nope")
        with pytest.raises(NotFoundError, match="has no version 7; its versions are 1"):
            opened.version_info("default", 7)


def damaged(store: Path, change: Callable[[dict, Path], None]) -> list[str]:  # type: ignore[type-arg]
    """The problems ``verify`` finds in version 1 after ``change(metadata, version folder)``
    (the metadata is written back to the database)."""
    from embedstore.store.registry import verify

    with sqlite3.connect(store / DB_NAME) as connection:
        (text,) = connection.execute("SELECT metadata FROM versions WHERE id = 1").fetchone()
        metadata = json.loads(text)
        change(metadata, store)
        connection.execute("UPDATE versions SET metadata = ? WHERE id = 1",
                           (json.dumps(metadata),))
    with Store.open(store) as opened:
        (report,) = verify(opened, "default", 1)
    return report.problems


def test_verify_finds_every_kind_of_damage(run: Run, store: Path, tmp_path: Path) -> None:
    from embedstore.store.files import sha256_of

    train(run)
    assert run("index", "build", "1", "--kind", "hnsw", "--quiet").exit_code == 0
    pristine = tmp_path / "pristine"
    shutil.copytree(store, pristine)

    def fresh() -> Path:
        shutil.rmtree(store)
        shutil.copytree(pristine, store)
        return store

    def vectors_of(metadata: dict) -> Path:  # type: ignore[type-arg]
        return store / metadata["files"]["vectors"]["path"]

    def shrink(metadata: dict, _: Path) -> None:  # type: ignore[type-arg]
        path = vectors_of(metadata)
        path.write_bytes(path.read_bytes()[:-4])

    expected_bytes = json.loads(run("info", "--json").stdout)["version"]["files"]["vectors"][
        "bytes"]
    problems = damaged(fresh(), shrink)
    assert [p.split(" has ")[1] for p in problems] == [
        f"{expected_bytes - 4} bytes, expected {expected_bytes}"]

    def unreadable(metadata: dict, _: Path) -> None:  # type: ignore[type-arg]
        path = vectors_of(metadata)
        path.write_bytes(b"\x00" * path.stat().st_size)
        metadata["files"]["vectors"]["sha256"] = sha256_of(path)

    (problem,) = damaged(fresh(), unreadable)
    assert problem.startswith(f"{metadata_path(pristine, 'vectors')} cannot be read: ")

    def misshapen(metadata: dict, _: Path) -> None:  # type: ignore[type-arg]
        path = store / metadata["files"]["norms"]["path"]
        np.save(path, np.ones(3, np.float32))
        metadata["files"]["norms"] |= {"sha256": sha256_of(path),
                                       "bytes": path.stat().st_size}

    assert damaged(fresh(), misshapen) == [
        f"{metadata_path(pristine, 'norms')} has shape (3,), expected (8,)"]

    def outside(metadata: dict, _: Path) -> None:  # type: ignore[type-arg]
        metadata["files"]["vectors"]["path"] = "../elsewhere/v.npy"

    assert damaged(fresh(), outside) == [
        "vectors file path '../elsewhere/v.npy' points outside the store",
        "metadata lists no vectors.npy"]
    index = json.loads(run("info", "--json").stdout)["index"]
    for damage, finding in (
            (lambda path: path.unlink(), "is missing"),
            (lambda path: path.write_bytes(path.read_bytes() + b"x"), "bytes, expected"),
            (lambda path: path.write_bytes(bytes(reversed(path.read_bytes()))),
             "checksum differs from the one recorded")):
        damage(fresh() / index["path"])
        (problem,) = damaged(store, lambda metadata, _: None)
        assert problem.startswith(f"index {index['path']} ") and finding in problem, problem


def metadata_path(store: Path, key: str) -> str:
    with sqlite3.connect(store / DB_NAME) as connection:
        (text,) = connection.execute("SELECT metadata FROM versions WHERE id = 1").fetchone()
    return json.loads(text)["files"][key]["path"]  # type: ignore[no-any-return]


def test_verify_reads_each_version_asked_and_names_all_its_problems(
        run: Run, store: Path) -> None:
    from embedstore.store.registry import verify

    train(run)
    train(run)
    train(run, "--model", "other")
    with Store.open(store) as opened:
        assert [(r.model, r.version) for r in verify(opened)] == [
            ("default", 1), ("default", 2), ("other", 1)]
        assert [(r.model, r.version) for r in verify(opened, "default")] == [
            ("default", 1), ("default", 2)]
        assert [(r.model, r.version) for r in verify(opened, "other", 1)] == [("other", 1)]
        with pytest.raises(NotFoundError) as missing:
            verify(opened, "nope")
        assert str(missing.value) == f"no model 'nope' in store {opened.path}"

    def two_problems(metadata: dict, _: Path) -> None:  # type: ignore[type-arg]
        (store / metadata["files"]["norms"]["path"]).unlink()
        vectors = store / metadata["files"]["vectors"]["path"]
        vectors.write_bytes(vectors.read_bytes()[:-1])

    norms, vectors = damaged(store, two_problems)  # every file is checked, in key order
    assert re.fullmatch(r"\S+/norms\.npy is missing", norms)
    assert re.fullmatch(r"\S+/vectors\.npy has (\d+) bytes, expected (\d+)", vectors)
    with sqlite3.connect(store / DB_NAME) as connection:
        connection.execute("UPDATE versions SET metadata = '{' WHERE id = 2")
        connection.execute("DELETE FROM items WHERE version_id = 3 AND row = 0")
    with Store.open(store) as opened:
        broken, numbering = verify(opened, "default", 2)[0], verify(opened, "other", 1)[0]
    assert (broken.model, broken.version) == ("default", 2)
    assert len(broken.problems) == 1
    assert broken.problems[0].startswith("metadata cannot be read: ")
    assert numbering.problems == ["vocabulary has 7 rows, expected 8 numbered 0..7"]


def test_vectors_of_the_wrong_shape_are_found(run: Run, store: Path) -> None:
    from embedstore.store.files import sha256_of

    train(run)

    def misshapen(metadata: dict, _: Path) -> None:  # type: ignore[type-arg]
        path = store / metadata["files"]["vectors"]["path"]
        np.save(path, np.ones((8, 3), np.float32))
        metadata["files"]["vectors"] |= {"sha256": sha256_of(path),
                                         "bytes": path.stat().st_size}

    (problem,) = damaged(store, misshapen)
    assert problem.endswith(" has shape (8, 3), expected (8, 8)")


def test_what_the_store_lacks_is_named_with_what_it_holds(run: Run, store: Path) -> None:
    with Store.open(store, create=True) as opened, pytest.raises(NotFoundError) as empty:
        opened.version_info("default")
    assert str(empty.value) == (f"no model 'default' in store {store} (the store is empty); "
                                "train one with: embed train FILE --model NAME")
    train(run)
    train(run)
    train(run, "--model", "zoo")
    with Store.open(store) as opened:
        with pytest.raises(NotFoundError) as model:
            opened.version_info("nope")
        with pytest.raises(NotFoundError) as version:
            opened.version_info("default", 7)
        change = opened.set_alias("default", 2, "prod")
        (history,) = opened.alias_history("default")
    assert str(model.value) == (f"no model 'nope' in store {store} (models here: default, "
                                "zoo); train one with: embed train FILE --model NAME")
    assert str(version.value) == ("model 'default' has no version 7; its versions are 1, 2 "
                                  "(see: embed versions --model default)")
    assert (change.version, change.previous) == (2, None)
    assert change.changed == history.changed and change.changed.startswith("20")
