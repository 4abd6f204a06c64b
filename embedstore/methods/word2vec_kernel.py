"""The compiled loops of word2vec's skip-gram with negative sampling (numba).

Imported only when a skip-gram run starts (:func:`embedstore.methods.word2vec.train_word2vec`
imports it), so ``import embedstore`` and the query path never load numba. Every function is
compiled with ``cache=True``: the machine code is kept on disk beside this file (or in numba's
user cache) and a second run loads it instead of compiling again.

What a thread does with its share of the sentences, epoch after epoch, follows word2vec
(Mikolov et al. 2013, the original C) and gensim's ``word2vec_inner.pyx``:

* frequent-word subsampling: a token of an item kept with probability ``p`` survives when a
  32-bit random number is below ``p * 2**32``; dropped tokens leave no gap;
* the reduced random window: for each position a half-width ``window - b`` with ``b`` drawn
  uniformly from ``0 .. window - 1``; windows never cross a sentence;
* negatives drawn from the unigram distribution raised to ``ns_exponent`` (0.75), here with
  Walker's alias method (one table of ``n_items`` entries, two random halves of one 64-bit
  draw) rather than word2vec's 10^8-entry table or gensim's binary search: the same
  distribution, exact, constant time, and small enough to stay in cache;
* the learning rate decays linearly from ``alpha`` to ``min_alpha`` over the words of all
  epochs (gensim's schedule), read from every thread's progress at each sentence;
* the sigmoid is computed exactly (word2vec looks it up in a table over [-6, 6]).

Two update rules: word2vec's, pair by pair (each (centre, context) pair draws its own
negatives and updates at once), and pWord2Vec's (Ji et al. 2016): the negatives are drawn once
per window and shared by all of its context words, so a window is one small dense block, the
``context x (1 + negative)`` scores of its input rows against its output rows, updated as one
minibatch. Hogwild (Recht et al. 2011): threads update the shared matrices without locks.

Random numbers come from splitmix64 (Steele et al. 2014), one state per thread, so a run with
one thread is the same bit for bit for the same seed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}
"""Floating-point licences: reassociation lets the dot products use SIMD lanes; infinities and
NaNs keep their meaning (a sigmoid of a large score goes through ``exp`` overflow safely)."""

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
LOW32 = np.uint64(0xFFFFFFFF)
S27, S30, S31, S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)


@njit(nogil=True, cache=True, inline="always")
def next_random(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """splitmix64: the next state and a 64-bit random number."""
    state = state + GOLDEN
    z = state
    z = (z ^ (z >> S30)) * MIX1
    z = (z ^ (z >> S27)) * MIX2
    return state, z ^ (z >> S31)


@njit(nogil=True, cache=True)
def learning_rate(alpha: float, min_alpha: float, done: int, planned: int) -> float:
    """The rate after ``done`` of ``planned`` words: linear from ``alpha`` to ``min_alpha``."""
    rate = alpha - (alpha - min_alpha) * done / max(planned, 1)
    return max(rate, min_alpha)


@njit(nogil=True, cache=True)
def noise_table(counts: np.ndarray, exponent: float) -> np.ndarray:
    """Walker's alias table (Vose's construction) for drawing ids with probability
    proportional to ``counts ** exponent``: entry ``i`` holds the 32-bit chance of keeping
    ``i`` in its upper half and the id to take otherwise in its lower half."""
    n = counts.shape[0]
    weights = counts.astype(np.float64) ** exponent
    scaled = weights * (n / weights.sum())
    table = np.empty(n, np.uint64)
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    n_small = n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        n_large -= 1
        low, high = small[n_small], large[n_large]
        table[low] = (np.uint64(min(scaled[low] * 4294967296.0, 4294967295.0)) << S32) | \
            np.uint64(high)
        scaled[high] = scaled[high] + scaled[low] - 1.0
        if scaled[high] < 1.0:
            small[n_small] = high
            n_small += 1
        else:
            large[n_large] = high
            n_large += 1
    for k in range(n_small):  # what rounding left over is certain: itself
        table[small[k]] = (LOW32 << S32) | np.uint64(small[k])
    for k in range(n_large):
        table[large[k]] = (LOW32 << S32) | np.uint64(large[k])
    return table


@njit(nogil=True, cache=True, inline="always")
def draw(table: np.ndarray, random: np.uint64) -> np.int64:
    """An id from the alias ``table``: the upper 32 bits pick a slot, the lower decide."""
    slot = ((random >> S32) * np.uint64(table.shape[0])) >> S32
    entry = table[slot]
    if (random & LOW32) < (entry >> S32):
        return np.int64(slot)
    return np.int64(entry & LOW32)


@njit(nogil=True, cache=True)
def subsample(tokens: np.ndarray, begin: int, end: int, keep: np.ndarray,
              sentence: np.ndarray, state: np.uint64) -> tuple[int, np.uint64]:
    """Copy the tokens ``begin:end`` that survive subsampling (``keep``: each id's chance
    times 2**32) to the front of ``sentence``; returns how many, and the random state."""
    n = 0
    for position in range(begin, end):
        word = tokens[position]
        state, random = next_random(state)
        if (random >> S32) < keep[word]:
            sentence[n] = word
            n += 1
    return n, state


@njit(nogil=True, cache=True, fastmath=FAST, inline="always")
def sigmoid(score: np.float32) -> np.float32:
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-score))


@njit(nogil=True, cache=True, fastmath=FAST)
def window_pairs(sentence: np.ndarray, i: int, lo: int, hi: int, syn0: np.ndarray,
                 syn1: np.ndarray, table: np.ndarray, negative: int, rate: np.float32,
                 work: np.ndarray, state: np.uint64) -> np.uint64:
    """word2vec's update of the window ``lo:hi`` around position ``i``: each context word's
    input vector against the centre's output vector and its own ``negative`` noise words."""
    dim = syn0.shape[1]
    word = sentence[i]
    for j in range(lo, hi):
        if j == i:
            continue
        context = sentence[j]
        for k in range(dim):
            work[0, k] = 0.0
        for d in range(negative + 1):
            target, label = word, np.float32(1.0)
            if d > 0:
                state, random = next_random(state)
                target, label = draw(table, random), np.float32(0.0)
                if target == word:
                    continue
            score = np.float32(0.0)
            for k in range(dim):
                score += syn0[context, k] * syn1[target, k]
            g = (label - sigmoid(score)) * rate
            for k in range(dim):
                work[0, k] += g * syn1[target, k]
                syn1[target, k] += g * syn0[context, k]
        for k in range(dim):
            syn0[context, k] += work[0, k]
    return state


@njit(nogil=True, cache=True, fastmath=FAST)
def window_shared(sentence: np.ndarray, i: int, lo: int, hi: int, syn0: np.ndarray,
                  syn1: np.ndarray, table: np.ndarray, negative: int, rate: np.float32,
                  work: np.ndarray, gradient: np.ndarray, outputs: np.ndarray,
                  state: np.uint64) -> np.uint64:
    """pWord2Vec's update of the window ``lo:hi`` around ``i``: its context words' input
    vectors against the centre's output vector and ``negative`` noise words drawn once for
    the window, as one minibatch (every gradient from the vectors as they were before)."""
    dim = syn0.shape[1]
    word = sentence[i]
    outputs[0] = word
    n_out = 1
    for _ in range(negative):
        state, random = next_random(state)
        target = draw(table, random)
        if target != word:
            outputs[n_out] = target
            n_out += 1
    row = 0
    for j in range(lo, hi):
        if j == i:
            continue
        context = sentence[j]
        for k in range(dim):
            work[row, k] = 0.0
        for o in range(n_out):
            target = outputs[o]
            score = np.float32(0.0)
            for k in range(dim):
                score += syn0[context, k] * syn1[target, k]
            label = np.float32(1.0) if o == 0 else np.float32(0.0)
            g = (label - sigmoid(score)) * rate
            gradient[row, o] = g
            for k in range(dim):
                work[row, k] += g * syn1[target, k]
        row += 1
    for o in range(n_out):
        target = outputs[o]
        row = 0
        for j in range(lo, hi):
            if j != i:
                context = sentence[j]
                g = gradient[row, o]
                for k in range(dim):
                    syn1[target, k] += g * syn0[context, k]
                row += 1
    row = 0
    for j in range(lo, hi):
        if j != i:
            context = sentence[j]
            for k in range(dim):
                syn0[context, k] += work[row, k]
            row += 1
    return state


@njit(nogil=True, cache=True, fastmath=FAST)
def train_share(tokens: np.ndarray, starts: np.ndarray, first: int, last: int,
                syn0: np.ndarray, syn1: np.ndarray, keep: np.ndarray, table: np.ndarray,
                window: int, negative: int, alpha: float, min_alpha: float, epochs: int,
                planned: int, progress: np.ndarray, slot: int, seed: np.uint64,
                shared: bool) -> int:
    """Train on sentences ``first:last`` (``starts``: offsets into ``tokens``) for
    ``epochs`` epochs, counting the words read in ``progress[slot, 0]``; the learning rate
    follows the words read by all threads (the sum of ``progress[:, 0]``) out of
    ``planned``. Returns the words left after subsampling (what was trained on)."""
    longest = 1
    for s in range(first, last):
        longest = max(longest, starts[s + 1] - starts[s])
    sentence = np.empty(longest, np.int32)
    work = np.empty((2 * window, syn0.shape[1]), np.float32)
    gradient = np.empty((2 * window, negative + 1), np.float32)
    outputs = np.empty(negative + 1, np.int64)
    state = seed
    span = np.uint64(window)
    trained = 0
    for _ in range(epochs):
        for s in range(first, last):
            done = 0
            for t in range(progress.shape[0]):
                done += progress[t, 0]
            rate = np.float32(learning_rate(alpha, min_alpha, done, planned))
            n, state = subsample(tokens, starts[s], starts[s + 1], keep, sentence, state)
            progress[slot, 0] += starts[s + 1] - starts[s]
            trained += n
            for i in range(n):
                state, random = next_random(state)
                reduced = np.int64(random % span)
                lo = max(0, i - window + reduced)
                hi = min(n, i + window + 1 - reduced)
                if shared:
                    state = window_shared(sentence, i, lo, hi, syn0, syn1, table, negative,
                                          rate, work, gradient, outputs, state)
                else:
                    state = window_pairs(sentence, i, lo, hi, syn0, syn1, table, negative,
                                         rate, work, state)
    return trained
