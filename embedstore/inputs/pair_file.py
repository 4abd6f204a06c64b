"""Read pair files (``item_a,item_b[,weight]``) into a :class:`Cooccurrence`.

A pair file is CSV or TSV (a tab outside quotes in the first row makes it TSV), optionally
gzip-compressed (detected from its first bytes, not its name), with an optional header row.
What a row may be (its fields, items, weight and header) is :mod:`embedstore.inputs.pair_rows`,
the definition every reader of pair data shares; this reader hands it every row. Repeated rows
add up; pairs are symmetric: ``a,b`` and ``b,a`` are the same pair.

The file is read in one streaming pass. Rows are turned into integer ids and reduced into
distinct pairs chunk by chunk, so memory grows with the distinct items and pairs, not with the
length of the file. Any bad row stops the read with a :class:`LocatedError` naming the file
and the line. :func:`check_pair_file` makes the same pass keeping nothing, to name a bad row
that another reader found.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..counting.cooccurrence import Cooccurrence
from ..errors import InputError, LocatedError
from ..progress import Progress
from .pair_rows import EMPTY_FILE, NO_PAIRS, BadRow, is_header, row_fields
from .textio import BOM, decoded_lines, open_binary

_CHUNK_ROWS = 1 << 20
OPEN_QUOTE = ("a quote opened on this line never closes; check the quoting (a quote inside a "
              'quoted field is written twice: "")')


@dataclass(frozen=True)
class Rows:
    """The reduced content of a pair file: item ids in first-seen order and pair sums
    (keys sorted ascending), what every pair reader hands to :func:`reduce_rows`."""

    items: list[str]
    keys: np.ndarray  # int64: (low id << 32) | high id
    weights: np.ndarray  # float64 summed weight per key


class PairAccumulator:
    """Turns rows into ids and keeps the distinct pairs reduced, chunk by chunk."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys = np.empty(0, dtype=np.int64)
        self.weights = np.empty(0, dtype=np.float64)
        self._low: list[int] = []
        self._high: list[int] = []
        self._weight: list[float] = []

    def add(self, pair: tuple[str, str, float]) -> None:
        item_a, item_b, weight = pair
        ids = self.ids
        a = ids.setdefault(item_a, len(ids))
        b = ids.setdefault(item_b, len(ids))
        if a > b:
            a, b = b, a
        self._low.append(a)
        self._high.append(b)
        self._weight.append(weight)
        if len(self._low) >= _CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._low:
            return
        self.add_ids(np.array(self._low, dtype=np.int64), np.array(self._high, dtype=np.int64),
                     np.array(self._weight, dtype=np.float64))
        self._low, self._high, self._weight = [], [], []

    def add_ids(self, a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> None:
        """Add rows already turned into ids (``int64``), in file order: the weights of a pair
        are summed left to right in that order, as row by row."""
        keys = (np.minimum(a, b) << 32) | np.maximum(a, b)
        keys = np.concatenate([self.keys, keys])
        weights = np.concatenate([self.weights, weights])
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.weights = np.bincount(inverse, weights=weights, minlength=len(self.keys))

    def rows(self) -> Rows:
        self.flush()
        return Rows(items=list(self.ids), keys=self.keys, weights=self.weights)


def _csv_problem(path: Path, error: csv.Error, row_line: int, line: int) -> LocatedError:
    """A csv module error as a message naming the line (where the row began, for a field
    that never ends) and what to do."""
    text = str(error)
    if "unexpected end of data" in text:
        return LocatedError(path, row_line, OPEN_QUOTE)
    if "field larger than field limit" in text:
        return LocatedError(path, row_line, f"a field longer than {csv.field_size_limit()} "
                            "characters; check the quoting (is a quote left open?) or shorten "
                            "the field")
    if "new-line character seen in unquoted field" in text:
        return LocatedError(path, line, "a carriage return (\\r) inside a row; end lines with "
                            "\\n or \\r\\n, or quote the field")
    return LocatedError(path, line, f"{text}; check the quoting")


def _first_row_lines(first: str, lines: Iterator[str]) -> list[str]:
    """The lines of the first row: more than one when a quoted field holds a line break."""
    opening = [first]
    size = len(first)
    while sum(line.count('"') for line in opening) % 2 and size <= csv.field_size_limit():
        following = next(lines, None)
        if following is None:
            break
        opening.append(following)
        size += len(following)
    return opening


def _delimiter(first_row: str) -> str:
    r"""Tab when the first row has a tab outside quoted fields, else comma.

    >>> _delimiter('"New\tYork",city'), _delimiter('"a\nb"\tc'), _delimiter("a\tb")
    (',', '\t', '\t')
    """
    return "\t" if "\t" in re.sub(r'"[^"]*"', "", first_row) else ","


@dataclass(frozen=True)
class Layout:
    """How a CSV/TSV pair file begins: its delimiter, how many lines come before the first
    data row (blank lines, and the header's lines when there is a header), and the byte
    where that row starts (in the file as stored, for a file that is not gzipped; 0, before
    any byte order mark, when it is the first line)."""

    delimiter: str
    lines_before_data: int
    data_offset: int = 0


def _opening(path: Path, lines: Iterator[str]) -> tuple[list[str], list[str]]:
    """The blank lines before the first row (the header, or data), and the lines of that row
    (more than one when a quoted field spans lines); ``lines`` is left after them."""
    first = next(lines, None)
    blank = []
    while first is not None and not first.strip():
        blank.append(first)
        first = next(lines, None)
    if first is None:
        raise LocatedError(path, 1, EMPTY_FILE)
    return blank, _first_row_lines(first, lines)


def header_rule(header: bool | None) -> Callable[[list[str]], bool]:
    """Whether the first row is a header: as told, or detected (:func:`pair_rows.is_header`)."""
    return is_header if header is None else lambda fields: header


def sniff(path: Path, header: bool | None) -> Layout:
    """The :class:`Layout` of a pair file, decided as :func:`read_pairs` decides it."""
    with open_binary(path) as stream:
        bom = stream.read(len(BOM)) == BOM
        stream.seek(0)
        blank, opening = _opening(path, decoded_lines(path, stream))
    delimiter = _delimiter("".join(opening))
    row = next(csv.reader(opening, delimiter=delimiter), [])
    before = blank + opening if header_rule(header)(row) else blank
    offset = len(BOM) * bom + sum(len(line.encode("utf-8")) for line in before)
    return Layout(delimiter, len(before), offset if before else 0)


def scan_rows(path: Path, lines: Iterator[str], delimiter: str,
              add: Callable[[tuple[str, str, float]], object], *,
              header: Callable[[list[str]], bool] | None = None,
              tick: Callable[[], None] | None = None, offset: int = 0) -> tuple[int, int]:
    """Hand every pair of the rows in ``lines`` to ``add`` (:func:`pair_rows.row_fields`),
    the first row left out when ``header`` says it is one; the lines read and the pairs
    handed over. A bad row raises :class:`LocatedError` naming its line, counted from the
    first of ``lines`` as line ``offset + 1``."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    line = pairs = 0
    try:
        for index, fields in enumerate(reader):
            line = reader.line_num
            if index == 0 and header is not None and header(fields):
                continue
            try:
                pair = row_fields(fields, delimiter)
            except BadRow as bad:
                raise LocatedError(path, line + offset, str(bad)) from None
            if pair is not None:
                add(pair)
                pairs += 1
            if tick is not None and index & 0xFFFF == 0:
                tick()
    except csv.Error as error:
        raise _csv_problem(path, error, line + offset + 1, reader.line_num + offset) from None
    return reader.line_num, pairs


def scan_pair_file(path: Path, header: bool | None,
                   add: Callable[[tuple[str, str, float]], object],
                   progress: Progress | None = None) -> tuple[int, int]:
    """One pass over a pair file handing its pairs to ``add``; the pairs handed over, and
    the line after the last (where a file of no pairs is named). A bad row or an empty file
    raises :class:`LocatedError`."""
    total = path.stat().st_size if path.is_file() else 0
    with open_binary(path) as stream:
        lines = decoded_lines(path, stream)
        blank, opening = _opening(path, lines)

        def all_lines() -> Iterator[str]:
            yield from opening
            yield from lines

        def tick() -> None:
            if progress is not None:
                progress("reading", _position(stream), total, None)

        read, pairs = scan_rows(path, all_lines(), _delimiter("".join(opening)), add,
                                header=header_rule(header), tick=tick, offset=len(blank))
    if progress is not None:
        progress("reading", total, total, None)
    return pairs, len(blank) + read + 1


def check_pair_file(path: Path, header: bool | None = None) -> None:
    """Read a pair file keeping nothing: raises what :func:`read_pairs` would raise about its
    rows (the first bad row in file order), in memory that does not grow with the file."""
    pairs, end = scan_pair_file(path, header, _ignore)
    if not pairs:
        raise LocatedError(path, end, NO_PAIRS)


def _ignore(pair: tuple[str, str, float]) -> None:
    return None


def _read_rows(path: Path, header: bool | None, progress: Progress | None) -> Rows:
    accumulator = PairAccumulator()
    pairs, end = scan_pair_file(path, header, accumulator.add, progress)
    if not pairs:
        raise LocatedError(path, end, NO_PAIRS)
    return accumulator.rows()


def _position(stream: IO[bytes]) -> int:
    raw = getattr(stream, "fileobj", stream)
    try:
        return int(raw.tell())
    except (OSError, ValueError, AttributeError):
        return 0


def read_pairs(
    path: str | Path,
    *,
    min_count: float = 1,
    header: bool | None = None,
    progress: Progress | None = None,
) -> Cooccurrence:
    """Read a pair file and aggregate it into distinct items and pairs.

    Parameters
    ----------
    path:
        CSV or TSV file, optionally gzip-compressed.
    min_count:
        Items whose count (the summed weight of the positive pairs they are in) is below this
        are dropped, with their pairs. An item seen only in negative pairs has count 0.
    header:
        ``True`` or ``False`` to say whether the first row is a header; ``None`` detects it: a
        first row is a header when its third field is not a number, or when its two fields are
        one of :data:`embedstore.inputs.pair_rows.HEADER_NAMES`.
    progress:
        Called now and then as ``progress("reading", bytes read, file size, None)``.

    Returns
    -------
    Cooccurrence
        Items ordered by count (descending, ties in first-seen order). A pair whose weights sum
        to more than 0 is positive; a pair seen only with weight 0 is an explicit negative.

    Raises
    ------
    InputError
        On a missing or unreadable file, bad UTF-8, a row without 2 or 3 columns, an empty
        item, an empty weight, a weight that is not a finite number >= 0, an empty file, or
        fewer than two items left after ``min_count``. The message names the file and the
        line (:mod:`embedstore.inputs.pair_rows` says what a row may be).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.csv"
    >>> _ = path.write_text("cat,dog\\ndog,cat,2\\ncat,car,0\\n")
    >>> data = read_pairs(path, min_count=0)
    >>> data.items, data.weight.tolist(), data.n_negative_pairs
    (['cat', 'dog', 'car'], [3.0], 1)
    """
    path = Path(path)
    return reduce_rows(path, _read_rows(path, header, progress), min_count)


def reduce_rows(path: Path, rows: Rows, min_count: float) -> Cooccurrence:
    """Drop the items below ``min_count`` and order the rest by count (ties: first seen)."""
    # Few copies of the pair arrays at once (they are the biggest thing in memory): zero
    # weights for the negative pairs add nothing, so the sums are those of the positive pairs.
    n_items = len(rows.items)
    positive = rows.weights > 0
    positive_weight = np.where(positive, rows.weights, 0.0)
    low, high = rows.keys >> 32, rows.keys & 0xFFFFFFFF
    counts = np.bincount(low, weights=positive_weight, minlength=n_items)
    with np.errstate(over="ignore"):  # an overflow is refused below, in one line
        counts += np.bincount(high, weights=positive_weight, minlength=n_items)
    del positive_weight
    check_sums(path, rows.items, counts)
    keep = counts >= min_count
    if int(keep.sum()) < 2:
        raise InputError(
            f"{path}: fewer than two items have a count of at least {min_count:g}; "
            "lower --min-count or add pairs"
        )
    order = count_order(counts)
    order = order[keep[order]]
    new_id = np.full(len(rows.items), -1, dtype=np.int64)
    new_id[order] = np.arange(len(order))
    left = new_id[low]
    del low
    right = new_id[high]
    del high
    valid = (left >= 0) & (right >= 0)
    smaller = np.minimum(left, right)
    np.maximum(left, right, out=right)
    left = smaller
    pos, neg = valid & positive, valid & ~positive
    return Cooccurrence(
        items=[rows.items[i] for i in order],
        item_counts=counts[order],
        left=left[pos],
        right=right[pos],
        weight=rows.weights[pos],
        negative_left=left[neg],
        negative_right=right[neg],
    )


def check_sums(path: Path | str, items: Sequence[str], counts: np.ndarray) -> None:
    """Refuse counts that overflowed float64, naming the (first) item with the largest."""
    with np.errstate(over="ignore"):  # no RuntimeWarning beside the error
        total = counts.sum()
    if not np.isfinite(total):
        item = items[int(np.argmax(counts))]
        raise InputError(f"{path}: the weights add up to more than {np.finfo(np.float64).max:.3g} "
                         f"(item {item!r} has the largest sum); scale the weights down")


def count_order(counts: np.ndarray) -> np.ndarray:
    """Item order: counts descending, ties in first-seen order (a stable sort). Counts are
    compared to 40 of their 53 bits, so that sums of fractional weights added in another
    order (on a cluster, out of core) give the same order.

    >>> count_order(np.array([1.0, 3.0, 0.1 + 0.2, 0.3, 3.0])).tolist()
    [1, 4, 0, 2, 3]
    """
    mantissa, exponent = np.frexp(counts)
    return np.argsort(-np.ldexp(np.round(mantissa * 2.0**40), exponent - 40), kind="stable")
