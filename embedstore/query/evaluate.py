"""Standard evaluations of a stored version: word analogies and word-pair similarity.

Both follow gensim's ``evaluate_word_analogies`` and ``evaluate_word_pairs`` so that figures
compare across tools. Words are matched case-insensitively (the most frequent spelling wins).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..inputs.textio import read_lines
from ..store import StoreLike
from .embeddings import Embeddings, open_embeddings
from .scoring import paired_cosines


@dataclass(frozen=True)
class SectionScore:
    section: str
    correct: int
    scored: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None


@dataclass(frozen=True)
class AnalogyReport:
    """Accuracy over the questions whose four words are all candidates."""

    file: str
    restrict: int | None
    correct: int
    scored: int
    skipped: int
    sections: list[SectionScore] = field(default_factory=list)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None


@dataclass(frozen=True)
class SimilarityReport:
    """Correlation of cosine similarity with human scores over the pairs both words known."""

    file: str
    spearman: float | None
    pearson: float | None
    pairs: int
    skipped: int


def evaluate_analogies(vectors: Embeddings, path: str | Path,
                       restrict: int | None = None) -> AnalogyReport:
    """Score the Google analogy format (``: section`` lines, then ``a b c d`` questions).

    A question counts only if all four words are among the ``restrict`` most frequent items
    (all items when None), and candidates come from those; the prediction is the item nearest
    by cosine to ``b - a + c`` (unit-normalised inputs), leaving out a, b and c.
    """
    path = Path(path)
    known = vectors.store.lowercase_rows(vectors.info, restrict)
    section = "(none)"
    questions: list[tuple[str, list[int]]] = []
    order: list[str] = []
    skipped = 0
    for number, line in read_lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":"):
            section = text[1:].strip()
            order.append(section)
            continue
        words = text.lower().split()
        if len(words) != 4:
            raise InputError(f"{path}, line {number}: expected four words 'a b c d' or a "
                             "': section' line")
        if all(word in known for word in words):
            questions.append((section, [known[word] for word in words]))
        else:
            skipped += 1
    if not order:
        order.append("(none)")
    correct_by_section = dict.fromkeys(order, 0)
    scored_by_section = dict.fromkeys(order, 0)
    if questions:
        rows = np.array([rows for _, rows in questions], dtype=np.int64)
        triples = rows[:, [1, 0, 2]]  # b - a + c
        targets = vectors.analogy_targets(triples.tolist())
        predicted, _ = vectors.searcher_for(exact=True).nearest(targets, 1, rows[:, :3].tolist(),
                                                                restrict)
        for (name, _), guess, expected in zip(questions, predicted, rows[:, 3], strict=True):
            scored_by_section[name] += 1
            correct_by_section[name] += int(len(guess) > 0 and guess[0] == expected)
    sections = [SectionScore(name, correct_by_section[name], scored_by_section[name])
                for name in order]
    return AnalogyReport(
        file=str(path), restrict=restrict, correct=sum(correct_by_section.values()),
        scored=len(questions), skipped=skipped, sections=sections)


def evaluate_similarity(vectors: Embeddings, path: str | Path) -> SimilarityReport:
    """Spearman and Pearson correlation of cosine with the scores of ``w1 w2 score`` lines
    (tab or space separated, ``#`` comments) over pairs with both words known."""
    from scipy import stats

    path = Path(path)
    known = vectors.store.lowercase_rows(vectors.info)
    human: list[float] = []
    pairs: list[tuple[int, int]] = []
    skipped = 0
    for number, line in read_lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split("\t") if "\t" in text else text.split()
        try:
            first, second, score = fields[0].strip().lower(), fields[1].strip().lower(), float(
                fields[2])
        except (IndexError, ValueError):
            if number == 1:
                continue  # a header line such as "Word 1, Word 2, Human (mean)"
            raise InputError(f"{path}, line {number}: expected 'word1 word2 score'") from None
        if first in known and second in known:
            pairs.append((known[first], known[second]))
            human.append(score)
        else:
            skipped += 1
    if len(pairs) < 2:
        return SimilarityReport(str(path), None, None, len(pairs), skipped)
    cosine = paired_cosines(vectors.row_vectors([a for a, _ in pairs]),
                            vectors.row_vectors([b for _, b in pairs]))
    spearman = float(stats.spearmanr(cosine, human).statistic)
    pearson = float(stats.pearsonr(cosine, human).statistic)
    return SimilarityReport(str(path), spearman, pearson, len(pairs), skipped)


@dataclass(frozen=True)
class Evaluation:
    """An evaluation of one version, as kept beside it: which version, what kind, the report."""

    model: str
    version: int
    kind: str
    report: AnalogyReport | SimilarityReport

    def to_json(self) -> dict[str, Any]:
        """``{"model", "version", **report}`` (analogies add the overall ``accuracy``)."""
        result = asdict(self.report)
        if isinstance(self.report, AnalogyReport):
            result["accuracy"] = self.report.accuracy
        return {"model": self.model, "version": self.version, **result}


def evaluate_version(kind: str, path: str | Path, *, store: StoreLike = None,
                     model: str = "default", version: int | str | None = None,
                     restrict: int | None = None) -> Evaluation:
    """Run evaluation ``kind`` (``analogies`` or ``similarity``) on a stored version and keep
    its result with the version (the version itself does not change)."""
    with open_embeddings(store, model, version) as vectors:
        if kind == "analogies":
            report: AnalogyReport | SimilarityReport = evaluate_analogies(vectors, path, restrict)
        else:
            report = evaluate_similarity(vectors, path)
        evaluation = Evaluation(vectors.model, vectors.version, kind, report)
        result = evaluation.to_json()
        del result["model"], result["version"]
        vectors.store.record_evaluation(vectors.info, kind, result)
    return evaluation
