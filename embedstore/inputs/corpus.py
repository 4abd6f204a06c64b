"""Read a text corpus: one sentence or paragraph per line, tokens separated by white space.

Two streaming passes: the first counts tokens (bytes, never decoded one by one), the second
turns each block of lines into an array of token ids (``-1`` for tokens below ``min_count``)
with the line each token came from. Memory grows with the vocabulary, not with the corpus.
Plain and gzip-compressed files (detected from their bytes) are read alike. Tokens that differ
only in Unicode normalisation are one item (its NFC form).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..names import normalize_item
from ..progress import Progress
from .textio import READ_ERRORS, open_binary, without_bom

BLOCK_BYTES = 8 << 20
"""Lines are read and encoded in blocks of about this many bytes."""


@dataclass(frozen=True)
class Vocabulary:
    """Items kept by ``min_count``, most frequent first (ties in first-seen order)."""

    items: list[str]
    counts: np.ndarray  # int64 token counts
    ids: dict[bytes, int]
    total_tokens: int


@dataclass(frozen=True)
class Block:
    """A block of lines as token ids: ``ids[i]`` came from line ``line[i]`` (block-local)."""

    ids: np.ndarray  # int64, -1 for tokens not in the vocabulary
    line: np.ndarray  # int64


def _blocks(path: Path, stage: str, progress: Progress | None, block_bytes: int = BLOCK_BYTES
            ) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) blocks of the file, UTF-8 checked (a leading byte
    order mark dropped); progress is reported as ``stage`` in bytes."""
    first_line = 1
    done = 0
    total = path.stat().st_size if path.is_file() else 0
    try:
        with open_binary(path) as stream:
            while True:
                lines = stream.readlines(block_bytes)
                if not lines:
                    break
                if first_line == 1:
                    lines[0] = without_bom(lines[0])
                try:
                    b"".join(lines).decode("utf-8")
                except UnicodeDecodeError:
                    for offset, line in enumerate(lines):
                        try:
                            line.decode("utf-8")
                        except UnicodeDecodeError:
                            raise InputError(f"{path}, line {first_line + offset}: not valid "
                                             "UTF-8; save the corpus as UTF-8") from None
                yield first_line, lines
                first_line += len(lines)
                done += sum(map(len, lines))
                if progress is not None:
                    progress(stage, done, total, None)
    except READ_ERRORS as exc:
        raise InputError(f"{path}, line {first_line}: cannot read ({exc}); the file may be "
                         "damaged") from None


def build_vocabulary(path: str | Path, min_count: int = 5, progress: Progress | None = None,
                     block_bytes: int = BLOCK_BYTES) -> Vocabulary:
    """First pass: count every token and keep those seen at least ``min_count`` times
    (reading about ``block_bytes`` at a time).

    Tokens that are one text after NFC normalisation are counted together; each of their
    spellings maps to the one id.
    """
    path = Path(path)
    counter: Counter[bytes] = Counter()
    for _, lines in _blocks(path, "vocabulary", progress, block_bytes):
        counter.update(b"".join(lines).split())
    return vocabulary_from_counts(counter, min_count, str(path))


def vocabulary_from_counts(counter: Counter[bytes], min_count: int, source: str) -> Vocabulary:
    """The :class:`Vocabulary` of token counts in first-seen order (``counter``'s order)."""
    total = sum(counter.values())
    spellings: dict[str, list[bytes]] = {}  # NFC text -> its byte spellings, first seen first
    merged: dict[str, int] = {}
    for token, count in counter.items():
        text = normalize_item(token.decode("utf-8"))
        spellings.setdefault(text, []).append(token)
        merged[text] = merged.get(text, 0) + count
    if total == 0:
        raise InputError(f"{source}, line 1: the corpus has no tokens; give a text file with "
                         "one sentence or paragraph per line")
    kept = sorted(((text, count) for text, count in merged.items() if count >= min_count),
                  key=lambda pair: -pair[1])  # stable: ties keep first-seen order
    if len(kept) < 2:
        raise InputError(f"{source}: fewer than two tokens occur at least {min_count} times; "
                         "lower --min-count or give a larger corpus")
    # Fresh copies of what is kept: the objects of every other token are then freed whole,
    # and their memory can go back to the system (kept originals would pin it).
    ids = {bytes(bytearray(token)): index for index, (text, _) in enumerate(kept)
           for token in spellings[text]}
    return Vocabulary(
        items=[text.encode("utf-8").decode("utf-8") for text, _ in kept],
        counts=np.array([count for _, count in kept], dtype=np.int64),
        ids=ids,
        total_tokens=total,
    )


LINE_END = b"\xff"
"""Stands for a line break while a block is split into tokens: the byte 0xFF never occurs in
UTF-8, and blocks are checked to be UTF-8, so no token can be it."""
LINE_END_ID = -2


def encode(path: str | Path, vocabulary: Vocabulary, progress: Progress | None = None,
           block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """Second pass: each block of lines (about ``block_bytes``) as token ids and line numbers.

    A block is split once, with its line breaks turned into a marker token: the running count
    of markers gives each token its line.
    """
    ids_of = dict(vocabulary.ids)
    ids_of[LINE_END] = LINE_END_ID
    for _, lines in _blocks(Path(path), "counting", progress, block_bytes):
        yield encode_lines(lines, ids_of)


def encode_lines(lines: list[bytes], ids_of: dict[bytes, int]) -> Block:
    """A block of lines (each ending in a line break, the last one may not) as token ids;
    ``ids_of`` maps every spelling, and :data:`LINE_END`, to its id."""
    tokens = b"".join(lines).replace(b"\n", b" " + LINE_END + b" ").split()
    ids = np.fromiter(map(ids_of.get, tokens, itertools.repeat(-1)), dtype=np.int64,
                      count=len(tokens))
    is_end = ids == LINE_END_ID
    line = np.cumsum(is_end)
    return Block(ids=ids[~is_end], line=line[~is_end])
