"""word2vec's skip-gram with negative sampling, trained from a text corpus on several threads.

The corpus is kept as one ``int32`` array of the ids of the tokens kept by ``min_count`` (as
gensim and word2vec do, out-of-vocabulary tokens are dropped before windowing, so a window
spans kept words) with the offsets where sentences (lines) start: about 4 bytes a token,
against the seconds that re-reading and re-encoding the text would cost each epoch. Sentences
longer than :data:`MAX_SENTENCE` tokens are cut into pieces of that length, as gensim does.

The compiled loops live in :mod:`embedstore.methods.word2vec_kernel`, imported only when
training starts. Hogwild: ``threads`` Python threads each run the compiled loop, which releases
the GIL, on their own contiguous share of the sentences, updating the two shared matrices
without locks. With one thread a seed gives the same vectors bit for bit; with more, the order
in which threads overwrite each other's updates varies from run to run, and so do the vectors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..counting.token_ids import TextCorpus, corpus_from_blocks
from ..counting.windows import keep_probability
from ..errors import TrainingError
from ..inputs.corpus import Block
from ..progress import Progress


@dataclass(frozen=True)
class Word2VecStats:
    """What a run did: ``words`` read (all epochs, before subsampling), ``trained`` words left
    after subsampling, training wall time (``seconds``, compilation or loading of the compiled
    code excluded: ``compile_seconds``)."""

    epochs: int
    threads: int
    words: int
    trained: int
    seconds: float
    compile_seconds: float

    @property
    def words_per_second_per_thread(self) -> float:
        return self.words / self.seconds / self.threads if self.seconds > 0 else 0.0


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's chance of keeping each item's tokens, times 2**32 (``uint64``): a token
    stays when a 32-bit random number is below it (2**32: always).

    >>> keep_thresholds(np.array([1000, 1]), 1e-3).tolist()
    [140185946, 4294967296]
    """
    chance = keep_probability(np.asarray(counts), int(np.sum(counts)), sample)
    return np.floor(chance * 2.0**32).astype(np.uint64)


START_NORM = 2.5
"""Mean row norm :func:`rescaled_start` gives count-based vectors: about what skip-gram's own
word vectors reach (2.1 after 5 epochs on the benchmark corpus). PPMI + SVD vectors (``U
S^0.25``) are about 15 times shorter; started from them as they are, an epoch of skip-gram
loses most of what they knew (see ``benchmarks/RESULTS.md``)."""


def rescaled_start(vectors: np.ndarray, mean_norm: float = START_NORM) -> np.ndarray:
    """``vectors`` times one factor, so that their rows' mean norm is ``mean_norm``: a
    start for skip-gram (a float32 copy; zero vectors stay zero).

    >>> rescaled_start(np.array([[3.0, 4.0], [0.0, 1.0]]), 1.5).tolist()
    [[1.5, 2.0], [0.0, 0.5]]
    """
    norms = np.linalg.norm(vectors, axis=1)
    mean = float(norms.mean()) if len(norms) else 0.0
    factor = mean_norm / mean if mean > 0 else 1.0
    return (np.asarray(vectors, dtype=np.float32) * np.float32(factor)).astype(np.float32,
                                                                               copy=False)


def _start_matrix(given: np.ndarray | None, n_items: int, dim: int, name: str,
                  fill: np.random.Generator | None) -> np.ndarray:
    """The matrix training starts from: ``given`` itself when it is a writable C-contiguous
    float32 array (trained in place: no copy), else a float32 copy; None: word2vec's start
    (uniform in +-0.5/dim for word vectors, zeros for context vectors)."""
    if given is None:
        if fill is None:
            return np.zeros((n_items, dim), np.float32)
        start = fill.random((n_items, dim), dtype=np.float32)
        start -= np.float32(0.5)  # in place: no second matrix
        start /= np.float32(dim)
        return start
    if given.shape != (n_items, dim):
        raise TrainingError(f"{name} has shape {given.shape}; training needs ({n_items}, {dim})"
                            " (one row per vocabulary item)")
    if given.dtype == np.float32 and given.flags.c_contiguous and given.flags.writeable:
        return given
    return np.ascontiguousarray(given, dtype=np.float32)


def _shares(corpus: TextCorpus, threads: int) -> list[tuple[int, int]]:
    """Contiguous sentence ranges, one per thread, of about equal numbers of tokens."""
    cuts = np.searchsorted(corpus.starts[:-1], np.linspace(0, corpus.n_tokens, threads + 1))
    cuts[0], cuts[-1] = 0, corpus.n_sentences
    return [(int(cuts[t]), int(cuts[t + 1])) for t in range(threads)]


def _check(counts: np.ndarray, corpus: TextCorpus, dim: int, epochs: int, window: int,
           negative: int, threads: int) -> None:
    if dim < 1 or epochs < 0 or window < 1 or negative < 0 or threads < 1:
        raise TrainingError("skip-gram needs dim >= 1, epochs >= 0, window >= 1, "
                            "negative >= 0 and threads >= 1")
    if len(counts) < 2 or np.any(np.asarray(counts) <= 0):
        raise TrainingError("skip-gram needs at least two items, each counted at least once")
    if corpus.n_tokens and not 0 <= int(corpus.tokens.min()) <= int(corpus.tokens.max()) \
            < len(counts):
        raise TrainingError("the corpus holds ids outside the vocabulary's counts")
    if corpus.starts[0] != 0 or corpus.starts[-1] != corpus.n_tokens or \
            np.any(np.diff(corpus.starts) < 0):
        raise TrainingError("the corpus's sentence offsets do not cover its tokens in order")


def train_word2vec(
    corpus: TextCorpus | Iterable[Block], counts: np.ndarray, *, dim: int = 100,
    epochs: int = 5, window: int = 5, negative: int = 5, sample: float = 1e-3,
    alpha: float = 0.025, min_alpha: float = 0.0001, ns_exponent: float = 0.75,
    threads: int = 1, seed: int = 0, word_vectors: np.ndarray | None = None,
    context_vectors: np.ndarray | None = None, shared_negatives: bool = True,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, Word2VecStats]:
    """Skip-gram with negative sampling over ``corpus`` (a :class:`TextCorpus`, or the blocks
    of :func:`embedstore.corpus.encode`): returns the word vectors, the context vectors (both
    ``len(counts) x dim`` float32) and what the run did.

    ``counts`` are the vocabulary's token counts by id (they set the subsampling and the noise
    distribution). ``word_vectors`` and ``context_vectors`` are the start (None: word2vec's
    random word vectors from ``seed`` and zero context vectors); a writable C-contiguous
    float32 start is trained in place. ``shared_negatives`` picks pWord2Vec's update (one set
    of negatives per window) over word2vec's (one per pair). ``progress`` is called about
    four times a second as ``progress("training", per-mille done, 1000, None)``.
    """
    if not isinstance(corpus, TextCorpus):
        corpus = corpus_from_blocks(corpus)
    counts = np.asarray(counts)
    _check(counts, corpus, dim, epochs, window, negative, threads)
    n_items = len(counts)
    rng = np.random.default_rng(seed)
    syn0 = _start_matrix(word_vectors, n_items, dim, "word_vectors", rng)
    syn1 = _start_matrix(context_vectors, n_items, dim, "context_vectors", None)
    if epochs == 0 or corpus.n_tokens == 0:
        return syn0, syn1, Word2VecStats(epochs, threads, 0, 0, 0.0, 0.0)
    from . import word2vec_kernel as kernel

    started = time.perf_counter()
    keep = keep_thresholds(counts, sample)
    table = kernel.noise_table(counts.astype(np.float64), float(ns_exponent))
    shares = _shares(corpus, threads)
    counter = np.zeros((threads, 8), np.int64)  # one cache line per thread
    seeds = np.random.SeedSequence(seed).generate_state(threads, np.uint64)
    planned = epochs * corpus.n_tokens

    def run(slot: int, first: int, last: int, rounds: int) -> int:
        return int(kernel.train_share(
            corpus.tokens, corpus.starts, first, last, syn0, syn1, keep, table, window,
            negative, float(alpha), float(min_alpha), rounds, planned, counter, slot,
            seeds[slot], shared_negatives))

    run(0, 0, 0, 0)  # compiles, or loads the compiled code from disk, before the clock starts
    compiled = time.perf_counter() - started
    trained = _run_threads(run, shares, epochs, counter, planned, progress)
    seconds = time.perf_counter() - started - compiled
    return syn0, syn1, Word2VecStats(epochs, threads, planned, trained, seconds, compiled)


def _run_threads(run: Callable[[int, int, int, int], int], shares: list[tuple[int, int]],
                 epochs: int, counter: np.ndarray, planned: int,
                 progress: Progress | None) -> int:
    """Run ``run(slot, first, last, epochs)`` on one thread per share; report progress from
    ``counter`` while they work; the words they trained on in all."""
    results: list[int | BaseException] = [0] * len(shares)

    def work(slot: int) -> None:
        try:
            results[slot] = run(slot, *shares[slot], epochs)
        except BaseException as exc:  # handed to the caller's thread below
            results[slot] = exc

    workers = [threading.Thread(target=work, args=(slot,), daemon=True)
               for slot in range(len(shares))]
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive():
            worker.join(0.25)
            if progress is not None:
                progress("training", int(1000 * int(counter[:, 0].sum()) // planned), 1000,
                         None)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    if progress is not None:
        progress("training", 1000, 1000, None)
    return sum(int(result) for result in results)  # type: ignore[arg-type]
