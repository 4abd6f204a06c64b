"""embed pairs --pair-input -o X.parquet on big data: DuckDB writes the sums, Python never
holds the pairs, and reading the file back gives the counts of the in-memory reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

import embedstore.training.sources
from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import read_parquet_pairs, write_parquet_pairs


def by_name(cooc: Cooccurrence) -> tuple[dict[str, float], dict[frozenset[str], float]]:
    """Item counts and pair weights by item names (the out-of-core file has its own order)."""
    items = cooc.items
    pairs = {frozenset((items[a], items[b])): w for a, b, w in
             zip(cooc.left.tolist(), cooc.right.tolist(), cooc.weight.tolist(), strict=True)}
    pairs.update({frozenset((items[a], items[b])): 0.0 for a, b in
                  zip(cooc.negative_left.tolist(), cooc.negative_right.tolist(), strict=True)})
    return dict(zip(items, cooc.item_counts.tolist(), strict=True)), pairs


@pytest.fixture
def out_of_core_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as big, and reading pairs into Python fails the test."""
    monkeypatch.setattr("embedstore.engines.bounded.budget.SPILL_SHARE", 1e-6)

    def refused(*args: object, **options: object) -> None:
        raise AssertionError("the pairs were read into Python")

    monkeypatch.setattr(embedstore.training.sources, "read_pair_data", refused)


def pair_file(path: Path, rows: int = 3000) -> Path:
    rng = np.random.default_rng(5)
    names = [f"item{i}" for i in range(60)] + ["café", "cafe\u0301", "New York, NY"]
    lines = ["item_a,item_b,weight"]
    for _ in range(rows):
        a, b = rng.choice(len(names), 2, replace=False)
        lines.append(f'"{names[a]}", {names[b]} ,{rng.choice(["0", "1", "2.5"])}'
                     if "," not in names[b] else f'"{names[a]}","{names[b]}",1')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_pairs(source: Path, output: Path) -> str:
    result = CliRunner().invoke(cli, ["pairs", str(source), "--pair-input", "-o", str(output),
                                      "--memory-limit", "64MB", "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("out_of_core_only")
def test_big_pair_data_goes_to_parquet_out_of_core_with_the_same_counts(tmp_path: Path) -> None:
    source = pair_file(tmp_path / "pairs.csv")
    expected = read_pairs(source, min_count=0)
    assert expected.n_negative_pairs and "New York, NY" in expected.items
    output = run_pairs(source, tmp_path / "counts.parquet")
    total = expected.n_pairs + expected.n_negative_pairs
    assert output == f"wrote {total} pairs to {tmp_path / 'counts.parquet'}\n"
    assert by_name(read_parquet_pairs(tmp_path / "counts.parquet", min_count=0)) == \
        by_name(expected)


@pytest.mark.usefixtures("out_of_core_only")
def test_parquet_shards_aggregate_to_one_parquet_file(tmp_path: Path) -> None:
    counts = read_pairs(pair_file(tmp_path / "pairs.csv"), min_count=0)
    write_parquet_pairs(counts, f"{tmp_path}/shards/")
    run_pairs(tmp_path / "shards", tmp_path / "again.parquet")
    assert by_name(read_parquet_pairs(tmp_path / "again.parquet", min_count=0)) == \
        by_name(counts)


def test_a_bad_row_is_named_and_no_file_is_left(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedstore.engines.bounded.budget.SPILL_SHARE", 1e-6)
    source = tmp_path / "pairs.csv"
    source.write_text("a,b\nc,d\ne,f,x\n")
    result = CliRunner().invoke(cli, ["pairs", str(source), "--pair-input", "-o",
                                      str(tmp_path / "counts.parquet"), "--memory-limit", "64MB"])
    assert result.exit_code == 1
    assert "pairs.csv, line 3: weight 'x' is not a finite number" in result.output
    assert list(tmp_path.iterdir()) == [source]
