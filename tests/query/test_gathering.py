"""Queries gathered from many threads into one product: every answer is the one the same query
gets alone, bit for bit, ties included; a failing call fails alone; a lone call never waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.errors import QueryError
from embedstore.query.gathering import BatchStats, GatheringSearcher
from embedstore.query.questions import answer_together
from embedstore.query.search import QUERY_TILE, ExactSearcher, Ranked


def tied_matrix() -> np.ndarray:
    """Random rows with exact ties: copies of one row, a row scaled (same cosines), zeros."""
    vectors = np.random.default_rng(7).standard_normal((5000, 24)).astype(np.float32)
    vectors[100:110] = vectors[3]
    vectors[200] = vectors[3] * 2
    vectors[300:305] = 0
    return vectors


class Slow:
    """A searcher that takes its time, so that calls arriving meanwhile queue up."""

    approximate = False

    def __init__(self, searcher: ExactSearcher, seconds: float) -> None:
        self.searcher = searcher
        self.seconds = seconds

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        time.sleep(self.seconds)
        return self.searcher.nearest(targets, k, exclude, limit)

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        return self.searcher.cosines(targets, limit)


def calls(vectors: np.ndarray) -> list[tuple[np.ndarray, int, list[int], int | None]]:
    """Targets of every kind: rows with many exact ties, a basket, a zero target, restricts."""
    rng = np.random.default_rng(11)
    found = []
    for i in range(48):
        row = int(rng.integers(len(vectors)))
        target = vectors[[3, 100, 200, row][i % 4]].copy()
        if i % 5 == 1:
            target = vectors[row] / np.linalg.norm(vectors[row]) - vectors[7] / np.linalg.norm(
                vectors[7])
        if i == 13:
            target = np.zeros(vectors.shape[1], np.float32)
        exclude = [3, 100] if i % 3 == 0 else [row]
        found.append((target, [5, 10, 1, 30][i % 4], exclude, [None, 2000, 120][i % 3]))
    return found


def ask_together(searcher: GatheringSearcher,
                 queries: list[tuple[np.ndarray, int, list[int], int | None]]) -> list[Ranked]:
    answers: list[Ranked | None] = [None] * len(queries)
    start = threading.Barrier(len(queries))

    def ask(i: int) -> None:
        target, k, exclude, limit = queries[i]
        start.wait()
        answers[i] = searcher.nearest(target[None, :], k, [exclude], limit)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(queries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_gathered_answers_are_the_answers_alone_bit_for_bit() -> None:
    vectors = tied_matrix()
    exact = ExactSearcher(vectors, np.linalg.norm(vectors, axis=1))
    batches: list[BatchStats] = []
    gathering = GatheringSearcher(Slow(exact, 0.02), wait=0.01, observe=batches.append)
    queries = calls(vectors)
    together = ask_together(gathering, queries)
    assert max(stats.calls for stats in batches) > 4  # answered together, not one by one
    assert sum(stats.calls for stats in batches) == len(queries)
    for (target, k, exclude, limit), (rows, scores) in zip(queries, together, strict=True):
        alone_rows, alone_scores = exact.nearest(target[None, :], k, [exclude], limit)
        assert rows[0].tolist() == alone_rows[0].tolist()
        assert scores[0].tobytes() == alone_scores[0].tobytes()  # the same bits
    tie = queries[0]  # row 3 and its copies: equal scores, lower rows first
    rows, scores = together[0]
    assert tie[2] == [3, 100] and rows[0][:3].tolist() == [101, 102, 103]
    assert len(set(scores[0][:3].tolist())) == 1


@pytest.mark.parametrize(("tile", "parts"), [(1, 1), (3, 1), (8, 1), (16, 3), (QUERY_TILE, 1),
                                            (QUERY_TILE, 3)])
def test_exact_search_scores_a_target_the_same_in_any_company(
        tile: int, parts: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix product rounds differently for one target and for many (and for a product
    split over threads); the answers do not."""
    monkeypatch.setattr("embedstore.query.search.QUERY_TILE", tile)
    monkeypatch.setattr("embedstore.query.search.SPLIT_SCORES", 1)
    vectors = tied_matrix()
    exact = ExactSearcher(vectors, np.linalg.norm(vectors, axis=1))
    exact.parts = parts
    queries = calls(vectors)[:20]
    targets = np.stack([target for target, *_ in queries])
    for budget in (None, 7 * 1000):  # whole rows, or blocks of rows
        if budget is not None:
            monkeypatch.setattr("embedstore.query.search.SCORE_BUDGET", budget)
        rows, scores = exact.nearest(targets, 10, [exclude for _, _, exclude, _ in queries])
        for i, (target, _, exclude, _) in enumerate(queries):
            alone_rows, alone_scores = exact.nearest(target[None, :], 10, [exclude])
            assert rows[i].tolist() == alone_rows[0].tolist()
            assert scores[i].tobytes() == alone_scores[0].tobytes()


def test_a_failing_call_fails_alone_and_the_others_are_answered() -> None:
    vectors = tied_matrix()
    exact = ExactSearcher(vectors, np.linalg.norm(vectors, axis=1))
    batches: list[BatchStats] = []
    gathering = GatheringSearcher(Slow(exact, 0.05), wait=0.01, observe=batches.append)
    outcomes: dict[int, object] = {}
    start = threading.Barrier(9)

    def ask(i: int) -> None:
        target = vectors[i, :10] if i == 4 else vectors[i]  # call 4: the wrong dimension
        start.wait()
        try:
            outcomes[i] = gathering.nearest(target[None, :], 3, [[i]])
        except ValueError as error:
            outcomes[i] = error

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(outcomes[4], ValueError)
    assert max(stats.calls for stats in batches) > 1  # the bad call was in a batch with others
    for i in set(range(9)) - {4}:
        rows, _ = outcomes[i]  # type: ignore[misc]
        assert rows[0].tolist() == exact.nearest(vectors[i][None, :], 3, [[i]])[0][0].tolist()
    with pytest.raises(QueryError, match="k must be at least 1"):
        gathering.nearest(vectors[:1], 0)


def test_a_lone_call_never_waits_for_the_window() -> None:
    vectors = tied_matrix()
    exact = ExactSearcher(vectors, np.linalg.norm(vectors, axis=1))
    batches: list[BatchStats] = []
    gathering = GatheringSearcher(exact, wait=5.0, observe=batches.append)  # a long window
    for row in (1, 2, 3):
        gathering.nearest(vectors[row][None, :], 5, [[row]])
    assert [(stats.calls, stats.waited) for stats in batches] == [(1, False)] * 3


def test_a_call_with_more_targets_than_a_batch_takes_turns() -> None:
    vectors = tied_matrix()
    exact = ExactSearcher(vectors, np.linalg.norm(vectors, axis=1))
    batches: list[BatchStats] = []
    gathering = GatheringSearcher(exact, max_targets=4, observe=batches.append)
    rows, scores = gathering.nearest(vectors[:10], 5, [[i] for i in range(10)])
    expected_rows, expected_scores = exact.nearest(vectors[:10], 5, [[i] for i in range(10)])
    assert [r.tolist() for r in rows] == [r.tolist() for r in expected_rows]
    assert [s.tobytes() for s in scores] == [s.tobytes() for s in expected_scores]
    assert [stats.targets for stats in batches] == [4, 4, 2]


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_an_index_answers_questions_together_as_alone(store: Path, kind: str) -> None:
    """faiss and usearch search a batch's targets in one call; each answer is its own."""
    pytest.importorskip({"ivf": "faiss", "hnsw": "usearch"}[kind])
    from embedstore.query.indexing import build_index

    vectors = tied_matrix()[:3000]
    embedstore.publish_vectors([f"w{row}" for row in range(3000)], vectors, store=store)
    build_index(store, kind=kind, threads=1)
    with embedstore.open(store) as opened:
        assert opened.approximate()
        questions = [opened.similar_question(f"w{row}", k=[5, 10][row % 2],
                                             restrict=[None, 2000][row % 3 == 0])
                     for row in range(0, 3000, 75)]
        questions.append(opened.analogy_question("w1", "w2", "w3", k=4, method="mul"))
        together = answer_together(questions)
        for question, answer in zip(questions, together, strict=True):
            assert not isinstance(answer, Exception)
            rows, scores = question.ask()
            assert [r.tolist() for r in answer[0]] == [r.tolist() for r in rows]
            assert [s.tobytes() for s in answer[1]] == [s.tobytes() for s in scores]
        exact_rows, exact_scores = opened.similar_question("w100", k=5, exact=True).ask()
        rows, scores = opened.similar_question("w100", k=5).ask()
        found = set(rows[0].tolist()) & set(exact_rows[0].tolist())
        assert found  # an index's score of a row is exact search's, bit for bit
        for row in found:
            assert scores[0][rows[0].tolist().index(row)].tobytes() == \
                exact_scores[0][exact_rows[0].tolist().index(row)].tobytes()
