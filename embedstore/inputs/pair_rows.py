"""What a pair row is: the one definition that every reader of pair data honours.

A pair row is ``item_a, item_b[, weight]``:

- **Fields**: two or three (:data:`COLUMNS`). In a CSV/TSV file the delimiter is one of
  :data:`DELIMITERS`, a field may be quoted with :data:`QUOTE` (a quote inside is written
  twice) and holds at most :data:`MAX_FIELD_CHARS` characters; a row of no fields, or of one
  field of white space only, is a blank row and is skipped. In Parquet the columns are
  ``item_a`` and ``item_b`` (strings) and optionally ``weight`` (integer or floating point).
- **Items** are trimmed (the white space :data:`WHITESPACE` that ``str.strip`` removes) and put
  in Unicode NFC (:func:`clean_item`); an item left empty makes the row bad.
- **The weight** is the text Python's ``float`` reads (:func:`parse_weight`: digits of any
  script, ``_`` between digits, an exponent) once trimmed, and must be finite and >= 0. A row
  without a weight has weight :data:`DEFAULT_WEIGHT`; a weight of 0 (``-0`` too) marks an
  explicit negative pair. An empty weight (``a,b,``) is bad: it is not a way of writing 1
  (:data:`EMPTY_WEIGHT` says what to write instead), as a null weight in Parquet is bad.
- **A header** is a first row of three fields whose third is not a number (once trimmed), or
  of two fields that are one of :data:`HEADER_NAMES` (compared trimmed, case-insensitively).

How each reader honours it:

- :mod:`embedstore.inputs.pair_file` (CSV/TSV in memory) hands every row to :func:`row_fields`.
- :mod:`embedstore.inputs.parquet` applies the same trimming, NFC and weight bounds to whole
  columns; its messages are :func:`null_problem`, :func:`empty_item_problem` and
  :func:`weight_problem`.
- :mod:`embedstore.engines.bounded.pair_aggregation` (DuckDB) builds its SQL from
  :data:`WHITESPACE`, :data:`FAST_WEIGHT` and :data:`MAX_FIELD_CHARS`, and hands DuckDB
  :func:`line_fields` and :func:`parse_weight` for the rows its SQL does not read itself
  (quoted fields, weights other than ASCII decimals). When DuckDB finds a bad row, the
  in-memory reader reads the file again to name the first one.
- :mod:`embedstore.engines.cluster.dask_io` (Dask workers) runs the in-memory readers on
  pieces of the input (:mod:`embedstore.inputs.pieces`).

Every message about a bad row is one of the ``*_PROBLEM`` texts or functions here, placed by
:func:`embedstore.errors.located` (``FILE, line N: ...`` or ``SHARD, row N: ...``).
"""

from __future__ import annotations

import csv
import math

HEADER_NAMES = frozenset(
    {("item_a", "item_b"), ("item1", "item2"), ("source", "target"), ("src", "dst")}
)
"""First rows of two fields that are taken for a header (compared trimmed, case-insensitively)."""
COLUMNS = ("item_a", "item_b", "weight")
"""The fields of a pair row, and the column names of Parquet pair data."""
DELIMITERS = (",", "\t")
"""A CSV file's delimiter: tab when its first row has a tab outside quotes, else comma."""
QUOTE = '"'
MAX_FIELD_CHARS = 131_072
"""The longest field, in characters (the ``csv`` module's default limit)."""
DEFAULT_WEIGHT = 1.0
"""The weight of a row of two fields."""
WHITESPACE = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace())
"""What ``str.strip`` removes around items and weights (no character past U+3000 is white
space; a test checks the whole range)."""
FAST_WEIGHT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
"""Weights in ASCII decimal notation: every correctly rounding number parser (DuckDB's,
pyarrow's) reads them to the float :func:`parse_weight` gives, so readers may parse these
themselves and must hand any other text to :func:`parse_weight`."""

EMPTY_ITEM = "empty item; every pair names two non-empty items"
EMPTY_WEIGHT = "the weight is empty; leave it out (a,b) for a weight of 1, or give a number"
NO_PAIRS = "no pairs found; a pair file has rows item_a,item_b[,weight]"
EMPTY_FILE = "empty file; a pair file has rows item_a,item_b"
NO_PARQUET_PAIRS = "no pairs found; Parquet pair data has rows item_a, item_b[, weight]"


class BadRow(ValueError):  # noqa: N818 (it is not an error of embedstore's)
    """A row that breaks the definition; its message is the problem, without the place."""


def columns_problem(found: int, delimiter: str) -> str:
    return f"expected 2 or 3 columns (item_a{delimiter}item_b[{delimiter}weight]), found {found}"


def weight_problem(weight: str | float) -> str:
    """A weight that is not a finite number >= 0: the text as written, or the value."""
    return f"weight {weight!r} is not a finite number >= 0 (use 0 for a negative pair)"


def null_problem(column: str) -> str:
    """A null in a Parquet column."""
    if column == "weight":
        return "weight is null; give a number >= 0 (0 for a negative pair)"
    return f"{column} is null; every pair names two items"


def empty_item_problem(column: str) -> str:
    """An item of a Parquet column that is empty once trimmed."""
    return f"empty {column}; every pair names two non-empty items"


def clean_item(text: str) -> str:
    """An item as it is kept: trimmed, in Unicode NFC.

    >>> clean_item(" cafe\\u0301 ") == "caf\\u00e9"
    True
    """
    text = text.strip()
    return text if text.isascii() else _nfc(text)


def _nfc(text: str) -> str:
    import unicodedata  # only for text that is not ASCII

    return unicodedata.normalize("NFC", text)


def parse_weight(text: str) -> float | None:
    """The weight a text means once trimmed (as items are: ``float`` alone would not trim
    U+001C to U+001F), or None when it is not a finite number >= 0.

    >>> parse_weight(" 2.5 "), parse_weight("\\u0662"), parse_weight("1_000"), parse_weight("-0")
    (2.5, 2.0, 1000.0, -0.0)
    >>> parse_weight("nan"), parse_weight("1e309"), parse_weight("-1"), parse_weight("\\x1f")
    (None, None, None, None)
    """
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if 0 <= value < math.inf else None  # False for nan


def weight_of(field: str) -> float:
    """The weight of a row's third field (:class:`BadRow` when it is empty or bad)."""
    value = parse_weight(field)
    if value is None:
        raise BadRow(EMPTY_WEIGHT if not field.strip() else weight_problem(field))
    return value


def is_header(fields: list[str]) -> bool:
    """Whether a first row is a header (see the module's rules).

    >>> is_header(["Source", " target "]), is_header(["a", "b", "count"])
    (True, True)
    >>> is_header(["a", "b", "1"]), is_header(["a", "b", "nan"])
    (False, False)
    """
    if len(fields) == 3:
        try:
            float(fields[2].strip())
        except ValueError:
            return True
        return False
    if len(fields) == 2:
        return (fields[0].strip().lower(), fields[1].strip().lower()) in HEADER_NAMES
    return False


def row_fields(fields: list[str], delimiter: str) -> tuple[str, str, float] | None:
    """A CSV row's pair ``(item_a, item_b, weight)``, None for a blank row, or :class:`BadRow`.

    >>> row_fields([" a", "b ", " 2 "], ","), row_fields(["  "], ",")
    (('a', 'b', 2.0), None)
    >>> row_fields(["a", "b", ""], ",")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    embedstore.inputs.pair_rows.BadRow: the weight is empty; leave it out (a,b) for a weight ...
    """
    n = len(fields)
    if n == 2 or n == 3:  # clean_item and parse_weight written out: this runs for every row
        item_a, item_b = fields[0].strip(), fields[1].strip()
        if not item_a.isascii():
            item_a = _nfc(item_a)
        if not item_b.isascii():
            item_b = _nfc(item_b)
        if not item_a or not item_b:
            raise BadRow(EMPTY_ITEM)
        if n == 2:
            return item_a, item_b, DEFAULT_WEIGHT
        try:
            weight = float(fields[2])  # what float() reads it reads as when trimmed
        except ValueError:
            return item_a, item_b, weight_of(fields[2])
        if 0 <= weight < math.inf:
            return item_a, item_b, weight
        return item_a, item_b, weight_of(fields[2])  # raises
    if n == 0 or (n == 1 and not fields[0].strip()):
        return None
    raise BadRow(columns_problem(n, delimiter))


def line_fields(line: str, delimiter: str) -> list[str] | None:
    """One physical line read as a pair row: ``[item_a, item_b, repr(weight)]``, ``[]`` for a
    blank row, None for a bad row or a line that is not a whole row (a quoted field that
    goes on past it): for readers that split lines themselves and hand the rest over.

    >>> line_fields('"New York, NY",city,3', ","), line_fields('"open', ","), line_fields("", ",")
    (['New York, NY', 'city', '3.0'], None, [])
    """
    try:
        fields = next(csv.reader([line], delimiter=delimiter, strict=True), [])
        pair = row_fields(fields, delimiter)
    except (csv.Error, BadRow):
        return None
    return [] if pair is None else [pair[0], pair[1], repr(pair[2])]
