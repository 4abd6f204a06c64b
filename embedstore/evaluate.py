"""Standard evaluations of a stored version: word analogies and word-pair similarity.

Both follow gensim's ``evaluate_word_analogies`` and ``evaluate_word_pairs`` so that figures
compare across tools. Words are matched case-insensitively (the most frequent spelling wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embeddings import Embeddings
from .errors import InputError


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


def _lower_rows(vectors: Embeddings, limit: int | None) -> dict[str, int]:
    """Lower-cased item -> row among the first ``limit`` rows (most frequent spelling)."""
    rows = vectors.store.connection.execute(
        "SELECT item, row FROM items WHERE version_id = ? AND row < ? ORDER BY row DESC",
        [vectors.info.id, limit if limit is not None else vectors.info.n_items])
    return {item.lower(): row for item, row in rows}


def _read_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not valid UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return list(enumerate(text.splitlines(), start=1))


def evaluate_analogies(vectors: Embeddings, path: str | Path,
                       restrict: int | None = None) -> AnalogyReport:
    """Score the Google analogy format (``: section`` lines, then ``a b c d`` questions).

    A question counts only if all four words are among the ``restrict`` most frequent items
    (all items when None), and candidates come from those; the prediction is the item nearest
    by cosine to ``b - a + c`` (unit-normalised inputs), leaving out a, b and c.
    """
    path = Path(path)
    known = _lower_rows(vectors, restrict)
    section = "(none)"
    questions: list[tuple[str, list[int]]] = []
    order: list[str] = []
    skipped = 0
    for number, line in _read_lines(path):
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
        predicted = _nearest_rows(vectors, targets, rows[:, :3], restrict)
        for (name, _), guess, expected in zip(questions, predicted, rows[:, 3], strict=True):
            scored_by_section[name] += 1
            correct_by_section[name] += int(guess == expected)
    sections = [SectionScore(name, correct_by_section[name], scored_by_section[name])
                for name in order]
    return AnalogyReport(
        file=str(path), restrict=restrict, correct=sum(correct_by_section.values()),
        scored=len(questions), skipped=skipped, sections=sections)


def _nearest_rows(vectors: Embeddings, targets: np.ndarray, exclude: np.ndarray,
                  restrict: int | None) -> list[int]:
    from .query import ranking_scores, top_k_rows

    candidates, inverse_norms = vectors.candidates(restrict)
    best: list[int] = []
    chunk = 256
    for start in range(0, len(targets), chunk):
        scores = ranking_scores(candidates, inverse_norms, targets[start : start + chunk])
        rows, _ = top_k_rows(scores, 1, exclude[start : start + chunk].tolist())
        best += [int(r[0]) if len(r) else -1 for r in rows]
    return best


def evaluate_similarity(vectors: Embeddings, path: str | Path) -> SimilarityReport:
    """Spearman and Pearson correlation of cosine with the scores of ``w1 w2 score`` lines
    (tab or space separated, ``#`` comments) over pairs with both words known."""
    from scipy import stats

    path = Path(path)
    known = _lower_rows(vectors, None)
    human: list[float] = []
    pairs: list[tuple[int, int]] = []
    skipped = 0
    for number, line in _read_lines(path):
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
    left = vectors.row_vectors([a for a, _ in pairs]).astype(np.float64)
    right = vectors.row_vectors([b for _, b in pairs]).astype(np.float64)
    norms = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
    cosine = np.divide((left * right).sum(axis=1), norms, out=np.zeros(len(pairs)),
                       where=norms > 0)
    spearman = float(stats.spearmanr(cosine, human).statistic)
    pearson = float(stats.pearsonr(cosine, human).statistic)
    return SimilarityReport(str(path), spearman, pearson, len(pairs), skipped)
