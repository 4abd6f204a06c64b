"""Counting on an existing Dask cluster: pair files aggregated, or a corpus counted, into
Parquet shards that :func:`embedstore.training.sources.read_source` (``embed train DIR``) reads.

Nothing here starts a cluster: :func:`count_on_dask` connects to a scheduler's address, hands
the work to its workers and writes ``part-NNNNN.parquet`` shards (``item_a, item_b, weight``)
to ``output``, a path every worker can write to. The input (one file, a glob, or a directory of
Parquet shards) must be readable by the workers, and embedstore must be installed on them (the
per-partition work is this module's functions).

- Pair files (CSV/TSV, optionally gzipped, or Parquet): the input is cut into pieces
  (:mod:`embedstore.inputs.pieces`) that the workers read with the in-memory readers' own code,
  so a row means on the cluster what it means here (:mod:`embedstore.inputs.pair_rows`) and a
  bad row is named as here: the first one in file order, by its line (or row). Each pair is
  written with its two items in string order, and the weights of a pair are summed on the
  cluster (a shuffled GROUP BY). The items' counts are the pair weight marginals, as for any
  pair file.
- A corpus: the workers count tokens per partition of lines (the vocabulary, with
  ``min_count``, is decided here from their counts, ties in first-seen order as locally), then
  count each partition's windows with :func:`embedstore.counting.windows.count_blocks`; pair sums
  are
  merged on the cluster. With ``sample=0`` the counts are those of ``embed pairs``; with
  subsampling, each partition draws from its own seed (``seed`` + partition number), so the
  draws differ from a local run's while following the same distribution.

Sums of fractional weights are added in another order than locally, so they may differ in the
last bit; integer weights (and the window weights of ``--window`` 1, 2 or 4) are exact.
"""

from __future__ import annotations

import glob
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ...errors import InputError
from ...inputs.pieces import Piece, locate, piece_facts, plan_pieces, read_piece
from ...progress import Progress

PARTITION_BYTES = 64 << 20
"""Bytes of a corpus per partition (the unit of work a worker takes)."""
T = TypeVar("T")
CONNECT_TIMEOUT = "10s"
"""How long to try reaching the scheduler before giving up."""
STEPS = 3
"""Steps reported as ``progress("cluster", step, STEPS, None)``."""


@dataclass(frozen=True)
class ClusterCount:
    """What a count on the cluster wrote: distinct pairs, the shard directory."""

    n_pairs: int
    output: str


def dask_modules() -> tuple[Any, Any, Any]:
    try:
        import dask.bag
        import dask.dataframe
        from distributed import Client
    except ImportError:
        raise InputError("counting on a Dask cluster needs dask and distributed: "
                         "pip install 'embedstore[scale]'") from None
    return dask.bag, dask.dataframe, Client


def connect(client_class: Any, scheduler: str) -> Any:
    """A client of the scheduler at ``scheduler``, or an error saying what to check."""
    try:
        return client_class(scheduler, timeout=CONNECT_TIMEOUT)
    except ValueError as error:  # not an address: no port, an unknown scheme
        raise InputError(f"{scheduler!r} is not a Dask scheduler address ({error}); give "
                         "tcp://HOST:8786") from None
    except (OSError, TimeoutError) as error:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({error}); check the "
                         "address (tcp://HOST:8786) and that the cluster is running") from None


def count_on_dask(inputs: str, output: str, *, scheduler: str, text: bool,
                  min_count: int = 5, window: int = 5, sample: float = 1e-3, seed: int = 0,
                  progress: Progress | None = None) -> ClusterCount:
    """Count a corpus (``text``) or aggregate pair files on the cluster at ``scheduler`` into
    Parquet shards under ``output`` (a new or empty directory)."""
    bag, dataframe, client_class = dask_modules()
    target = Path(output)
    if target.is_dir() and any(target.glob("*.parquet")):
        raise InputError(f"{output}: the directory already holds .parquet files; write the "
                         "shards to a new or empty directory")

    def step(done: int) -> None:
        if progress is not None:
            progress("cluster", done, STEPS, None)

    with connect(client_class, scheduler) as client:
        step(0)
        if text:
            pairs = _count_corpus(client, bag, dataframe, inputs, min_count, window, sample,
                                  seed)
            step(1)
            _write_sums(pairs, output)
        else:
            pieces = plan_pieces(input_files(inputs), None)
            step(1)
            located(client, pieces, lambda found: _write_sums(pair_rows(dataframe, found),
                                                              output),
                    cleanup=lambda: _remove_shards(target))
        step(2)
        from ...inputs.parquet import arrow

        pa = arrow()
        n_pairs = sum(pa.parquet.ParquetFile(shard).metadata.num_rows
                      for shard in sorted(target.glob("*.parquet")))
        if not text and not n_pairs:
            _remove_shards(target)
            raise no_pairs(inputs, pieces)
        step(STEPS)
    return ClusterCount(n_pairs=n_pairs, output=output)


def _write_sums(pairs: Any, output: str) -> None:
    """Each pair's summed weight, written by the workers as shards under ``output``."""
    summed = pairs.groupby(["item_a", "item_b"], sort=False)["weight"].sum(
        split_out=max(1, pairs.npartitions)).reset_index()
    summed.to_parquet(output, write_index=False,
                      name_function=lambda number: f"part-{number:05d}.parquet")


def _remove_shards(target: Path) -> None:
    """The shards a failed count wrote (the directory held none before)."""
    for shard in target.glob("*.parquet"):
        shard.unlink(missing_ok=True)


def located(client: Any, pieces: list[Piece], run: Callable[[list[Piece]], T],
            cleanup: Callable[[], None] | None = None) -> T:
    """``run(pieces)`` on the cluster. When a piece raised, each piece is read again keeping
    nothing (:func:`~embedstore.inputs.pieces.piece_facts`), and the first bad row in file
    order is raised as the in-memory reader names it; a file whose ranges a quoted field
    crosses is run again as one piece."""
    while True:
        try:
            return run(pieces)
        except InputError as error:
            found = error
        if cleanup is not None:
            cleanup()
        facts = client.gather(client.map(piece_facts, pieces, pure=False))
        again = locate(pieces, facts)  # raises the first problem
        if again == pieces:
            raise found
        pieces = again


def no_pairs(inputs: str, pieces: list[Piece]) -> InputError:
    """Input that held no pairs, named as the in-memory readers name it."""
    from ...inputs.pair_file import check_pair_file
    from ...inputs.pair_rows import NO_PAIRS, NO_PARQUET_PAIRS

    if pieces and pieces[0].kind != "parquet":
        check_pair_file(Path(pieces[0].path), pieces[0].header)  # raises, naming the line
    return InputError(f"{inputs}: {NO_PARQUET_PAIRS if pieces else NO_PAIRS}")


def input_files(inputs: str) -> list[str]:
    path = Path(inputs)
    if path.is_dir():
        return sorted(str(p) for p in path.glob("*.parquet"))
    found = sorted(glob.glob(inputs))
    if not found:
        raise InputError(f"{inputs}: no file matches; give a file, a glob (quote it: "
                         "'logs/*.csv.gz') or a directory of Parquet shards")
    return found


def pair_rows(dataframe: Any, pieces: list[Piece]) -> Any:
    """The pairs of the input's pieces as a dask DataFrame, the two items of each pair in
    string order (:func:`canonical_piece`)."""
    from dask import delayed

    return dataframe.from_delayed([delayed(canonical_piece)(piece) for piece in pieces],
                                  meta=pair_frame([], [], []), verify_meta=False)


def piece_frame(piece: Piece) -> Any:
    """A piece's pairs (:func:`~embedstore.inputs.pieces.read_piece`) in their own order."""
    return pair_frame(*read_piece(piece))


def canonical_piece(piece: Piece) -> Any:
    """A piece's pairs with the two items of each pair in string order."""
    a, b, weight = read_piece(piece)
    swap = a > b
    return pair_frame(np.where(swap, b, a), np.where(swap, a, b), weight)


def _count_corpus(client: Any, bag: Any, dataframe: Any, inputs: str, min_count: int,
                  window: int, sample: float, seed: int) -> Any:
    from dask import compute, delayed

    from ...inputs.corpus import vocabulary_from_counts

    files = input_files(inputs)
    lines = bag.read_text(files, blocksize=None if files[0].endswith(".gz") else PARTITION_BYTES,
                          encoding="utf-8")
    parts = lines.to_delayed()
    counted = compute(*[delayed(token_counts)(part) for part in parts])
    total: Counter[bytes] = Counter()
    for partial in counted:  # in partition order: first-seen order as locally
        total.update(partial)
    vocabulary = vocabulary_from_counts(total, min_count, inputs)
    shared = client.scatter(vocabulary, broadcast=True)
    return dataframe.from_delayed(
        [delayed(count_partition)(part, shared, window, sample, seed + number)
         for number, part in enumerate(parts)], meta=pair_frame([], [], []))


def token_counts(lines: list[str]) -> Counter[bytes]:
    """Token counts of a partition of lines, in first-seen order."""
    return Counter("".join(lines).encode("utf-8").split())


def count_partition(lines: list[str], vocabulary: Any, window: int, sample: float,
                    seed: int) -> Any:
    """A partition's windowed pair sums as a pandas DataFrame of item names."""

    from ...counting.windows import count_blocks
    from ...inputs.corpus import LINE_END, LINE_END_ID, encode_lines

    ids_of = {**vocabulary.ids, LINE_END: LINE_END_ID}
    block = encode_lines([line.encode("utf-8") for line in lines], ids_of)
    cooc = count_blocks([block], vocabulary, window=window, sample=sample, seed=seed)
    items = np.array(vocabulary.items, dtype=object)
    low, high = items[cooc.left], items[cooc.right]
    swap = low > high
    return pair_frame(np.where(swap, high, low), np.where(swap, low, high), cooc.weight)


def pair_frame(item_a: Any, item_b: Any, weight: Any) -> Any:
    """A pandas DataFrame of pairs with the one set of column types every partition has."""
    import pandas as pd

    return pd.DataFrame({"item_a": pd.Series(item_a, dtype="string"),
                         "item_b": pd.Series(item_b, dtype="string"),
                         "weight": pd.Series(weight, dtype="float64")})
