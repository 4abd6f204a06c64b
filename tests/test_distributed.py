"""Counting on a Dask cluster (a LocalCluster of two workers) gives the local counts."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

from embedstore.cooccurrence import Cooccurrence
from embedstore.errors import InputError
from embedstore.pairs import read_pairs
from embedstore.parquet import read_parquet_pairs
from embedstore.sources import make_pair_data

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
    with pytest.raises(InputError, match=r"bad\.csv: weight '-2' of the pair 'c', 'd' is not "
                                         r"a finite number >= 0"):
        make_pair_data(str(tmp_path / "bad.csv"), f"{tmp_path}/out/", pair_input=True,
                       engine="dask", scheduler=scheduler)


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


def test_a_scheduler_that_is_not_there_is_named(tmp_path: Path) -> None:
    text = corpus(tmp_path / "corpus.txt", lines=10)
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        make_pair_data(str(text), f"{tmp_path}/out/", engine="dask",
                       scheduler="tcp://127.0.0.1:9")
