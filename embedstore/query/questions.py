"""A nearest-neighbour question, apart from the items it names: what ``similar`` and ``analogy``
ask a searcher, ready to be answered alone (:meth:`Question.ask`) or together with others
(:func:`answer_together`, one searcher call for many questions).

:meth:`embedstore.Embeddings.similar_question` and ``analogy_question`` look the items up and
build the question; :meth:`embedstore.Embeddings.neighbors` turns the rows of an answer back
into items. A server that gathers concurrent requests answers their questions together in
between, on a thread of its own, without touching the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .scoring import cosmul_scores, top_k_rows
from .search import Ranked, Searcher


@dataclass(frozen=True)
class Inputs:
    """The items of a query as vectors (one row each, in the query's order): ``rows`` are
    those of the items the version knows (left out of the answers), ``from_subwords`` the
    items it does not know, whose vectors were built from their n-grams."""

    vectors: np.ndarray
    rows: list[int]
    from_subwords: list[str]


@dataclass(eq=False)
class Question:
    """The ``k`` rows nearest to ``targets`` (one target per row), through ``searcher``.

    ``exclude[i]`` lists rows left out for target ``i``; ``limit`` keeps only the first rows
    (``restrict``). A 3CosMul question (``cosmul``) has the three rows a, b, c as its targets
    and one list in ``exclude``: it needs every cosine, so it is always answered alone.
    ``from_subwords`` names the items whose vectors were built from their n-grams.
    """

    searcher: Searcher
    targets: np.ndarray
    k: int
    exclude: list[list[int]]
    limit: int | None = None
    cosmul: bool = False
    from_subwords: list[str] = field(default_factory=list)

    def ask(self) -> Ranked:
        """The answer of the searcher to this question alone."""
        if self.cosmul:
            scores = cosmul_scores(self.searcher.cosines(self.targets, self.limit))
            return top_k_rows(scores[None, :], self.k, self.exclude)
        return self.searcher.nearest(self.targets, self.k, self.exclude, self.limit)


def answer_together(questions: list[Question]) -> list[Ranked | Exception]:
    """The answer to each question (or the error it raised), in order, asking each searcher
    once per group of questions that can share a call: same ``limit`` and, for an
    approximate searcher (whose candidates depend on ``k``), same ``k``.

    Each answer is what the question gets alone: exact search scores a target the same bit
    for bit in any company (:mod:`.rescoring`), and the first ``k`` of a larger ``k`` are the
    first ``k``. When a shared call fails, its questions are asked again one by one, so a bad
    question fails alone.
    """
    answers: list[Ranked | Exception | None] = [None] * len(questions)
    groups: dict[tuple[int, int | None, int | None], list[int]] = {}
    for i, question in enumerate(questions):
        if question.cosmul:
            answers[i] = _alone(question)
            continue
        approximate = bool(getattr(question.searcher, "approximate", False))
        key = (id(question.searcher), question.limit, question.k if approximate else None)
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        try:
            found = _shared([questions[i] for i in members]) if len(members) > 1 else \
                [_alone(questions[members[0]])]
        except Exception:
            found = [_alone(questions[i]) for i in members]
        for i, answer in zip(members, found, strict=True):
            answers[i] = answer
    return [answer for answer in answers if answer is not None]


def _alone(question: Question) -> Ranked | Exception:
    try:
        return question.ask()
    except Exception as error:
        return error


def _shared(questions: list[Question]) -> list[Ranked | Exception]:
    """One searcher call for ``questions`` (same searcher and limit), split back."""
    first = questions[0]
    targets = np.concatenate([question.targets for question in questions])
    exclude = [rows for question in questions for rows in question.exclude]
    rows, scores = first.searcher.nearest(targets, max(q.k for q in questions), exclude,
                                          first.limit)
    answers: list[Ranked | Exception] = []
    start = 0
    for question in questions:
        stop = start + len(question.targets)
        answers.append(([found[: question.k] for found in rows[start:stop]],
                        [found[: question.k] for found in scores[start:stop]]))
        start = stop
    return answers
