"""Counting on a Dask cluster (a LocalCluster of two workers) gives the local counts."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.errors import InputError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import read_parquet_pairs
from embedstore.training.pair_data import make_pair_data

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def named(cooc: Cooccurrence) -> tuple[dict[str, float], dict[frozenset[str], float]]:
    """Item counts and pair weights by name: the same counts whatever the row order."""
    items = cooc.items
    pairs = {frozenset((items[a], items[b])): w for a, b, w in zip(
        [*cooc.left.tolist(), *cooc.negative_left.tolist()],
        [*cooc.right.tolist(), *cooc.negative_right.tolist()],
        [*cooc.weight.tolist(), *[0.0] * cooc.n_negative_pairs], strict=True)}
    return dict(zip(items, cooc.item_counts.tolist(), strict=True)), pairs


def corpus(path: Path, lines: int = 2000) -> Path:
    rng = np.random.default_rng(0)
    path.write_text("\n".join(" ".join(f"w{int(i)}" for i in rng.zipf(1.4, 25) % 80)
                              for _ in range(lines)) + "\n")
    return path


def pair_files(folder: Path, files: int = 3) -> list[Path]:
    """Pair files with repeats across files, both directions, negatives and two-field rows."""
    rng = np.random.default_rng(1)
    paths = []
    for number in range(files):
        path = folder / f"log-{number}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["item_a", "item_b", "weight"])
            for _ in range(700):
                a, b = rng.choice(40, 2, replace=False)
                row = [f"p{a}", f" p{b}"]
                writer.writerow([*row, str(rng.choice([0, 1, 2, 3]))] if rng.random() < .8
                                else row)
        paths.append(path)
    return paths


def test_a_corpus_counted_on_the_cluster_has_the_local_counts(tmp_path: Path,
                                                              scheduler: str) -> None:
    text = corpus(tmp_path / "corpus.txt")
    runner = CliRunner()
    local = runner.invoke(cli, ["pairs", str(text), "-o", str(tmp_path / "local.csv"),
                                "--window", "4", "--sample", "0", "--min-count", "3", "--quiet"])
    assert local.exit_code == 0, local.output
    result = runner.invoke(cli, ["pairs", str(text), "-o", f"{tmp_path}/counts/", "--engine",
                                 "dask", "--scheduler", scheduler, "--window", "4", "--sample",
                                 "0", "--min-count", "3", "--quiet"])
    assert result.exit_code == 0, result.output
    cluster = read_parquet_pairs(tmp_path / "counts")
    expected = read_pairs(tmp_path / "local.csv")
    assert result.output == f"wrote {expected.n_pairs} pairs to {tmp_path}/counts/\n"
    assert named(cluster) == named(expected)


def test_pair_files_aggregated_on_the_cluster_have_the_local_counts(tmp_path: Path,
                                                                    scheduler: str) -> None:
    paths = pair_files(tmp_path)
    joined = tmp_path / "all.csv"
    joined.write_text("".join(p.read_text().split("\n", 1)[1] for p in paths))
    expected = read_pairs(joined, min_count=0, header=False)
    assert expected.n_negative_pairs > 0
    make_pair_data(str(tmp_path / "log-*.csv"), f"{tmp_path}/counts/", pair_input=True,
                   engine="dask", scheduler=scheduler)
    assert named(read_parquet_pairs(tmp_path / "counts", min_count=0)) == named(expected)
    make_pair_data(str(tmp_path / "counts"), f"{tmp_path}/again/", pair_input=True,
                   engine="dask", scheduler=scheduler)  # Parquet shards in, shards out
    assert named(read_parquet_pairs(tmp_path / "again", min_count=0)) == named(expected)
    make_pair_data(str(joined), str(tmp_path / "local.parquet"), pair_input=True)
    assert named(read_parquet_pairs(tmp_path / "local.parquet", min_count=0)) == named(expected)


def test_a_bad_row_on_a_worker_is_named(tmp_path: Path, scheduler: str) -> None:
    (tmp_path / "bad.csv").write_text("a,b,1\nc,d,-2\n")
    with pytest.raises(InputError, match=r"bad\.csv, line 2: weight '-2' is not a finite number "
                                         r">= 0 \(use 0 for a negative pair\)$"):
        make_pair_data(str(tmp_path / "bad.csv"), f"{tmp_path}/out/", pair_input=True,
                       engine="dask", scheduler=scheduler)
    assert not list((tmp_path / "out").glob("*.parquet"))


ISSUE_23 = {  # the pair files of issue 23, as the local reader takes or refuses them
    "two columns, item_a,item_b": "item_a,item_b\ngir1.2-ukwm-1,gir1.2-json-1.0\n"
                                  "libx,gir1.2-json-1.0\n",
    "two columns, source,target": "source,target\ncafe\u0301,the\ncaf\u00e9,tea\n",
    "no header": "a,b\nb,c\n",
    "three columns, a header": "x,y,count\na,b,2\nb,c,0\nc,a,1\n",
    "tabs": "src\tdst\n a \t b \nb\tc\n",
}
ISSUE_23_BAD = {
    "a row of four fields": ("item_a,item_b\na,b\nb,c,1,2\n", "line 3: expected 2 or 3 columns"),
    "an empty weight": ("a,b,1\nb,c,\n", "line 2: the weight is empty; leave it out (a,b)"),
    "bad UTF-8": (b"source,target\na,b\nb,\xff\n", "line 3: not valid UTF-8"),
}


@pytest.mark.parametrize("name", sorted(ISSUE_23))
def test_every_kind_of_pair_file_trains_on_the_cluster(tmp_path: Path, scheduler: str,
                                                       name: str) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text(ISSUE_23[name], encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["--store", str(tmp_path / "store"), "train", str(path),
                                 "--engine", "dask", "--scheduler", scheduler, "--method", "svd",
                                 "--dim", "2", "--min-count", "0", "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_items"] == read_pairs(path, min_count=0).n_items
    counted = runner.invoke(cli, ["pairs", str(path), "--pair-input", "--engine", "dask",
                                  "--scheduler", scheduler, "-o", f"{tmp_path}/counts/"])
    assert counted.exit_code == 0, counted.output
    assert named(read_parquet_pairs(tmp_path / "counts", min_count=0)) == \
        named(read_pairs(path, min_count=0))


@pytest.mark.parametrize("name", sorted(ISSUE_23_BAD))
def test_a_file_the_local_reader_refuses_is_refused_alike(tmp_path: Path, scheduler: str,
                                                          name: str) -> None:
    content, message = ISSUE_23_BAD[name]
    path = tmp_path / "pairs.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError, match=re.escape(f"{path}, {message}")):
        read_pairs(path)
    for command in (["train", str(path), "--method", "svd"],
                    ["pairs", str(path), "--pair-input", "-o", f"{tmp_path}/counts/"]):
        result = CliRunner().invoke(cli, ["--store", str(tmp_path / "store"), *command,
                                          "--engine", "dask", "--scheduler", scheduler])
        assert result.exit_code == 1, result.output
        assert result.output == f"Error: {path}, {message}" + \
            result.output.split(message, 1)[1]
        assert result.output.count("\n") == 1 and "Traceback" not in result.output


@pytest.mark.parametrize(("options", "message"), [
    (["--engine", "dask"], "--engine dask needs --scheduler"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--engine dask needs --scheduler"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "-o", "x.csv"],
     "x.csv: --engine dask writes Parquet shards to a directory"),
    (["--pair-input", "--window", "3"], "--window: text counting settings"),
])
def test_mistaken_engine_options_are_one_line(tmp_path: Path, options: list[str],
                                              message: str) -> None:
    text = corpus(tmp_path / "corpus.txt", lines=10)
    output = [] if "-o" in options else ["-o", f"{tmp_path}/out/"]
    result = CliRunner().invoke(cli, ["pairs", str(text), *output, *options])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output


def test_a_scheduler_that_is_not_there_is_named(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedstore.engines.cluster.dask_io.CONNECT_TIMEOUT", "1s")
    text = corpus(tmp_path / "corpus.txt", lines=10)
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        make_pair_data(str(text), f"{tmp_path}/out/", engine="dask",
                       scheduler="tcp://127.0.0.1:9")


def trained(store: Path, output: str) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """The items and vectors of the latest version in ``store``, and its record as ``embed
    train --json`` printed it."""
    import embedstore

    with embedstore.open(store) as vectors:
        rows = list(range(len(vectors)))
        return vectors.items_at(rows), vectors.row_vectors(rows), json.loads(output)


@pytest.mark.parametrize("method", ["svd", "propagate"])
def test_training_on_the_cluster_gives_the_local_vectors(tmp_path: Path, scheduler: str,
                                                         method: str) -> None:
    paths = pair_files(tmp_path)  # three partitions, rows in either order, negative pairs
    joined = tmp_path / "all.csv"
    joined.write_text("".join(p.read_text().split("\n", 1)[1] for p in paths))
    runner = CliRunner()
    common = ["--method", method, "--dim", "6", "--seed", "3", "--quiet", "--json"]
    local = runner.invoke(cli, ["--store", str(tmp_path / "here"), "train", str(joined),
                                *common])
    assert local.exit_code == 0, local.output
    remote = runner.invoke(cli, ["--store", str(tmp_path / "there"), "train",
                                 str(tmp_path / "log-*.csv"), "--engine", "dask",
                                 "--scheduler", scheduler, *common])
    assert remote.exit_code == 0, remote.output
    items, vectors, record = trained(tmp_path / "there", remote.stdout)
    expected_items, expected, expected_record = trained(tmp_path / "here", local.stdout)
    assert items == expected_items
    assert np.abs(vectors).max() > 0.1
    np.testing.assert_allclose(vectors, expected, atol=2e-4)
    for field in ("settings", "reading", "n_items", "dim", "notes"):
        assert record[field] == expected_record[field]
    assert record["source"]["path"] == str(tmp_path / "log-*.csv")


def test_cluster_shards_train_to_the_local_vectors_with_auto(tmp_path: Path,
                                                            scheduler: str) -> None:
    make_pair_data(str(tmp_path / "log-*.csv") if pair_files(tmp_path) else "",
                   f"{tmp_path}/counts/", pair_input=True, engine="dask", scheduler=scheduler)
    runner = CliRunner()
    outputs = {}
    for store, engine in (("here", []), ("there", ["--engine", "dask", "--scheduler",
                                                   scheduler])):
        result = runner.invoke(cli, ["--store", str(tmp_path / store), "train",
                                     f"{tmp_path}/counts/", "--dim", "5", "--quiet", "--json",
                                     *engine])
        assert result.exit_code == 0, result.output
        outputs[store] = result.stdout
    items, vectors, record = trained(tmp_path / "there", outputs["there"])
    expected_items, expected, expected_record = trained(tmp_path / "here", outputs["here"])
    assert items == expected_items and record["settings"] == expected_record["settings"]
    assert record["source"] == expected_record["source"]
    np.testing.assert_allclose(vectors, expected, atol=2e-4)


@pytest.mark.parametrize(("options", "message"), [
    (["--engine", "dask"], "Error: --engine dask needs --scheduler tcp://HOST:8786"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"],
     "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    (["--engine", "dask", "--scheduler", "127.0.0.1"],
     "Error: '127.0.0.1' is not a Dask scheduler address"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--text"],
     "Error: --engine dask trains from pair data; count the corpus on the cluster first"),
])
def test_training_engine_mistakes_are_one_line(tmp_path: Path, options: list[str],
                                               message: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedstore.engines.cluster.dask_io.CONNECT_TIMEOUT", "1s")
    (tmp_path / "pairs.csv").write_text("a,b\nb,c\n")
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "store"), "train",
                                      str(tmp_path / "pairs.csv"), *options])
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1
    assert not (tmp_path / "store").exists()


def test_sgns_is_refused_on_the_cluster(tmp_path: Path, scheduler: str) -> None:
    pair_files(tmp_path, files=1)
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "store"), "train",
                                      str(tmp_path / "log-0.csv"), "--method", "sgns",
                                      "--engine", "dask", "--scheduler", scheduler])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --engine dask trains with svd or propagate")


def test_sgns_is_refused_before_any_scheduler_is_contacted(tmp_path: Path) -> None:
    """Nothing listens at port 9: a refusal that had tried to connect would say so."""
    (tmp_path / "pairs.csv").write_text("a,b\nb,c\n")
    result = CliRunner().invoke(cli, ["--store", str(tmp_path / "store"), "train",
                                      str(tmp_path / "pairs.csv"), "--method", "sgns",
                                      "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.output == ("Error: --engine dask trains with svd or propagate, not sgns; "
                             "choose --method svd, or train here without --engine dask\n")
    assert not (tmp_path / "store").exists()
