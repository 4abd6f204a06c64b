"""Pair-file aggregation under a memory limit: DuckDB's out-of-core GROUP BY.

A pair file (CSV/TSV, optionally gzipped) or Parquet pair data larger than the limit allows is
loaded into a DuckDB database in a temporary directory and reduced there: items get ids in
first-seen order, rows become id pairs and are summed per pair, and DuckDB spills to that
directory whatever does not fit under the limit. The result is the :class:`Rows` the in-memory
readers make (same item order, same pair order), so :func:`embedstore.pairs.reduce_rows` turns
it into the same :class:`Cooccurrence`. Only the distinct items and pairs come back into
memory, as numpy arrays: they are what training needs.

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
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .pairs import Layout, Rows, sniff
from .progress import Progress
from .textio import GZIP_MAGIC

MIN_MEMORY_LIMIT = 16 * 10**6
"""DuckDB needs some memory to work in; smaller limits are refused."""
DEFAULT_MEMORY_SHARE = 0.25
"""The default ``--memory-limit`` is this share of the machine's physical memory."""
SPILL_SHARE = 0.5
"""Pair data is aggregated out of core when its estimated size in memory (its size on disk;
four times that when compressed: gzip or Parquet) is over this share of the limit."""
COMPRESSION_FACTOR = 4
UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
WHITESPACE = "".join(c for c in map(chr, range(0x3000 + 1)) if c.isspace())
"""What Python's ``str.strip`` removes, for DuckDB's ``trim`` (the reader trims items)."""
FETCH_ROWS = 1 << 20
"""The distinct pairs come back from DuckDB in batches of this many rows."""
STEPS = 4
"""Steps reported as ``progress("aggregating", step, STEPS, None)``."""


def parse_memory_limit(text: str) -> int:
    """Bytes from ``256MB``, ``2GiB``, ``1.5GB`` or a plain number of bytes.

    >>> parse_memory_limit("256MB"), parse_memory_limit("1GiB"), parse_memory_limit("20000000")
    (256000000, 1073741824, 20000000)
    """
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in UNITS | {"": 1}:
        raise InputError(f"memory limit {text!r} is not a size; write it as 256MB, 4GB or 2GiB")
    value = int(float(match.group(1)) * UNITS.get(unit, 1))
    if value < MIN_MEMORY_LIMIT:
        raise InputError(f"memory limit {text!r} is below {MIN_MEMORY_LIMIT // 10**6}MB, "
                         "too little for DuckDB to work in; give at least 16MB")
    return value


def default_memory_limit_text() -> str:
    """The default limit as ``embed train --help`` shows it.

    >>> default_memory_limit_text()
    "25% of the machine's memory"
    """
    return f"{DEFAULT_MEMORY_SHARE:.0%} of the machine's memory"


def default_memory_limit() -> int:
    """:data:`DEFAULT_MEMORY_SHARE` of the machine's physical memory (1 GB when unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 10**9
    return max(MIN_MEMORY_LIMIT, int(total * DEFAULT_MEMORY_SHARE))


def needs_spill(path: Path, memory_limit: int) -> bool:
    """Whether pair data at ``path`` is big enough to aggregate out of core
    (:data:`SPILL_SHARE`)."""
    from .parquet import is_parquet, shards

    if is_parquet(path):
        size = sum(shard.stat().st_size for shard in shards(path)) * COMPRESSION_FACTOR
    else:
        with path.open("rb") as handle:
            packed = handle.read(2) == GZIP_MAGIC
        size = path.stat().st_size * (COMPRESSION_FACTOR if packed else 1)
    return size > memory_limit * SPILL_SHARE


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


def _rows_sql(path: Path, parquet: list[Path] | None, layout: Layout | None) -> str:
    """The rows as (rn, a, b, w, odd): items trimmed and in NFC, w the weight (NULL when not
    a number); ``odd`` marks an empty third field."""
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
    return (f"SELECT row_number() OVER () AS rn, nfc_normalize({_trim('a')}) AS a, "
            f"nfc_normalize({_trim('b')}) AS b, w, odd FROM {source}")


def _has_weight(parquet: list[Path]) -> bool:
    from .parquet import arrow

    pa = arrow()
    return "weight" in pa.parquet.ParquetFile(parquet[0]).schema_arrow.names


def _check_parquet_schema(parquet: list[Path]) -> None:
    """Every shard's columns and types, as the in-memory reader checks them (footers only)."""
    from .parquet import arrow

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


def aggregate_rows(path: Path, *, memory_limit: int, header: bool | None = None,
                   progress: Progress | None = None) -> Rows | None:
    """The reduced rows of a pair file or Parquet pair data, aggregated by DuckDB within
    ``memory_limit`` bytes (spilling to a temporary directory); None when a row needs the
    in-memory reader's judgement (it then names the bad row, or reads the file itself)."""
    from .parquet import is_parquet, shards

    duckdb = duckdb_module()
    parquet = shards(path) if is_parquet(path) else None
    if parquet is not None:
        _check_parquet_schema(parquet)
    layout = None if parquet is not None else sniff(path, header)
    with tempfile.TemporaryDirectory(prefix="embedstore-spill-") as scratch:
        connection = duckdb.connect(os.path.join(scratch, "aggregate.duckdb"))
        try:
            return _aggregate(connection, path, parquet, layout, memory_limit, scratch,
                              progress)
        except duckdb.Error as error:
            if isinstance(error, duckdb.OutOfMemoryException):
                raise InputError(f"{path}: DuckDB ran out of memory under --memory-limit "
                                 f"{memory_limit} bytes ({error}); raise the limit") from None
            return None
        finally:
            connection.close()


def _aggregate(connection: Any, path: Path, parquet: list[Path] | None, layout: Layout | None,
               memory_limit: int, scratch: str, progress: Progress | None) -> Rows | None:
    def step(done: int) -> None:
        if progress is not None:
            progress("aggregating", done, STEPS, None)

    run = connection.execute
    run(f"SET memory_limit = '{int(memory_limit)}B'")
    run(f"SET temp_directory = {_quoted(os.path.join(scratch, 'spill'))}")
    run("SET preserve_insertion_order = true")
    run("SET enable_progress_bar = false")
    step(0)
    run(f"CREATE TABLE raw AS {_rows_sql(path, parquet, layout)}")
    step(1)
    bad = run("SELECT count(*) FROM raw WHERE odd OR a IS NULL OR b IS NULL OR a = '' "
              "OR b = '' OR w IS NULL OR NOT isfinite(w) OR w < 0").fetchall()[0]
    if bad is None or bad[0]:
        return None
    run("CREATE TABLE ids AS SELECT item, (row_number() OVER (ORDER BY first) - 1)::BIGINT "
        "AS id FROM (SELECT item, min(pos) AS first FROM (SELECT a AS item, 2 * rn AS pos "
        "FROM raw UNION ALL SELECT b, 2 * rn + 1 FROM raw) GROUP BY item)")
    step(2)
    run("CREATE TABLE pairs AS SELECT least(x.id, y.id) AS lo, greatest(x.id, y.id) AS hi, "
        "sum(w) AS w FROM raw JOIN ids x ON raw.a = x.item JOIN ids y ON raw.b = y.item "
        "GROUP BY ALL")
    run("DROP TABLE raw")
    step(3)
    n_pairs = int(run("SELECT count(*) FROM pairs").fetchall()[0][0])
    keys, weights = np.empty(n_pairs, np.int64), np.empty(n_pairs, np.float64)
    done = 0
    result = connection.sql("SELECT (lo << 32) | hi AS key, w FROM pairs ORDER BY lo, hi")
    for batch in result.to_arrow_reader(FETCH_ROWS):  # never the whole result at once
        size = batch.num_rows
        keys[done:done + size] = batch.column(0).to_numpy()
        weights[done:done + size] = batch.column(1).to_numpy()
        done += size
    items = [row[0] for row in run("SELECT item FROM ids ORDER BY id").fetchall()]
    step(STEPS)
    return Rows(items=items, keys=keys[:done], weights=weights[:done])
