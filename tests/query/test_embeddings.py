"""The query API of one version: every search goes through its searcher; names are NFC."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import embedstore
from embedstore.errors import UnknownItemError
from embedstore.plot import map_version
from embedstore.query.diff import diff_versions
from embedstore.query.evaluate import evaluate_analogies
from embedstore.query.search import ExactSearcher, Ranked
from embedstore.store import Store
from tests.conftest import DATA

CAFE_NFC, CAFE_NFD = "caf\u00e9", "cafe\u0301"
AXES = {  # items on two axes: hand-checkable neighbours and analogies
    "king": [1.0, 1.0, 0.0], "queen": [1.0, -1.0, 0.0], "man": [0.0, 1.0, 0.1],
    "woman": [0.0, -1.0, 0.1], CAFE_NFC: [0.0, 0.0, 1.0], "bar": [0.1, 0.0, 1.0],
}


class RecordingSearcher(ExactSearcher):
    """Exact search that notes every question asked of it."""

    calls: ClassVar[Counter[str]] = Counter()

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        RecordingSearcher.calls["nearest"] += len(targets)
        return super().nearest(targets, k, exclude, limit)

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        RecordingSearcher.calls["cosines"] += len(targets)
        return super().cosines(targets, limit)


@pytest.fixture
def axes(store: Path) -> Path:
    embedstore.publish_vectors(list(AXES), np.array(list(AXES.values()), np.float32),
                               store=store)
    return store


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    RecordingSearcher.calls = Counter()
    monkeypatch.setattr("embedstore.query.embeddings.ExactSearcher", RecordingSearcher)
    return RecordingSearcher.calls


def test_hand_checkable_answers(axes: Path) -> None:
    with embedstore.open(axes) as vectors:
        assert vectors.similar(CAFE_NFC, k=1)[0].item == "bar"
        assert vectors.analogy("king", "man", "woman", k=1)[0].item == "queen"
        assert vectors.analogy("king", "man", "woman", k=1, method="mul")[0].item == "queen"
        assert vectors.similarity("king", "queen") == pytest.approx(0.0, abs=1e-7)
        assert vectors.vector("bar").tolist() == pytest.approx([0.1, 0.0, 1.0])
        assert not vectors.vector("bar").flags.writeable
        assert [n.item for n in vectors.similar("king", k=5, restrict=3)] == ["man", "queen"]


def test_every_query_searches_through_the_searcher(axes: Path, write, recording) -> None:  # type: ignore[no-untyped-def]
    with embedstore.open(axes) as vectors:
        assert isinstance(vectors.searcher, RecordingSearcher)
        vectors.similar("king", k=2)
        vectors.analogy("king", "man", "woman", k=1)
        assert recording == {"nearest": 2}
        vectors.analogy("king", "man", "woman", k=1, method="mul")
        assert recording["cosines"] == 3  # the three inputs' cosines to every row
        list(vectors.batch([{"op": "similar", "item": "man"}, {"op": "similar", "item": "bar"}]))
        assert recording["nearest"] == 4
        questions = write("questions.txt", ": royalty\nman woman king queen\n")
        report = evaluate_analogies(vectors, questions)
        assert (report.correct, report.scored) == (1, 1) and recording["nearest"] == 5
        vectors.similar("king", "woman", minus=["man"], k=1)
        assert recording["nearest"] == 6
        neighbourhood = map_version(vectors, around="king", k=2)
        assert len(neighbourhood.points) == 3 and recording["nearest"] == 7
    embedstore.publish_vectors(list(AXES), np.array(list(AXES.values()), np.float32),
                               store=axes)
    with Store.open(axes) as store:
        diff = diff_versions(store, "default", 1, 2, k=2)
    assert diff.mean_overlap == 1.0 and recording["nearest"] == 7 + 2 * len(AXES)


def test_another_searcher_plugs_in_behind_the_seam(axes: Path) -> None:
    """An index only has to answer rows and scores: here one that knows nothing but row 1."""

    class OnlyQueen:
        def nearest(self, targets: np.ndarray, k: int,
                    exclude: Sequence[Iterable[int]] | None = None,
                    limit: int | None = None) -> Ranked:
            return ([np.array([1]) for _ in targets],
                    [np.array([0.5], np.float32) for _ in targets])

        def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
            return np.zeros((len(targets), len(AXES)), np.float32)

    with Store.open(axes) as store:
        vectors = embedstore.Embeddings(store, *store.open_version("default"),
                                        searcher=OnlyQueen())
        assert [(n.item, n.score) for n in vectors.similar("bar", k=3)] == [("queen", 0.5)]
        several = vectors.similar("bar", "king", minus=["man"], k=3)
        assert [(n.item, n.score) for n in several] == [("queen", 0.5)]
        (line,) = vectors.batch([{"op": "similar", "items": ["bar", "king"], "minus": ["man"]}])
        assert line.results == several
        (result,) = vectors.batch([{"op": "analogy", "a": "king", "b": "man", "c": "woman"}])
        assert result.results == vectors.similar("bar")


def test_items_are_named_in_either_unicode_spelling(axes: Path) -> None:
    with embedstore.open(axes) as vectors:
        assert vectors.known_rows([CAFE_NFD, CAFE_NFC]) == {CAFE_NFD: 4, CAFE_NFC: 4}
        assert vectors.similar(CAFE_NFD, k=1) == vectors.similar(CAFE_NFC, k=1)
        assert [n.item for n in vectors.similar("bar", k=1)] == [CAFE_NFC]
        assert vectors.similarity(CAFE_NFD, CAFE_NFC) == pytest.approx(1.0)
        (answer,) = vectors.batch([{"op": "vector", "item": CAFE_NFD, "id": 1}])
        assert answer.vector == [0.0, 0.0, 1.0] and answer.query == {"op": "vector",
                                                                       "item": CAFE_NFD}
        with pytest.raises(UnknownItemError, match=r"did you mean 'café'"):
            vectors.similar("cafes\u0301")


def test_the_cli_normalises_the_items_it_is_given(run, write) -> None:  # type: ignore[no-untyped-def]
    pairs = write("accents.csv", f"{CAFE_NFD},bar\n{CAFE_NFC},bar\nbar,pub\ntea,pub\n")
    assert run("train", str(pairs), "--quiet", "--method", "sgns", "--epochs", "50").exit_code == 0
    listed = run("export", "-o", str(pairs.parent / "out.txt"))
    assert listed.exit_code == 0
    exported = (pairs.parent / "out.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split()[0] for line in exported[1:]) == sorted(
        ["bar", CAFE_NFC, "pub", "tea"])
    for spelling in (CAFE_NFD, CAFE_NFC):
        result = run("similar", spelling, "--k", "3")
        assert result.exit_code == 0 and CAFE_NFC not in result.stdout


def test_a_version_removed_after_opening_still_answers(store: Path) -> None:
    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    with embedstore.open(store) as vectors, Store.open(store) as other:
        from embedstore.store.registry import remove_version

        remove_version(other, "default", 1)
        assert len(vectors.similar("cat", k=3)) == 3
