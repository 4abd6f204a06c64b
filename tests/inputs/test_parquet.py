"""Parquet pair data reads into the same counts as the equivalent CSV; bad Parquet is named."""

from __future__ import annotations

import csv
import itertools
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

import embedstore
from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.errors import InputError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import in_rows, read_parquet_pairs, write_parquet_pairs
from embedstore.training.sources import count_text


def assert_same(one: Cooccurrence, other: Cooccurrence) -> None:
    assert one.items == other.items
    for field in ("item_counts", "left", "right", "weight", "negative_left", "negative_right"):
        assert np.array_equal(getattr(one, field), getattr(other, field)), field
        assert getattr(one, field).dtype == getattr(other, field).dtype, field


def random_rows(n: int, seed: int = 0) -> list[tuple[str, str, float]]:
    """Repeated pairs in both directions, a few negatives, NFD spellings, padded items."""
    rng = np.random.default_rng(seed)
    names = [f"item{i}" for i in range(60)] + [unicodedata.normalize("NFD", "café"), "café"]
    rows = []
    for _ in range(n):
        a, b = rng.choice(len(names), 2, replace=False)
        weight = float(rng.choice([0, 1, 2, 3, 0.5]))
        rows.append((f" {names[a]}", names[b], weight))
    return rows


def write_csv(rows: list[tuple[str, str, float]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_a", "item_b", "weight"])
        writer.writerows(rows)


def write_shards(rows: list[tuple[str, str, float]], folder: Path, cuts: list[int]) -> None:
    folder.mkdir()
    bounds = [0, *cuts, len(rows)]
    for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
        part = rows[start:stop]
        table = pa.table({"item_a": [r[0] for r in part], "item_b": [r[1] for r in part],
                          "weight": [r[2] for r in part]})
        pq.write_table(table, folder / f"part-{number:05d}.parquet", row_group_size=97)


def test_a_parquet_file_and_shards_read_as_the_csv_does(tmp_path: Path) -> None:
    rows = random_rows(3000)
    write_csv(rows, tmp_path / "pairs.csv")
    write_shards(rows, tmp_path / "one", [])
    write_shards(rows, tmp_path / "shards", [1, 1200, 2999])
    expected = read_pairs(tmp_path / "pairs.csv", min_count=0)
    assert expected.n_negative_pairs > 0 and "café" in expected.items
    assert_same(read_parquet_pairs(tmp_path / "one" / "part-00000.parquet", min_count=0),
                expected)
    assert_same(read_parquet_pairs(tmp_path / "shards", min_count=0), expected)
    assert_same(read_parquet_pairs(tmp_path / "shards", min_count=20),
                read_pairs(tmp_path / "pairs.csv", min_count=20))


def test_written_parquet_reads_back_to_the_same_counts(tmp_path: Path) -> None:
    rows = random_rows(500, seed=1)
    write_csv(rows, tmp_path / "pairs.csv")
    counts = read_pairs(tmp_path / "pairs.csv", min_count=0)
    write_parquet_pairs(counts, tmp_path / "pairs.parquet")
    write_parquet_pairs(counts, str(tmp_path / "shards") + "/")
    again = read_parquet_pairs(tmp_path / "pairs.parquet", min_count=0)
    assert_same(again, read_parquet_pairs(tmp_path / "shards", min_count=0))
    assert named(again) == named(counts)  # ties in count may come out in another order


def named(cooc: Cooccurrence) -> tuple[dict[str, float], set[tuple[str, str, float]]]:
    """Counts and pairs by item name (both ways round), independent of row order."""
    items = cooc.items
    pairs = {(items[a], items[b], w) for a, b, w in zip(
        [*cooc.left.tolist(), *cooc.negative_left.tolist()],
        [*cooc.right.tolist(), *cooc.negative_right.tolist()],
        [*cooc.weight.tolist(), *[0.0] * cooc.n_negative_pairs], strict=True)}
    return (dict(zip(items, cooc.item_counts.tolist(), strict=True)),
            pairs | {(b, a, w) for a, b, w in pairs})


def test_shards_are_not_written_over_others(tmp_path: Path) -> None:
    counts = read_pairs(Path(__file__).resolve().parents[2] / "data" / "sample.csv")
    write_parquet_pairs(counts, str(tmp_path / "shards") + "/")
    with pytest.raises(InputError, match=r"already holds \.parquet files"):
        write_parquet_pairs(counts, tmp_path / "shards")


def table_file(path: Path, **columns: list) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.mark.parametrize(("columns", "message"), [
    ({"a": ["x"], "item_b": ["y"]}, r"t\.parquet: no column item_a; Parquet pair data has "
                                    r"columns item_a, item_b\[, weight\] \(found: a, item_b\)"),
    ({"item_a": [1, 2], "item_b": ["y", "z"]}, r"t\.parquet: column item_a has type int64; "
                                               r"items are strings"),
    ({"item_a": ["x", "y", None], "item_b": ["y", "z", "x"]},
     r"t\.parquet, row 3: item_a is null; every pair names two items"),
    ({"item_a": ["x", "y"], "item_b": ["y", "  "]}, r"t\.parquet, row 2: empty item_b"),
    ({"item_a": ["x", "y"], "item_b": ["y", "z"], "weight": ["1", "2"]},
     r"t\.parquet: column weight has type string; weights are numbers"),
    ({"item_a": ["x", "y"], "item_b": ["y", "z"], "weight": [1.0, -2.0]},
     r"t\.parquet, row 2: weight -2\.0 is not a finite number >= 0"),
    ({"item_a": ["x", "y"], "item_b": ["y", "z"], "weight": [None, 1.0]},
     r"t\.parquet, row 1: weight is null"),
])
def test_bad_parquet_is_named_with_the_file_and_row(tmp_path: Path, columns: dict,
                                                    message: str) -> None:
    path = table_file(tmp_path / "t.parquet", **columns)
    with pytest.raises(InputError, match=message):
        read_parquet_pairs(path)


def test_an_empty_directory_and_a_damaged_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has none; write them with embed pairs"):
        read_parquet_pairs(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "part-0.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"part-0\.parquet: not a readable Parquet file"):
        read_parquet_pairs(tmp_path / "bad")


def test_embed_pairs_writes_parquet_that_embed_train_reads(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    runner = CliRunner()
    for output in ("pairs.csv", "pairs.parquet", "shards/"):
        result = runner.invoke(cli, ["pairs", str(corpus), "-o", f"{tmp_path}/{output}",
                                     "--min-count", "1", "--quiet"])
        assert result.exit_code == 0, result.output
    from_csv = read_pairs(tmp_path / "pairs.csv")
    assert_same(read_parquet_pairs(tmp_path / "pairs.parquet"), from_csv)
    assert_same(read_parquet_pairs(tmp_path / "shards"), from_csv)
    counted = count_text(corpus, min_count=1)
    assert named(read_parquet_pairs(tmp_path / "shards"))[1] == named(counted)[1]
    store = tmp_path / "store"
    vectors = []
    for source in ("pairs.csv", "pairs.parquet", "shards"):
        result = runner.invoke(cli, ["--store", str(store), "train", str(tmp_path / source),
                                     "--quiet", "--dim", "4", "--json"])
        assert result.exit_code == 0, result.output
        with embedstore.open(store) as opened:
            vectors.append(opened.row_vectors(list(range(len(opened)))))
    assert np.array_equal(vectors[0], vectors[1]) and np.array_equal(vectors[0], vectors[2])


@pytest.mark.parametrize("sizes", [[5, 0, 7, 1, 19], [], [10], [30]])
def test_chunks_are_cut_into_row_groups_of_one_size_in_order(sizes: list[int]) -> None:
    rows = np.arange(sum(sizes))
    bounds = np.cumsum([0, *sizes])
    chunks = [(rows[a:b], rows[a:b] + 100, rows[a:b] / 2) for a, b in itertools.pairwise(bounds)]
    pieces = list(in_rows(chunks, 10))
    assert [len(piece[2]) for piece in pieces] == \
        [10] * (len(rows) // 10) + ([len(rows) % 10] if len(rows) % 10 or not len(rows) else [])
    for column, expected in enumerate((rows, rows + 100, rows / 2)):
        joined = np.concatenate([piece[column] for piece in pieces])
        assert np.array_equal(joined, expected)


def test_reading_reports_progress_up_to_the_bytes_of_every_shard(tmp_path: Path) -> None:
    rows = random_rows(900, seed=8)
    write_shards(rows, tmp_path / "shards", [300, 600])
    seen: list[tuple[str, int, int]] = []
    read_parquet_pairs(tmp_path / "shards", min_count=0,
                       progress=lambda stage, done, total, _: seen.append((stage, done, total)))
    total = sum(p.stat().st_size for p in (tmp_path / "shards").glob("*.parquet"))
    assert {stage for stage, _, _ in seen} == {"reading"} and len(seen) >= 3
    assert {t for _, _, t in seen} == {total}
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and done[0] > 0 and done[-1] <= total


def test_dictionary_encoded_and_large_string_items_read_as_plain_ones(tmp_path: Path) -> None:
    rows = random_rows(400, seed=9)
    write_shards(rows, tmp_path / "plain", [])
    table = pa.table({"item_a": pa.array([r[0] for r in rows]).dictionary_encode(),
                      "item_b": pa.array([r[1] for r in rows], type=pa.large_string()),
                      "weight": pa.array([int(r[2] * 2) for r in rows], type=pa.int64())})
    pq.write_table(table, tmp_path / "encoded.parquet", row_group_size=50)
    plain = read_parquet_pairs(tmp_path / "plain", min_count=0)
    encoded = read_parquet_pairs(tmp_path / "encoded.parquet", min_count=0)
    assert plain.items == encoded.items
    assert np.array_equal(plain.weight * 2, encoded.weight)
    assert encoded.left.dtype == plain.left.dtype


def test_shards_must_agree_about_the_weight_column(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    pq.write_table(pa.table({"item_a": ["a"], "item_b": ["b"], "weight": [1.0]}),
                   folder / "part-0.parquet")
    pq.write_table(pa.table({"item_a": ["a"], "item_b": ["c"]}), folder / "part-1.parquet")
    with pytest.raises(InputError) as refused:
        read_parquet_pairs(folder)
    assert str(refused.value) == (f"{folder}: some shards have a weight column and some do "
                                  "not; give every shard the same columns")
    pq.write_table(pa.table({"item_a": ["a"], "item_b": ["b"]}), folder / "part-0.parquet")
    unweighted = read_parquet_pairs(folder, min_count=0)
    assert unweighted.weight.tolist() == [1.0, 1.0]  # no weight column: each row weighs 1


def test_shards_are_written_in_row_groups_into_a_new_nested_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from embedstore.inputs import parquet

    monkeypatch.setattr(parquet, "SHARD_ROWS", 40)
    rows = random_rows(300, seed=10)
    write_csv(rows, tmp_path / "pairs.csv")
    counts = read_pairs(tmp_path / "pairs.csv", min_count=0)
    target = tmp_path / "deep" / "er" / "counts"
    written = parquet.write_parquet_chunks(
        counts.items, [(counts.left, counts.right, counts.weight)], f"{target}/")
    assert written == counts.n_pairs
    shards = sorted(target.glob("*.parquet"))
    assert len(shards) == -(-counts.n_pairs // 40)
    assert pq.ParquetFile(shards[0]).metadata.num_row_groups == 1
    single = tmp_path / "one.parquet"
    parquet.write_parquet_chunks(counts.items, [(counts.left, counts.right, counts.weight)],
                                 single)
    assert pq.ParquetFile(single).metadata.num_row_groups == len(shards)
    with pytest.raises(InputError) as refused:
        parquet.write_parquet_chunks(counts.items, [], f"{target}/")
    assert str(refused.value).endswith("the directory already holds .parquet files; write the "
                                       "shards to a new or empty directory")


def test_a_pair_file_is_checked_as_it_is_read(tmp_path: Path) -> None:
    from embedstore.inputs.pair_file import check_pair_file

    path = tmp_path / "pairs.csv"
    path.write_text("item_a,item_b\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: no pairs found") as empty:
        check_pair_file(path)
    with pytest.raises(InputError) as same:
        read_pairs(path)
    assert str(empty.value) == str(same.value)
    check_pair_file(path, header=False)  # the first row is a pair, of items "item_a", ...
    path.write_text("a,b\nc,d,-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: "):
        check_pair_file(path)


def refusal(path: Path) -> str:
    with pytest.raises(InputError) as refused:
        read_parquet_pairs(path)
    return str(refused.value)


def test_bad_parquet_rows_are_named_at_their_row_whatever_the_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedstore.inputs.parquet.BATCH_ROWS", 7)
    weights: list[float | None] = [1.0] * 40
    weights[30] = None
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"item_a": [f"a{i}" for i in range(40)],
                             "item_b": [f"b{i}" for i in range(40)],
                             "note": ["x"] * 40, "weight": weights}), path, row_group_size=9)
    assert refusal(path) == (f"{path}, row 31: weight is null; give a number >= 0 (0 for a "
                             "negative pair)")
    weights[30] = 2.0**60 + 1  # an integer past 2**53 rounds as float() rounds it
    pq.write_table(pa.table({"item_a": [f"a{i}" for i in range(40)],
                             "item_b": [f"b{i}" for i in range(40)], "note": ["x"] * 40,
                             "weight": pa.array([int(w) for w in weights], pa.int64())}),
                   path, row_group_size=9)
    assert read_parquet_pairs(path, min_count=0).weight.max() == 2.0**60


def test_parquet_without_items_of_strings_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "columns.parquet"
    pq.write_table(pa.table({"left": ["a"], "right": ["b"]}), path)
    assert refusal(path) == (f"{path}: no column item_a, item_b; Parquet pair data has "
                             "columns item_a, item_b[, weight] (found: left, right)")
    pq.write_table(pa.table({"item_a": [1], "item_b": ["b"]}), path)
    assert refusal(path) == (f"{path}: column item_a has type int64; items are strings (cast "
                             "the column to string)")


def test_without_pyarrow_parquet_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from embedstore.inputs.parquet import arrow

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(InputError) as refused:
        arrow()
    assert str(refused.value) == ("reading or writing Parquet needs pyarrow: pip install "
                                  "'embedstore[scale]'")
