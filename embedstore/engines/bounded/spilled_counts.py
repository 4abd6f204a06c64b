"""Text counts under a memory limit: partial pair tables spilled to DuckDB and summed there.

:func:`embedstore.counting.windows.count_keys` hands its merged partial tables (sorted pair keys and
int64 weight numerators) to a :class:`SpilledCounts` once they outgrow their share of the
limit. Each table is appended to a DuckDB table in a temporary directory; :meth:`finish` sums
the numerators per key with DuckDB's out-of-core GROUP BY (spilling to that directory what
does not fit under the limit) into a table kept in key order. Integer sums are exact in any
order, so the counts are those of the in-memory path bit for bit. Everything later reads the
pairs back in chunks: the pair file ``embed pairs`` writes, and the row-ordered entries of the
symmetric count matrix that :mod:`embedstore.engines.bounded.disk_rows` turns into PPMI blocks on
disk.

Like :mod:`embedstore.engines.bounded.pair_aggregation`, the SQL here is DuckDB's on its own
temporary database, never
the store's SQLite.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...errors import InputError
from ...progress import Progress
from .pair_aggregation import duckdb_module

DUCKDB_SHARE = 0.25
"""DuckDB's own memory limit is this share of ``--memory-limit`` (at least
:data:`MIN_DUCKDB_BYTES`)."""
MIN_DUCKDB_BYTES = 32 * 10**6


def arrow_module() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise InputError("counting under a memory limit needs pyarrow and duckdb: "
                         "pip install 'embedstore[scale]'") from None
    return pyarrow


ARROW_TYPES = {"int64": "int64", "float64": "double"}
"""numpy dtypes that move to and from Arrow here by their buffers, and their Arrow names."""


def arrow_column(arrow: Any, values: np.ndarray) -> Any:
    """``values`` as an Arrow array over the same memory (int64 and float64; other dtypes
    through ``pyarrow.array``).

    Built from the buffer, as :func:`numpy_column` reads one back, because ``pyarrow.array``
    and ``to_numpy`` import pandas when it is installed: about 37 MB of resident memory that
    counting under a limit has no use for."""
    if values.dtype.name not in ARROW_TYPES:
        return arrow.array(values)
    values = np.ascontiguousarray(values)
    kind = arrow.type_for_alias(ARROW_TYPES[values.dtype.name])
    return arrow.Array.from_buffers(kind, len(values), [None, arrow.py_buffer(values)])


def numpy_column(column: Any) -> np.ndarray:
    """An Arrow column as numpy: a read-only view of its buffer when it is int64 or float64
    without nulls (see :func:`arrow_column`), else pyarrow's own conversion."""
    names = {arrow_name: name for name, arrow_name in ARROW_TYPES.items()}
    if str(column.type) not in names or column.null_count:
        return column.to_numpy(zero_copy_only=False)
    dtype = np.dtype(names[str(column.type)])
    return np.frombuffer(column.buffers()[1], dtype, count=len(column),
                         offset=column.offset * dtype.itemsize)


class SpilledCounts:
    """Pair keys (``low id * n_items + high id``) and summed weight numerators in DuckDB.

    Use as a context manager (or call :meth:`close`): the temporary directory goes with it.
    """

    def __init__(self, memory_limit: int, progress: Progress | None = None,
                 chunk_rows: int = 1 << 20, weight_type: str = "BIGINT") -> None:
        duckdb = duckdb_module()
        self.arrow = arrow_module()
        self.progress = progress
        self.chunk_rows = chunk_rows
        self.scratch = tempfile.TemporaryDirectory(prefix="embedstore-count-")
        self.directory = self.scratch.name
        self.connection = duckdb.connect(os.path.join(self.directory, "counts.duckdb"))
        run = self.connection.execute
        run(f"SET memory_limit = '{max(MIN_DUCKDB_BYTES, int(memory_limit * DUCKDB_SHARE))}B'")
        run(f"SET temp_directory = '{os.path.join(self.directory, 'spill')}'")
        run("SET preserve_insertion_order = false")  # true only where order is kept
        run("SET enable_progress_bar = false")
        run("SET allocator_flush_threshold = '8MB'")  # hand memory back after each query
        self.weight_type = weight_type  # BIGINT numerators, or DOUBLE weights summed nowhere
        run(f"CREATE TABLE parts (k BIGINT, n {weight_type})")
        self.spilled_keys = 0
        self.n_pairs = 0

    def add(self, keys: np.ndarray, numerators: np.ndarray) -> None:
        """Append one partial table (sorted keys, their numerators)."""
        chunk = self.arrow.Table.from_arrays([arrow_column(self.arrow, keys),
                                              arrow_column(self.arrow, numerators)],
                                             names=["k", "n"])
        self.connection.register("chunk", chunk)
        try:
            self.connection.execute("INSERT INTO parts SELECT k, n FROM chunk")
        finally:
            self.connection.unregister("chunk")
        self.spilled_keys += len(keys)
        if self.progress is not None:
            self.progress("spilling", self.spilled_keys, 0, None)

    def finish(self) -> None:
        """Sum the numerators per key, out of core, into a table kept in key order."""
        if self.progress is not None:
            self.progress("aggregating", 0, 1, None)
        run = self.connection.execute
        run(f"CREATE TABLE summed AS SELECT k, sum(n)::{self.weight_type} AS n FROM parts "
            "GROUP BY k")
        run("DROP TABLE parts")
        run("SET preserve_insertion_order = true")  # sorted once, and kept in key order
        run("CREATE TABLE pairs AS SELECT k, n FROM summed ORDER BY k")
        run("SET preserve_insertion_order = false")
        run("DROP TABLE summed")
        self.n_pairs = int(run("SELECT count(*) FROM pairs").fetchall()[0][0])
        if self.progress is not None:
            self.progress("aggregating", 1, 1, None)

    def _batches(self, query: str, keep_order: bool = False) -> Iterator[Any]:
        """The result's columns in chunks; ``keep_order``: a table's rows as stored."""
        self.connection.execute(f"SET preserve_insertion_order = {str(keep_order).lower()}")
        result = self.connection.sql(query)
        for batch in result.to_arrow_reader(self.chunk_rows):  # never the whole result
            yield tuple(numpy_column(column) for column in batch.columns)

    def pairs(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(keys, numerators) chunks in key order."""
        yield from self._batches("SELECT k, n FROM pairs", keep_order=True)

    def entries(self, n_items: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(row, column, numerator) chunks of the symmetric count matrix (both directions of
        every pair, the diagonal once) in row order, columns ascending within a row."""
        n = int(n_items)
        run = self.connection.execute
        run("SET preserve_insertion_order = true")
        run("CREATE OR REPLACE TABLE entries AS SELECT k, n FROM (SELECT k, n FROM pairs "
            f"UNION ALL SELECT (k % {n}) * {n} + k // {n}, n FROM pairs "
            f"WHERE k // {n} <> k % {n}) ORDER BY k")
        yield from self._batches(f"SELECT k // {n}, k % {n}, n FROM entries", keep_order=True)
        run("DROP TABLE entries")

    def release(self) -> None:
        """Close the database (and free DuckDB's memory), keeping the directory's other files."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def close(self) -> None:
        self.release()
        self.scratch.cleanup()

    def __enter__(self) -> SpilledCounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
