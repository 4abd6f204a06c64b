"""The hashing rule of subword vectors, checked by hand and against gensim's FastText."""

from __future__ import annotations

import numpy as np
import pytest

from embedstore.subwords.fitting import fit_subwords
from embedstore.subwords.ngrams import bucket_ids, compose, fnv1a_32, ngrams


def test_the_ngrams_of_a_word_are_fasttexts() -> None:
    assert ngrams("where") == ["<wh", "<whe", "<wher", "<where", "whe", "wher", "where",
                               "where>", "her", "here", "here>", "ere", "ere>", "re>"]
    assert ngrams("a") == ["<a>"]  # the whole marked word when it is that short


def test_fnv1a_of_known_bytes() -> None:
    # FNV-1a, 32 bits: offset basis 2166136261, prime 16777619.
    assert fnv1a_32(b"") == 2166136261
    assert fnv1a_32(b"a") == ((2166136261 ^ 0x61) * 16777619) % 2**32 == 3826002220
    # A byte of 0x80 or more is sign-extended first, as fastText does.
    assert fnv1a_32(b"\xc3") == ((2166136261 ^ 0xFFFFFFC3) * 16777619) % 2**32


def test_buckets_of_a_known_word() -> None:
    starts, ids = bucket_ids(["where"], 2_000_000)
    assert starts.tolist() == [0, 14]
    assert ids[:4].tolist() == [167652, 989715, 1526707, 1071586]
    assert ids.tolist() == [fnv1a_32(gram.encode()) % 2_000_000 for gram in ngrams("where")]


@pytest.mark.parametrize("word", ["where", "café", "naïve", "日本語", "😀ok", "ab"])
def test_buckets_are_the_ones_gensims_fasttext_uses(word: str) -> None:
    fasttext = pytest.importorskip("gensim.models.fasttext")
    assert bucket_ids([word], 2_000_000)[1].tolist() == list(
        fasttext.ft_ngram_hashes(word, 3, 6, 2_000_000))


def test_many_words_at_once_match_one_at_a_time() -> None:
    words = ["cat", "catalogue", "zürich", "x"]
    starts, ids = bucket_ids(words, 1000)
    for i, word in enumerate(words):
        assert ids[starts[i]:starts[i + 1]].tolist() == bucket_ids([word], 1000)[1].tolist()


def test_a_vector_is_the_mean_of_its_buckets_rows() -> None:
    table = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    ids = bucket_ids(["ox"], 50)[1]  # <ox <ox> ox>
    assert len(ids) == 3
    assert np.allclose(compose(["ox"], table)[0], table[ids].mean(axis=0), atol=1e-6)


def test_the_fit_reproduces_the_vectors_and_answers_a_misspelling() -> None:
    items = ["elephant", "elephants", "giraffe", "giraffes", "keyboard", "keyboards"]
    vectors = np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0.1, 1, 0], [0, 0, 1],
                        [0, 0.1, 1]], dtype=np.float32)
    fitted = fit_subwords(items, vectors, buckets=10_000)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert np.allclose(compose(items, fitted.table), unit, atol=0.05)
    built = compose(["girafe"], fitted.table)[0]
    assert int(np.argmax(unit @ built)) in (2, 3)
