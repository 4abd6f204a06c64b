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
