from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from embedstore.counting.windows import keep_probability, write_pair_file
from embedstore.errors import InputError
from embedstore.inputs.corpus import build_vocabulary
from embedstore.inputs.pair_file import read_pairs
from embedstore.methods.svd import orthonormalize
from embedstore.schema import SvdSettings
from embedstore.training.fitting import train_in_memory as train_svd
from embedstore.training.sources import count_text
from tests.conftest import ANIMALS, VEHICLES, classic_rows

Run = Callable[..., Result]
Write = Callable[[str, str | bytes], Path]


def pair_dict(data) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    return {tuple(sorted((data.items[a], data.items[b]))): float(w)
            for a, b, w in zip(data.left, data.right, data.weight, strict=True)}


def test_counting_by_hand(write: Write) -> None:
    # window 2: distance 1 weighs 1, distance 2 weighs 0.5; lines never mix
    path = write("c.txt", "x y z\nz x\n\ny  y\n")
    data = count_text(path, window=2, min_count=1, sample=0)
    assert data.items == ["y", "x", "z"]  # y 3, then x and z 2 each, x seen first
    assert pair_dict(data) == {("x", "y"): 1.0, ("y", "z"): 1.0, ("x", "z"): 1.5,
                               ("y", "y"): 1.0}
    assert data.item_counts.tolist() == [3.0, 2.0, 2.0]


def test_min_count_and_gzip(write: Write) -> None:
    path = write("c.txt.gz", gzip.compress(b"a b a c\na b\n"))
    data = count_text(path, window=1, min_count=2, sample=0)
    assert data.items == ["a", "b"]
    # c is dropped before windowing: "a b a" and "a b" remain
    assert pair_dict(data) == {("a", "b"): 3.0}


def test_subsampling_is_seeded_and_drops_frequent_tokens(write: Write) -> None:
    path = write("c.txt", ("the cat the dog the " * 200 + "\n") * 5)
    first = count_text(path, window=2, min_count=1, sample=1e-2, seed=1)
    again = count_text(path, window=2, min_count=1, sample=1e-2, seed=1)
    full = count_text(path, window=2, min_count=1, sample=0)
    assert pair_dict(first) == pair_dict(again)
    assert first.weight.sum() < 0.8 * full.weight.sum()
    assert keep_probability(np.array([10]), 10, 0).tolist() == [1.0]


def test_bad_corpora(write: Write, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"c\.txt, line 2: not valid UTF-8"):
        count_text(write("c.txt", b"ok fine\n\xff\xfe\n"), min_count=1)
    with pytest.raises(InputError, match="has no tokens"):
        count_text(write("e.txt", "\n\n"), min_count=1)
    with pytest.raises(InputError, match="fewer than two tokens occur at least 5 times"):
        build_vocabulary(write("s.txt", "a b c\n"), 5)
    with pytest.raises(InputError, match="file not found"):
        count_text(tmp_path / "missing.txt")


def test_pair_file_round_trip(write: Write, tmp_path: Path) -> None:
    data = count_text(write("c.txt", 'a "b,c" a\nb a\n'), window=3, min_count=1, sample=0)
    write_pair_file(data, tmp_path / "p.csv")
    back = read_pairs(tmp_path / "p.csv")
    assert pair_dict(back) == pair_dict(data)


def test_svd_groups_the_classic_example(write: Write) -> None:
    data = read_pairs(write("classic.csv", "\n".join(classic_rows())))
    vectors = train_svd(data, SvdSettings(dim=100))
    assert vectors.shape == (8, 100) and not vectors[:, 7:].any()  # rank is at most 7
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    for group in (ANIMALS, VEHICLES):
        for item in group:
            row = data.items.index(item)
            others = [i for i in np.argsort(-cosine[row], kind="stable") if i != row]
            assert {data.items[i] for i in others[:3]} == set(group) - {item}
            assert cosine[row, others[2]] > cosine[row, others[3]] + 0.5
    again = train_svd(data, SvdSettings(dim=100))
    assert np.array_equal(vectors, again)


def test_orthonormalize_tall_and_small() -> None:
    rng = np.random.default_rng(0)
    for shape in ((20_000, 30), (50, 10)):
        basis = orthonormalize(rng.standard_normal(shape))
        assert np.allclose(basis.T @ basis, np.eye(shape[1]), atol=1e-10)


def test_text_training_and_evaluation_cli(run: Run, write: Write) -> None:
    corpus = write("c.txt", "\n".join(
        ["king rules the land with his crown", "queen rules the land with her crown",
         "man walks the road with his dog", "woman walks the road with her dog"] * 30))
    result = run("train", str(corpus), "--text", "--min-count", "1", "--sample", "0",
                 "--quiet", "--json", "--dim", "8")
    record = json.loads(result.stdout)
    assert record["settings"]["method"] == "svd+sgns"  # the default with the kernel extra
    assert (record["settings"]["window"], record["settings"]["sample"]) == (5, 0.0)
    assert record["reading"] == {"kind": "text", "window": 5, "min_count": 1, "sample": 0.0,
                                 "seed": 0}
    questions = write("q.txt", ": gender\nman woman king queen\nhis her king queen\n"
                               "man woman nobody queen\n")
    report = json.loads(run("eval", "analogies", str(questions), "--json").stdout)
    assert (report["scored"], report["skipped"]) == (2, 1)
    assert report["sections"][0]["section"] == "gender"
    pairs = write("ws.tsv", "# comment\nking\tqueen\t9\nking\troad\t1\nman\twoman\t8\n"
                            "his\tdog\t2\nzebra\tking\t5\n")
    report = json.loads(run("eval", "similarity", str(pairs), "--json").stdout)
    assert (report["pairs"], report["skipped"]) == (4, 1)
    assert -1 <= report["spearman"] <= 1
    info = json.loads(run("info", "--json").stdout)
    assert [e["kind"] for e in info["evaluations"]] == ["analogies", "similarity"]
    assert run("versions", "--json").exit_code == 0


def test_pairs_command_writes_what_train_reads(run: Run, write: Write, tmp_path: Path) -> None:
    corpus = write("c.txt", "a b c\nb a\n")
    out = tmp_path / "p.csv"
    result = run("pairs", str(corpus), "-o", str(out), "--min-count", "1", "--window", "2",
                 "--sample", "0", "--quiet")
    assert result.stdout == f"wrote 3 pairs of 3 items to {out}\n"
    assert out.read_text().splitlines() == ["item_a,item_b,weight", "a,b,2.0", "a,c,0.5",
                                            "b,c,1.0"]
    assert run("train", str(out), "--quiet").exit_code == 0
