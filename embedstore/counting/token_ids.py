"""A text corpus kept as token ids, so that one read of the text serves both counting and the
methods that stream over the tokens themselves (skip-gram).

The tokens kept by ``min_count`` (out-of-vocabulary tokens dropped, as gensim and word2vec do,
so a window spans kept words) sit in one ``int32`` array with the offsets where sentences
(lines) start: about 4 bytes a token. Sentences longer than :data:`MAX_SENTENCE` tokens are
cut into pieces of that length, as gensim does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..inputs.corpus import Block

MAX_SENTENCE = 10_000
"""Longer sentences are cut into pieces of this many kept tokens (gensim's limit)."""


@dataclass(frozen=True)
class TextCorpus:
    """A corpus as token ids: sentence ``s`` is ``tokens[starts[s]:starts[s + 1]]``."""

    tokens: np.ndarray  # int32 ids, all >= 0
    starts: np.ndarray  # int64, n_sentences + 1 offsets, starts[-1] == len(tokens)

    @property
    def n_tokens(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.starts.shape[0]) - 1



def _with_pieces(starts: np.ndarray, n_tokens: int) -> np.ndarray:
    """``starts`` (sentence offsets without the final end) plus the cuts that keep every
    sentence within :data:`MAX_SENTENCE` tokens, and the end ``n_tokens``."""
    lengths = np.diff(np.r_[starts, n_tokens])
    if len(lengths) and lengths.max() > MAX_SENTENCE:
        extra = [np.arange(begin + MAX_SENTENCE, begin + length, MAX_SENTENCE)
                 for begin, length in zip(starts.tolist(), lengths.tolist(), strict=True)
                 if length > MAX_SENTENCE]
        starts = np.sort(np.concatenate([starts, *extra]))
    return np.r_[starts, n_tokens].astype(np.int64)


class CorpusCollector:
    """Keeps the blocks of :func:`embedstore.corpus.encode` that pass through it as a
    :class:`TextCorpus` (tokens below ``min_count`` dropped, one sentence per line, lines left
    empty vanish), so that one read of the text serves both counting and skip-gram:
    ``count_blocks(collector.passing(encode(path, vocabulary)), ...)``. ``n_tokens`` (the
    vocabulary's total count) lets the token array be filled in place, without a second copy.
    """

    def __init__(self, n_tokens: int | None = None) -> None:
        self.n_tokens = n_tokens
        self.tokens = np.empty(n_tokens, np.int32) if n_tokens is not None else None
        self.parts: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self.filled = 0

    def expect(self, n_tokens: int) -> None:
        """Fill one array of ``n_tokens`` in place (the vocabulary's total count, known once
        the vocabulary is built), instead of joining parts at the end."""
        if self.filled == 0:
            self.n_tokens = n_tokens
            self.tokens = np.empty(n_tokens, np.int32)

    def add(self, block: Block) -> None:
        known = block.ids >= 0
        ids, line = block.ids[known], block.line[known]
        if len(ids) == 0:
            return
        self.starts.append(self.filled + np.flatnonzero(np.r_[True, line[1:] != line[:-1]]))
        if self.tokens is not None:
            self.tokens[self.filled : self.filled + len(ids)] = ids
        else:
            self.parts.append(ids.astype(np.int32))
        self.filled += len(ids)

    def passing(self, blocks: Iterable[Block]) -> Iterator[Block]:
        """``blocks`` unchanged, each kept on its way."""
        for block in blocks:
            self.add(block)
            yield block

    def corpus(self) -> TextCorpus:
        """What has passed, as a :class:`TextCorpus`."""
        tokens = self.tokens
        if tokens is None:
            tokens = np.concatenate(self.parts) if self.parts else np.empty(0, np.int32)
        elif self.filled != self.n_tokens:
            raise ValueError(f"the blocks hold {self.filled} known tokens, not {self.n_tokens}")
        offsets = np.concatenate(self.starts) if self.starts else np.empty(0, np.int64)
        return TextCorpus(tokens, _with_pieces(offsets, self.filled))


def corpus_from_blocks(blocks: Iterable[Block], n_tokens: int | None = None) -> TextCorpus:
    """The :class:`TextCorpus` of :func:`embedstore.corpus.encode`'s blocks (see
    :class:`CorpusCollector`)."""
    collector = CorpusCollector(n_tokens)
    for block in blocks:
        collector.add(block)
    return collector.corpus()


def corpus_from_sentences(sentences: Iterable[Sequence[int]]) -> TextCorpus:
    """A :class:`TextCorpus` of sentences given as sequences of ids (empty ones skipped).

    >>> corpus_from_sentences([[0, 1, 2], [], [2, 0]]).starts.tolist()
    [0, 3, 5]
    """
    kept = [np.asarray(sentence, dtype=np.int32) for sentence in sentences if len(sentence)]
    tokens = np.concatenate(kept) if kept else np.empty(0, np.int32)
    lengths = np.array([len(sentence) for sentence in kept], dtype=np.int64)
    return TextCorpus(tokens, _with_pieces(np.cumsum(lengths) - lengths, len(tokens)))
