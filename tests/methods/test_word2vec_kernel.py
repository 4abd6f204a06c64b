"""The compiled skip-gram kernel: what it learns, its formulas, its determinism, its start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedstore.counting.token_ids import (
    MAX_SENTENCE,
    TextCorpus,
    corpus_from_blocks,
    corpus_from_sentences,
)
from embedstore.errors import TrainingError
from embedstore.inputs.corpus import Block
from embedstore.methods.word2vec import keep_thresholds, train_word2vec

kernel = pytest.importorskip("embedstore.methods.word2vec_kernel",
                             reason="the kernel extra (numba) is not installed")

GROUP = 10  # ids 0-9 are one group of words, ids 10-19 the other


def two_groups(sentences: int = 600, length: int = 8, seed: int = 0) -> TextCorpus:
    """Sentences each made of words of one group only."""
    rng = np.random.default_rng(seed)
    return corpus_from_sentences(
        rng.integers(0, GROUP, length) + GROUP * (s % 2) for s in range(sentences))


def counts_of(corpus: TextCorpus) -> np.ndarray:
    return np.bincount(corpus.tokens, minlength=2 * GROUP)


def train(corpus: TextCorpus, **settings: object) -> tuple[np.ndarray, np.ndarray]:
    given = {"dim": 16, "epochs": 5, "window": 3, "sample": 0.0, "seed": 3, **settings}
    word, context, _ = train_word2vec(corpus, counts_of(corpus), **given)  # type: ignore[arg-type]
    return word, context


@pytest.mark.parametrize(("shared", "threads"), [(True, 1), (False, 1), (True, 2)])
def test_words_of_one_group_end_up_nearer(shared: bool, threads: int) -> None:
    word, _ = train(two_groups(), shared_negatives=shared, threads=threads)
    unit = word / np.linalg.norm(word, axis=1, keepdims=True)
    cosine = unit @ unit.T
    group = np.arange(2 * GROUP) // GROUP
    same = group[:, None] == group[None, :]
    off_diagonal = ~np.eye(2 * GROUP, dtype=bool)
    assert cosine[same & off_diagonal].mean() - cosine[~same].mean() > 0.5
    np.fill_diagonal(cosine, -np.inf)
    assert (group[cosine.argmax(axis=1)] == group).all()


@pytest.mark.parametrize("shared", [True, False])
def test_one_thread_and_a_seed_give_the_same_bits(shared: bool) -> None:
    corpus = two_groups()
    first = train(corpus, shared_negatives=shared, sample=1e-2)
    again = train(corpus, shared_negatives=shared, sample=1e-2)
    other = train(corpus, shared_negatives=shared, sample=1e-2, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.allclose(first[0], other[0], atol=1e-3)
    assert not np.allclose(first[1], other[1], atol=1e-3)


def test_learning_rate_decays_linearly_to_its_floor() -> None:
    # gensim: alpha - (alpha - min_alpha) * progress, never below min_alpha
    assert kernel.learning_rate(0.025, 0.0001, 0, 1000) == pytest.approx(0.025)
    assert kernel.learning_rate(0.025, 0.0001, 500, 1000) == pytest.approx(0.01255)
    assert kernel.learning_rate(0.025, 0.0001, 750, 1000) == pytest.approx(0.006325)
    assert kernel.learning_rate(0.025, 0.0001, 1000, 1000) == pytest.approx(0.0001)
    assert kernel.learning_rate(0.025, 0.0001, 1200, 1000) == pytest.approx(0.0001)


def test_subsampling_keeps_word2vec_share_of_each_word() -> None:
    # word2vec: keep a token of count c among T with chance (sqrt(c / (s T)) + 1) s T / c;
    # c = 1000, T = 1001, s = 1e-3: (sqrt(1000 / 1.001) + 1) * 1.001 / 1000 = 0.0326396
    thresholds = keep_thresholds(np.array([1000, 1]), 1e-3)
    assert thresholds[0] == 140185946  # floor(0.03263958 * 2**32)
    assert thresholds[0] / 2**32 == pytest.approx(0.0326396, rel=1e-6)
    assert thresholds[1] == 2**32  # rare words are always kept
    tokens = np.repeat(np.array([0, 1], np.int32), [200_000, 1000])
    sentence = np.empty(len(tokens), np.int32)
    kept, _ = kernel.subsample(tokens, 0, len(tokens), thresholds, sentence, np.uint64(7))
    assert abs((sentence[:kept] == 0).sum() / 200_000 - 0.0326396) < 0.002
    assert (sentence[:kept] == 1).sum() == 1000
    everything = keep_thresholds(np.array([1000, 1]), 0.0)
    assert kernel.subsample(tokens, 0, len(tokens), everything, sentence,
                            np.uint64(7))[0] == len(tokens)


def test_negatives_follow_the_counts_to_the_power_three_quarters() -> None:
    table = kernel.noise_table(np.array([1.0, 16.0, 81.0]), 0.75)  # weights 1, 8, 27
    state = np.uint64(11)
    drawn = np.zeros(3)
    for _ in range(36_000):  # called from Python, typed as inside the kernel: uint64
        state, random = map(np.uint64, kernel.next_random(np.uint64(state)))
        drawn[kernel.draw(table, random)] += 1
    assert np.abs(drawn / drawn.sum() - np.array([1, 8, 27]) / 36).max() < 0.01


def test_zero_epochs_return_the_start_and_a_tiny_rate_stays_near_it() -> None:
    corpus = two_groups()
    rng = np.random.default_rng(0)
    start = rng.standard_normal((2 * GROUP, 16)).astype(np.float32)
    context = rng.standard_normal((2 * GROUP, 16)).astype(np.float32)
    word, back, _ = train_word2vec(corpus, counts_of(corpus), dim=16, epochs=0,
                                   word_vectors=start, context_vectors=context)
    assert word is start and back is context  # float32 C-contiguous: trained in place
    near, _ = train(corpus, word_vectors=start.copy(), context_vectors=context.copy(),
                    alpha=1e-7, min_alpha=1e-7)
    far, _ = train(corpus, word_vectors=start.copy(), context_vectors=context.copy())
    assert np.abs(near - start).max() < 1e-3
    assert np.abs(far - start).max() > 0.1
    with pytest.raises(TrainingError, match="shape"):
        train(corpus, word_vectors=start[:, :8])


def test_corpus_drops_unknown_tokens_keeps_lines_and_cuts_long_sentences() -> None:
    block = Block(ids=np.array([3, -1, 2, 0, -1, -1, 1]), line=np.array([1, 1, 1, 2, 3, 3, 4]))
    corpus = corpus_from_blocks([block], n_tokens=4)
    assert corpus.tokens.tolist() == [3, 2, 0, 1]
    assert corpus.starts.tolist() == [0, 2, 3, 4]  # line 3 had no known token
    long = corpus_from_sentences([[1] * (2 * MAX_SENTENCE + 5), [2, 3]])
    assert long.starts.tolist() == [0, MAX_SENTENCE, 2 * MAX_SENTENCE,
                                    2 * MAX_SENTENCE + 5, 2 * MAX_SENTENCE + 7]


def test_the_svd_word_side_is_the_default_vectors(tmp_path: Path) -> None:
    from embedstore.engines.memory import MemoryCounts
    from embedstore.methods.svd import svd_sides
    from embedstore.schema import SvdSettings
    from embedstore.training.fitting import train_in_memory
    from embedstore.training.sources import count_text

    rng = np.random.default_rng(1)
    lines = [" ".join(f"w{g}{i}" for i in rng.integers(0, 6, 7)) for g in (0, 1) * 60]
    (tmp_path / "c.txt").write_text("\n".join(lines) + "\n")
    cooc = count_text(tmp_path / "c.txt", min_count=1, sample=0)
    settings = SvdSettings(add_context=False, dim=4)
    word, context = svd_sides(*MemoryCounts(cooc).ppmi_products(settings), settings)
    assert np.array_equal(word, train_in_memory(cooc, settings))
    assert context.shape == word.shape and not np.array_equal(context, word)


def test_importing_the_library_or_the_driver_loads_no_numba() -> None:
    script = ("import sys, embedstore, embedstore.methods.word2vec\n"
              "print('numba' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_a_second_process_loads_the_compiled_kernel_from_disk() -> None:
    setup = ("import numpy as np\n"
             "from embedstore.counting.token_ids import corpus_from_sentences\n"
             "from embedstore.methods.word2vec import train_word2vec\n"
             "corpus = corpus_from_sentences([[0, 1, 2, 1, 0]] * 5)\n"
             "train_word2vec(corpus, np.array([10, 10, 5]), dim=8, epochs=1)\n")
    exec(setup, {})  # compiles here (writing the cache) unless it was on disk already
    script = setup + ("from embedstore.methods import word2vec_kernel as kernel\n"
                      "stats = kernel.train_share.stats\n"
                      "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    hits, misses = map(int, result.stdout.split())
    assert (hits, misses) == (1, 0)
