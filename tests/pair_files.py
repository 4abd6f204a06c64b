"""Pair files generated for property tests, and the oracle saying what each one means:
shared by the hostile-input tests of every reader. :func:`pair_files` makes well-formed
files; :func:`hostile_pair_files` adds rows that break the rules of a pair row (empty fields,
bad and exotic weights, items in NFD and padded with white space, lines that are bad as CSV),
each at a known row, so the oracle also says which row a reader must refuse."""


import gzip
import math
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from embedstore.counting.cooccurrence import Cooccurrence
from tests.hostile import (
    nfc,
)

HEADER_NAMES = {("item_a", "item_b"), ("item1", "item2"), ("source", "target"), ("src", "dst")}
PAIR_HEADERS = [("item_a", "item_b"), ("SRC", "dst"), ("source", "target"), ("Item1", "item2"),
                ("item_a", "item_b", "weight"), ("a", "b", "count")]
SPECIAL_ITEMS = [
    "'; DROP TABLE items; --", "Robert'); DROP TABLE versions;--", 'say "hi"', "a,b", "x\ny",
    "x\r\ny", "1e400", "nan", "0", "-1", "src", "dst", "Item_A", "ITEM_B", "日本語", "naïve",
    "a\x00b", "x\u2028y", "New\tYork", '"', "''", "%", "_",
]


def clean_item(text: str) -> bool:
    """Items as the reader gives them back: non-empty, trimmed; a BOM can only be data later."""
    return bool(text) and text == text.strip() and not text.startswith("\ufeff")


ITEMS = st.one_of(st.sampled_from(SPECIAL_ITEMS),
                  st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)).filter(clean_item)
NUMBERS = [
    st.just("0"), st.just("-0"), st.integers(0, 1000).map(str),
    st.integers(0, 4000).map(lambda n: repr(n / 4)),
    st.integers(0, 400).map(lambda n: f"{n / 4:e}"),
    st.integers(1, 9).map(lambda n: f" {n} "),
]
WEIGHTS = st.one_of(st.none(), *NUMBERS)
GIVEN_WEIGHTS = st.one_of(*NUMBERS)


@dataclass
class PairFile:
    """A pair file and how to write it: ``rows`` as their fields; a row in ``raw`` is written
    as that line instead (the same fields, written another way), a row in ``broken`` as its
    line there, one that is bad as CSV (its fields in ``rows`` are then ignored)."""

    rows: list[tuple[str, str, str | None]]
    delimiter: str = ","
    header: tuple[str, ...] | None = None
    newline: str = "\n"
    bom: bool = False
    quote_all: bool = False
    blank_before: dict[int, str] = field(default_factory=dict)
    final_newline: bool = True
    raw: dict[int, str] = field(default_factory=dict)
    broken: frozenset[int] = frozenset()

    def render_field(self, text: str) -> str:
        if self.quote_all or any(c in text for c in (self.delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    def rendered(self) -> list[str]:
        """The header's line and each row's (they may hold line breaks inside quotes)."""
        rendered = [self.delimiter.join(self.render_field(f) for f in self.header)] \
            if self.header else []
        for index, (a, b, w) in enumerate(self.rows):
            fields = [a, b] if w is None else [a, b, w]
            rendered.append(self.raw[index] if index in self.raw else
                            self.delimiter.join(self.render_field(f) for f in fields))
        return rendered

    def lines(self) -> list[str]:
        lines = []
        for index, line in enumerate(self.rendered()):
            if index in self.blank_before:
                lines.append(self.blank_before[index])
            lines.append(line)
        return lines

    def row_lines(self) -> list[int]:
        """The line on which each of ``rows`` begins."""
        starts, line = [], 1
        for index, text in enumerate(self.rendered()):
            line += index in self.blank_before
            starts.append(line)
            line += 1 + text.count("\n")
        return starts[1:] if self.header else starts

    def text(self) -> str:
        body = self.newline.join(self.lines())
        return ("\ufeff" if self.bom else "") + body + (self.newline if self.final_newline else "")

    def content(self, compress: bool = False) -> bytes:
        """The file's bytes (a broken row's bad UTF-8 is held as surrogate escapes)."""
        data = self.text().encode("utf-8", "surrogateescape")
        return gzip.compress(data, mtime=0) if compress else data


@st.composite
def pair_files(draw: st.DrawFn, items: st.SearchStrategy[str] = ITEMS,
               max_rows: int = 12) -> PairFile:
    delimiter = draw(st.sampled_from([",", "\t"]))
    usable = items if delimiter == "\t" else items.filter(lambda s: "\t" not in s)
    pool = draw(st.lists(usable, min_size=2, max_size=8,
                         unique_by=nfc))
    pairs = st.tuples(st.sampled_from(pool), st.sampled_from(pool), WEIGHTS)
    rows = draw(st.lists(pairs.filter(lambda r: r[0] != r[1]), min_size=1, max_size=max_rows))
    return draw(laid_out(rows, delimiter))


@st.composite
def laid_out(draw: st.DrawFn, rows: list[tuple[str, str, str | None]],
             delimiter: str) -> PairFile:
    """``rows`` as a file: a header or none, blank lines, line ends, a BOM, quoting."""
    n_lines = len(rows) + 1
    blanks = draw(st.dictionaries(st.integers(0, n_lines - 1), st.sampled_from(["", " ", "   "]),
                                  max_size=2))
    return PairFile(
        rows=rows, delimiter=delimiter, header=draw(st.one_of(st.none(),
                                                              st.sampled_from(PAIR_HEADERS))),
        newline=draw(st.sampled_from(["\n", "\r\n"])), bom=draw(st.booleans()),
        quote_all=draw(st.booleans()), blank_before=blanks, final_newline=draw(st.booleans()),
    )


@dataclass
class ExpectedPairs:
    items: list[str]
    counts: list[float]
    positive: dict[frozenset[str], float]
    negative: set[frozenset[str]]


@dataclass(frozen=True)
class BadRowAt:
    """The oracle's verdict on a file with a bad row: the first one (an index of ``rows``)."""

    index: int


def first_row_is_header(first: tuple[str, ...]) -> bool:
    """The documented rule: three fields whose third is not a number, or two header names."""
    if len(first) == 3:
        try:
            float(first[2].strip())
        except ValueError:
            return True
        return False
    return (first[0].strip().lower(), first[1].strip().lower()) in HEADER_NAMES


def data_rows(pf: PairFile, header: bool | None) -> list[int]:
    """The indexes of the rows that are data (not taken for the header)."""
    if pf.header is not None:
        return list(range(len(pf.rows))) if header is not False else [-1, *range(len(pf.rows))]
    a, b, w = pf.rows[0]
    first = (a, b) if w is None else (a, b, w)
    skip = header if header is not None else first_row_is_header(first)
    return list(range(1 if skip else 0, len(pf.rows)))


def row_verdict(a: str, b: str, weight: str | None) -> tuple[str, str, float] | None:
    """A row's pair by the documented rules (items trimmed and in NFC, a weight that float()
    reads, finite and >= 0, or none), or None for a bad row."""
    a, b = nfc(a.strip()), nfc(b.strip())
    if not a or not b:
        return None
    if weight is None:
        return a, b, 1.0
    try:
        value = float(weight.strip())
    except ValueError:
        return None
    return (a, b, value) if math.isfinite(value) and value >= 0 else None


def pair_oracle(pf: PairFile, header: bool | None,
                min_count: float) -> ExpectedPairs | BadRowAt | str:
    """What read_pairs must return, the row it must refuse, or the error it must raise, from
    the documented rules."""
    rows: list[tuple[str, str, float]] = []
    for index in data_rows(pf, header):
        if index < 0:  # a header row taken for data
            fields = pf.header or ()
            verdict = row_verdict(*fields[:2], fields[2] if len(fields) == 3 else None)
        else:
            verdict = None if index in pf.broken else row_verdict(*pf.rows[index])
        if verdict is None:
            return BadRowAt(index)
        rows.append(verdict)
    if not rows:
        return "no pairs found"
    sums: dict[frozenset[str], float] = {}
    seen: dict[str, int] = {}
    for a, b, weight in rows:
        seen.setdefault(a, len(seen))
        seen.setdefault(b, len(seen))
        key = frozenset((a, b))
        sums[key] = sums.get(key, 0.0) + weight
    counts = dict.fromkeys(seen, 0.0)
    for key, total in sums.items():
        if total > 0:
            for item in key:
                counts[item] += total * (2 if len(key) == 1 else 1)
    if not math.isfinite(sum(counts.values())):
        return "the weights add up to more than"
    kept = [item for item in seen if counts[item] >= min_count]
    if len(kept) < 2:
        return "fewer than two items"
    kept.sort(key=lambda item: (-counts[item], seen[item]))
    inside = set(kept)
    return ExpectedPairs(
        items=kept, counts=[counts[item] for item in kept],
        positive={k: w for k, w in sums.items() if w > 0 and k <= inside},
        negative={k for k, w in sums.items() if w == 0 and k <= inside},
    )


def check_cooccurrence(data: Cooccurrence) -> None:
    """What any successful read must satisfy, whatever the input."""
    n = len(data.items)
    assert n >= 2 and len(set(data.items)) == n
    for item in data.items:
        assert isinstance(item, str) and item and item == item.strip()
        item.encode("utf-8")  # no lone surrogates
    assert np.isfinite(data.item_counts).all() and (data.item_counts >= 0).all()
    assert np.isfinite(data.weight).all() and (data.weight > 0).all()
    for left, right in ((data.left, data.right), (data.negative_left, data.negative_right)):
        assert ((left >= 0) & (left <= right) & (right < n)).all()


def pairs_of(data: Cooccurrence) -> dict[frozenset[str], float]:
    return {frozenset((data.items[a], data.items[b])): float(w)
            for a, b, w in zip(data.left, data.right, data.weight, strict=True)}




# -- hostile rows: what a pair row may not be, each at a known row ----------------------------

NFD_ITEMS = ["cafe\u0301", "caf\u00e9", "A\u030a", "\u212b", "\u00c5", "\u1100\u1161", "\uac00",
             "e\u0301\u0301", "\u0661\u0662", "\uff11"]
"""Spellings that differ only in Unicode normalisation (several are one item), and digits of
other scripts as items."""
HOSTILE_ITEMS = st.one_of(ITEMS, st.sampled_from(NFD_ITEMS),
                          ITEMS.map(lambda s: unicodedata.normalize("NFD", s)).filter(clean_item))
PADDING = ["", "", "", " ", "  ", "\u00a0", "\u3000", "\u2003", "\x1f"]
"""White space that items and weights are trimmed of (U+001F is white space to str.strip)."""
EXOTIC_WEIGHTS = ["\u0663", "\u0661\u0662", "\uff11", "1_000", "+2", ".5", "2.", "1E2", "0e0",
                  "\u0663.\u0665", "\u00a02\u2003", "-0", "-0.0", "1e-400", "1e308"]
"""Weights Python's float() reads: the local reader takes them, so every reader must."""
BAD_WEIGHTS = ["", " ", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "-1", "0x10", "x",
               "1__0", "2 3", "1,5"]
"""Weights no reader may take ("" is a,b,: refused, with a message saying what to write)."""
BROKEN_LINES = ["x", "x{d}y{d}1{d}2", "x{o}y", 'x{d}"y"z', '"x" {d}y', "a\rb{d}c",
                "x\udcff{d}y", "x{d}y\udcc3", "x" * 140_000 + "{d}y"]
"""Lines that are bad as CSV on their own (bad UTF-8 held as surrogate escapes)."""
UNCLOSED = '"x{d}y'
"""A quote that never closes: only ever the last row."""
RAW_ROWS = [(' "x"{d}y', (' "x"', "y", None)), ('x"y{d}z{d}2', ('x"y', "z", "2")),
            ('"a{d}b"{d}"c""d"{d}3', ("a{d}b", 'c"d', "3"))]
"""Rows written as they are, and the fields they hold: quotes only open a field at its start."""


MISCHIEF = ["none", "none", "rows", "fields", "both"]
"""What a hostile file may hold besides exotic but valid rows: broken or odd lines (rows),
empty items and bad weights (fields), or both."""


@st.composite
def hostile_row(draw: st.DrawFn, pool: list[str], columns: str, fields: bool,
                pad: st.SearchStrategy[str]) -> tuple[str, str, str | None]:
    a = draw(st.sampled_from(pool))
    b = draw(st.sampled_from([item for item in pool if item != a]))  # some are one in NFC
    a, b = draw(pad) + a + draw(pad), draw(pad) + b + draw(pad)
    if fields and draw(st.integers(0, 9)) == 0:
        a = draw(st.sampled_from(["", " ", "\u3000"]))
    weight = None if columns == "two" else draw(WEIGHTS if columns == "mixed" else GIVEN_WEIGHTS)
    if weight is not None and draw(st.integers(0, 3)) == 0:
        weight = draw(st.sampled_from(EXOTIC_WEIGHTS + BAD_WEIGHTS if fields else
                                      EXOTIC_WEIGHTS))
    if weight is not None:
        weight = draw(pad) + weight + draw(pad)
    return a, b, weight


@st.composite
def hostile_pair_files(draw: st.DrawFn, max_rows: int = 8) -> PairFile:
    """A pair file whose rows may break the rules: two- or three-column files with any
    recognised header (or none), padded and NFD items, exotic weights and, by its
    :data:`MISCHIEF`, empty items, bad weights and lines bad as CSV; a bad row is never the
    first (it would be read as the header, or decide the delimiter)."""
    d = draw(st.sampled_from([",", "\t"]))
    mischief = draw(st.sampled_from(MISCHIEF))
    usable = HOSTILE_ITEMS if d == "\t" else HOSTILE_ITEMS.filter(lambda s: "\t" not in s)
    pool = draw(st.lists(usable, min_size=2, max_size=8, unique=True))
    columns = draw(st.sampled_from(["two", "three", "mixed"]))
    pad = st.sampled_from(PADDING if d == "\t" else [p for p in PADDING if p != "\t"])
    rows = draw(st.lists(hostile_row(pool, columns, mischief in ("fields", "both"), pad),
                         min_size=1, max_size=max_rows))
    pf = draw(laid_out(rows, d))
    other = "," if d == "\t" else "\t"
    odd = draw(st.sets(st.integers(1, len(rows) - 1), min_size=1, max_size=2)) \
        if len(rows) > 1 and mischief in ("rows", "both") else set()
    for index in odd:
        kind = draw(st.sampled_from(["broken", "broken", "raw", "unclosed"]))
        if kind == "raw":
            line, (a, b, w) = draw(st.sampled_from(RAW_ROWS))
            pf.raw[index] = line.format(d=d)
            rows[index] = (a.format(d=d), b, w if columns != "two" else None)
            if columns == "two" and w is not None:
                pf.raw[index] = pf.raw[index].rsplit(d, 1)[0]
        elif kind == "broken" or index < len(rows) - 1:
            pf.raw[index] = draw(st.sampled_from(BROKEN_LINES)).format(d=d, o=other)
            pf.broken |= {index}
        else:
            pf.raw[index] = UNCLOSED.format(d=d)
            pf.broken |= {index}
    return pf
