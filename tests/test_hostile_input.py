"""Hostile input: property-based tests of every parser, through the library and the CLI.

For every input a parser either returns what the input means (checked against an oracle
written here for generated well-formed files) or raises an :class:`EmbedstoreError` whose
message is one line naming the file (and the line or byte where that makes sense). Any other
exception fails the test with its traceback. A hang fails it too: every example runs under a
real time limit (SIGALRM), besides Hypothesis' ``deadline``. At the CLI, a failure is exit
code 1, one line on stderr, no traceback and a store left exactly as it was.

The number of examples of every property is explicit (:data:`EXAMPLES`, per parser); run
``pytest tests/test_hostile_input.py --hypothesis-show-statistics`` to see how many each test
tried.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import signal
import struct
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner, Result
from embedstore_cli.main import cli
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import embedstore
from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.errors import EmbedstoreError, InputError
from embedstore.inputs import corpus
from embedstore.inputs.corpus import build_vocabulary, encode
from embedstore.inputs.pair_file import read_pairs
from embedstore.inputs.vector_files import VectorTable, read_vectors
from embedstore.query.embeddings import run_batch
from embedstore.schema import SgnsSettings
from embedstore.store import Store
from embedstore.training.pipeline import train_pairs
from embedstore.training.publish import publish_vectors
from embedstore.training.sources import count_text
from embedstore.transfer import export_version, import_file


def nfc(text: str) -> str:
    """Items are stored in Unicode normal form C."""
    return unicodedata.normalize("NFC", text)


# A warning is output too (an extra stderr line at the CLI): treat it as a failure.
pytestmark = pytest.mark.filterwarnings("error",
                                        "ignore::hypothesis.errors.HypothesisWarning")

EXAMPLES = {
    # parser: {property: max_examples}
    "pairs": {"oracle": 200, "bad row": 150, "hostile": 200, "gzip damage": 80, "cli": 20},
    "corpus": {"oracle": 150, "encode": 80, "bad line": 60, "hostile": 150},
    "batch": {"library": 150, "cli": 20},
    "formats": {"oracle": 200, "hostile": 200, "npy header": 100, "binary truncation": 80,
                "cli": 20},
    "round trip": {"train and similar": 15, "import and export": 40},
}
"""max_examples of every property test, by parser and property."""

ALL_CHECKS = list(HealthCheck)


def budget(parser: str, prop: str, seconds: float = 3) -> settings:
    return settings(max_examples=EXAMPLES[parser][prop], deadline=timedelta(seconds=seconds),
                    suppress_health_check=ALL_CHECKS)


@contextmanager
def time_limit(seconds: float = 20) -> Iterator[None]:
    """Fail (instead of hanging) when the body runs longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s: the parser hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


LOCATION = re.compile(r", (line|byte) (\d+): ")


def check_error(error: BaseException, *files: Path, max_line: int | None = None,
                max_byte: int | None = None) -> str:
    """``error`` is an EmbedstoreError with a one-line message that names one of ``files``."""
    assert isinstance(error, EmbedstoreError), f"{type(error).__name__}: {error!r}"
    message = str(error)
    assert message and "\n" not in message and "\r" not in message, repr(message)
    assert any(message.startswith((f"{f}: ", f"{f}, ")) for f in files), message
    located = LOCATION.search(message)
    if located and located.group(1) == "line" and max_line is not None:
        assert 1 <= int(located.group(2)) <= max_line, message
    if located and located.group(1) == "byte" and max_byte is not None:
        assert 0 <= int(located.group(2)) <= max_byte, message
    return message


def parse(function: Callable[[], Any]) -> tuple[Any, EmbedstoreError | None]:
    """Call ``function`` under the time limit: (result, None) or (None, the library error)."""
    with time_limit():
        try:
            return function(), None
        except EmbedstoreError as error:
            return None, error


# -- byte-level damage shared by the hostile properties ---------------------------------------

LONG_LINE = b"x" * (1 << 20)
SNIPPETS = [
    b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\r", b"\r\n",
    b"\n", b",", b"\t", b" ", b'"', b'"never closed', b"1e400", b"-1e400", b"1" + b"0" * 500,
    b"nan", b"NaN", b"inf", b"-inf", b"-1", b"-0", b"1e39", b"0x10", b"1_000",
    "\u00b2".encode(), "\u0661".encode(), b",,", b"\n,\n", b"\n \n", b"\x1f\x8b", b"\x00\x01\x00",
    b"99999999999999999999", b"0",
]


@st.composite
def damaged(draw: st.DrawFn, data: bytes, snippets: list[bytes] = SNIPPETS) -> bytes:
    """``data`` with one to three insertions, replacements, deletions or a truncation."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["insert", "insert", "replace", "delete", "truncate",
                                     "long line"]))
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 8)))
        if kind == "insert":
            data = data[:start] + draw(st.sampled_from(snippets)) + data[start:]
        elif kind == "replace":
            data = data[:start] + draw(st.sampled_from(snippets)) + data[end:]
        elif kind == "delete":
            data = data[:start] + data[end:]
        elif kind == "truncate":
            data = data[:start]
        else:
            data = data[:start] + b"\n" + LONG_LINE + b"\n" + data[start:]
    return data


@st.composite
def maybe_gzipped(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as is, gzipped, gzipped and truncated, or gzipped with a byte changed."""
    kind = draw(st.sampled_from(["plain", "plain", "gzip", "truncated", "flipped"]))
    if kind == "plain":
        return data
    packed = gzip.compress(data, mtime=0)
    if kind == "truncated":
        return packed[: draw(st.integers(0, len(packed) - 1))]
    if kind == "flipped":
        at = draw(st.integers(0, len(packed) - 1))
        return packed[:at] + bytes([packed[at] ^ draw(st.integers(1, 255))]) + packed[at + 1 :]
    return packed


def line_bound(data: bytes) -> int:
    """An upper bound of the line a message may name: the lines of the (unpacked) data + 1."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except Exception:  # damaged on purpose: any line up to the packed size is possible
            return len(data) * 1000 + 2
    return data.count(b"\n") + 2


# -- CLI helpers ------------------------------------------------------------------------------


def embed(store: Path, *args: str, input: bytes | str | None = None) -> Result:
    """``embed --store STORE ARGS...`` in-process; any unexpected exception propagates."""
    return CliRunner().invoke(cli, ["--store", str(store), *args], input=input,
                              catch_exceptions=False)


def snapshot(store: Path) -> dict[str, bytes]:
    """Every file of the store except scratch files under tmp/ and SQLite's -wal/-shm."""
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and "tmp" not in p.relative_to(store).parts[:1]
            and not p.name.endswith(("-wal", "-shm"))}


def versions_of(store: Path, model: str = "default") -> list[int]:
    result = embed(store, "versions", "--model", model, "--json")
    if result.exit_code != 0:
        return []
    return [record["version"] for record in json.loads(result.stdout)]


NOT_ABOUT_A_FILE = ("Error: no positive pairs to train on; add pairs with a weight above 0",)
"""Failures of training itself, after the file was read: they need not name it."""


def check_cli_failure(result: Result, *files: Path) -> str:
    """Exit code 1, nothing on stdout, one ``Error:`` line on stderr naming one of ``files``."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert any(str(f) in lines[0] for f in files) or lines[0] in NOT_ABOUT_A_FILE, lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store that already holds one trained version, so that changes to it show."""
    root = tmp_path_factory.mktemp("cli-store")
    pairs = root / "seed.csv"
    pairs.write_text("cat,dog\ndog,puppy\ncar,truck\n", encoding="utf-8")
    train_pairs(pairs, store=root / "store", settings=SgnsSettings(dim=4, epochs=1))
    return root / "store"


def run_and_check_store(store: Path, args: list[str], *files: Path,
                        model: str = "default") -> Result:
    """Run ``embed ARGS``; on success a version was added, on failure nothing changed."""
    before, numbers = snapshot(store), versions_of(store, model)
    with time_limit(60):
        result = embed(store, *args)
    if result.exit_code == 0:
        assert versions_of(store, model) == [*numbers, (max(numbers) if numbers else 0) + 1]
    else:
        check_cli_failure(result, *files)
        assert snapshot(store) == before
        assert versions_of(store, model) == numbers
    return result


# =============================================================================================
# 1. Pair files (embedstore.inputs.pair_file.read_pairs, embed train)
# =============================================================================================

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
    """What read_pairs must return (or the error it must raise), from the README's rules
    (items in Unicode NFC)."""
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


@budget("pairs", "oracle")
@given(pf=pair_files(), compress=st.booleans(), data=st.data())
@example(pf=PairFile(rows=[("a", "b", None)], blank_before={0: ""}), compress=False, data=None)
def test_pair_files_parse_to_what_they_mean(workdir: Path, pf: PairFile, compress: bool,
                                            data: st.DataObject | None) -> None:
    truth = pf.header is not None
    header = data.draw(st.sampled_from([None, True] if truth else [None, False, True])) \
        if data else None
    min_count = data.draw(st.sampled_from([0, 0, 1, 2.5])) if data else 0
    path = workdir / "pairs.csv"
    path.write_bytes(pf.content(compress))
    expected = pair_oracle(pf, header, min_count)
    got, error = parse(lambda: read_pairs(path, min_count=min_count, header=header))
    if isinstance(expected, str):
        assert error is not None and expected in check_error(error, path), (expected, error)
        return
    assert error is None, error
    assert got.items == expected.items
    assert got.item_counts.tolist() == expected.counts
    assert pairs_of(got) == expected.positive
    assert {frozenset((got.items[a], got.items[b]))
            for a, b in zip(got.negative_left, got.negative_right, strict=True)} == \
        expected.negative
    check_cooccurrence(got)


SIMPLE_ITEMS = st.text("abcxyz", min_size=1, max_size=3)
BAD_ROWS = [  # {d}: the file's delimiter, {o}: the other one
    ("x", "expected 2 or 3 columns"), ("x{d}y{d}1{d}2", "expected 2 or 3 columns"),
    ("x{o}y", "expected 2 or 3 columns"), ("{d}y", "empty item"), ("x{d} ", "empty item"),
    ('""{d}y', "empty item"), ("x{d}y{d}", "not a finite number >= 0"),
    ("x{d}y{d}nan", "not a finite number >= 0"), ("x{d}y{d}NaN", "not a finite number >= 0"),
    ("x{d}y{d}inf", "not a finite number >= 0"), ("x{d}y{d}-inf", "not a finite number >= 0"),
    ("x{d}y{d}-1", "not a finite number >= 0"), ("x{d}y{d}1e400", "not a finite number >= 0"),
    ("x{d}y{d}-1e400", "not a finite number >= 0"),
    ("x{d}y{d}1" + "0" * 500, "not a finite number >= 0"),
    ("x{d}y{d}0x10", "not a finite number >= 0"), ("x{d}y{d}many", "not a finite number >= 0"),
    (b"x\xff{d}y", "not valid UTF-8"), (b"x{d}y\xc3", "not valid UTF-8"),
    (b"x{d}\xed\xa0\x80", "not valid UTF-8"),
    ('"x{d}y', "never closes"), ('x{d}"y"z', "check the quoting"),
    ("x" * 200_000 + "{d}y", "longer than"),
]


@budget("pairs", "bad row")
@given(
    rows=st.lists(st.tuples(SIMPLE_ITEMS, SIMPLE_ITEMS, st.integers(0, 9)), min_size=1,
                  max_size=8),
    bad=st.sampled_from(BAD_ROWS), where=st.integers(0, 8), delimiter=st.sampled_from(",\t"),
    header=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]), compress=st.booleans(),
    last_without_newline=st.booleans(),
)
def test_a_bad_row_is_reported_at_its_line(
    workdir: Path, rows: list[tuple[str, str, int]], bad: tuple[str | bytes, str], where: int,
    delimiter: str, header: bool, newline: str, compress: bool, last_without_newline: bool,
) -> None:
    template, message = bad
    other = "," if delimiter == "\t" else "\t"
    # The first row decides the delimiter (documented): the other one there is no bad row.
    assume(not ("{o}" in str(template) and where == 0 and not header))
    if isinstance(template, str):
        template = template.encode("utf-8")
    bad_line = template.replace(b"{d}", delimiter.encode()).replace(b"{o}", other.encode())
    lines = [f"{a}{delimiter}{b}{delimiter}{w}".encode() for a, b, w in rows]
    where = min(where, len(lines))
    lines.insert(where, bad_line)
    if header:
        lines.insert(0, f"item_a{delimiter}item_b{delimiter}weight".encode())
    content = newline.encode().join(lines)
    if not (last_without_newline and where == len(lines) - 1 - header):
        content += newline.encode()
    path = workdir / "bad.csv"
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
    _, error = parse(lambda: read_pairs(path, min_count=0, header=header))
    assert error is not None, bad_line
    text = check_error(error, path)
    assert text.startswith(f"{path}, line {where + 1 + header}: ") and message in text, text


@budget("pairs", "hostile")
@given(data=st.data())
@example(data=None)
def test_hostile_pair_files_parse_or_fail_cleanly(workdir: Path,
                                                  data: st.DataObject | None) -> None:
    if data is None:  # a 1 MB single line, then the same line truncated inside a gzip stream
        content = b"a," + LONG_LINE + b"\n"
    elif data.draw(st.booleans()):
        content = data.draw(st.binary(max_size=300))
    else:
        content = data.draw(pair_files()).content()
        content = data.draw(maybe_gzipped(data.draw(damaged(content))))
    header = data.draw(st.sampled_from([None, True, False])) if data else None
    path = workdir / "hostile.csv"
    path.write_bytes(content)
    got, error = parse(lambda: read_pairs(path, min_count=0, header=header))
    if error is not None:
        check_error(error, path, max_line=line_bound(content))
    else:
        check_cooccurrence(got)


@budget("pairs", "gzip damage")
@given(pf=pair_files(), data=st.data())
def test_damaged_gzip_pair_files_never_parse_to_something_else(workdir: Path, pf: PairFile,
                                                               data: st.DataObject) -> None:
    packed = pf.content(compress=True)
    if data.draw(st.booleans()):
        content = packed[: data.draw(st.integers(0, len(packed) - 1))]
    else:
        at = data.draw(st.integers(0, len(packed) - 1))
        content = packed[:at] + bytes([packed[at] ^ data.draw(st.integers(1, 255))]) + \
            packed[at + 1 :]
    path = workdir / "damaged.csv.gz"
    path.write_bytes(content)
    got, error = parse(lambda: read_pairs(path, min_count=0))
    if error is not None:
        check_error(error, path)
        return
    # Only bytes gzip ignores (time stamp, flags for text, OS) were changed: same content.
    assert len(content) == len(packed)
    expected = pair_oracle(pf, None, 0)
    assert isinstance(expected, ExpectedPairs)
    assert got.items == expected.items and pairs_of(got) == expected.positive


@budget("pairs", "cli", seconds=20)
@given(data=st.data())
def test_hostile_pair_files_through_embed_train(cli_store: Path, workdir: Path,
                                                data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        content = data.draw(st.binary(max_size=200))
    else:
        content = data.draw(maybe_gzipped(data.draw(damaged(data.draw(pair_files()).content()))))
    path = workdir / "train-hostile.csv"
    path.write_bytes(content)
    run_and_check_store(cli_store, ["train", str(path), "--quiet", "--dim", "4", "--method",
                                    "sgns", "--epochs", "1", "--min-count", "0"], path)


GOOD_PAIRS = b"item_a,item_b,weight\r\ncat,dog,2\r\ndog,puppy,1\r\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "line 1: empty file"),
        (b"\n\n", "line 1: empty file"),
        (b"\n\nitem_a,item_b\n", "line 4: no pairs found"),
        (gzip.compress(GOOD_PAIRS)[:-9], "the file may be damaged"),
        (gzip.compress(GOOD_PAIRS)[:30], "the file may be damaged"),
        (b"cat,dog\ncat\x00,dog,1e400\n", "line 2: weight '1e400' is not a finite number >= 0"),
        (b"cat,dog\n" + LONG_LINE + b",dog\n", "line 2: a field longer than"),
        (b'cat,dog\n"cat,dog\nemu,owl\n', "line 2: a quote opened on this line never closes"),
        (b"cat,dog\ncat\tdog\n", "line 2: expected 2 or 3 columns"),
        (b"cat,dog\ncat,dog\xc3", "line 2: not valid UTF-8"),
        (b"\xef\xbb\xbfcat,dog,1e308\ncat,dog,1e308\n", "the weights add up to more than 1.8e+308"),
    ],
)
def test_bad_pair_files_through_embed_train(cli_store: Path, workdir: Path, content: bytes,
                                            message: str) -> None:
    path = workdir / "bad-train.csv"
    path.write_bytes(content)
    result = run_and_check_store(cli_store, ["train", str(path), "--quiet", "--method", "sgns",
                                             "--epochs", "1"], path)
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize("content", [
    b"a,b,5e-324\nb,c,5e-324\n",  # subnormal weights: only their ratios matter
    b"a,b,1e300\nb,c,1e-300\nc,d,-0\n",
    b"a,b,1e307\nb,c,1e307\nc,a,1e307\n",
])
def test_extreme_but_finite_weights_train(cli_store: Path, workdir: Path, content: bytes) -> None:
    path = workdir / "extreme.csv"
    path.write_bytes(content)
    result = run_and_check_store(cli_store, ["train", str(path), "--quiet", "--dim", "4",
                                             "--min-count", "0", "--model", "extreme"], path,
                                 model="extreme")
    assert result.exit_code == 0, result.output
    with embedstore.open(cli_store, model="extreme") as vectors:
        assert np.isfinite(vectors.vector("a")).all()


def test_a_messy_but_valid_pair_file_trains(cli_store: Path, workdir: Path) -> None:
    path = workdir / "messy.tsv.gz"
    content = ("\ufeff\r\nsrc\tdst\r\n\"New\tYork\"\t city \t 3 \r\n\r\nParis\tcity\t0\r\n"
               "Paris\t\"a,b\"\r\n")
    path.write_bytes(gzip.compress(content.encode()))
    result = run_and_check_store(cli_store, ["train", str(path), "--quiet", "--method", "sgns",
                                             "--epochs", "1", "--model", "messy"], path,
                                 model="messy")
    assert result.exit_code == 0, result.output
    with embedstore.open(cli_store, model="messy") as vectors:
        assert sorted(vectors.known_rows(["New\tYork", "city", "Paris", "a,b"])) == \
            ["New\tYork", "Paris", "a,b", "city"]


# =============================================================================================
# 2. Text corpora (embedstore.inputs.corpus.build_vocabulary / encode,
# embedstore.training.sources.count_text)
# =============================================================================================

ASCII_SPACE = " \t\n\r\x0b\x0c"
SPLIT = re.compile(rb"[ \t\n\r\x0b\x0c]+")
TOKENS = st.one_of(
    st.sampled_from(["the", "cat", "sat", "日本", "naïve", "\x00\x01\x00", "a\x00", "\x85x",
                     "x\u2028y", "\xa0", "';DROP", "1e400", "NaN", "\x1c", "\ufeff"]),
    st.text(st.characters(codec="utf-8", exclude_characters=ASCII_SPACE), min_size=1,
            max_size=4),
)


@st.composite
def corpora(draw: st.DrawFn) -> bytes:
    pool = draw(st.lists(TOKENS, min_size=1, max_size=8, unique=True))
    lines = draw(st.lists(st.lists(st.sampled_from(pool), max_size=8), min_size=1, max_size=10))
    gaps = st.sampled_from([" ", " ", "\t", "  ", "\x0b", "\x0c", " \t", "\r"])
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = []
    for tokens in lines:
        text = draw(st.sampled_from(["", " ", "\t"]))
        for token in tokens:
            text += token + draw(gaps)
        out.append(text)
    body = newline.join(out) + (newline if draw(st.booleans()) else "")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + body.encode("utf-8")


def corpus_lines(data: bytes) -> list[list[bytes]]:
    """The README's reading: UTF-8 (a leading BOM dropped), one line per ``\\n``, tokens split
    on ASCII white space."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return [[t for t in SPLIT.split(line) if t] for line in data.split(b"\n")]


@dataclass
class ExpectedCorpus:
    items: list[str]
    counts: list[int]
    total: int
    pairs: dict[tuple[int, int], float]


def corpus_oracle(data: bytes, window: int, min_count: int) -> ExpectedCorpus | str:
    """Tokens are items in Unicode NFC: spellings that normalise alike count as one."""
    lines = [[unicodedata.normalize("NFC", t.decode("utf-8")) for t in tokens]
             for tokens in corpus_lines(data)]
    counts: dict[str, int] = {}
    for tokens in lines:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    if not counts:
        return "has no tokens"
    order = {token: index for index, token in enumerate(counts)}
    kept = sorted((t for t in counts if counts[t] >= min_count),
                  key=lambda t: (-counts[t], order[t]))
    if len(kept) < 2:
        return "fewer than two tokens"
    ids = {token: index for index, token in enumerate(kept)}
    pairs: dict[tuple[int, int], float] = {}
    for tokens in lines:
        known = [ids[t] for t in tokens if t in ids]
        for i in range(len(known)):
            for distance in range(1, window + 1):
                if i + distance < len(known):
                    a, b = known[i], known[i + distance]
                    key = (min(a, b), max(a, b))
                    pairs[key] = pairs.get(key, 0.0) + (window - distance + 1) / window
    return ExpectedCorpus(kept, [counts[t] for t in kept], sum(counts.values()), pairs)


@budget("corpus", "oracle")
@given(data=corpora(), window=st.integers(1, 6), min_count=st.integers(1, 3),
       compress=st.booleans(), block_bytes=st.sampled_from([16, 64, corpus.BLOCK_BYTES]))
@example(data=b"a \x00\x01\x00 b\nc d\n", window=2, min_count=1, compress=False,
         block_bytes=corpus.BLOCK_BYTES)
@example(data=b"a\nb\n", window=2, min_count=1, compress=False, block_bytes=corpus.BLOCK_BYTES)
def test_corpora_count_to_what_they_mean(workdir: Path, data: bytes, window: int, min_count: int,
                                         compress: bool, block_bytes: int) -> None:
    path = workdir / "corpus.txt"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    expected = corpus_oracle(data, window, min_count)
    with mock.patch.object(corpus, "BLOCK_BYTES", block_bytes):
        got, error = parse(lambda: count_text(path, window=window, min_count=min_count,
                                              sample=0))
    if isinstance(expected, str):
        assert error is not None and expected in check_error(error, path), (expected, error)
        return
    assert error is None, error
    assert got.items == expected.items
    assert got.item_counts.tolist() == expected.counts
    pairs = {(int(a), int(b)): float(w)
             for a, b, w in zip(got.left, got.right, got.weight, strict=True)}
    assert pairs == pytest.approx(expected.pairs, rel=1e-9)


@budget("corpus", "encode")
@given(data=corpora(), min_count=st.integers(1, 2))
@example(data=b"a \x00\x01\x00 b\nc a\n", min_count=1)
def test_encode_puts_every_token_on_its_line(workdir: Path, data: bytes, min_count: int) -> None:
    path = workdir / "encode.txt"
    path.write_bytes(data)
    expected = corpus_oracle(data, 1, min_count)
    assume(not isinstance(expected, str))
    assert isinstance(expected, ExpectedCorpus)
    vocabulary, error = parse(lambda: build_vocabulary(path, min_count))
    assert error is None, error
    assert vocabulary.items == expected.items and vocabulary.total_tokens == expected.total
    (block,) = list(encode(path, vocabulary))
    ids = {token.encode("utf-8"): index for index, token in enumerate(expected.items)}
    for number, tokens in enumerate(corpus_lines(data)):
        assert block.ids[block.line == number].tolist() == [ids.get(t, -1) for t in tokens]
    assert len(block.ids) == sum(map(len, corpus_lines(data)))


@budget("corpus", "bad line")
@given(lines=st.lists(st.lists(st.sampled_from(["a", "b", "c", "日本"]), max_size=5), min_size=1,
                      max_size=12),
       where=st.integers(0, 11), bad=st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]),
       block_bytes=st.sampled_from([8, 32, corpus.BLOCK_BYTES]), compress=st.booleans())
def test_bad_utf8_in_a_corpus_is_reported_at_its_line(
    workdir: Path, lines: list[list[str]], where: int, bad: bytes, block_bytes: int,
    compress: bool,
) -> None:
    encoded = [" ".join(tokens).encode() for tokens in lines]
    where = min(where, len(encoded) - 1)
    encoded[where] += b" x" + bad
    data = b"\n".join(encoded) + b"\n"
    path = workdir / "bad-corpus.txt"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    with mock.patch.object(corpus, "BLOCK_BYTES", block_bytes):
        _, error = parse(lambda: count_text(path, min_count=1, sample=0))
    assert error is not None
    assert check_error(error, path).startswith(f"{path}, line {where + 1}: not valid UTF-8")


def check_text_cooccurrence(data: Cooccurrence) -> None:
    n = len(data.items)
    assert n >= 2 and len(set(data.items)) == n and all(data.items)
    for item in data.items:
        item.encode("utf-8")
    assert (data.item_counts >= 1).all()
    assert np.isfinite(data.weight).all() and (data.weight > 0).all()
    assert ((data.left >= 0) & (data.left <= data.right) & (data.right < n)).all()


@budget("corpus", "hostile")
@given(data=st.data())
@example(data=None)
def test_hostile_corpora_count_or_fail_cleanly(workdir: Path, data: st.DataObject | None) -> None:
    if data is None:
        content = b"a b " + LONG_LINE + b" a b\n"
    elif data.draw(st.booleans()):
        content = data.draw(st.binary(max_size=300))
    else:
        content = data.draw(maybe_gzipped(data.draw(damaged(data.draw(corpora())))))
    sample = data.draw(st.sampled_from([0, 1e-3])) if data else 0
    path = workdir / "hostile-corpus.txt"
    path.write_bytes(content)
    got, error = parse(lambda: count_text(path, window=3, min_count=1, sample=sample))
    if error is not None:
        check_error(error, path, max_line=line_bound(content))
    else:
        check_text_cooccurrence(got)


# =============================================================================================
# 3. Batch queries (embedstore.query.batch.run_batch, embed batch)
# =============================================================================================

BATCH_ITEMS = ["cat", "dog", "kitten", "'; DROP TABLE items; --",
               "Robert'); DROP TABLE versions;--", "a\x00b", "日本", "1e400", "NaN", "x\ny",
               "%", "_", "emu"]
RNG = np.random.default_rng(7)
BATCH_VECTORS = {1: RNG.normal(size=(len(BATCH_ITEMS), 6)).astype(np.float32),
                 2: RNG.normal(size=(len(BATCH_ITEMS) - 3, 6)).astype(np.float32)}
VERSION_ITEMS = {1: BATCH_ITEMS, 2: BATCH_ITEMS[:-3]}


@pytest.fixture(scope="module")
def batch_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    path = tmp_path_factory.mktemp("batch") / "store"
    for version, vectors in BATCH_VECTORS.items():
        publish_vectors(VERSION_ITEMS[version], vectors, store=path)
    with Store.open(path) as store:
        store.set_alias("default", 1, "prod")
        yield path, store


@pytest.fixture(scope="module")
def references(batch_store: tuple[Path, Store]) -> Iterator[dict[Any, Any]]:
    path, _ = batch_store
    first, second = embedstore.open(path, version=1), embedstore.open(path, version=2)
    yield {None: second, 1: first, 2: second, "1": first, "2": second, "prod": first}
    first.close()
    second.close()


@st.composite
def valid_queries(draw: st.DrawFn) -> dict[str, Any]:
    """A query that must be answered, and answered as the single-query API answers it."""
    version = draw(st.sampled_from([None, 1, 2, "1", "prod"]))
    pool = VERSION_ITEMS[2 if version is None else 1 if version in (1, "1", "prod") else 2]
    name = st.sampled_from(pool)
    op = draw(st.sampled_from(["similar", "analogy", "vector", "similarity"]))
    query: dict[str, Any] = {"op": op}
    for key in {"similar": ["item"], "vector": ["item"], "analogy": ["a", "b", "c"],
                "similarity": ["a", "b"]}[op]:
        query[key] = draw(name)
    if op in ("similar", "analogy") and draw(st.booleans()):
        query["k"] = draw(st.one_of(st.integers(1, 20), st.just(10**30)))
    if op == "analogy" and draw(st.booleans()):
        query["method"] = draw(st.sampled_from(["add", "mul"]))
    if version is not None:
        query["version"] = version
    if op in ("similar", "analogy") and draw(st.booleans()):
        query["restrict"] = draw(st.integers(1, 15))
    if draw(st.booleans()):
        query["id"] = draw(st.one_of(st.integers(), st.text(max_size=5), st.none()))
    return query


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(10**18, 10**600), st.floats(),
    st.text(max_size=6), st.sampled_from(BATCH_ITEMS), st.sampled_from(["²", "\u0661", "0", "-1",
                                                                        "9" * 30, "prod", ""]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6,
)
QUERY_KEYS = ["op", "item", "a", "b", "c", "k", "method", "id", "model", "version", "restrict"]
HOSTILE_LINES = [
    b"\x00", b"\xff\xfe", b"NaN", b"1e400", b"[]", b"null", b'"text"', b"9" * 5000,
    b"[" * 100_000, b'{"a":' * 100_000, b'{"op": "similar", "item": "cat", "k": ' + b"9" * 5000
    + b"}", '\ufeff{"op": "similar", "item": "cat"}'.encode(),
    b'{"op": "similar", "item": "\\ud800"}',
    b'{"op": "similar", "item": "cat", "model": "\\udfff"}',
    b'{"op": "similar", "item": "cat", "version": "\xc2\xb2"}',
    b'{"op": "similar", "item": "cat", "version": 99999999999999999999999}',
    b'{"op": "similar", "item": "cat", "version": "99999999999999999999999"}',
    b'{"op": ["similar"], "item": "cat"}', b'{"op": {"x": 1}, "item": "cat"}',
    b'{"op": "similar", "item": "cat", "k": NaN, "id": NaN}',
    b'{"op": "similar", "item": "cat", "k": -Infinity, "id": 1e400}',
    b'{"op": "similar", "item": "cat", "restrict": 1e400}',
    b'{"op": "similar", "item": "c\\u0000at"}',
    b'{"op": "similar", "item": "cat", "id": "\\ud800"}', b"{" + LONG_LINE + b"}",
    b'{"op": "similar", "item": "' + LONG_LINE + b'"}', b" \t ", b"",
]


@st.composite
def hostile_lines(draw: st.DrawFn) -> bytes | str:
    kind = draw(st.sampled_from(["fixed", "bytes", "query", "query", "valid", "text"]))
    if kind == "fixed":
        return draw(st.sampled_from(HOSTILE_LINES))
    if kind == "bytes":
        return draw(st.binary(max_size=40).filter(lambda b: b"\n" not in b))
    if kind == "text":  # str lines, possibly with lone surrogates (the library takes str too)
        return draw(st.text(max_size=30).filter(lambda s: "\n" not in s))
    if kind == "valid":
        line = json.dumps(draw(valid_queries()))
    else:
        query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), JSON_VALUES, max_size=6))
        if draw(st.booleans()):
            query["op"] = draw(st.sampled_from(["similar", "analogy", "vector", "similarity"]))
        line = json.dumps(query, ensure_ascii=draw(st.booleans()))
    return line.encode("utf-8", "surrogatepass") if draw(st.booleans()) else line


def blank(line: bytes | str) -> bool:
    return not line.strip()


def as_object(line: bytes | str, number: int) -> dict[str, Any] | None:
    """The JSON object line ``number`` holds, if it is one (UTF-8, a BOM allowed on line 1)."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        value = json.loads(text[1:] if number == 1 and text.startswith("\ufeff") else text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_answer(query: dict[str, Any], answer: dict[str, Any], references: dict[Any, Any]) -> None:
    """A valid query's answer equals what the single-query API says."""
    assert "error" not in answer, (query, answer)
    vectors = references[query.get("version")]
    assert answer["version"] == vectors.version
    op, k = query["op"], query.get("k", 10)
    if op == "vector":
        assert answer["vector"] == vectors.vector(query["item"]).tolist()
        return
    if op == "similarity":
        assert answer["score"] == pytest.approx(vectors.similarity(query["a"], query["b"]),
                                                abs=1e-5)
        return
    if op == "similar":
        expected = vectors.similar(query["item"], k=k, restrict=query.get("restrict"))
    else:
        expected = vectors.analogy(query["a"], query["b"], query["c"], k=k,
                                   method=query.get("method", "add"),
                                   restrict=query.get("restrict"))
    assert [r["item"] for r in answer["results"]] == [n.item for n in expected]
    assert [r["score"] for r in answer["results"]] == pytest.approx(
        [n.score for n in expected], abs=1e-5)


def check_batch_output(lines: list[bytes | str], answers: list[dict[str, Any]]) -> None:
    """One answer per non-blank line, in order: an answer, or an error naming the line."""
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if not blank(line)]
    assert len(answers) == len(numbered)
    for (number, line), answer in zip(numbered, answers, strict=True):
        obj = as_object(line, number)
        if obj is not None:
            assert same_json(answer["id"], obj.get("id"))
        if "error" in answer:
            assert set(answer) == {"id", "error"}
            assert answer["error"].startswith(f"line {number}: "), answer
            assert "\n" not in answer["error"]
        else:
            assert obj is not None and {"model", "version", "query"} <= set(answer)


@budget("batch", "library")
@given(lines=st.lists(hostile_lines(), max_size=12), valid=st.lists(valid_queries(), max_size=4),
       data=st.data())
def test_every_batch_line_gets_one_answer_in_order(
    batch_store: tuple[Path, Store], references: dict[Any, Any], lines: list[bytes | str],
    valid: list[dict[str, Any]], data: st.DataObject,
) -> None:
    for query in valid:  # valid queries at random places among the hostile lines
        lines.insert(data.draw(st.integers(0, len(lines))), json.dumps(query))
    _, store = batch_store
    with time_limit():
        results = list(run_batch(store, lines))
    answers = [result.to_json() for result in results]
    check_batch_output(lines, answers)
    for result, answer in zip(results, answers, strict=True):
        json.dumps(answer)  # every answer can be written out
        query = as_object(lines[result.line - 1], result.line)
        if query in valid:
            check_answer(query, answer, references)  # type: ignore[arg-type]


@budget("batch", "cli", seconds=20)
@given(lines=st.lists(hostile_lines(), min_size=1, max_size=8),
       valid=st.lists(valid_queries(), max_size=3), newline=st.sampled_from([b"\n", b"\r\n"]))
def test_embed_batch_answers_every_line_with_one_json_line(
    batch_store: tuple[Path, Store], references: dict[Any, Any], lines: list[bytes | str],
    valid: list[dict[str, Any]], newline: bytes,
) -> None:
    path, _ = batch_store
    raw = [line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
           for line in lines] + [json.dumps(q).encode() for q in valid]
    with time_limit():
        result = embed(path, "batch", "-", input=newline.join(raw) + newline)
    assert "Traceback" not in result.output
    # JSON lines end at \n only (an id may hold U+0085 or U+2028, which splitlines() splits at)
    out = result.stdout_bytes.decode("utf-8").split("\n")[:-1]
    answers = [json.loads(line) for line in out]
    # The CLI reads bytes lines, split at \n only.
    check_batch_output(raw, answers)
    failed = sum("error" in answer for answer in answers)
    assert result.exit_code == (1 if failed else 0)
    assert result.stderr == (f"{failed} line(s) failed\n" if failed else "")
    for query, answer in zip(valid, answers[-len(valid):] if valid else [], strict=True):
        check_answer(query, answer, references)


@pytest.mark.parametrize("version", ["²", "99999999999999999999", "0", "-1", "x y"])
def test_bad_version_options_are_usage_errors(batch_store: tuple[Path, Store],
                                              version: str) -> None:
    path, _ = batch_store
    result = embed(path, "similar", "cat", "--version", version)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "neither a version number" in result.stderr or "too large" in result.stderr


# =============================================================================================
# 4. Vector files (embedstore.inputs.vector_files.read_vectors, embed import)
# =============================================================================================

TEXT_ITEM = st.one_of(
    st.sampled_from(["cat", "';DROP_TABLE_items;--", "Robert');DROP/**/TABLE/**/versions;--",
                     "a\x00b", "日本", "1e400", "NaN", "%", "_", "12"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc")),
            min_size=1, max_size=6),
).filter(lambda s: not any(c.isspace() for c in s) and not s.startswith("\ufeff"))
NPY_ITEM = st.one_of(
    TEXT_ITEM, st.sampled_from(["New York", "'; DROP TABLE items; --", "tab\there", " padded "]),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=6),
).filter(lambda s: s.strip("\r\n") == s and not s.startswith("\ufeff") and "\n" not in s)
VALUE_FORMATS = ["%.9g", "%.9e", "%+.9g", "repr"]


@dataclass
class VectorFile:
    format: str
    items: list[str]
    vectors: np.ndarray  # float32: what the file means
    counts: list[int] | None
    content: bytes
    vocab: bytes | None  # --vocab file for text/binary, the .vocab beside a .npy
    detectable: bool = True


def render_value(value: float, style: str) -> str:
    return repr(float(value)) if style == "repr" else style % value


@st.composite
def vector_files(draw: st.DrawFn, formats: tuple[str, ...] = ("word2vec", "glove",
                                                              "word2vec-binary", "npy")
                 ) -> VectorFile:
    format = draw(st.sampled_from(formats))
    n, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    items = draw(st.lists(NPY_ITEM if format == "npy" else TEXT_ITEM, min_size=n, max_size=n,
                          unique_by=nfc))
    width = 16 if format == "npy" and draw(st.booleans()) else 32
    values = draw(st.lists(st.floats(width=width, allow_nan=False, allow_infinity=False),
                           min_size=n * dim, max_size=n * dim))
    vectors = np.array(values, dtype=np.float32).reshape(n, dim)
    counts = draw(st.one_of(st.none(), st.lists(st.integers(0, 2**62), min_size=n, max_size=n)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = "\ufeff" if draw(st.booleans()) else ""
    vocab = None
    detectable = True
    if format == "npy":
        mode = draw(st.sampled_from(["plain", "tab", "space"]))
        if mode == "plain":
            counts = None
            assume(not any(" " in item or "\t" in item for item in items))
        if mode == "space":
            assume(not any("\t" in item for item in items))
        if counts is None and mode != "plain":
            counts = draw(st.lists(st.integers(0, 2**62), min_size=n, max_size=n))
        sep = {"plain": "", "tab": "\t", "space": " "}[mode]
        lines = [item + (f"{sep}{counts[i]}" if counts is not None else "")
                 for i, item in enumerate(items)]
        vocab = (bom + newline.join(lines) + (newline if draw(st.booleans()) else "")).encode()
        dtype = np.float16 if width == 16 else draw(st.sampled_from([np.float32, np.float64]))
        matrix = vectors.astype(dtype)
        if draw(st.booleans()):
            matrix = np.asfortranarray(matrix)
        buffer = __import__("io").BytesIO()
        np.save(buffer, matrix, allow_pickle=False)
        return VectorFile(format, items, vectors, counts, buffer.getvalue(), vocab)
    if counts is not None:
        vocab = (bom + newline.join(f"{item} {count}" for item, count in zip(items, counts,
                                                                               strict=True))
                 + newline).encode()
    if format == "word2vec-binary":
        newline_after = draw(st.booleans())
        body = f"{n} {dim}\n".encode() + b"".join(
            item.encode() + b" " + row.astype("<f4").tobytes() + (b"\n" if newline_after else b"")
            for item, row in zip(items, vectors, strict=True))
        return VectorFile(format, items, vectors, counts, body, vocab, detectable=False)
    style = draw(st.sampled_from(VALUE_FORMATS))
    gap = draw(st.sampled_from([" ", "  "]))
    trailing = draw(st.sampled_from(["", " "]))
    lines = [item + " " + gap.join(render_value(v, style) for v in row) + trailing
             for item, row in zip(items, vectors.tolist(), strict=True)]
    if format == "word2vec":
        lines.insert(0, f"{n} {dim}")
    elif re.fullmatch(r"\d+ \d+", lines[0].strip()):
        detectable = False  # a GloVe line that reads as a word2vec header: --format needed
    text = bom + newline.join(lines) + (newline if draw(st.booleans()) else "")
    content = text.encode("utf-8")
    if draw(st.booleans()):
        content = gzip.compress(content, mtime=0)
    return VectorFile(format, items, vectors, counts, content, vocab, detectable)


def write_vector_file(workdir: Path, vf: VectorFile, stem: str) -> tuple[Path, Path | None]:
    path = workdir / (f"{stem}.npy" if vf.format == "npy" else f"{stem}.vec")
    path.write_bytes(vf.content)
    vocab = None
    if vf.vocab is not None:
        vocab = path.with_suffix(".vocab")
        vocab.write_bytes(vf.vocab)
    return path, vocab


def check_table(table: VectorTable) -> None:
    n = len(table.items)
    assert len(set(table.items)) == n and all(table.items)
    for item in table.items:
        item.encode("utf-8")
    assert table.vectors.dtype == np.float32 and table.vectors.ndim == 2
    assert table.vectors.shape[0] == n and np.isfinite(table.vectors).all()
    if table.counts is not None:
        assert len(table.counts) == n and (table.counts >= 0).all()


@budget("formats", "oracle")
@given(vf=vector_files(), detect=st.booleans())
def test_vector_files_read_to_what_they_mean(workdir: Path, vf: VectorFile, detect: bool) -> None:
    path, vocab = write_vector_file(workdir, vf, "oracle")
    format = None if detect and vf.detectable else vf.format
    got, error = parse(lambda: read_vectors(path, format, vocab))
    assert error is None, error
    assert got.items == vf.items
    assert got.vectors.dtype == np.float32 and got.vectors.tobytes() == vf.vectors.tobytes()
    assert (None if got.counts is None else got.counts.tolist()) == vf.counts


@st.composite
def hostile_vector_files(draw: st.DrawFn) -> tuple[VectorFile, str | None]:
    vf = draw(vector_files())
    if vf.format == "npy":
        if draw(st.booleans()):
            vf.content = draw(damaged(vf.content))
        else:
            vf.vocab = draw(damaged(vf.vocab or b""))
        return vf, draw(st.sampled_from(["npy", None]))
    content = vf.content
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    head, _, rest = content.partition(b"\n")
    if vf.format != "glove" and draw(st.booleans()):  # a header that lies
        numbers = st.sampled_from([b"0", b"1", b"2", b"3", b"1000000", b"4294967297",
                                   b"99999999999999999999999"])
        head = draw(numbers) + b" " + draw(numbers)
    content = draw(damaged(head + b"\n" + rest))
    if vf.format != "word2vec-binary":
        content = draw(maybe_gzipped(content))
    if vf.vocab is not None and draw(st.booleans()):
        vf.vocab = draw(damaged(vf.vocab))
    vf.content = content
    return vf, draw(st.sampled_from([vf.format, None]))


@budget("formats", "hostile")
@given(case=hostile_vector_files())
def test_hostile_vector_files_read_or_fail_cleanly(workdir: Path,
                                                   case: tuple[VectorFile, str | None]) -> None:
    vf, format = case
    path, vocab = write_vector_file(workdir, vf, "hostile")
    got, error = parse(lambda: read_vectors(path, format, vocab))
    if error is not None:
        bound = max(line_bound(vf.content), line_bound(vf.vocab or b""))
        check_error(error, path, *([vocab] if vocab else []), max_line=bound,
                    max_byte=len(vf.content))
    else:
        check_table(got)


NPY_DESCRS = ["'<f4'", "'>f8'", "'<f2'", "'|O'", "'<c8'", "'<i8'", "'<U3'", "'|V8'", "'<f16'",
              "'bogus'", "[('x', '<f4')]", "1", "None"]
NPY_SHAPES = ["(2, 2)", "(0, 2)", "(2, 0)", "(2,)", "()", "(2, 2, 2)", "(-1, 2)",
              "(99999999999, 99999999999)", "(4611686018427387904, 4)", "'x'", "(2, 2"]


@budget("formats", "npy header")
@given(descr=st.sampled_from(NPY_DESCRS), fortran=st.sampled_from(["False", "True", "1"]),
       shape=st.sampled_from(NPY_SHAPES), payload=st.binary(max_size=64),
       version=st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x09\x09"]))
def test_hostile_npy_headers_fail_cleanly(workdir: Path, descr: str, fortran: str, shape: str,
                                          payload: bytes, version: bytes) -> None:
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    size = struct.pack("<H", len(header)) if version == b"\x01\x00" else \
        struct.pack("<I", len(header))
    path = workdir / "header.npy"
    path.write_bytes(b"\x93NUMPY" + version + size + header.encode("latin1") + payload)
    vocab = workdir / "header.vocab"
    vocab.write_text("a\nb\n")
    got, error = parse(lambda: read_vectors(path, "npy", vocab))
    if error is not None:
        check_error(error, path, vocab)
    else:
        check_table(got)


@budget("formats", "binary truncation")
@given(vf=vector_files(formats=("word2vec-binary",)), data=st.data())
def test_truncated_binary_files_fail_at_a_byte_offset(workdir: Path, vf: VectorFile,
                                                      data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(vf.content) - 1))
    path = workdir / "truncated.bin"
    path.write_bytes(vf.content[:cut])
    got, error = parse(lambda: read_vectors(path, "word2vec-binary"))
    if error is None:  # only the newline after the last vector was cut
        assert vf.content[cut:] == b"\n"
        assert got.items == vf.items and got.vectors.tobytes() == vf.vectors.tobytes()
        return
    message = check_error(error, path, max_byte=cut)
    assert re.search(r", byte \d+: ", message), message


class Explosive:
    """Unpickling this creates ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def explosive_npy(path: Path, marker: Path) -> None:
    matrix = np.empty((2, 2), dtype=object)
    matrix[:] = [[Explosive(marker), 1.0], [2.0, 3.0]]
    np.save(path, matrix, allow_pickle=True)


def test_object_npy_files_are_never_unpickled(cli_store: Path, tmp_path: Path) -> None:
    # The payload is live: numpy with pickling allowed runs it.
    armed, fired = tmp_path / "armed.npy", tmp_path / "fired"
    explosive_npy(armed, fired)
    np.load(armed, allow_pickle=True)
    assert fired.exists()

    marker = tmp_path / "marker"
    path = tmp_path / "objects.npy"
    explosive_npy(path, marker)
    path.with_suffix(".vocab").write_text("a\nb\n")
    for format in ("npy", None):
        with pytest.raises(InputError) as error:
            read_vectors(path, format)
        message = check_error(error.value, path)
        assert "Python objects" in message and "never unpickled" in message
    result = run_and_check_store(cli_store, ["import", str(path)], path)
    assert result.exit_code == 1 and "Python objects" in result.stderr
    result = run_and_check_store(cli_store, ["import", str(path), "--format", "npy", "--vocab",
                                             str(path.with_suffix(".vocab"))], path)
    assert result.exit_code == 1
    assert not marker.exists()


@budget("formats", "cli", seconds=20)
@given(case=hostile_vector_files())
def test_hostile_vector_files_through_embed_import(cli_store: Path, workdir: Path,
                                                   case: tuple[VectorFile, str | None]) -> None:
    vf, format = case
    path, vocab = write_vector_file(workdir, vf, "import")
    args = ["import", str(path), "--model", "imported"]
    if format is not None:
        args += ["--format", format]
    if vocab is not None:
        args += ["--vocab", str(vocab)]
    run_and_check_store(cli_store, args, path, *([vocab] if vocab else []), model="imported")


@pytest.mark.parametrize(
    ("content", "format", "message"),
    [
        (b"2 99999999999999999999999\na 1\n", "word2vec-binary",
         "byte 26: file ends inside vector 1 of 2;"),
        (b"9999999999 2\na 1\n", "word2vec-binary", "byte 13: file ends inside vector 1 of"),
        (b"3 1\na \x00\x00\x80\x3f\n", "word2vec-binary", "byte 11: file ends inside vector 2 of"),
        (b"2 0\na \nb \n", "word2vec-binary", "byte 0: the header announces 2 vectors of 0"),
        (b"0 2\n", "word2vec-binary", "byte 0: the header announces 0 vectors of 2"),
        (b"2 0\na\nb\n", "word2vec", "line 1: dimension 0"),
        (gzip.compress(b"1 1\na \x00\x00\x80\x3f\n"), "word2vec-binary", "gzip"),
        (b"\xef\xbb\xbf2 2\na 1 2\nb 3 4\n\n", None, "line 4: empty line"),
        (b"a 1 2\nb 3 1e39\n", "glove", "line 2: '1e39' is not a finite float32"),
        (b"a 1 2\nb 3 1_0\n", "glove", "line 2: '1_0' is not a number"),
        (b"a 1 2\n", "glove", "at least two items; got shape (1, 2) for 1 items"),
        (b"a 1e17 1e17\nb 1e18 1e18\n", "glove", "the vector of 'b' has length"),
    ],
)
def test_bad_vector_files_through_embed_import(cli_store: Path, workdir: Path, content: bytes,
                                               format: str | None, message: str) -> None:
    path = workdir / "bad-import.vec"
    path.write_bytes(content)
    args = ["import", str(path)] + (["--format", format] if format else [])
    result = run_and_check_store(cli_store, args, path)
    assert result.exit_code == 1
    assert message in result.stderr


# =============================================================================================
# Items that look like SQL, and other strange items, survive every path
# =============================================================================================

SQL_ITEMS = ["'; DROP TABLE items; --", "Robert'); DROP TABLE versions;--", '" OR 1=1 --',
             "x'); DELETE FROM aliases WHERE ('1'='1", "%", "_", "?", ":name", "cat", "dog"]


def test_sql_lookalike_items_round_trip_through_train_similar_import_export(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store"
    rows = [(a, b) for i, a in enumerate(SQL_ITEMS) for b in SQL_ITEMS[i + 1 :]]
    pairs = tmp_path / "sql.csv"
    pairs.write_text("".join(f'"{a.replace(chr(34), 2 * chr(34))}",'
                             f'"{b.replace(chr(34), 2 * chr(34))}"\n' for a, b in rows),
                     encoding="utf-8")
    result = embed(store, "train", str(pairs), "--quiet", "--dim", "4", "--method", "sgns",
                   "--epochs", "2")
    assert result.exit_code == 0, result.output
    for item in SQL_ITEMS:
        result = embed(store, "similar", item, "--k", "100", "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["query"]["item"] == item
        assert sorted(r["item"] for r in payload["results"]) == sorted(set(SQL_ITEMS) - {item})
    batch = "".join(json.dumps({"op": "similarity", "a": a, "b": b, "id": a}) + "\n"
                    for a, b in itertools.pairwise(SQL_ITEMS))
    result = embed(store, "batch", "-", input=batch)
    assert result.exit_code == 0 and "error" not in result.stdout
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == SQL_ITEMS[:-1]
    # npy keeps items with spaces; export, import into another model, export again.
    first, second = tmp_path / "first.npy", tmp_path / "second.npy"
    assert embed(store, "export", "--format", "npy", "-o", str(first)).exit_code == 0
    assert embed(store, "import", str(first), "--model", "copy").exit_code == 0
    assert embed(store, "export", "--format", "npy", "-o", str(second), "--model",
                 "copy").exit_code == 0
    one, two = read_vectors(first), read_vectors(second)
    assert sorted(one.items) == sorted(SQL_ITEMS) and one.items == two.items
    assert one.vectors.tobytes() == two.vectors.tobytes()
    assert one.counts is not None and two.counts is not None
    assert one.counts.tolist() == two.counts.tolist()
    # Every table is still there and holds what it should.
    assert embed(store, "verify", "--all").exit_code == 0
    assert versions_of(store) == [1] and versions_of(store, "copy") == [1]


@budget("round trip", "train and similar", seconds=30)
@given(items=st.lists(ITEMS, min_size=2, max_size=6, unique_by=nfc))
def test_any_items_round_trip_through_train_and_similar(workdir: Path, items: list[str]) -> None:
    pf = PairFile(rows=[(a, b, None) for a, b in itertools.pairwise(items)],
                  delimiter=",", quote_all=True)
    path = workdir / "round-trip.csv"
    path.write_bytes(pf.content())
    store = workdir / f"round-trip-{abs(hash(tuple(items)))}"
    with time_limit(60):
        train_pairs(path, store=store, settings=SgnsSettings(dim=4, epochs=1))
        with embedstore.open(store) as vectors:
            assert sorted(vectors.known_rows(items)) == sorted(items)
            for item in items:
                neighbours = vectors.similar(item, k=len(items))
                assert sorted(n.item for n in neighbours) == sorted(
                    {nfc(other) for other in items} - {nfc(item)})


@budget("round trip", "import and export", seconds=10)
@given(items=st.lists(NPY_ITEM | ITEMS, min_size=2, max_size=6, unique_by=nfc))
def test_any_items_round_trip_through_import_and_export(workdir: Path, items: list[str]) -> None:
    store = workdir / f"export-{abs(hash(tuple(items)))}"
    vectors = np.arange(len(items) * 3, dtype=np.float32).reshape(-1, 3) + 1
    publish_vectors(items, vectors, store=store)
    out = workdir / "export.npy"
    breaks = any(c in item for item in items for c in "\r\n")
    try:
        export_version(out, format="npy", store=store)
    except InputError as error:
        assert breaks and "line break" in str(error)
        return
    assert not breaks
    record = import_file(out, store=store, model="back")
    assert record.n_items == len(items)
    with embedstore.open(store, model="back") as back:
        rows = back.known_rows(items)
        assert sorted(rows) == sorted(items)
        for index, item in enumerate(items):
            assert back.vector(item).tolist() == vectors[index].tolist()
