"""The read stage of training: a pair file or a text corpus, as co-occurrence counts.

A pair file is read and reduced in one pass (:mod:`embedstore.inputs.pair_file`). A text corpus is
read
by :mod:`embedstore.inputs.corpus` (a vocabulary pass, then token-id blocks) and the blocks are
counted by :mod:`embedstore.counting.windows`, which never sees the file. Either way the result is a
:class:`Cooccurrence`, the one input of every training method.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..counting.cooccurrence import Cooccurrence
from ..counting.windows import count_blocks, write_pair_chunks, write_pair_file
from ..engines.bounded.pair_aggregation import (
    aggregate_rows,
    default_memory_limit,
    needs_spill,
    write_aggregated,
)
from ..engines.bounded.text_counts import (
    DiskCooccurrence,
    count_text_within,
    default_text_memory_limit,
)
from ..errors import InputError
from ..inputs.corpus import build_vocabulary, encode
from ..inputs.pair_file import check_pair_file, read_pairs, reduce_rows
from ..inputs.parquet import (
    check_parquet,
    is_directory_target,
    is_parquet,
    is_parquet_target,
    read_parquet_pairs,
    write_parquet_pairs,
)
from ..progress import Progress
from ..schema import PairFileOptions, TextOptions


def count_text(
    path: str | Path, *, window: int = 5, min_count: int = 5, sample: float = 1e-3,
    seed: int = 0, progress: Progress | None = None,
) -> Cooccurrence:
    """Read a corpus (one sentence or paragraph per line) and count its co-occurrences.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = path.write_text("a b c\\nb a\\n")
    >>> data = count_text(path, window=2, min_count=1, sample=0)
    >>> data.items, data.item_counts.tolist()
    (['a', 'b', 'c'], [2.0, 2.0, 1.0])
    """
    path = Path(path)
    vocabulary = build_vocabulary(path, min_count, progress)
    return count_blocks(encode(path, vocabulary, progress), vocabulary, window=window,
                        sample=sample, seed=seed)


def text_reading(*, min_count: float | None = None, window: int | None = None,
                 sample: float | None = None, seed: int | None = None) -> TextOptions:
    """:class:`TextOptions` with the values given (not None) over the library defaults."""
    given = {"min_count": None if min_count is None else int(min_count), "window": window,
             "sample": sample, "seed": seed}
    return TextOptions(**{name: value for name, value in given.items() if value is not None})


def choose_reading(text: bool, *, min_count: float | None = None, header: bool | None = None,
                   window: int | None = None, sample: float | None = None,
                   seed: int | None = None) -> PairFileOptions | TextOptions:
    """How to read the file: :func:`text_reading` for a corpus, else :class:`PairFileOptions`,
    with the values given (not None) over the library defaults."""
    if text:
        return text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
    given = {"min_count": min_count, "header": header}
    return PairFileOptions(**{name: value for name, value in given.items() if value is not None})


def read_source(path: Path, reading: PairFileOptions | TextOptions,
                progress: Progress | None = None,
                memory_limit: int | None = None) -> Cooccurrence | DiskCooccurrence:
    """The counts of a pair file (:class:`PairFileOptions`) or a corpus (:class:`TextOptions`).

    Pair data bigger than ``memory_limit`` allows (None: :func:`default_memory_limit`; see
    :func:`embedstore.engines.bounded.pair_aggregation.needs_spill`) is aggregated out of core by
    DuckDB, to the same
    counts; a corpus whose pairs outgrow the limit is summed out of core and comes back as a
    :class:`DiskCooccurrence` (close it when done)."""
    if isinstance(reading, TextOptions):
        return count_text_within(path, window=reading.window, min_count=reading.min_count,
                                 sample=reading.sample, seed=reading.seed, progress=progress,
                                 memory_limit=memory_limit or default_text_memory_limit())
    return read_pair_data(path, min_count=reading.min_count, header=reading.header,
                          memory_limit=memory_limit, progress=progress)


def read_pair_data(path: str | Path, *, min_count: float = 1, header: bool | None = None,
                   memory_limit: int | None = None, spill: bool | None = None,
                   progress: Progress | None = None) -> Cooccurrence:
    """A pair file (CSV/TSV) or Parquet pair data as counts; out of core (DuckDB, within
    ``memory_limit`` bytes) when ``spill`` says so, or (None) when the data is big."""
    path = Path(path)
    limit = memory_limit or default_memory_limit()
    if path.exists() and (spill if spill is not None else needs_spill(path, limit)):
        rows = aggregate_rows(path, memory_limit=limit, header=header, progress=progress)
        if rows is not None and len(rows.keys):
            return reduce_rows(path, rows, min_count)
        check_pair_data(path, header)
    if is_parquet(path):
        return read_parquet_pairs(path, min_count=min_count, progress=progress)
    return read_pairs(path, min_count=min_count, header=header, progress=progress)


def check_pair_data(path: Path, header: bool | None) -> None:
    """What DuckDB refused, or found no pairs in, named as the in-memory readers name it (the
    first bad row in file order), in one pass that keeps nothing; a file they accept (one
    DuckDB does not read as they do: a quoted field holding a line break, mixed line endings)
    passes, to be read in memory."""
    if is_parquet(path):
        check_parquet(path)
    else:
        check_pair_file(path, header)


ENGINES = ("local", "dask")
"""``embed pairs --engine`` choices: this machine, or an existing Dask cluster."""


@dataclass(frozen=True)
class PairOutput:
    """What :func:`make_pair_data` wrote: distinct pairs, and items when known here."""

    n_pairs: int
    n_items: int | None
    output: str


def make_pair_data(inputs: str, output: str, *, pair_input: bool = False,
                   engine: str = "local", scheduler: str | None = None,
                   memory_limit: int | None = None, min_count: int | None = None,
                   window: int | None = None, sample: float | None = None,
                   seed: int | None = None, progress: Progress | None = None) -> PairOutput:
    """Count a corpus, or (``pair_input``) aggregate pair data, into pair data at ``output``
    (CSV, a ``.parquet`` file or a directory of shards), here or (``engine="dask"``) on the
    Dask cluster at ``scheduler``, which writes shards to the directory ``output``."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if (engine == "dask") != (scheduler is not None):
        raise InputError("--engine dask needs --scheduler tcp://HOST:8786, and --scheduler "
                         "needs --engine dask")
    given = {"--min-count": min_count, "--window": window, "--sample": sample, "--seed": seed}
    if pair_input and any(value is not None for value in given.values()):
        unused = ", ".join(name for name, value in given.items() if value is not None)
        raise InputError(f"{unused}: text counting settings; leave them out with --pair-input")
    if memory_limit is not None and engine == "dask":
        raise InputError("--memory-limit bounds counting and aggregating on this machine; "
                         "the Dask cluster's workers have their own limits, so leave it out")
    if engine == "dask":
        if not is_directory_target(output):
            raise InputError(f"{output}: --engine dask writes Parquet shards to a directory; "
                             "end the name with / (counts/)")
        from ..engines.cluster.dask_io import count_on_dask

        reading = text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
        counted = count_on_dask(inputs, output, scheduler=str(scheduler), text=not pair_input,
                                min_count=reading.min_count, window=reading.window,
                                sample=reading.sample, seed=reading.seed, progress=progress)
        return PairOutput(counted.n_pairs, None, output)
    if pair_input:
        aggregated = _aggregate_to_parquet(inputs, output, memory_limit, progress)
        if isinstance(aggregated, PairOutput):
            return aggregated
        cooc = read_pair_data(inputs, min_count=0, memory_limit=memory_limit, progress=progress,
                              spill=False if aggregated is False else None)
        if is_parquet_target(output):
            write_parquet_pairs(cooc, output)
        else:
            write_pair_file(cooc, output)
    else:
        n_pairs, n_items = text_to_pair_file(
            inputs, output, min_count=min_count, window=window, sample=sample, seed=seed,
            memory_limit=memory_limit, progress=progress)
        return PairOutput(n_pairs, n_items, output)
    return PairOutput(cooc.n_pairs + cooc.n_negative_pairs, cooc.n_items, output)


def _aggregate_to_parquet(inputs: str, output: str, memory_limit: int | None,
                          progress: Progress | None) -> PairOutput | bool | None:
    """Big pair data written to one ``.parquet`` file by DuckDB, out of core and without
    coming into Python (:func:`embedstore.engines.bounded.pair_aggregation.write_aggregated`);
    None when the data is small or the output is not one Parquet file, False when DuckDB
    could not read it as the in-memory readers do (after :func:`check_pair_data` found no bad
    row)."""
    path, limit = Path(inputs), memory_limit or default_memory_limit()
    if is_directory_target(output) or not is_parquet_target(output) or not path.exists() \
            or not needs_spill(path, limit):
        return None
    n_pairs = write_aggregated(path, Path(output), memory_limit=limit, progress=progress)
    if n_pairs is None:
        check_pair_data(path, None)
        return False
    return PairOutput(n_pairs, None, output)


def text_to_pair_file(corpus: str | Path, output: str | Path, *, min_count: int | None = None,
                      window: int | None = None, sample: float | None = None,
                      seed: int | None = None, memory_limit: int | None = None,
                      progress: Progress | None = None) -> tuple[int, int]:
    """Count a corpus within ``memory_limit`` (None: :func:`default_text_memory_limit`; the
    other settings: the :class:`TextOptions` defaults) and write its pairs to ``output`` as a
    pair file that training reads back to the same counts: CSV, or Parquet for a
    ``.parquet`` name (one file) or a directory (shards). Returns (pairs, items) written.

    Counts that went to disk are written to CSV chunk by chunk; Parquet takes them back into
    memory first."""
    reading = text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
    cooc = count_text_within(corpus, window=reading.window, min_count=reading.min_count,
                             sample=reading.sample, seed=reading.seed, progress=progress,
                             memory_limit=memory_limit or default_text_memory_limit())
    if isinstance(cooc, DiskCooccurrence):
        with cooc:
            if not is_parquet_target(output):
                write_pair_chunks(cooc.items, cooc.chunks(), output)
                return cooc.n_pairs, cooc.n_items
            cooc = cooc.load()  # type: ignore[assignment]
    if is_parquet_target(output):
        write_parquet_pairs(cooc, output)  # type: ignore[arg-type]
    else:
        write_pair_file(cooc, output)  # type: ignore[arg-type]
    return cooc.n_pairs, cooc.n_items
