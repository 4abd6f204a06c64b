"""Out-of-core aggregation (DuckDB, under --memory-limit) gives today's counts exactly."""

from __future__ import annotations

import csv
import gzip
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.engines.bounded.budget import needs_spill, parse_memory_limit
from embedstore.engines.bounded.pair_aggregation import aggregate_rows
from embedstore.errors import InputError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import read_parquet_pairs, write_parquet_pairs
from embedstore.training.sources import count_text, read_pair_data

LIMIT = 64 * 10**6


def out_of_core(path: Path, **options: object) -> Cooccurrence:
    """``read_pair_data`` through DuckDB, checked not to have left the file to the reader."""
    assert aggregate_rows(path, memory_limit=LIMIT) is not None
    return read_pair_data(path, spill=True, memory_limit=LIMIT, **options)  # type: ignore[arg-type]


def assert_same(one: Cooccurrence, other: Cooccurrence) -> None:
    assert one.items == other.items
    for field in ("item_counts", "left", "right", "weight", "negative_left", "negative_right"):
        assert np.array_equal(getattr(one, field), getattr(other, field)), field
        assert getattr(one, field).dtype == getattr(other, field).dtype, field


def rows(n: int, seed: int = 0) -> list[list[str]]:
    """Pairs both ways round, repeats, negatives, NFD and padded spellings, quoted commas,
    rows of two and three fields."""
    rng = np.random.default_rng(seed)
    names = [f"item{i}" for i in range(80)] + ["café", unicodedata.normalize("NFD", "café"),
                                               "New York, NY", "tab\there"]
    out = []
    for _ in range(n):
        a, b = rng.choice(len(names), 2, replace=False)
        row = [names[a], f"  {names[b]} "]
        if rng.random() < 0.7:
            row.append(str(rng.choice(["0", "1", "2", "0.5", "3.25", "1e1"])))
        out.append(row)
    return out


def write(path: Path, data: list[list[str]], delimiter: str = ",", header: bool = True,
          packed: bool = False) -> Path:
    opener = gzip.open if packed else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        handle.write("\n")  # a blank line before the first row
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        if header:
            writer.writerow(["item_a", "item_b", "weight"])
        for number, row in enumerate(data):
            writer.writerow(row)
            if number % 500 == 0:
                handle.write("\n")
    return path


@pytest.mark.parametrize(("delimiter", "header", "packed"), [
    (",", True, False), ("\t", False, False), (",", False, True)])
def test_a_pair_file_aggregated_out_of_core_reads_as_in_memory(
        tmp_path: Path, delimiter: str, header: bool, packed: bool) -> None:
    path = write(tmp_path / "pairs.csv", rows(4000), delimiter, header, packed)
    expected = read_pairs(path, min_count=0)
    assert expected.n_negative_pairs and "New York, NY" in expected.items
    assert_same(out_of_core(path, min_count=0), expected)
    assert_same(out_of_core(path, min_count=30), read_pairs(path, min_count=30))


def test_parquet_shards_aggregated_out_of_core_read_as_in_memory(tmp_path: Path) -> None:
    counts = read_pairs(write(tmp_path / "pairs.csv", rows(3000, seed=2)), min_count=0)
    write_parquet_pairs(counts, f"{tmp_path}/shards/")
    assert_same(out_of_core(tmp_path / "shards", min_count=0),
                read_parquet_pairs(tmp_path / "shards", min_count=0))


def test_counted_text_pairs_keep_their_fractional_weights(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    rng = np.random.default_rng(0)
    corpus.write_text("\n".join(" ".join(f"w{int(i)}" for i in rng.zipf(1.5, 30) % 50)
                                for _ in range(300)))
    runner = CliRunner()
    result = runner.invoke(cli, ["pairs", str(corpus), "-o", str(tmp_path / "p.csv"),
                                 "--min-count", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    expected = read_pairs(tmp_path / "p.csv")
    assert not np.all(expected.weight == np.round(expected.weight))  # window weights
    assert_same(out_of_core(tmp_path / "p.csv"), expected)
    assert count_text(corpus, min_count=1).n_pairs == expected.n_pairs


@pytest.mark.parametrize(("text", "message"), [
    ("a,b\nc,d,x\n", r"pairs\.csv, line 2: weight 'x' is not a finite number >= 0"),
    ("a,b\nc,d,1,2\n", r"pairs\.csv, line 2: expected 2 or 3 columns"),
    ("a,b\n ,d\n", r"pairs\.csv, line 2: empty item"),
    ("a,b\nc,d,\n", r"pairs\.csv, line 2: the weight is empty; leave it out \(a,b\)"),
    ("a,b\nc\n", r"pairs\.csv, line 2: expected 2 or 3 columns"),
    ("a,b\nc,d,-1\n", r"pairs\.csv, line 2: weight '-1' is not a finite number"),
    ('a,b\n"c,d\n', r"pairs\.csv, line 2: a quote opened on this line never closes"),
])
def test_bad_rows_are_named_as_the_in_memory_reader_names_them(tmp_path: Path, text: str,
                                                               message: str) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_pair_data(path, spill=True, memory_limit=LIMIT)


def test_rows_only_python_reads_give_the_same_counts_out_of_core(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    # float() reads Arabic-Indic 2 and digits with underscores; DuckDB asks Python for them,
    # and for the quoted rows
    path.write_text('a,b,\u0662\nb,c, 1_0 \n"c,d",d,3\n"a""",b\n')
    assert aggregate_rows(path, memory_limit=LIMIT) is not None
    assert_same(read_pair_data(path, spill=True, memory_limit=LIMIT), read_pairs(path))


def test_running_out_of_memory_is_one_line(tmp_path: Path) -> None:
    """DuckDB's own message goes on with advice over several lines: only its first is kept."""
    path = tmp_path / "many.csv"
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 10**6, (500_000, 2))
    path.write_text("".join(f"item-{a},item-{b}\n" for a, b in pairs))
    with pytest.raises(InputError, match="DuckDB ran out of memory under --memory-limit") as error:
        read_pair_data(path, spill=True, memory_limit=16 * 10**6)
    assert "\n" not in str(error.value) and str(error.value).endswith("; raise the limit")


def test_aggregating_reports_progress(tmp_path: Path) -> None:
    path = write(tmp_path / "pairs.csv", rows(100))
    seen: list[tuple[str, int, int]] = []
    read_pair_data(path, spill=True, memory_limit=LIMIT,
                   progress=lambda stage, done, total, loss: seen.append((stage, done, total)))
    assert [s for s in seen if s[0] == "aggregating"] == [("aggregating", i, 4) for i in range(5)]


def test_big_data_is_aggregated_out_of_core(tmp_path: Path) -> None:
    plain, packed = tmp_path / "big.csv", tmp_path / "big.csv.gz"
    with plain.open("wb") as handle:
        handle.truncate(9 * 10**6)  # size is all that is looked at
    with packed.open("wb") as handle:
        handle.write(b"\x1f\x8b")
        handle.truncate(3 * 10**6)
    assert needs_spill(plain, 16 * 10**6) and not needs_spill(plain, 20 * 10**6)
    assert needs_spill(packed, 20 * 10**6) and not needs_spill(packed, 30 * 10**6)


@pytest.mark.parametrize(("text", "value"), [("256MB", 256 * 10**6), ("2GiB", 2 * 2**30),
                                             ("1.5 GB", 15 * 10**8), ("20000000", 20000000)])
def test_memory_limits_are_read(text: str, value: int) -> None:
    assert parse_memory_limit(text) == value


def test_bad_memory_limits_are_refused_by_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    for bad, message in [("lots", "is not a size; write it as 256MB"),
                         ("1MB", "too little for DuckDB to work in")]:
        result = runner.invoke(cli, ["--store", str(tmp_path / "s"), "train", "data/sample.csv",
                                     "--memory-limit", bad])
        assert result.exit_code == 2 and message in result.output


def test_train_with_a_memory_limit_publishes_the_same_vectors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import embedstore
    import embedstore.training.sources

    path = write(tmp_path / "pairs.csv", rows(3000, seed=3))
    aggregated: list[object] = []

    def recorded(*args: object, **options: object) -> object:
        aggregated.append(aggregate_rows(*args, **options))  # type: ignore[arg-type]
        return aggregated[-1]

    monkeypatch.setattr(embedstore.training.sources, "aggregate_rows", recorded)
    runner = CliRunner()
    vectors = []
    for extra in ([], ["--memory-limit", "16MB"]):
        if extra:  # this small file counts as big for the test
            monkeypatch.setattr("embedstore.engines.bounded.budget.SPILL_SHARE", 1e-6)
        store = tmp_path / f"store{len(extra)}"
        result = runner.invoke(cli, ["--store", str(store), "train", str(path), "--dim", "8",
                                     "--quiet", *extra])
        assert result.exit_code == 0, result.output
        with embedstore.open(store) as opened:
            vectors.append(opened.row_vectors(list(range(len(opened)))))
    assert len(aggregated) == 1 and aggregated[0] is not None  # only the second run spilled
    assert np.array_equal(vectors[0], vectors[1])


def test_a_memory_limit_for_a_dask_cluster_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n" * 10)
    result = CliRunner().invoke(cli, ["pairs", str(corpus), "-o", str(tmp_path / "out/"),
                                      "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1",
                                      "--memory-limit", "256MB"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --memory-limit works on this machine only; leave "
                                    "it out with --engine dask")


def test_embed_pairs_aggregates_pair_data_out_of_core(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "pairs.csv", rows(2000, seed=4))
    monkeypatch.setattr("embedstore.engines.bounded.budget.SPILL_SHARE", 1e-6)
    result = CliRunner().invoke(cli, ["pairs", str(path), "--pair-input", "-o",
                                      str(tmp_path / "out.csv"), "--memory-limit", "64MB"])
    assert result.exit_code == 0, result.output
    expected = read_pairs(path, min_count=0)
    assert result.output == (f"wrote {expected.n_pairs + expected.n_negative_pairs} pairs of "
                             f"{expected.n_items} items to {tmp_path / 'out.csv'}\n")
    again = read_pairs(tmp_path / "out.csv", min_count=0)
    assert (again.item_counts.tolist(), again.n_pairs, again.n_negative_pairs) == \
        (expected.item_counts.tolist(), expected.n_pairs, expected.n_negative_pairs)


def test_pair_data_aggregated_to_parquet_reads_as_the_file_does(tmp_path: Path) -> None:
    from embedstore.engines.bounded.pair_aggregation import write_aggregated

    path = write(tmp_path / "pairs.csv", rows(1500, seed=6))
    output = tmp_path / "counts.parquet"
    seen: list[tuple[str, int, int]] = []
    written = write_aggregated(path, output, memory_limit=LIMIT,
                               progress=lambda stage, done, total, _: seen.append(
                                   (stage, done, total)))
    expected = read_pairs(path, min_count=0)
    again = read_parquet_pairs(output, min_count=0)
    assert written == expected.n_pairs + expected.n_negative_pairs

    def pairs(counts: Cooccurrence) -> dict[frozenset[str], float]:
        found = {frozenset((counts.items[a], counts.items[b])): float(w) for a, b, w in
                 zip(counts.left, counts.right, counts.weight, strict=True)}
        return found | {frozenset((counts.items[a], counts.items[b])): 0.0 for a, b in
                        zip(counts.negative_left, counts.negative_right, strict=True)}

    assert pairs(again) == pairs(expected) and len(pairs(again)) == written
    assert seen == [("aggregating", 0, 1), ("aggregating", 1, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.parquet", "pairs.csv"]
    bad = tmp_path / "bad.csv"
    bad.write_text("item_a,item_b,weight\ncat,dog,1\ncat,dog,heavy\n", encoding="utf-8")
    assert write_aggregated(bad, tmp_path / "bad.parquet", memory_limit=LIMIT) is None
    empty = tmp_path / "empty.csv"
    empty.write_text("item_a,item_b,weight\n", encoding="utf-8")
    assert write_aggregated(empty, tmp_path / "empty.parquet", memory_limit=LIMIT) is None
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".csv") == [
        "counts.parquet"]  # no partial file left behind


def test_duckdb_reads_headerless_files_and_unweighted_shards_as_python_does(
        tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from embedstore.engines.bounded.pair_aggregation import write_aggregated

    data = rows(300, seed=7)
    headerless = write(tmp_path / "headerless.csv", data, header=False)
    out = tmp_path / "headerless.parquet"
    written = write_aggregated(headerless, out, memory_limit=LIMIT, header=False)
    expected = read_pairs(headerless, min_count=0, header=False)
    assert written == expected.n_pairs + expected.n_negative_pairs
    assert read_parquet_pairs(out, min_count=0).n_items == expected.n_items
    named = tmp_path / "named.csv"  # a first row that reads as a header, told it is a pair
    named.write_text("source,target\nsource,x\ny,target\n", encoding="utf-8")
    assert write_aggregated(named, out, memory_limit=LIMIT, header=False) == 3
    assert write_aggregated(named, out, memory_limit=LIMIT) == 2
    folder = tmp_path / "unweighted"
    folder.mkdir()
    for number in range(3):
        pq.write_table(pa.table({"item_a": [f"x{number}", "y"], "item_b": ["y", f"z{number}"]}),
                       folder / f"part-{number}.parquet")
    aggregated = aggregate_rows(folder, memory_limit=LIMIT)
    assert aggregated is not None
    assert_same(read_pair_data(folder, spill=True, memory_limit=LIMIT, min_count=0),
                read_parquet_pairs(folder, min_count=0))
    assert sorted(read_parquet_pairs(folder, min_count=0).weight.tolist()) == [1.0] * 6
