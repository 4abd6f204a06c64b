"""Well-formed pair files generated for property tests, and the oracle saying what each one
means: shared by the hostile-input tests of every reader."""


import gzip
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
WEIGHTS = st.one_of(
    st.none(), st.just("0"), st.just("-0"), st.integers(0, 1000).map(str),
    st.integers(0, 4000).map(lambda n: repr(n / 4)),
    st.integers(0, 400).map(lambda n: f"{n / 4:e}"),
    st.integers(1, 9).map(lambda n: f" {n} "),
)


@dataclass
class PairFile:
    """A well-formed pair file and how to write it."""

    rows: list[tuple[str, str, str | None]]
    delimiter: str = ","
    header: tuple[str, ...] | None = None
    newline: str = "\n"
    bom: bool = False
    quote_all: bool = False
    blank_before: dict[int, str] = field(default_factory=dict)
    final_newline: bool = True

    def render_field(self, text: str) -> str:
        if self.quote_all or any(c in text for c in (self.delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    def lines(self) -> list[str]:
        rows = [list(self.header)] if self.header else []
        rows += [[a, b] if w is None else [a, b, w] for a, b, w in self.rows]
        lines = []
        for index, row in enumerate(rows):
            if index in self.blank_before:
                lines.append(self.blank_before[index])
            lines.append(self.delimiter.join(self.render_field(f) for f in row))
        return lines

    def text(self) -> str:
        body = self.newline.join(self.lines())
        return ("\ufeff" if self.bom else "") + body + (self.newline if self.final_newline else "")

    def content(self, compress: bool = False) -> bytes:
        data = self.text().encode("utf-8")
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


def pair_oracle(pf: PairFile, header: bool | None, min_count: float) -> ExpectedPairs | str:
    """What read_pairs must return (or the error it must raise), from the rules that
    docs/concepts.md states (items in Unicode NFC)."""
    rows: list[tuple[str, ...]] = [pf.header] if pf.header else []
    rows += [(a, b) if w is None else (a, b, w) for a, b, w in pf.rows]
    first = rows[0]
    if header is None:
        if len(first) == 3:
            try:
                float(first[2])
                header = False
            except ValueError:
                header = True
        else:
            header = (first[0].lower(), first[1].lower()) in HEADER_NAMES
    data = rows[1:] if header else rows
    if not data:
        return "no pairs found"
    sums: dict[frozenset[str], float] = {}
    seen: dict[str, int] = {}
    for row in data:
        a, b = unicodedata.normalize("NFC", row[0]), unicodedata.normalize("NFC", row[1])
        weight = float(row[2]) if len(row) == 3 else 1.0
        seen.setdefault(a, len(seen))
        seen.setdefault(b, len(seen))
        key = frozenset((a, b))
        sums[key] = sums.get(key, 0.0) + weight
    counts = dict.fromkeys(seen, 0.0)
    for key, total in sums.items():
        if total > 0:
            for item in key:
                counts[item] += total
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


