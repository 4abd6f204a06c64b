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
from ..errors import InputError, LocatedError
from ..progress import Progress
from .pair_file import PairAccumulator, Rows, reduce_rows
from .pair_rows import (
    COLUMNS,
    DEFAULT_WEIGHT,
    NO_PARQUET_PAIRS,
    empty_item_problem,
    null_problem,
    weight_problem,
)

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


def _items(pa: Any, batch: pa.RecordBatch, name: str) -> tuple[pa.Array, list[Any]]:
    """A batch's items as kept (:func:`pair_rows.clean_item`: trimmed, NFC), and the masks of
    its bad rows with their problems (nulls, then items left empty)."""
    column = batch.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    # pyarrow trims the characters of WHITESPACE and normalises as unicodedata does (a test
    # checks every code point)
    cleaned = pa.compute.utf8_normalize(pa.compute.utf8_trim_whitespace(column), "NFC")
    empty = pa.compute.equal(pa.compute.utf8_length(cleaned), 0).fill_null(False)
    return cleaned.cast(pa.large_string()), [(column.is_null(), null_problem(name)),
                                             (empty, empty_item_problem(name))]


def _weights(pa: Any, batch: pa.RecordBatch) -> tuple[np.ndarray, list[Any]]:
    """A batch's weights (:data:`pair_rows.DEFAULT_WEIGHT` without the column), and the masks
    of its bad rows with their problems (nulls, then weights not finite or below 0)."""
    if "weight" not in batch.schema.names:
        return np.full(batch.num_rows, DEFAULT_WEIGHT), []
    column = batch.column("weight")
    # integers past 2**53 round to the nearest float, as float() rounds them
    weights = pa.compute.cast(column, pa.float64(), safe=False).fill_null(0.0).to_numpy(
        zero_copy_only=False)
    return weights, [(column.is_null(), null_problem("weight")),
                     (~np.isfinite(weights) | (weights < 0), weight_problem)]


def _first_problem(masks: list[Any], weights: np.ndarray) -> tuple[int, str] | None:
    """The first bad row of a batch and its problem (the first found, in column order)."""
    found = []
    for order, (mask, problem) in enumerate(masks):
        bad = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(bad):
            row = int(bad[0])
            found.append((row, order, problem(float(weights[row])) if callable(problem)
                          else problem))
    return min(found)[::2] if found else None


def check_schema(parquet: list[Path]) -> bool:
    """Every shard's columns and types, from the footers only; whether they have weights.
    Shards that disagree about the weight column are refused."""
    pa = arrow()
    weights = set()
    for shard in parquet:
        try:
            schema = pa.parquet.ParquetFile(shard).schema_arrow
        except (OSError, pa.ArrowException) as error:
            raise InputError(f"{shard}: not a readable Parquet file ({error})") from None
        names = schema.names
        missing = [name for name in COLUMNS[:2] if name not in names]
        if missing:
            raise InputError(f"{shard}: no column {', '.join(missing)}; Parquet pair data has "
                             f"columns item_a, item_b[, weight] (found: {', '.join(names)})")
        for name in COLUMNS[:2]:
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
    return weights == {True}


def checked_batches(shard: Path, row_groups: list[int] | None = None,
                    first_row: int = 0) -> Iterator[tuple[pa.Array, pa.Array, np.ndarray]]:
    """The checked rows of one shard (of its ``row_groups``, the first of them row
    ``first_row + 1``), batch by batch: items as kept, weights."""
    pa = arrow()
    parquet = pa.parquet.ParquetFile(shard)
    columns = [name for name in COLUMNS if name in parquet.schema_arrow.names]
    start = first_row
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns,
                                      row_groups=row_groups):
        (a, a_bad), (b, b_bad) = _items(pa, batch, "item_a"), _items(pa, batch, "item_b")
        weights, w_bad = _weights(pa, batch)
        problem = _first_problem([*a_bad, *b_bad, *w_bad], weights)
        if problem is not None:
            raise LocatedError(str(shard), start + problem[0] + 1, problem[1], "row")
        yield a, b, weights
        start += batch.num_rows


def read_parquet_rows(path: Path, progress: Progress | None = None) -> Rows:
    """The reduced rows of a Parquet file or directory, as the CSV reader makes them."""
    pa = arrow()
    accumulator = PairAccumulator()
    found = shards(path)
    check_schema(found)
    total = sum(shard.stat().st_size for shard in found)
    done = 0
    for shard in found:
        for a, b, weights in checked_batches(shard):
            n = len(weights)
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
                done += a.nbytes + b.nbytes + weights.nbytes
                progress("reading", min(done, total), total, None)
    rows = accumulator.rows()
    if len(rows.keys) == 0:
        raise InputError(f"{path}: {NO_PARQUET_PAIRS}")
    return rows


def check_parquet(path: Path) -> None:
    """Read Parquet pair data keeping nothing: raises what :func:`read_parquet_pairs` would
    raise about its rows (the first bad row in shard order)."""
    found = shards(path)
    check_schema(found)
    rows = sum(len(weights) for shard in found for _, _, weights in checked_batches(shard))
    if not rows:
        raise InputError(f"{path}: {NO_PARQUET_PAIRS}")


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
