"""Pair-file aggregation under a memory limit: DuckDB's out-of-core GROUP BY.

A pair file (CSV/TSV, optionally gzipped) or Parquet pair data larger than the limit allows is
aggregated by DuckDB straight from the file, in a temporary directory where it spills whatever
does not fit under the limit. Rows are trimmed and put in NFC as they are read, and a row the
in-memory reader would judge differently stops the query at once (no separate checking pass).

For training (:func:`aggregate_rows`), one GROUP BY sums each pair (its items in string order)
and keeps the first position where the pair was seen; the items' first positions follow from
those, so items get ids in first-seen order without another pass over the rows. The result is
the :class:`Rows` the in-memory readers make (same item order, same pair order), so
:func:`embedstore.inputs.pair_file.reduce_rows` turns it into the same :class:`Cooccurrence`. Only
the
distinct items and pairs come back into memory, as numpy arrays (16 bytes per distinct pair,
twice that while they are sorted): they are what training needs. For ``embed pairs
--pair-input`` to Parquet (:func:`write_aggregated`), the GROUP BY is written to the file by
DuckDB and nothing comes back into Python.

DuckDB sums each pair's weights in its own order; integer weights (and any weights whose sums
are exact in float64) give exactly today's sums, other fractional weights may differ in the
last bit. A row DuckDB cannot take as it is (a bad weight, an empty item, a row of the wrong
length, bad UTF-8) sends the file to the in-memory reader, whose error names the file and line.

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
from ...inputs.textio import GZIP_MAGIC
from ...progress import Progress

WHITESPACE = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace())
"""What Python's ``str.strip`` removes, for DuckDB's ``trim`` (the reader trims items)."""
BAD_ROW = "a row the in-memory reader must judge"
"""DuckDB's error for such a row; the file then goes to the in-memory reader."""
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
    with path.open("rb") as handle:
        compression = "gzip" if handle.read(2) == GZIP_MAGIC else "none"
    return (f"read_csv({_quoted(str(path))}, delim={_quoted(layout.delimiter)}, quote='\"', "
            f"escape='\"', header=false, skip={layout.lines_before_data}, auto_detect=false, "
            "columns={'a': 'VARCHAR', 'b': 'VARCHAR', 'w': 'VARCHAR'}, null_padding=true, "
            f"nullstr='\x01', compression='{compression}')")


def _trim(column: str) -> str:
    """``column`` without leading and trailing white space (as ``str.strip``), the slow
    ``trim`` only for values that do not start and end in printable ASCII."""
    return (f"CASE WHEN ord({column}[1]) BETWEEN 33 AND 126 AND ord({column}[-1]) BETWEEN 33 "
            f"AND 126 THEN {column} ELSE trim({column}, {_quoted(WHITESPACE)}) END")


def _clean_rows_sql(path: Path, parquet: list[Path] | None, layout: Layout | None) -> str:
    """The rows as (a, b, w): items trimmed and in NFC, w the weight. A row the in-memory
    reader would refuse (or judge otherwise) stops the query with DuckDB's ``error``."""
    if parquet is not None:
        files = "[" + ", ".join(_quoted(str(p)) for p in parquet) + "]"
        weight = "TRY_CAST(weight AS DOUBLE)" if _has_weight(parquet) else "1.0"
        source = (f"(SELECT item_a AS a, item_b AS b, {weight} AS w, false AS odd "
                  f"FROM read_parquet({files}))")
    else:
        assert layout is not None
        source = ("(SELECT a, b, CASE WHEN w IS NULL THEN 1.0 ELSE "
                  f"TRY_CAST({_trim('w')} AS DOUBLE) END AS w, "
                  f"w IS NOT NULL AND {_trim('w')} = '' AS odd "
                  f"FROM {_csv_source(path, layout)} WHERE NOT (b IS NULL AND w IS NULL AND "
                  f"coalesce({_trim('a')}, '') = ''))")
    return ("SELECT a, b, CASE WHEN odd OR a IS NULL OR b IS NULL OR a = '' OR b = '' "
            f"OR w IS NULL OR NOT isfinite(w) OR w < 0 THEN error({_quoted(BAD_ROW)}) "
            f"ELSE w END AS w FROM (SELECT nfc_normalize({_trim('a')}) AS a, "
            f"nfc_normalize({_trim('b')}) AS b, w, odd FROM {source})")


def _has_weight(parquet: list[Path]) -> bool:
    from ...inputs.parquet import arrow

    pa = arrow()
    return "weight" in pa.parquet.ParquetFile(parquet[0]).schema_arrow.names


def _check_parquet_schema(parquet: list[Path]) -> None:
    """Every shard's columns and types, as the in-memory reader checks them (footers only)."""
    from ...inputs.parquet import arrow

    pa = arrow()
    weights = set()
    for shard in parquet:
        try:
            schema = pa.parquet.ParquetFile(shard).schema_arrow
        except (OSError, pa.ArrowException) as error:
            raise InputError(f"{shard}: not a readable Parquet file ({error})") from None
        names = schema.names
        missing = [name for name in ("item_a", "item_b") if name not in names]
        if missing:
            raise InputError(f"{shard}: no column {', '.join(missing)}; Parquet pair data has "
                             f"columns item_a, item_b[, weight] (found: {', '.join(names)})")
        for name in ("item_a", "item_b"):
            kind = schema.field(name).type
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                raise InputError(f"{shard}: column {name} has type {kind}; items are strings "
                                 "(cast the column to string)")
        weights.add("weight" in names)
        if "weight" in names:
            kind = schema.field("weight").type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                raise InputError(f"{shard}: column weight has type {kind}; weights are "
                                 "numbers (integer or floating point)")
    if len(weights) > 1:
        raise InputError(f"{parquet[0].parent}: some shards have a weight column and some do "
                         "not; give every shard the same columns")


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
            yield connection
        except duckdb.OutOfMemoryException as error:
            raise InputError(f"{path}: DuckDB ran out of memory under --memory-limit "
                             f"{memory_limit} bytes ({error}); raise the limit") from None
        finally:
            connection.close()


def _prepared(path: Path, header: bool | None) -> str:
    """The clean rows' SQL, once the Parquet footers are checked or the layout sniffed."""
    from ...inputs.parquet import is_parquet, shards

    parquet = shards(path) if is_parquet(path) else None
    if parquet is not None:
        _check_parquet_schema(parquet)
    layout = None if parquet is not None else sniff(path, header)
    return _clean_rows_sql(path, parquet, layout)


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
