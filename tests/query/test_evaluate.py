"""Evaluations of a stored version, on vectors whose answers can be checked by hand."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.errors import InputError
from embedstore.query.evaluate import evaluate_analogies, evaluate_similarity, evaluate_version
from embedstore.store import Store

ITEMS = {  # most frequent first: row order is frequency order
    "King": [1.0, 1.0], "queen": [1.0, -1.0], "man": [0.0, 1.0], "woman": [0.0, -1.0],
    "boy": [-0.2, 1.0], "girl": [-0.2, -1.0], "rare": [5.0, 0.0],
}


@pytest.fixture
def vectors(store: Path) -> Path:
    embedstore.publish_vectors(list(ITEMS), np.array(list(ITEMS.values()), np.float32),
                               store=store)
    return store


def test_analogies_by_section_with_restrict_and_skips(vectors: Path, write) -> None:  # type: ignore[no-untyped-def]
    questions = write("q.txt", "\ufeff: royalty\nman woman king queen\nwoman man queen king\n"
                               ": family\nman woman boy girl\nman woman boy rare\n"
                               "man woman prince princess\n")
    with embedstore.open(vectors) as opened:
        report = evaluate_analogies(opened, questions)
        assert [(s.section, s.correct, s.scored) for s in report.sections] == [
            ("royalty", 2, 2), ("family", 1, 2)]
        assert (report.correct, report.scored, report.skipped) == (3, 4, 1)
        assert report.accuracy == 0.75
        restricted = evaluate_analogies(opened, questions, restrict=4)  # boy, girl, rare out
        assert (restricted.correct, restricted.scored, restricted.skipped) == (2, 2, 3)


def test_similarity_correlates_cosine_with_human_scores(vectors: Path, write) -> None:  # type: ignore[no-untyped-def]
    path = write("pairs.tsv", "# w1 w2 score\nking\tqueen\t1\nman\tboy\t9\nman\twoman\t0.5\n"
                              "king\tunicorn\t3\n")
    with embedstore.open(vectors) as opened:
        report = evaluate_similarity(opened, path)
    assert (report.pairs, report.skipped) == (3, 1)
    # cosines -1 (man, woman) < 0 (king, queen) < 0.98 (man, boy): the human order
    assert report.spearman == pytest.approx(1.0) and 0 < report.pearson < 1


def test_gzipped_sets_and_bad_lines(vectors: Path, tmp_path: Path) -> None:
    packed = tmp_path / "q.txt.gz"
    packed.write_bytes(gzip.compress(b": s\nman woman king queen\n"))
    bad = tmp_path / "bad.txt"
    bad.write_text(": s\nman woman king\n")
    with embedstore.open(vectors) as opened:
        assert evaluate_analogies(opened, packed).correct == 1
        with pytest.raises(InputError, match=r"bad.txt, line 2: expected four words"):
            evaluate_analogies(opened, bad)
        with pytest.raises(InputError, match="file not found"):
            evaluate_similarity(opened, tmp_path / "missing.tsv")


def test_an_evaluation_is_kept_with_its_version(vectors: Path, write, run) -> None:  # type: ignore[no-untyped-def]
    questions = write("q.txt", ": s\nman woman king queen\n")
    evaluation = evaluate_version("analogies", questions, store=vectors)
    assert evaluation.to_json()["accuracy"] == 1.0 and evaluation.version == 1
    with Store.open(vectors) as store:
        (kept,) = store.evaluations(store.version_info("default"))
    assert kept["kind"] == "analogies" and kept["result"]["correct"] == 1
    result = run("eval", "analogies", str(questions), "--json")
    assert json.loads(result.stdout)["model"] == "default"
    assert len(json.loads(run("info", "--json").stdout)["evaluations"]) == 2
