"""Hostile pair files: property-based tests through the library and the CLI (the harness is
``tests/hostile.py``)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import embedstore
from embedstore.inputs.pair_file import read_pairs
from tests.hostile import (
    LONG_LINE,
    budget,
    check_error,
    damaged,
    line_bound,
    maybe_gzipped,
    parse,
    run_and_check_store,
)
from tests.pair_files import (
    ExpectedPairs,
    PairFile,
    check_cooccurrence,
    pair_files,
    pair_oracle,
    pairs_of,
)

# 1. Pair files (embedstore.inputs.pair_file.read_pairs, embed train)


@budget("pairs", "oracle")
@given(pf=pair_files(), compress=st.booleans(), data=st.data())
@example(pf=PairFile(rows=[("a", "b", None)], blank_before={0: ""}), compress=False, data=None)
def test_pair_files_parse_to_what_they_mean(workdir: Path, pf: PairFile, compress: bool,
                                            data: st.DataObject | None) -> None:
    truth = pf.header is not None
    header = data.draw(st.sampled_from([None, True] if truth else [None, False, True])) \
        if data else None
    min_count = data.draw(st.sampled_from([0, 0, 1, 2.5])) if data else 0
    path = workdir / "pairs.csv"
    path.write_bytes(pf.content(compress))
    expected = pair_oracle(pf, header, min_count)
    got, error = parse(lambda: read_pairs(path, min_count=min_count, header=header))
    if isinstance(expected, str):
        assert error is not None and expected in check_error(error, path), (expected, error)
        return
    assert error is None, error
    assert got.items == expected.items
    assert got.item_counts.tolist() == expected.counts
    assert pairs_of(got) == expected.positive
    assert {frozenset((got.items[a], got.items[b]))
            for a, b in zip(got.negative_left, got.negative_right, strict=True)} == \
        expected.negative
    check_cooccurrence(got)


SIMPLE_ITEMS = st.text("abcxyz", min_size=1, max_size=3)
BAD_ROWS = [  # {d}: the file's delimiter, {o}: the other one
    ("x", "expected 2 or 3 columns"), ("x{d}y{d}1{d}2", "expected 2 or 3 columns"),
    ("x{o}y", "expected 2 or 3 columns"), ("{d}y", "empty item"), ("x{d} ", "empty item"),
    ('""{d}y', "empty item"), ("x{d}y{d}", "the weight is empty; leave it out"),
    ("x{d}y{d} ", "the weight is empty; leave it out"),
    ("x{d}y{d}nan", "not a finite number >= 0"), ("x{d}y{d}NaN", "not a finite number >= 0"),
    ("x{d}y{d}inf", "not a finite number >= 0"), ("x{d}y{d}-inf", "not a finite number >= 0"),
    ("x{d}y{d}-1", "not a finite number >= 0"), ("x{d}y{d}1e400", "not a finite number >= 0"),
    ("x{d}y{d}-1e400", "not a finite number >= 0"),
    ("x{d}y{d}1" + "0" * 500, "not a finite number >= 0"),
    ("x{d}y{d}0x10", "not a finite number >= 0"), ("x{d}y{d}many", "not a finite number >= 0"),
    (b"x\xff{d}y", "not valid UTF-8"), (b"x{d}y\xc3", "not valid UTF-8"),
    (b"x{d}\xed\xa0\x80", "not valid UTF-8"),
    ('"x{d}y', "never closes"), ('x{d}"y"z', "check the quoting"),
    ("x" * 200_000 + "{d}y", "longer than"),
]


@budget("pairs", "bad row")
@given(
    rows=st.lists(st.tuples(SIMPLE_ITEMS, SIMPLE_ITEMS, st.integers(0, 9)), min_size=1,
                  max_size=8),
    bad=st.sampled_from(BAD_ROWS), where=st.integers(0, 8), delimiter=st.sampled_from(",\t"),
    header=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]), compress=st.booleans(),
    last_without_newline=st.booleans(),
)
def test_a_bad_row_is_reported_at_its_line(
    workdir: Path, rows: list[tuple[str, str, int]], bad: tuple[str | bytes, str], where: int,
    delimiter: str, header: bool, newline: str, compress: bool, last_without_newline: bool,
) -> None:
    template, message = bad
    other = "," if delimiter == "\t" else "\t"
    # The first row decides the delimiter (documented): the other one there is no bad row.
    assume(not ("{o}" in str(template) and where == 0 and not header))
    if isinstance(template, str):
        template = template.encode("utf-8")
    bad_line = template.replace(b"{d}", delimiter.encode()).replace(b"{o}", other.encode())
    lines = [f"{a}{delimiter}{b}{delimiter}{w}".encode() for a, b, w in rows]
    where = min(where, len(lines))
    lines.insert(where, bad_line)
    if header:
        lines.insert(0, f"item_a{delimiter}item_b{delimiter}weight".encode())
    content = newline.encode().join(lines)
    if not (last_without_newline and where == len(lines) - 1 - header):
        content += newline.encode()
    path = workdir / "bad.csv"
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
    _, error = parse(lambda: read_pairs(path, min_count=0, header=header))
    assert error is not None, bad_line
    text = check_error(error, path)
    assert text.startswith(f"{path}, line {where + 1 + header}: ") and message in text, text


@budget("pairs", "hostile")
@given(data=st.data())
@example(data=None)
def test_hostile_pair_files_parse_or_fail_cleanly(workdir: Path,
                                                  data: st.DataObject | None) -> None:
    if data is None:  # a 1 MB single line, then the same line truncated inside a gzip stream
        content = b"a," + LONG_LINE + b"\n"
    elif data.draw(st.booleans()):
        content = data.draw(st.binary(max_size=300))
    else:
        content = data.draw(pair_files()).content()
        content = data.draw(maybe_gzipped(data.draw(damaged(content))))
    header = data.draw(st.sampled_from([None, True, False])) if data else None
    path = workdir / "hostile.csv"
    path.write_bytes(content)
    got, error = parse(lambda: read_pairs(path, min_count=0, header=header))
    if error is not None:
        check_error(error, path, max_line=line_bound(content))
    else:
        check_cooccurrence(got)


@budget("pairs", "gzip damage")
@given(pf=pair_files(), data=st.data())
def test_damaged_gzip_pair_files_never_parse_to_something_else(workdir: Path, pf: PairFile,
                                                               data: st.DataObject) -> None:
    packed = pf.content(compress=True)
    if data.draw(st.booleans()):
        content = packed[: data.draw(st.integers(0, len(packed) - 1))]
    else:
        at = data.draw(st.integers(0, len(packed) - 1))
        content = packed[:at] + bytes([packed[at] ^ data.draw(st.integers(1, 255))]) + \
            packed[at + 1 :]
    path = workdir / "damaged.csv.gz"
    path.write_bytes(content)
    got, error = parse(lambda: read_pairs(path, min_count=0))
    if error is not None:
        check_error(error, path)
        return
    # Only bytes gzip ignores (time stamp, flags for text, OS) were changed: same content.
    assert len(content) == len(packed)
    expected = pair_oracle(pf, None, 0)
    assert isinstance(expected, ExpectedPairs)
    assert got.items == expected.items and pairs_of(got) == expected.positive


@budget("pairs", "cli", seconds=20)
@given(data=st.data())
def test_hostile_pair_files_through_embed_train(cli_store: Path, workdir: Path,
                                                data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        content = data.draw(st.binary(max_size=200))
    else:
        content = data.draw(maybe_gzipped(data.draw(damaged(data.draw(pair_files()).content()))))
    path = workdir / "train-hostile.csv"
    path.write_bytes(content)
    run_and_check_store(cli_store, ["train", str(path), "--quiet", "--dim", "4", "--method",
                                    "sgns", "--epochs", "1", "--min-count", "0"], path)


GOOD_PAIRS = b"item_a,item_b,weight\r\ncat,dog,2\r\ndog,puppy,1\r\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "line 1: empty file"),
        (b"\n\n", "line 1: empty file"),
        (b"\n\nitem_a,item_b\n", "line 4: no pairs found"),
        (gzip.compress(GOOD_PAIRS)[:-9], "the file may be damaged"),
        (gzip.compress(GOOD_PAIRS)[:30], "the file may be damaged"),
        (b"cat,dog\ncat\x00,dog,1e400\n", "line 2: weight '1e400' is not a finite number >= 0"),
        (b"cat,dog\n" + LONG_LINE + b",dog\n", "line 2: a field longer than"),
        (b'cat,dog\n"cat,dog\nemu,owl\n', "line 2: a quote opened on this line never closes"),
        (b"cat,dog\ncat\tdog\n", "line 2: expected 2 or 3 columns"),
        (b"cat,dog\ncat,dog\xc3", "line 2: not valid UTF-8"),
        (b"\xef\xbb\xbfcat,dog,1e308\ncat,dog,1e308\n", "the weights add up to more than 1.8e+308"),
    ],
)
def test_bad_pair_files_through_embed_train(cli_store: Path, workdir: Path, content: bytes,
                                            message: str) -> None:
    path = workdir / "bad-train.csv"
    path.write_bytes(content)
    result = run_and_check_store(cli_store, ["train", str(path), "--quiet", "--method", "sgns",
                                             "--epochs", "1"], path)
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize("content", [
    b"a,b,5e-324\nb,c,5e-324\n",  # subnormal weights: only their ratios matter
    b"a,b,1e300\nb,c,1e-300\nc,d,-0\n",
    b"a,b,1e307\nb,c,1e307\nc,a,1e307\n",
])
def test_extreme_but_finite_weights_train(cli_store: Path, workdir: Path, content: bytes) -> None:
    path = workdir / "extreme.csv"
    path.write_bytes(content)
    result = run_and_check_store(cli_store, ["train", str(path), "--quiet", "--dim", "4",
                                             "--min-count", "0", "--model", "extreme"], path,
                                 model="extreme")
    assert result.exit_code == 0, result.output
    with embedstore.open(cli_store, model="extreme") as vectors:
        assert np.isfinite(vectors.vector("a")).all()


def test_a_messy_but_valid_pair_file_trains(cli_store: Path, workdir: Path) -> None:
    path = workdir / "messy.tsv.gz"
    content = ("\ufeff\r\nsrc\tdst\r\n\"New\tYork\"\t city \t 3 \r\n\r\nParis\tcity\t0\r\n"
               "Paris\t\"a,b\"\r\n")
    path.write_bytes(gzip.compress(content.encode()))
    result = run_and_check_store(cli_store, ["train", str(path), "--quiet", "--method", "sgns",
                                             "--epochs", "1", "--model", "messy"], path,
                                 model="messy")
    assert result.exit_code == 0, result.output
    with embedstore.open(cli_store, model="messy") as vectors:
        assert sorted(vectors.known_rows(["New\tYork", "city", "Paris", "a,b"])) == \
            ["New\tYork", "Paris", "a,b", "city"]


# =============================================================================================
