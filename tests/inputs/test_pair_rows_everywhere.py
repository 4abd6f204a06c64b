"""One definition of a pair row (embedstore.inputs.pair_rows), honoured by every reader.

The same hostile pair file (tests/pair_files.py: headers of every recognised kind or none, two-
and three-column rows, commas and tabs, padded and NFD items, empty fields, ``a,b,``, exotic
and bad weights, lines bad as CSV, CRLF, a BOM) is read

1. in memory (``read_pairs``),
2. out of core by DuckDB (``read_pair_data(spill=True)``),
3. as its typed equivalent in Parquet, in memory and by DuckDB (a row bad as CSV has no
   Parquet form: it becomes a null item, bad at the same row),
4. on a Dask LocalCluster of two workers (``ClusterMatrix``, what ``embed train --engine
   dask`` counts, the file cut into pieces of a few bytes or read whole; and now and then
   ``count_on_dask``, what ``embed pairs --pair-input --engine dask`` writes).

Each reads to the same items (order included), counts and pairs, or refuses with the same
one-line error naming the same row. And what the in-memory reader gives is what the documented
rules say (the oracle), so a rule broken in code the readers share is caught too.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.errors import EmbedstoreError
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.parquet import read_parquet_pairs
from embedstore.training.pair_data import make_pair_data
from embedstore.training.sources import read_pair_data
from tests.hostile import time_limit
from tests.pair_files import (
    BadRowAt,
    ExpectedPairs,
    PairFile,
    data_rows,
    hostile_pair_files,
    pair_oracle,
    pairs_of,
)

distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")

# The workers run in threads of this process and draw from `random` (for their heartbeats)
# while Hypothesis generates examples; the strategies here do not use it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies")

EXAMPLES = 50
"""max_examples: each example reads one file seven ways, three of them on the cluster."""
LIMIT = 64 * 10**6


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Two workers in threads of this process (starting and reaching them is quicker than
    processes), behind a scheduler on TCP; each reader connects to it as ``embed
    --scheduler`` does, one client at a time."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@dataclass
class Outcome:
    """What a reader made of a file: the one-line error, or items, counts and pairs."""

    error: str | None = None
    items: list[str] = field(default_factory=list)
    counts: list[float] = field(default_factory=list)
    positive: dict[frozenset[str], float] = field(default_factory=dict)
    negative: set[frozenset[str]] = field(default_factory=set)


def of(read: Callable[[], Cooccurrence | Outcome]) -> Outcome:
    """Run a reader: its counts, or its error (one line; anything else fails the test)."""
    with time_limit(60):
        try:
            got = read()
        except EmbedstoreError as error:
            assert "\n" not in str(error) and "Traceback" not in str(error), str(error)
            return Outcome(error=str(error))
    if isinstance(got, Outcome):
        return got
    return Outcome(items=got.items, counts=got.item_counts.tolist(), positive=pairs_of(got),
                   negative={frozenset((got.items[a], got.items[b])) for a, b in
                             zip(got.negative_left, got.negative_right, strict=True)})


def on_cluster(scheduler: str, path: Path, header: bool | None, min_count: float) -> Outcome:
    """What ``embed train --engine dask`` counts: the vocabulary, and the pairs of the count
    blocks held on the workers."""
    from embedstore.engines.cluster.matrix import cluster_matrix
    from embedstore.schema import PairFileOptions

    reading = PairFileOptions(min_count=min_count, header=header)
    with cluster_matrix(str(path), scheduler=scheduler, reading=reading) as matrix:
        blocks = matrix.client.gather(matrix.counts)
    items, positive, negative = matrix.items, {}, set()
    for start, block in zip(matrix.bounds[:-1].tolist(), blocks, strict=True):
        entries = block.tocoo()
        for row, column, weight in zip(entries.row + start, entries.col, entries.data,
                                       strict=True):
            if row <= column:
                pair = frozenset((items[row], items[column]))
                if weight > 0:
                    positive[pair] = float(weight)
                else:
                    negative.add(pair)
    return Outcome(items=items, counts=matrix.item_counts.tolist(), positive=positive,
                   negative=negative)


def counted_on_cluster(scheduler: str, path: Path, output: Path) -> Outcome:
    """What ``embed pairs --pair-input --engine dask`` writes, read back (pairs only: the
    shards keep no item order)."""
    shutil.rmtree(output, ignore_errors=True)
    make_pair_data(str(path), f"{output}/", pair_input=True, engine="dask",
                   scheduler=scheduler)
    return pairs_only(of(lambda: read_parquet_pairs(output, min_count=0)))


def pairs_only(outcome: Outcome) -> Outcome:
    return Outcome(outcome.error, positive=outcome.positive, negative=outcome.negative)


def typed_weight(text: str | None) -> float | None:
    """A weight's Parquet form: 1 for none, null for an empty one, NaN for one that is not a
    number (both bad, as in the CSV)."""
    if text is None:
        return 1.0
    if not text.strip():
        return None
    try:
        return float(text.strip())
    except ValueError:
        return float("nan")


def typed_rows(pf: PairFile, header: bool | None, path: Path) -> dict[int, int]:
    """Write the file's data rows as Parquet at ``path``; the Parquet row of each row."""
    columns: dict[str, list[Any]] = {"item_a": [], "item_b": [], "weight": []}
    indexes, weighted = data_rows(pf, header), False
    for index in indexes:
        if index in pf.broken:  # bad as CSV: no Parquet form, bad at the same row
            a, b, w = None, "y", None
            weight: float | None = 1.0
        else:
            fields = pf.rows[index] if index >= 0 else (*(pf.header or ()), None)[:3]
            a, b, w = fields[0], fields[1], fields[2] if len(fields) > 2 else None
            weight = typed_weight(w)
        columns["item_a"].append(a)
        columns["item_b"].append(b)
        columns["weight"].append(weight)
        weighted |= w is not None
    if not weighted:
        columns.pop("weight")  # a file of two columns
    pq.write_table(pa.table({name: pa.array(values, pa.float64() if name == "weight" else
                                            pa.string()) for name, values in columns.items()}),
                   path)
    return {index: number for number, index in enumerate(indexes, start=1)}


def expected_parquet(verdict: ExpectedPairs | BadRowAt | str, rows: dict[int, int],
                     local: Outcome, path: Path) -> Callable[[Outcome], bool]:
    """What the Parquet form must read to, from the oracle's verdict on the CSV."""
    if isinstance(verdict, BadRowAt):
        return lambda got: (got.error or "").startswith(f"{path}, row {rows[verdict.index]}: ")
    if isinstance(verdict, str):
        return lambda got: verdict in (got.error or "")
    return lambda got: got == local


def line_span(pf: PairFile, index: int) -> range:
    """The lines a row is written on."""
    if index < 0:
        first = 1 + (0 in pf.blank_before)
        return range(first, first + 1)
    start = pf.row_lines()[index]
    return range(start, start + pf.rendered()[index + bool(pf.header)].count("\n") + 1)


def check_oracle(pf: PairFile, verdict: ExpectedPairs | BadRowAt | str, local: Outcome,
                 path: Path) -> None:
    """The in-memory reader reads what the documented rules say."""
    if isinstance(verdict, BadRowAt):
        assert local.error is not None, (verdict, local)
        line = re.match(rf"{re.escape(str(path))}, line (\d+): ", local.error)
        assert line and int(line.group(1)) in line_span(pf, verdict.index), (verdict, local)
    elif isinstance(verdict, str):
        assert verdict in (local.error or ""), (verdict, local)
    else:
        assert local.error is None, local.error
        assert (local.items, local.counts) == (verdict.items, verdict.counts)
        assert (local.positive, local.negative) == (verdict.positive, verdict.negative)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(pf=hostile_pair_files(), header=st.sampled_from([None, None, None, True, False]),
       min_count=st.sampled_from([0, 0, 1]), compress=st.integers(0, 5).map(lambda n: n == 0),
       pieces=st.sampled_from([1, 2, 5, 12]), more=st.integers(0, 3))
@example(pf=PairFile([("cat", "dog", None), ("dog", "emu", None)], header=("item_a", "item_b")),
         header=None, min_count=1, compress=False, pieces=1, more=0)  # issue 23
@example(pf=PairFile([("cat", "dog", None), ("dog", "emu", "")]), header=None, min_count=1,
         compress=False, pieces=5, more=0)  # a,b, is refused everywhere
@example(pf=PairFile([("cat", "dog", "1"), ("dog", "emu", "nan")]), header=None, min_count=0,
         compress=False, pieces=2, more=1)  # NaN in Parquet, and through DuckDB (issue 25)
@example(pf=PairFile([("cat", "dog", "1"), ("dog", "emu", "1e309")]), header=None, min_count=0,
         compress=False, pieces=1, more=0)  # infinity, written in ASCII digits
@example(pf=PairFile([("cafe\u0301", "tea", None), ("caf\u00e9", "milk", None)],
                     header=("source", "target")),
         header=None, min_count=0, compress=False, pieces=2, more=1)  # NFC everywhere (issue 25)
def test_every_reader_reads_a_pair_row_alike(workdir: Path, scheduler: str, pf: PairFile,
                                            header: bool | None, min_count: float,
                                            compress: bool, pieces: int, more: int) -> None:
    path = workdir / ("rows.csv.gz" if compress else "rows.csv")
    path.write_bytes(pf.content(compress))
    piece_bytes = -(-path.stat().st_size // pieces)  # the cluster reads the file in pieces
    local = of(lambda: read_pairs(path, min_count=min_count, header=header))
    verdict = pair_oracle(pf, header, min_count)
    check_oracle(pf, verdict, local, path)
    event(f"verdict: {type(verdict).__name__ if not isinstance(verdict, str) else verdict}")
    assert of(lambda: read_pair_data(path, min_count=min_count, header=header, spill=True,
                                     memory_limit=LIMIT)) == local
    with mock.patch("embedstore.inputs.pieces.PIECE_BYTES", piece_bytes):
        assert of(lambda: on_cluster(scheduler, path, header, min_count)) == local
    if more == 0 and header is None:  # embed pairs --pair-input (no --min-count, no --header)
        everywhere = of(lambda: read_pairs(path, min_count=0))
        with mock.patch("embedstore.inputs.pieces.PIECE_BYTES", 2 * piece_bytes):
            counted = of(lambda: counted_on_cluster(scheduler, path, workdir / "counts"))
        if everywhere.error is None:
            assert counted == pairs_only(everywhere)
        elif ", line " in everywhere.error:  # not a sum past float64 or one item alone
            assert counted.error == everywhere.error

    parquet_path = workdir / "rows.parquet"
    rows = typed_rows(pf, header, parquet_path)
    parquet = of(lambda: read_parquet_pairs(parquet_path, min_count=min_count))
    assert expected_parquet(verdict, rows, local, parquet_path)(parquet), (verdict, parquet)
    assert of(lambda: read_pair_data(parquet_path, min_count=min_count, spill=True,
                                     memory_limit=LIMIT)) == parquet
    if more == 1:
        assert of(lambda: on_cluster(scheduler, parquet_path, None, min_count)) == parquet


def test_a_long_file_cut_into_many_pieces_reads_alike(workdir: Path, scheduler: str) -> None:
    """Dozens of pieces, a quoted field holding a line break across a piece's end, and a bad
    row deep in the file: named at its line, not the piece's."""
    rng = np.random.default_rng(5)
    lines = ["source,target"] + [f"n{a}, n{b} " for a, b in rng.integers(0, 50, (1000, 2))]
    lines[500] = '"multi\nline",n1'
    path = workdir / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with mock.patch("embedstore.inputs.pieces.PIECE_BYTES", 200):
        assert of(lambda: on_cluster(scheduler, path, None, 1)) == of(lambda: read_pairs(path))
        lines[900] = "n1,n2,"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        local = of(lambda: read_pairs(path))
        assert local.error is not None and local.error.startswith(f"{path}, line 902: ")
        assert of(lambda: on_cluster(scheduler, path, None, 1)) == local
