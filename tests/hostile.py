"""The hostile-input harness shared by the tests/**/test_hostile_*.py files: time limits,
error checks, damaged and gzipped data, and running the CLI against a store that must not
change.

Hostile input: property-based tests of every parser, through the library and the CLI.

For every input a parser either returns what the input means (checked against an oracle
written here for generated well-formed files) or raises an :class:`EmbedstoreError` whose
message is one line naming the file (and the line or byte where that makes sense). Any other
exception fails the test with its traceback. A hang fails it too: every example runs under a
real time limit (SIGALRM), besides Hypothesis' ``deadline``. At the CLI, a failure is exit
code 1, one line on stderr, no traceback and a store left exactly as it was.

The number of examples of every property is explicit (:data:`EXAMPLES`, per parser); run
``pytest tests -k hostile --hypothesis-show-statistics`` to see how many each test
tried.
"""

from __future__ import annotations

import gzip
import json
import re
import signal
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from embedstore_cli.main import cli
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from embedstore.errors import EmbedstoreError


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
