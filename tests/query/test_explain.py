"""``embed explain``: the partners two items share, ranked exactly as the method weighs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import embedstore
from embedstore.errors import QueryError
from embedstore.query.explain import explain
from tests.conftest import DATA

Run = Callable[..., Result]

PAIRS = "a,x,2\nb,x,2\na,y,1\nb,y,1\na,z,1\nb,w,3\nx,y,1\n"
"""a and b share x (weight 2 with each) and y (1 with each); a alone has z, b alone w."""


def train(store: Path, tmp_path: Path, *options: str, text: str = PAIRS) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text(text)
    method = dict(zip(options[::2], options[1::2], strict=True)).get("--method", "auto")
    embedstore.train_pairs(path, store=store, quiet=True, method=method)


def test_propagate_ranks_shared_partners_by_the_step_operator(store: Path,
                                                              tmp_path: Path) -> None:
    train(store, tmp_path)
    with embedstore.open(store) as vectors:
        found = explain(vectors, "a", "b", k=5)
        p = vectors.store.version_record(vectors.info).settings.degree_exponent
    assert p == 0.25  # 2.3 partners per item: a tree-like graph's exponent
    # median weight 1; degrees: x 5, y 3, z 1, w 3; a step weight is w / 1 * degree ** -p
    step = {("a", "x"): 2 * 5 ** -p, ("a", "y"): 3 ** -p, ("b", "w"): 3 * 3 ** -p}
    x, y = step[("a", "x")] ** 2, step[("a", "y")] ** 2
    assert found.method == "propagate"
    assert [p.item for p in found.shared] == ["x", "y"]
    assert found.shared[0].contribution == pytest.approx(x / (x + y))
    assert found.shared[0].weight_a == pytest.approx(step[("a", "x")])
    assert found.shared[0].weight_b == pytest.approx(step[("a", "x")])
    assert [(p.item, p.weight) for p in found.only_a] == [("z", pytest.approx(1.0))]
    assert [(p.item, p.weight) for p in found.only_b] == [("w", pytest.approx(step[("b", "w")]))]
    assert found.cosine == pytest.approx(vectors_cosine(store, "a", "b"))


def vectors_cosine(store: Path, a: str, b: str) -> float:
    with embedstore.open(store) as vectors:
        return vectors.similarity(a, b)


def test_svd_ranks_shared_partners_by_ppmi(store: Path, tmp_path: Path) -> None:
    train(store, tmp_path, "--method", "svd")
    with embedstore.open(store) as vectors:
        found = explain(vectors, "a", "b")
    sums = {"a": 4.0, "b": 6.0, "x": 5.0, "y": 3.0, "z": 1.0, "w": 3.0}
    context = {item: value ** 0.75 for item, value in sums.items()}
    total = sum(context.values())

    def ppmi(item: str, partner: str, weight: float) -> float:
        return max(0.0, float(np.log(weight * total / (sums[item] * context[partner]))))

    expected = {p: ppmi("a", p, w) * ppmi("b", p, w) for p, w in (("x", 2.0), ("y", 1.0))}
    ranked = sorted((p for p in expected if expected[p] > 0), key=lambda p: -expected[p])
    assert found.method == "svd" and [p.item for p in found.shared] == ranked
    assert found.shared[0].weight_a == pytest.approx(ppmi("a", ranked[0],
                                                          {"x": 2.0, "y": 1.0}[ranked[0]]))


def test_sgns_ranks_by_the_shared_counts_and_k_cuts_the_lists(store: Path,
                                                             tmp_path: Path) -> None:
    train(store, tmp_path, "--method", "sgns")
    with embedstore.open(store) as vectors:
        found = explain(vectors, "a", "b", k=1)
    assert found.method == "sgns"
    assert [(p.item, p.contribution, p.weight_a, p.weight_b) for p in found.shared] == [
        ("x", pytest.approx(4 / 5), 2.0, 2.0)]
    assert [p.item for p in found.only_a] == ["z"] and [p.item for p in found.only_b] == ["w"]


def test_the_cli_prints_the_same_answer_as_the_library(run: Run, store: Path,
                                                       tmp_path: Path) -> None:
    train(store, tmp_path)
    printed = json.loads(run("explain", "a", "b", "--json").stdout)
    with embedstore.open(store) as vectors:
        assert printed == explain(vectors, "a", "b").to_json()
    table = run("explain", "a", "b", "--k", "1").stdout.splitlines()
    assert table[0].startswith("cosine ") and table[2].split()[0] == "x"


def test_an_imported_version_keeps_no_counts(run: Run, store: Path, tmp_path: Path) -> None:
    embedstore.publish_vectors(["a", "b", "c"], np.eye(3, dtype=np.float32), store=store)
    with embedstore.open(store) as vectors, pytest.raises(QueryError, match="keeps no counts"):
        explain(vectors, "a", "b")
    result = run("explain", "a", "b")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: model 'default' version 1 keeps no counts (it was "
                                    "imported from a vector file)")
    assert result.stderr.count("\n") == 1


def test_kept_counts_are_verified_and_go_with_the_version(run: Run, store: Path) -> None:
    record = embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    assert {"pairs", "weights"} <= set(record.files)
    pairs = store / record.files["pairs"].path
    assert np.load(pairs).shape == (120, 2)  # 108 positive and 12 negative distinct pairs
    assert run("verify").exit_code == 0
    pairs.write_bytes(pairs.read_bytes()[:-8] + b"\0" * 8)
    result = run("verify")
    assert result.exit_code == 1 and "pairs.npy checksum differs" in result.stdout + result.stderr
    run("rm", "1")
    assert not pairs.exists()


def test_unknown_items_get_close_spellings(run: Run, store: Path, tmp_path: Path) -> None:
    train(store, tmp_path)
    result = run("explain", "a", "xx")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown item 'xx'")
