"""Hostile text corpora: property-based tests through the library and the CLI (the harness is
``tests/hostile.py``)."""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from embedstore.counting.cooccurrence import Cooccurrence
from embedstore.inputs import corpus
from embedstore.inputs.corpus import build_vocabulary, encode
from embedstore.training.sources import count_text
from tests.hostile import (
    LONG_LINE,
    budget,
    check_error,
    damaged,
    line_bound,
    maybe_gzipped,
    parse,
)

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
    """The documented reading of a corpus: UTF-8 (a leading BOM dropped), one line per
    ``\\n``, tokens split on ASCII white space."""
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
