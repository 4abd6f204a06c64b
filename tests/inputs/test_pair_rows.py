"""The definition of a pair row (embedstore.inputs.pair_rows) and the claims the readers build
on it: that the other engines' trimming, NFC and number parsing are Python's where they use
them, and that a located error survives the trip from a worker."""

from __future__ import annotations

import pickle
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedstore.errors import LocatedError, located
from embedstore.inputs.pair_rows import (
    EMPTY_WEIGHT,
    FAST_WEIGHT,
    WHITESPACE,
    BadRow,
    is_header,
    row_fields,
)

CODE_POINTS = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]


def test_whitespace_is_what_str_strip_removes_in_the_whole_of_unicode() -> None:
    assert "".join(c for c in CODE_POINTS if c.isspace()) == WHITESPACE
    assert all(("x" + c).strip() == "x" for c in WHITESPACE)


def test_pyarrow_and_duckdb_trim_and_normalise_as_python_does() -> None:
    """The Parquet reader trims and normalises with pyarrow, DuckDB with its own functions:
    both must agree with str.strip and unicodedata for every code point (alone, and the NFD
    of every composed character)."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.compute as pc

    duckdb = pytest.importorskip("duckdb")
    decomposed = [unicodedata.normalize("NFD", c) for c in CODE_POINTS]
    texts = CODE_POINTS + [d for d in decomposed if len(d) > 1]
    expected = [unicodedata.normalize("NFC", t) for t in texts]
    column = pa.array(texts)
    assert pc.utf8_normalize(column, "NFC").to_pylist() == expected
    padded = pa.array([f"{c}x{c}" for c in CODE_POINTS])
    assert pc.utf8_trim_whitespace(padded).to_pylist() == [f"{c}x{c}".strip()
                                                           for c in CODE_POINTS]
    codes = pa.table({"t": column})  # noqa: F841 (read by DuckDB by its name)
    found = duckdb.connect().execute("SELECT nfc_normalize(t) FROM codes").fetchall()
    assert [row[0] for row in found] == expected


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.from_regex(FAST_WEIGHT, fullmatch=True), min_size=1, max_size=40))
def test_weights_in_ascii_decimals_are_read_by_duckdb_as_by_float(texts: list[str]) -> None:
    """DuckDB casts the weights FAST_WEIGHT matches itself: to the float Python reads (or,
    past float64, to no finite number, as Python)."""
    duckdb = pytest.importorskip("duckdb")
    found = duckdb.execute("SELECT TRY_CAST(unnest(?) AS DOUBLE)", [texts]).fetchall()
    for text, (cast,) in zip(texts, found, strict=True):
        value = float(text)
        if abs(value) == float("inf"):
            assert cast is None or abs(cast) == float("inf"), text
        else:
            assert cast == value and str(cast) == str(value), text


@pytest.mark.parametrize(("fields", "expected"), [
    ([" a ", "b", " 2 "], ("a", "b", 2.0)),
    (["a", "b", "\u0662"], ("a", "b", 2.0)),
    (["a", "b", "1_000"], ("a", "b", 1000.0)),
    (["a", "b", "\x1f3\x1f"], ("a", "b", 3.0)),  # white space to str.strip, not to float
    (["a", "b", "-0"], ("a", "b", -0.0)),
    (["cafe\u0301", "b"], ("caf\u00e9", "b", 1.0)),
    ([], None),
    (["  "], None),
])
def test_rows_that_are_pairs_or_blank(fields: list[str], expected: object) -> None:
    assert row_fields(fields, ",") == expected


@pytest.mark.parametrize(("fields", "problem"), [
    (["a", "b", ""], EMPTY_WEIGHT),
    (["a", "b", " \t"], EMPTY_WEIGHT),
    (["a", "b", "nan"], "weight 'nan' is not a finite number >= 0 (use 0 for a negative pair)"),
    (["a", "b", "1e309"], "weight '1e309' is not a finite number"),
    (["a", "b", "-1"], "weight '-1' is not a finite number"),
    ([" ", "b"], "empty item; every pair names two non-empty items"),
    (["a"], "expected 2 or 3 columns (item_a,item_b[,weight]), found 1"),
    (["a", "b", "1", "2"], "expected 2 or 3 columns (item_a,item_b[,weight]), found 4"),
])
def test_rows_that_are_bad_say_why(fields: list[str], problem: str) -> None:
    with pytest.raises(BadRow) as bad:
        row_fields(fields, ",")
    assert str(bad.value).startswith(problem)


def test_headers_of_every_recognised_kind() -> None:
    for names in [("item_a", "item_b"), ("SRC", "dst"), (" source ", "Target"), ("Item1", "item2"),
                  ("a", "b", "weight"), ("a", "b", "")]:
        assert is_header(list(names)), names
    for row in [("a", "b"), ("a", "b", "1"), ("a", "b", "nan"), ("a", "b", "\x1f0")]:
        assert not is_header(list(row)), row


def test_a_located_error_is_one_line_and_survives_pickling() -> None:
    error = LocatedError("logs/day-3.csv", 7, EMPTY_WEIGHT)
    assert str(error) == located("logs/day-3.csv", 7, EMPTY_WEIGHT) == \
        f"logs/day-3.csv, line 7: {EMPTY_WEIGHT}"
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and str(again.shifted(10)).startswith("logs/day-3.csv, line 17")
    assert str(LocatedError("part-00001.parquet", 3, "weight is null", "row")) == \
        "part-00001.parquet, row 3: weight is null"
