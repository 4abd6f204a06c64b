"""Pair data cut into pieces that workers read on their own, each with the in-memory readers'
own code, so that every piece's rows are the rows :func:`~embedstore.inputs.pair_file.read_pairs`
and :func:`~embedstore.inputs.parquet.read_parquet_pairs` read (the cluster's readers,
:mod:`embedstore.engines.cluster.dask_io`).

A piece is a whole pair file (gzipped, or small), a range of the lines of a big plain one, or
row groups of a Parquet shard. The planning (:func:`plan_pieces`) happens where the work is
handed out: it reads each pair file's first row (its delimiter and header) and each shard's
footer. Reading a piece (:func:`read_piece`) happens on a worker.

Two things a worker cannot know alone, settled by :func:`locate` once a piece has raised:

- The number of a line of a range: a piece counts from its own first line, so the first bad
  row in file order is found by asking every piece for its line count and first problem
  (:func:`piece_facts`). Errors are rare; the good path pays nothing for this.
- Whether a range begins inside a quoted field that holds a line break: then the range
  before it ends inside quotes (:class:`QuoteAcrossPiecesError`), and that file is read again as
  one piece.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, LocatedError
from .pair_file import OPEN_QUOTE, scan_pair_file, scan_rows, sniff
from .textio import GZIP_MAGIC, decoded_lines

PIECE_BYTES = 32 << 20
"""Bytes of input per piece (the unit of work a worker takes)."""

Add = Callable[[tuple[str, str, float]], object]


class QuoteAcrossPiecesError(InputError):
    """A range of lines ends inside a quoted field: the next range began inside it."""


@dataclass(frozen=True)
class Piece:
    """Part of the input for one worker: ``kind`` is ``file`` (a whole pair file),
    ``lines`` (the lines of a plain pair file starting in bytes ``start`` to ``end``) or
    ``parquet`` (``row_groups`` of a shard, the first being row ``start + 1``)."""

    path: str
    kind: str
    start: int = 0
    end: int | None = None
    delimiter: str = ","
    header: bool | None = None
    lines_before: int = 0
    last: bool = True
    row_groups: tuple[int, ...] = ()


def plan_pieces(files: list[str], header: bool | None,
                piece_bytes: int | None = None) -> list[Piece]:
    """The pieces of the input ``files`` in order (Parquet shards checked from their
    footers, pair files from their first row), of about ``piece_bytes`` (default
    :data:`PIECE_BYTES`) each."""
    from .parquet import check_schema, is_parquet

    piece_bytes = piece_bytes or PIECE_BYTES

    parquet = [Path(name) for name in files if is_parquet(Path(name))]
    if parquet:
        check_schema(parquet)
    pieces: list[Piece] = []
    for name in files:
        path = Path(name)
        if is_parquet(path):
            pieces += _parquet_pieces(path, piece_bytes)
        else:
            pieces += _csv_pieces(path, header, piece_bytes)
    return pieces


def _csv_pieces(path: Path, header: bool | None, piece_bytes: int) -> list[Piece]:
    layout = sniff(path, header)  # an empty file is named here
    with path.open("rb") as handle:
        packed = handle.read(2) == GZIP_MAGIC
    size = os.path.getsize(path)
    if packed or size - layout.data_offset <= piece_bytes:
        return [Piece(str(path), "file", header=header)]
    starts = list(range(layout.data_offset, size, piece_bytes))
    return [Piece(str(path), "lines", start, start + piece_bytes, layout.delimiter, header,
                  lines_before=layout.lines_before_data, last=start == starts[-1])
            for start in starts]


def _parquet_pieces(path: Path, piece_bytes: int) -> list[Piece]:
    from .parquet import arrow

    metadata = arrow().parquet.ParquetFile(path).metadata
    pieces, groups, first, row, size = [], [], 0, 0, 0
    for number in range(metadata.num_row_groups):
        group = metadata.row_group(number)
        if groups and size + group.total_byte_size > piece_bytes:
            pieces.append(Piece(str(path), "parquet", first, row_groups=tuple(groups)))
            groups, first, size = [], row, 0
        groups.append(number)
        row += group.num_rows
        size += group.total_byte_size
    if groups:
        pieces.append(Piece(str(path), "parquet", first, row_groups=tuple(groups)))
    return pieces


def _range_lines(stream: IO[bytes], start: int, end: int | None) -> Iterator[bytes]:
    """The lines that start in bytes ``start`` to ``end`` (the last may run past ``end``)."""
    if start > 0:
        stream.seek(start - 1)
        if stream.read(1) != b"\n":
            stream.readline()  # the end of a line that starts in the piece before
    position = stream.tell()
    while end is None or position < end:
        line = stream.readline()
        if not line:
            return
        position += len(line)
        yield line


def scan_piece(piece: Piece, add: Add) -> tuple[int, int]:
    """Hand the pairs of a piece of a pair file to ``add``; the pairs and the lines read. A
    bad row raises :class:`LocatedError` (in a range, numbered from the range's first line)."""
    path = Path(piece.path)
    if piece.kind == "file":
        pairs, end = scan_pair_file(path, piece.header, add)
        return pairs, end - 1
    with path.open("rb") as stream:
        lines = decoded_lines(path, _range_lines(stream, piece.start, piece.end),
                              bom=piece.start == 0)
        try:
            read, pairs = scan_rows(path, lines, piece.delimiter, add)
        except LocatedError as error:
            if error.problem == OPEN_QUOTE and not piece.last:
                raise QuoteAcrossPiecesError(f"{path}: a quoted field runs past byte "
                                        f"{piece.end}") from None
            raise
    return pairs, read


def read_piece(piece: Piece) -> tuple[Any, Any, Any]:
    """A piece's pairs in file order, checked: items as kept (arrays of str) and weights
    (float64)."""
    import numpy as np

    if piece.kind == "parquet":
        return _parquet_piece(piece)
    pairs: list[tuple[str, str, float]] = []
    scan_piece(piece, pairs.append)
    if not pairs:
        return np.empty(0, object), np.empty(0, object), np.empty(0, np.float64)
    table = np.array(pairs, dtype=object)  # n x 3, far quicker than zip(*pairs)
    return table[:, 0], table[:, 1], table[:, 2].astype(np.float64)


def _parquet_piece(piece: Piece) -> tuple[Any, Any, Any]:
    import numpy as np

    from .parquet import checked_batches

    columns: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for batch in checked_batches(Path(piece.path), list(piece.row_groups), piece.start):
        for column, values in zip(columns, batch, strict=True):
            column.append(values)
    if not columns[2]:
        return np.empty(0, object), np.empty(0, object), np.empty(0, np.float64)
    return (*(np.concatenate([c.to_numpy(zero_copy_only=False) for c in found])
              for found in columns[:2]), np.concatenate(columns[2]))


@dataclass(frozen=True)
class PieceFacts:
    """What :func:`locate` needs of a piece: its lines, its first problem, whether it ends
    inside quotes."""

    lines: int
    problem: InputError | None = None
    open_quote: bool = False


def piece_facts(piece: Piece) -> PieceFacts:
    """Read a piece keeping nothing (on a worker)."""
    try:
        if piece.kind == "parquet":
            read_piece(piece)
            return PieceFacts(0)
        return PieceFacts(scan_piece(piece, _ignore)[1])
    except QuoteAcrossPiecesError:
        return PieceFacts(0, open_quote=True)
    except InputError as error:
        return PieceFacts(0, problem=error)


def _ignore(pair: tuple[str, str, float]) -> None:
    return None


def locate(pieces: list[Piece], facts: list[PieceFacts]) -> list[Piece]:
    """Raise the first problem in file order, numbered as the in-memory reader numbers it;
    or, when a range ended inside quotes first, the pieces again with that file whole."""
    lines_before: dict[str, int] = {}
    for piece, fact in zip(pieces, facts, strict=True):
        offset = lines_before.setdefault(piece.path, piece.lines_before)
        if fact.open_quote:
            return whole(pieces, piece.path)
        if isinstance(fact.problem, LocatedError) and piece.kind == "lines":
            raise fact.problem.shifted(offset)
        if fact.problem is not None:
            raise fact.problem
        lines_before[piece.path] = offset + fact.lines
    return pieces


def whole(pieces: list[Piece], path: str) -> list[Piece]:
    """``pieces`` with the ranges of the file ``path`` replaced by the whole file."""
    kept: list[Piece] = []
    for piece in pieces:
        if piece.path != path:
            kept.append(piece)
        elif not kept or kept[-1].path != path:
            kept.append(replace(piece, kind="file", start=0, end=None, last=True))
    return kept
