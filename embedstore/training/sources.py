"""The read stage of training: a pair file or a text corpus, as counts on the chosen engine.

A pair file is read and reduced in one pass (:mod:`embedstore.inputs.pair_file`), or
aggregated out of core by DuckDB when the memory budget says so; a text corpus is read by
:mod:`embedstore.inputs.corpus` (a vocabulary pass, then token-id blocks) and counted by
:mod:`embedstore.counting.windows`, which never sees the file. :func:`open_counts` hands the
result to the methods through the engine seam (:class:`embedstore.engines.Counts`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..counting.cooccurrence import Cooccurrence
from ..counting.token_ids import CorpusCollector
from ..counting.windows import count_blocks
from ..engines import Counts, EngineChoice
from ..engines.bounded.budget import needs_spill, resolve_memory_limit
from ..engines.bounded.pair_aggregation import aggregate_rows
from ..inputs.corpus import build_vocabulary, encode
from ..inputs.pair_file import check_pair_file, read_pairs, reduce_rows
from ..inputs.parquet import check_parquet, is_parquet, read_parquet_pairs
from ..progress import Progress
from ..schema import PairFileOptions, TextOptions


def count_text(
    path: str | Path, *, window: int = 5, min_count: int = 5, sample: float = 1e-3,
    seed: int = 0, progress: Progress | None = None,
) -> Cooccurrence:
    """Read a corpus (one sentence or paragraph per line) and count its co-occurrences, all
    in memory.

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


def read_pair_data(path: str | Path, *, min_count: float = 1, header: bool | None = None,
                   memory_limit: int | None = None, spill: bool | None = None,
                   progress: Progress | None = None) -> Cooccurrence:
    """A pair file (CSV/TSV) or Parquet pair data as counts in memory; aggregated out of core
    (DuckDB, within ``memory_limit`` bytes, default
    :func:`~embedstore.engines.bounded.budget.resolve_memory_limit`) when ``spill`` says so,
    or (None) when the data is big (:func:`~embedstore.engines.bounded.budget.needs_spill`).
    """
    path = Path(path)
    limit = resolve_memory_limit(memory_limit)
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


@contextmanager
def open_counts(path: str | Path, reading: PairFileOptions | TextOptions, engine: EngineChoice,
                progress: Progress | None = None, keep_corpus: bool = False) -> Iterator[Counts]:
    """The counts of ``path`` on ``engine``, for as long as the block runs (files on disk and
    a cluster's blocks are released after it).

    Locally, within the engine's memory limit: pair data is aggregated out of core when it is
    big; a corpus whose pairs outgrow the limit is summed out of core; the PPMI matrix is
    built on disk when it would not fit (:class:`~embedstore.engines.bounded.counts.
    BoundedCounts`). On a Dask cluster, the count matrix stays on the workers. With
    ``keep_corpus`` a corpus's tokens are kept too, as ids, from the same read.
    """
    if engine.name == "dask":
        from ..engines.cluster.matrix import cluster_matrix

        assert isinstance(reading, PairFileOptions) and engine.scheduler is not None
        with cluster_matrix(str(path), scheduler=engine.scheduler, reading=reading,
                            progress=progress) as matrix:
            yield matrix
        return
    from ..engines.bounded.counts import BoundedCounts
    from ..engines.bounded.text_counts import count_text_within

    limit = engine.memory_limit
    assert limit is not None
    collector = CorpusCollector() if keep_corpus and isinstance(reading, TextOptions) else None
    if isinstance(reading, TextOptions):
        counted = count_text_within(path, window=reading.window, min_count=reading.min_count,
                                    sample=reading.sample, seed=reading.seed,
                                    progress=progress, memory_limit=limit, collector=collector)
    else:
        counted = read_pair_data(path, min_count=reading.min_count, header=reading.header,
                                 memory_limit=limit, progress=progress)
    text = collector.corpus() if collector is not None else None
    del collector  # its pieces of sentence offsets are joined in text
    counts = BoundedCounts(counted, limit, progress, text_corpus=text)
    del text  # the counts hand it to the method that streams it, and drop it then
    with counts:
        yield counts
