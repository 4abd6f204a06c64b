"""Pair data as Parquet: one file, or a directory of shards, with columns
``item_a, item_b[, weight]``.

Reading gives the same :class:`Cooccurrence` as the equivalent CSV (the rows in the same order
give the same items, ids, pairs and sums): row batches are dictionary-encoded in bulk, ids are
handed out in first-seen order and pairs are reduced as :mod:`embedstore.inputs.pair_file` does.
Columns
other than these three are ignored. pyarrow is imported only here, and only when Parquet is
read or written (``pip install 'embedstore[scale]'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..counting.cooccurrence import Cooccurrence
from ..errors import InputError
from ..progress import Progress
from .pair_file import PairAccumulator, Rows, reduce_rows

if TYPE_CHECKING:
    import pyarrow as pa

MAGIC = b"PAR1"
SHARD_ROWS = 1 << 20
"""Rows per shard (and per row group) when pairs are written to a directory."""
BATCH_ROWS = 1 << 18


def arrow() -> Any:
    """pyarrow, or an error saying how to install it."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError:
        raise InputError("reading or writing Parquet needs pyarrow: "
                         "pip install 'embedstore[scale]'") from None
    return pyarrow


def is_parquet(path: Path) -> bool:
    """A directory (of shards), or a file starting with Parquet's magic bytes."""
    if path.is_dir():
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


def shards(path: Path) -> list[Path]:
    """The Parquet files of ``path``: itself, or a directory's ``*.parquet`` files by name."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.iterdir() if p.suffix == ".parquet" and p.is_file())
    if not found:
        raise InputError(f"{path}: a directory of pair data holds .parquet files, and this one "
                         "has none; write them with embed pairs -o DIRECTORY/")
    return found


def _first(mask: Any) -> int:
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])


def _items(pa: Any, batch: pa.RecordBatch, name: str, where: str, start: int) -> pa.Array:
    column = batch.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise InputError(f"{where}: column {name} has type {column.type}; items are strings "
                         "(cast the column to string)")
    if column.null_count:
        row = start + _first(column.is_null()) + 1
        raise InputError(f"{where}, row {row}: {name} is null; every pair names two items")
    column = pa.compute.utf8_normalize(pa.compute.utf8_trim_whitespace(column), "NFC")
    empty = pa.compute.equal(pa.compute.utf8_length(column), 0).to_numpy(zero_copy_only=False)
    if empty.any():
        raise InputError(f"{where}, row {start + _first(empty) + 1}: empty {name}; every pair "
                         "names two non-empty items")
    return column.cast(pa.large_string())


def _weights(pa: Any, batch: pa.RecordBatch, where: str, start: int) -> np.ndarray:
    if "weight" not in batch.schema.names:
        return np.ones(batch.num_rows, dtype=np.float64)
    column = batch.column("weight")
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise InputError(f"{where}: column weight has type {column.type}; weights are numbers "
                         "(integer or floating point)")
    if column.null_count:
        raise InputError(f"{where}, row {start + _first(column.is_null()) + 1}: weight is null; "
                         "give a number >= 0 (0 for a negative pair)")
    weights = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        row = _first(bad)
        raise InputError(f"{where}, row {start + row + 1}: weight {float(weights[row])!r} is not a "
                         "finite number >= 0 (use 0 for a negative pair)")
    return weights


def _batches(pa: Any, path: Path) -> Iterator[tuple[pa.RecordBatch, str, int]]:
    """Each shard's row batches with the shard's name and the batch's first row (0-based)."""
    for shard in shards(path):
        try:
            parquet = pa.parquet.ParquetFile(shard)
        except (OSError, pa.ArrowException) as error:
            raise InputError(f"{shard}: not a readable Parquet file ({error})") from None
        names = parquet.schema_arrow.names
        missing = [name for name in ("item_a", "item_b") if name not in names]
        if missing:
            raise InputError(f"{shard}: no column {', '.join(missing)}; Parquet pair data has "
                             f"columns item_a, item_b[, weight] (found: {', '.join(names)})")
        columns = [name for name in ("item_a", "item_b", "weight") if name in names]
        start = 0
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            yield batch, str(shard), start
            start += batch.num_rows


def read_parquet_rows(path: Path, progress: Progress | None = None) -> Rows:
    """The reduced rows of a Parquet file or directory, as the CSV reader makes them."""
    pa = arrow()
    accumulator = PairAccumulator()
    total = sum(shard.stat().st_size for shard in shards(path))
    done = 0
    for batch, where, start in _batches(pa, path):
        a = _items(pa, batch, "item_a", where, start)
        b = _items(pa, batch, "item_b", where, start)
        weights = _weights(pa, batch, where, start)
        n = batch.num_rows
        interleaved = np.empty(2 * n, dtype=np.int64)
        interleaved[0::2], interleaved[1::2] = np.arange(n), np.arange(n, 2 * n)
        both = pa.concat_arrays([a, b]).take(pa.array(interleaved))
        encoded = both.dictionary_encode()  # dictionary in first-seen order
        ids = accumulator.ids
        local = np.array([ids.setdefault(item, len(ids))
                          for item in encoded.dictionary.to_pylist()], dtype=np.int64)
        row_ids = local[encoded.indices.to_numpy(zero_copy_only=False)]
        accumulator.add_ids(row_ids[0::2], row_ids[1::2], weights)
        if progress is not None:
            done += batch.nbytes
            progress("reading", min(done, total), total, None)
    rows = accumulator.rows()
    if len(rows.keys) == 0:
        raise InputError(f"{path}: no pairs found; Parquet pair data has rows "
                         "item_a, item_b[, weight]")
    return rows


def read_parquet_pairs(path: str | Path, *, min_count: float = 1,
                       progress: Progress | None = None) -> Cooccurrence:
    """Read a Parquet file or a directory of ``*.parquet`` shards of pairs, as
    :func:`embedstore.inputs.pair_file.read_pairs` reads a CSV file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from embedstore.inputs.pair_file import read_pairs
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "pairs.csv").write_text("cat,dog\\ndog,cat,2\\ncat,car,0\\n")
    >>> data = read_pairs(folder / "pairs.csv", min_count=0)
    >>> write_parquet_pairs(data, folder / "pairs.parquet")
    >>> again = read_parquet_pairs(folder / "pairs.parquet", min_count=0)
    >>> again.items, again.weight.tolist(), again.n_negative_pairs
    (['cat', 'dog', 'car'], [3.0], 1)
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    return reduce_rows(path, read_parquet_rows(path, progress), min_count)


Chunk = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Pairs as ``(left ids, right ids, weights)``."""


def pair_table(names: pa.Array, left: np.ndarray, right: np.ndarray,
               weight: np.ndarray) -> pa.Table:
    """Pairs as a table ``item_a, item_b, weight``; ``names`` holds the items by id."""
    pa = arrow()
    return pa.table({"item_a": names.take(pa.array(left)).cast(pa.string()),
                     "item_b": names.take(pa.array(right)).cast(pa.string()),
                     "weight": pa.array(weight, type=pa.float64())})


def in_rows(chunks: Iterable[Chunk], size: int) -> Iterator[Chunk]:
    """The rows of ``chunks`` again, in pieces of ``size`` rows (the last one shorter; one
    empty piece when there are no rows)."""
    parts: list[Chunk] = []
    held, given = 0, False
    for chunk in chunks:
        start, rows = 0, len(chunk[2])
        while start < rows:
            take = min(size - held, rows - start)
            parts.append((chunk[0][start:start + take], chunk[1][start:start + take],
                          chunk[2][start:start + take]))
            held, start = held + take, start + take
            if held == size:
                yield _joined(parts)
                parts, held, given = [], 0, True
    if held or not given:
        yield _joined(parts)


def _joined(parts: list[Chunk]) -> Chunk:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    left, right, weight = (np.concatenate([part[k] for part in parts]) for k in range(3))
    return left, right, weight


def write_parquet_pairs(cooc: Cooccurrence, path: str | Path) -> None:
    """Write the pairs (positive, then negative with weight 0) as Parquet
    (:func:`write_parquet_chunks`)."""
    chunks = [(cooc.left, cooc.right, cooc.weight)]
    if cooc.n_negative_pairs:
        chunks.append((cooc.negative_left, cooc.negative_right,
                       np.zeros(cooc.n_negative_pairs)))
    write_parquet_chunks(cooc.items, chunks, path)


def write_parquet_chunks(items: list[str], chunks: Iterable[Chunk], path: str | Path) -> int:
    """Write pairs given in ``(left ids, right ids, weights)`` chunks, in order, as one Parquet
    file (row groups of :data:`SHARD_ROWS` rows) or, when ``path`` is a directory (made if
    missing), as shards of :data:`SHARD_ROWS` rows (``part-00000.parquet``, ...). Only one row
    group's pairs are in memory at a time. Returns the pairs written."""
    pa = arrow()
    directory = is_directory_target(path)
    path = Path(path)
    if directory:
        path.mkdir(parents=True, exist_ok=True)
        if any(path.glob("*.parquet")):
            raise InputError(f"{path}: the directory already holds .parquet files; write the "
                             "shards to a new or empty directory")
    names = pa.array(items, type=pa.large_string())
    schema = pa.schema([("item_a", pa.string()), ("item_b", pa.string()),
                        ("weight", pa.float64())])
    written = 0
    with ExitStack() as stack:
        writer = None if directory else stack.enter_context(pa.parquet.ParquetWriter(path,
                                                                                     schema))
        for number, (left, right, weight) in enumerate(in_rows(chunks, SHARD_ROWS)):
            table = pair_table(names, left, right, weight)
            if writer is None:
                pa.parquet.write_table(table, path / f"part-{number:05d}.parquet")
            else:
                writer.write_table(table, row_group_size=SHARD_ROWS)
            written += len(weight)
    return written


def is_directory_target(path: Path | str) -> bool:
    """An output that names a directory: one that exists, or a name ending in a separator."""
    text = str(path)
    return Path(path).is_dir() or text.endswith(("/", "\\"))


def is_parquet_target(path: Path | str) -> bool:
    """An output that is Parquet: a ``.parquet`` name or a directory."""
    return str(path).endswith(".parquet") or is_directory_target(path)
