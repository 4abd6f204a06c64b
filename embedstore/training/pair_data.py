"""``embed pairs``: count a corpus, or aggregate pair data, into pair data for the next step.

Here (within the memory limit, spilling to DuckDB when it must) or on a Dask cluster, whose
workers write Parquet shards; the output is CSV, one ``.parquet`` file, or a directory of
shards, and training reads it back to the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..counting.windows import write_pair_chunks, write_pair_file
from ..engines import choose_engine
from ..engines.bounded.budget import needs_spill
from ..engines.bounded.text_counts import DiskCooccurrence, count_text_within
from ..errors import InputError
from ..inputs.parquet import (
    is_directory_target,
    is_parquet_target,
    write_parquet_chunks,
    write_parquet_pairs,
)
from ..progress import Progress
from .settings import text_reading
from .sources import check_pair_data, read_pair_data


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
    choice = choose_engine(engine, scheduler, memory_limit=memory_limit,
                           pair_input=pair_input)
    given = {"--min-count": min_count, "--window": window, "--sample": sample, "--seed": seed}
    if pair_input and any(value is not None for value in given.values()):
        unused = ", ".join(name for name, value in given.items() if value is not None)
        raise InputError(f"{unused}: text counting settings; leave them out with --pair-input")
    if choice.name == "dask":
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
        aggregated = _aggregate_to_parquet(inputs, output, choice.memory_limit, progress)
        if isinstance(aggregated, PairOutput):
            return aggregated
        cooc = read_pair_data(inputs, min_count=0, memory_limit=choice.memory_limit,
                              progress=progress, spill=False if aggregated is False else None)
        if is_parquet_target(output):
            write_parquet_pairs(cooc, output)
        else:
            write_pair_file(cooc, output)
    else:
        n_pairs, n_items = text_to_pair_file(
            inputs, output, min_count=min_count, window=window, sample=sample, seed=seed,
            memory_limit=choice.memory_limit, progress=progress)
        return PairOutput(n_pairs, n_items, output)
    return PairOutput(cooc.n_pairs + cooc.n_negative_pairs, cooc.n_items, output)


def _aggregate_to_parquet(inputs: str, output: str, memory_limit: int | None,
                          progress: Progress | None) -> PairOutput | bool | None:
    """Big pair data written to one ``.parquet`` file by DuckDB, out of core and without
    coming into Python (:func:`embedstore.engines.bounded.pair_aggregation.write_aggregated`);
    None when the data is small or the output is not one Parquet file, False when DuckDB
    could not read it as the in-memory readers do (after
    :func:`~embedstore.training.sources.check_pair_data` found no bad row)."""
    from ..engines.bounded.pair_aggregation import write_aggregated

    path, limit = Path(inputs), memory_limit
    assert limit is not None
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
                      seed: int | None = None, memory_limit: int,
                      progress: Progress | None = None) -> tuple[int, int]:
    """Count a corpus within ``memory_limit`` (resolved by the caller; the
    other settings: the :class:`TextOptions` defaults) and write its pairs to ``output`` as a
    pair file that training reads back to the same counts: CSV, or Parquet for a
    ``.parquet`` name (one file) or a directory (shards). Returns (pairs, items) written.

    Counts that went to disk are written chunk by chunk, to CSV or Parquet alike: the same
    pairs in the same order as counts kept in memory."""
    reading = text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
    cooc = count_text_within(corpus, window=reading.window, min_count=reading.min_count,
                             sample=reading.sample, seed=reading.seed, progress=progress,
                             memory_limit=memory_limit)
    if isinstance(cooc, DiskCooccurrence):
        with cooc:
            write = write_parquet_chunks if is_parquet_target(output) else write_pair_chunks
            write(cooc.items, cooc.chunks(), output)
            return cooc.n_pairs, cooc.n_items
    if is_parquet_target(output):
        write_parquet_pairs(cooc, output)
    else:
        write_pair_file(cooc, output)
    return cooc.n_pairs, cooc.n_items
