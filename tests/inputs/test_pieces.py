"""Pair data cut into pieces for a cluster's workers: the pieces read, one by one and in
order, exactly the rows of the whole input; a bad row is named at its line in the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from embedstore.errors import InputError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import write_parquet_pairs
from embedstore.inputs.pieces import (
    Piece,
    QuoteAcrossPiecesError,
    locate,
    piece_facts,
    plan_pieces,
    read_piece,
    whole,
)

pytest.importorskip("pyarrow", reason="the scale extra is not installed")


def rows_of(pieces: list[Piece]) -> list[tuple[str, str, float]]:
    found = []
    for piece in pieces:
        left, right, weight = read_piece(piece)
        found += list(zip(left.tolist(), right.tolist(), weight.tolist(), strict=True))
    return found


def pair_lines(n: int) -> list[str]:
    rng = np.random.default_rng(11)
    return [f"n{a},n{b},{w}" for a, b, w in rng.integers(0, 40, (n, 3))]


def test_ranges_of_a_plain_file_read_its_rows_once_each_in_order(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,weight\n" + "\n".join(pair_lines(300)) + "\n", encoding="utf-8")
    pieces = plan_pieces([str(path)], None, piece_bytes=100)
    assert len(pieces) > 20 and {p.kind for p in pieces} == {"lines"}
    assert [p.last for p in pieces] == [False] * (len(pieces) - 1) + [True]
    assert pieces[0].start == len("a,b,weight\n") and pieces[0].lines_before == 1
    assert all(p.end == p.start + 100 for p in pieces)
    expected = rows_of([Piece(str(path), "file")])
    assert len(expected) == 300 and rows_of(pieces) == expected
    assert sum(piece_facts(p).lines for p in pieces) == 300
    assert locate(pieces, [piece_facts(p) for p in pieces]) == pieces


def test_a_small_or_packed_file_is_one_piece(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("\n".join(pair_lines(5)) + "\n", encoding="utf-8")
    packed = tmp_path / "packed.csv.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as stream:
        stream.write("\n".join(pair_lines(300)) + "\n")
    (one,) = plan_pieces([str(small)], None, piece_bytes=small.stat().st_size)
    (other,) = plan_pieces([str(packed)], False, piece_bytes=10)
    assert (one.kind, other.kind, other.header) == ("file", "file", False)
    assert len(rows_of([other])) == 300


def test_a_bad_row_is_named_at_its_line_in_the_file(tmp_path: Path) -> None:
    lines = ["a,b"] + [f"n{i},m{i}" for i in range(200)]
    lines[150] = "n1,n2,heavy,extra"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as whole_file:
        read_pairs(path)
    pieces = plan_pieces([str(path)], None, piece_bytes=64)
    facts = [piece_facts(p) for p in pieces]
    assert sum(f.problem is not None for f in facts) == 1
    with pytest.raises(InputError) as located:
        locate(pieces, facts)
    assert str(located.value) == str(whole_file.value)
    assert f"{path}, line 151: " in str(located.value)


def test_a_quoted_line_break_across_pieces_reads_the_file_whole(tmp_path: Path) -> None:
    lines = ["a,b"] + [f"n{i},m{i}" for i in range(100)]
    lines[40] = '"two\nlines",n1'
    path = tmp_path / "quoted.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("x,y\n" * 60, encoding="utf-8")
    pieces = plan_pieces([str(other), str(path)], None, piece_bytes=50)
    facts = [piece_facts(p) for p in pieces]
    assert any(f.open_quote for f in facts)
    with pytest.raises(QuoteAcrossPiecesError):
        for piece in pieces:
            read_piece(piece)
    again = locate(pieces, facts)
    assert [p.path for p in again if p.path == str(path)] == [str(path)]
    (kept,) = [p for p in again if p.path == str(path)]
    assert (kept.kind, kept.start, kept.end, kept.last) == ("file", 0, None, True)
    assert [p for p in again if p.path == str(other)] == [
        p for p in pieces if p.path == str(other)]
    assert rows_of(again) == rows_of([Piece(str(other), "file"), Piece(str(path), "file")])
    assert whole(pieces, "elsewhere.csv") == pieces


def test_row_groups_of_a_shard_are_cut_into_pieces_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedstore.inputs.parquet.SHARD_ROWS", 50)
    source = tmp_path / "pairs.csv"
    source.write_text("a,b,weight\n" + "\n".join(pair_lines(400)) + "\n", encoding="utf-8")
    counts = read_pairs(source, min_count=0)
    shard = tmp_path / "pairs.parquet"
    write_parquet_pairs(counts, shard)
    pieces = plan_pieces([str(shard)], None, piece_bytes=1)
    assert len(pieces) > 3 and {p.kind for p in pieces} == {"parquet"}
    groups = [g for p in pieces for g in p.row_groups]
    assert groups == list(range(len(groups)))
    assert [p.start for p in pieces] == [50 * p.row_groups[0] for p in pieces]
    (one,) = plan_pieces([str(shard)], None, piece_bytes=1 << 30)
    assert one.row_groups == tuple(groups) and rows_of(pieces) == rows_of([one])
    expected = counts.n_pairs + counts.n_negative_pairs
    assert len(rows_of(pieces)) == expected
    assert all(piece_facts(p).problem is None for p in pieces)


def test_row_groups_are_gathered_up_to_the_bytes_of_a_piece(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setattr("embedstore.inputs.parquet.SHARD_ROWS", 30)
    source = tmp_path / "pairs.csv"
    source.write_text("\n".join(pair_lines(400)) + "\n", encoding="utf-8")
    shard = tmp_path / "pairs.parquet"
    write_parquet_pairs(read_pairs(source, min_count=0), shard)
    sizes = [pq.ParquetFile(shard).metadata.row_group(g).total_byte_size
             for g in range(pq.ParquetFile(shard).metadata.num_row_groups)]
    budget = sizes[0] * 2 + sizes[0] // 2  # two groups fit, three do not
    expected: list[list[int]] = [[]]
    for number, size in enumerate(sizes):
        if expected[-1] and sum(sizes[g] for g in expected[-1]) + size > budget:
            expected.append([])
        expected[-1].append(number)
    pieces = plan_pieces([str(shard)], None, piece_bytes=budget)
    assert [list(p.row_groups) for p in pieces] == expected
    assert max(len(groups) for groups in expected) == 2
    exact = plan_pieces([str(shard)], None, piece_bytes=sizes[0] + sizes[1])
    assert list(exact[0].row_groups) == [0, 1]  # exactly full still fits


def test_a_bad_parquet_row_is_named_at_its_row_of_the_shard(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    weights = [1.0] * 100
    weights[77] = -2.0
    table = pa.table({"item_a": [f"a{i}" for i in range(100)],
                      "item_b": [f"b{i}" for i in range(100)], "weight": weights})
    shard = tmp_path / "pairs.parquet"
    pq.write_table(table, shard, row_group_size=10)
    pieces = plan_pieces([str(shard)], None, piece_bytes=1)
    facts = [piece_facts(p) for p in pieces]
    with pytest.raises(InputError) as located:
        locate(pieces, facts)
    assert "row 78" in str(located.value)
    left, right, weight = read_piece(Piece(str(shard), "parquet", 0, row_groups=()))
    assert (left.dtype, right.dtype, weight.dtype) == (object, object, np.float64)
    assert len(left) == len(right) == len(weight) == 0


def test_a_folder_of_shards_reads_only_its_parquet_files(tmp_path: Path) -> None:
    from embedstore.inputs.parquet import read_parquet_pairs

    folder = tmp_path / "counts"
    source = tmp_path / "pairs.csv"
    source.write_text("\n".join(pair_lines(50)) + "\n", encoding="utf-8")
    write_parquet_pairs(read_pairs(source, min_count=0), f"{folder}/")
    (folder / "README.txt").write_text("not pairs\n", encoding="utf-8")
    (folder / "nested.parquet").mkdir()
    assert read_parquet_pairs(folder, min_count=0).n_pairs > 0
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as refused:
        read_parquet_pairs(empty)
    assert str(refused.value) == (f"{empty}: a directory of pair data holds .parquet files, "
                                  "and this one has none; write them with embed pairs -o "
                                  "DIRECTORY/")
