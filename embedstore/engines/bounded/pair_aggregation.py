"""Pair-file aggregation under a memory limit: DuckDB's out-of-core GROUP BY.

A pair file (CSV/TSV, optionally gzipped) or Parquet pair data larger than the limit allows is
aggregated by DuckDB straight from the file, in a temporary directory where it spills whatever
does not fit under the limit. What a row may be is :mod:`embedstore.inputs.pair_rows`, and the
SQL here is built from it: DuckDB splits each line at the delimiter with quoting turned off,
trims and normalises the items (:data:`~embedstore.inputs.pair_rows.WHITESPACE`, NFC) and casts
weights written as ASCII decimals (:data:`~embedstore.inputs.pair_rows.FAST_WEIGHT`) itself; a
line with a quote, more pieces than a row has fields or a very long field is read by
:func:`~embedstore.inputs.pair_rows.line_fields`, any other weight by
:func:`~embedstore.inputs.pair_rows.parse_weight` and an item holding a NUL by
:func:`~embedstore.inputs.pair_rows.clean_item`: Python functions that DuckDB calls. A bad
row stops the query at once (no separate checking pass); the caller then has the in-memory
reader name the first bad row in file order.

For training (:func:`aggregate_rows`), one GROUP BY sums each pair (its items in string order)
and keeps the first position where the pair was seen; the items' first positions follow from
those, so items get ids in first-seen order without another pass over the rows. The result is
the :class:`Rows` the in-memory readers make (same item order, same pair order), so
:func:`embedstore.inputs.pair_file.reduce_rows` turns it into the same :class:`Cooccurrence`.
Only the distinct items and pairs come back into memory, as numpy arrays (16 bytes per
distinct pair, twice that while they are sorted): they are what training needs. For ``embed
pairs --pair-input`` to Parquet (:func:`write_aggregated`), the GROUP BY is written to the file
by DuckDB and nothing comes back into Python.

DuckDB sums each pair's weights in its own order; integer weights (and any weights whose sums
are exact in float64) give exactly today's sums, other fractional weights may differ in the
last bit. A file DuckDB cannot read as the definition does (a bad row, bad UTF-8, a quoted
field holding a line break, mixed line endings) makes these functions return None.

This is the only module besides :mod:`embedstore.store` that runs SQL, and that SQL is DuckDB's
on its own temporary database, never the store's SQLite.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError
from ...inputs.pair_file import Layout, Rows, sniff
from ...inputs.pair_rows import (
    DEFAULT_WEIGHT,
    FAST_WEIGHT,
    MAX_FIELD_CHARS,
    QUOTE,
    WHITESPACE,
    clean_item,
    line_fields,
    parse_weight,
)
from ...inputs.textio import GZIP_MAGIC
from ...progress import Progress

BAD_ROW = "a bad pair row"
"""DuckDB's error for such a row; the in-memory reader then names it."""
PIECES = 6
"""Pieces DuckDB cuts a line into at the delimiter (quoting off): enough for a row of three
fields where quoted fields hold a few delimiters; a line of more stops the query."""
FETCH_ROWS = 1 << 20
"""The distinct pairs come back from DuckDB in batches of this many rows."""
STEPS = 4
"""Steps reported as ``progress("aggregating", step, STEPS, None)``."""


def duckdb_module() -> Any:
    try:
        import duckdb
    except ImportError:
        raise InputError("aggregating under a memory limit needs duckdb: "
                         "pip install 'embedstore[scale]'") from None
    return duckdb


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_source(path: Path, layout: Layout) -> str:
    """The file's lines cut at the delimiter into up to :data:`PIECES` pieces, quoting off,
    missing pieces NULL (and no piece ever NULL otherwise: no piece can hold a line break)."""
    with path.open("rb") as handle:
        compression = "gzip" if handle.read(2) == GZIP_MAGIC else "none"
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, PIECES + 1))
    return (f"read_csv({_quoted(str(path))}, delim={_quoted(layout.delimiter)}, quote='', "
            f"escape='', header=false, skip={layout.lines_before_data}, auto_detect=false, "
            f"columns={{{columns}}}, null_padding=true, nullstr='\n', "
            f"compression='{compression}')")


def _trim(column: str) -> str:
    """``column`` without leading and trailing white space (as ``str.strip``), the slow
    ``trim`` only for values that do not start and end in printable ASCII."""
    return (f"CASE WHEN ord({column}[1]) BETWEEN 33 AND 126 AND ord({column}[-1]) BETWEEN 33 "
            f"AND 126 THEN {column} ELSE trim({column}, {_quoted(WHITESPACE)}) END")


def _item(column: str) -> str:
    """An item as kept (:func:`pair_rows.clean_item`); DuckDB's ``nfc_normalize`` ends a
    string that is not ASCII at its first NUL, so such items go to Python."""
    return (f"CASE WHEN contains({column}, chr(0)) THEN pair_item({column}) "
            f"ELSE nfc_normalize({_trim(column)}) END")


def _checked(rows: str) -> str:
    """``rows`` (a, b, w, odd) with DuckDB's ``error`` for a bad one (:mod:`pair_rows`)."""
    return ("SELECT a, b, CASE WHEN odd OR a IS NULL OR b IS NULL OR a = '' OR b = '' "
            f"OR w IS NULL OR NOT isfinite(w) OR w < 0 THEN error({_quoted(BAD_ROW)}) "
            f"ELSE w END AS w FROM ({rows})")


def _csv_rows_sql(path: Path, layout: Layout) -> str:
    """A pair file's rows as (a, b, w), read as :func:`pair_rows.row_fields` reads them: a
    line DuckDB's split may not read alike goes to :func:`pair_rows.line_fields`."""
    pieces = [f"c{i}" for i in range(1, PIECES + 1)]
    odd_field = " OR ".join([*(f"contains({c}, {_quoted(QUOTE)})" for c in pieces[:3]),
                             *(f"strlen({c}) > {MAX_FIELD_CHARS}" for c in pieces[:3])])
    slow = f"c4 IS NOT NULL OR coalesce({odd_field}, false)"
    line = f"concat_ws({_quoted(layout.delimiter)}, {', '.join(pieces)})"
    weight = (f"CASE WHEN slow THEN TRY_CAST(parsed[3] AS DOUBLE) WHEN c3 IS NULL THEN "
              f"{DEFAULT_WEIGHT}::DOUBLE WHEN regexp_full_match({_trim('c3')}, "
              f"{_quoted(FAST_WEIGHT)}) THEN TRY_CAST({_trim('c3')} AS DOUBLE) "
              "ELSE pair_weight(c3) END")
    blank = f"c2 IS NULL AND {_trim('c1')} = ''"
    split = (f"SELECT *, CASE WHEN slow THEN pair_line({line}, {_quoted(layout.delimiter)}) END "
             f"AS parsed FROM (SELECT *, ({slow}) AS slow FROM {_csv_source(path, layout)} "
             f"WHERE NOT coalesce({blank}, false))")
    return _checked(
        f"SELECT CASE WHEN slow THEN parsed[1] ELSE {_item('c1')} END AS a, "
        f"CASE WHEN slow THEN parsed[2] ELSE {_item('c2')} END AS b, {weight} AS w, "
        f"CASE WHEN slow THEN parsed IS NULL ELSE c2 IS NULL END AS odd "
        f"FROM ({split}) WHERE NOT (slow AND coalesce(len(parsed) = 0, false))")


def _parquet_rows_sql(parquet: list[Path], has_weight: bool) -> str:
    """Parquet pair data's rows as (a, b, w): items as kept, weights as doubles."""
    files = "[" + ", ".join(_quoted(str(p)) for p in parquet) + "]"
    weight = "TRY_CAST(weight AS DOUBLE)" if has_weight else f"{DEFAULT_WEIGHT}::DOUBLE"
    return _checked(f"SELECT {_item('item_a')} AS a, {_item('item_b')} AS b, {weight} AS w, "
                    f"false AS odd FROM read_parquet({files})")


def _pair_line(line: str | None, delimiter: str) -> list[str] | None:
    return None if line is None else line_fields(line, delimiter)


def _pair_weight(text: str | None) -> float | None:
    return None if text is None else parse_weight(text)


def _pair_item(text: str | None) -> str | None:
    return None if text is None else clean_item(text)


@contextmanager
def _session(path: Path, memory_limit: int, *, keep_order: bool = True) -> Iterator[Any]:
    """A DuckDB connection on a database in a temporary directory, within ``memory_limit``
    bytes, spilling there; running out of memory becomes an :class:`InputError`. Without
    ``keep_order`` DuckDB need not keep rows in the file's order, which a GROUP BY written
    straight to a file does not need and which, past 10^9 rows, does not fit 2 GB."""
    duckdb = duckdb_module()
    with tempfile.TemporaryDirectory(prefix="embedstore-spill-") as scratch:
        connection = duckdb.connect(os.path.join(scratch, "aggregate.duckdb"))
        try:
            connection.execute(f"SET memory_limit = '{int(memory_limit)}B'")
            connection.execute(f"SET temp_directory = {_quoted(os.path.join(scratch, 'spill'))}")
            connection.execute(f"SET preserve_insertion_order = {str(keep_order).lower()}")
            connection.execute("SET enable_progress_bar = false")
            for name, function, parameters, result in (
                    ("pair_line", _pair_line, ["VARCHAR", "VARCHAR"], "VARCHAR[]"),
                    ("pair_weight", _pair_weight, ["VARCHAR"], "DOUBLE"),
                    ("pair_item", _pair_item, ["VARCHAR"], "VARCHAR")):
                connection.create_function(name, function, parameters, result,
                                           null_handling="special", side_effects=False)
            yield connection
        except duckdb.OutOfMemoryException as error:
            first = str(error).strip().splitlines()[0]  # DuckDB adds advice on more lines
            raise InputError(f"{path}: DuckDB ran out of memory under --memory-limit "
                             f"{memory_limit} bytes ({first}); raise the limit") from None
        finally:
            connection.close()


def _prepared(path: Path, header: bool | None) -> str:
    """The checked rows' SQL, once the Parquet footers are checked or the layout sniffed."""
    from ...inputs.parquet import check_schema, is_parquet, shards

    if is_parquet(path):
        parquet = shards(path)
        return _parquet_rows_sql(parquet, check_schema(parquet))
    return _csv_rows_sql(path, sniff(path, header))


def aggregate_rows(path: Path, *, memory_limit: int, header: bool | None = None,
                   progress: Progress | None = None) -> Rows | None:
    """The reduced rows of a pair file or Parquet pair data, aggregated by DuckDB within
    ``memory_limit`` bytes (spilling to a temporary directory); None when a row needs the
    in-memory reader's judgement (it then names the bad row, or reads the file itself)."""
    rows = _prepared(path, header)
    duckdb = duckdb_module()
    with _session(path, memory_limit) as connection:
        try:
            return _aggregate(connection, rows, progress)
        except duckdb.OutOfMemoryException:
            raise
        except duckdb.Error:
            return None


def _aggregate(connection: Any, rows: str, progress: Progress | None) -> Rows:
    """One GROUP BY straight from the file: pairs keyed by their two items in string order,
    with the sum and the first position (``2 * row + column``) of the lower item; from those
    the items' first positions, hence ids in first-seen order, with no second pass over the
    rows."""
    def step(done: int) -> None:
        if progress is not None:
            progress("aggregating", done, STEPS, None)

    run = connection.execute
    step(0)
    run("CREATE TABLE pairs AS SELECT least(a, b) AS lo, greatest(a, b) AS hi, sum(w) AS w, "
        "min(2 * rn + (a > b)::BIGINT) AS first FROM (SELECT row_number() OVER () AS rn, * "
        f"FROM ({rows})) GROUP BY ALL")
    step(1)
    # In a pair's first row the higher item sits in the other column: position first ^ 1.
    run("CREATE TABLE ids AS SELECT item, (row_number() OVER (ORDER BY min(first)) - 1)"
        "::BIGINT AS id FROM (SELECT lo AS item, first FROM pairs UNION ALL SELECT hi, "
        "xor(first, 1) FROM pairs) GROUP BY item")
    step(2)
    n_pairs = int(run("SELECT count(*) FROM pairs").fetchall()[0][0])
    keys, weights = np.empty(n_pairs, np.int64), np.empty(n_pairs, np.float64)
    done = 0
    result = connection.sql("SELECT (least(x.id, y.id) << 32) | greatest(x.id, y.id) AS key, "
                            "w FROM pairs JOIN ids x ON lo = x.item JOIN ids y ON hi = y.item")
    for batch in result.to_arrow_reader(FETCH_ROWS):  # never the whole result at once
        size = batch.num_rows
        keys[done:done + size] = batch.column(0).to_numpy()
        weights[done:done + size] = batch.column(1).to_numpy()
        done += size
    order = np.argsort(keys[:done])
    keys, weights = keys[order], weights[order]
    del order
    step(3)
    items = connection.sql("SELECT item FROM ids ORDER BY id").to_arrow_table().column(0)
    step(STEPS)
    return Rows(items=items.to_pylist(), keys=keys, weights=weights)


def write_aggregated(path: Path, output: Path, *, memory_limit: int, header: bool | None = None,
                     progress: Progress | None = None) -> int | None:
    """Aggregate pair data into one Parquet file at ``output`` (columns item_a, item_b in
    string order, weight; pairs in DuckDB's order) within ``memory_limit`` bytes, never
    bringing the pairs into Python; the number of distinct pairs written, or None (and no
    file) when a row needs the in-memory reader's judgement."""
    rows = _prepared(path, header)
    duckdb = duckdb_module()
    partial = output.with_name(f".{output.name}.partial")
    if progress is not None:
        progress("aggregating", 0, 1, None)
    with _session(path, memory_limit, keep_order=False) as connection:
        try:
            written = connection.execute(
                "COPY (SELECT least(a, b) AS item_a, greatest(a, b) AS item_b, sum(w) AS weight "
                f"FROM ({rows}) GROUP BY ALL) TO {_quoted(str(partial))} (FORMAT parquet)"
            ).fetchall()[0][0]
        except duckdb.OutOfMemoryException:
            partial.unlink(missing_ok=True)
            raise
        except duckdb.Error:
            partial.unlink(missing_ok=True)
            return None
    if not written:  # the in-memory reader says what is wrong with a file of no pairs
        partial.unlink(missing_ok=True)
        return None
    os.replace(partial, output)
    if progress is not None:
        progress("aggregating", 1, 1, None)
    return int(written)
