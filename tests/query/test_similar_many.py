"""Similar to several items at once, with items to steer away from: the library, batch lines
and the CLI, compared with gensim's most_similar(positive, negative)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import embedstore

ITEMS = [f"item{i}" for i in range(300)]


@pytest.fixture
def random_store(store: Path) -> Path:
    vectors = np.random.default_rng(7).standard_normal((len(ITEMS), 16)).astype(np.float32)
    vectors[5] *= 40  # long and short vectors: only unit vectors may count
    vectors[9] *= 0.01
    embedstore.publish_vectors(ITEMS, vectors, store=store)
    return store


QUERIES = [
    (["item1"], []),
    (["item1", "item2"], []),
    (["item1", "item5", "item9"], ["item3"]),
    (["item10"], ["item11", "item12"]),
    (["item4", "item4"], ["item7"]),  # a repeated item counts twice, as in gensim
]


@pytest.mark.parametrize(("positive", "negative"), QUERIES)
def test_similar_matches_gensim_most_similar(random_store: Path, positive: list[str],
                                             negative: list[str]) -> None:
    from gensim.models import KeyedVectors

    with embedstore.open(random_store) as vectors:
        ours = vectors.similar(*positive, minus=negative, k=10)
        keyed = KeyedVectors(vector_size=16)
        keyed.add_vectors(ITEMS, np.asarray([vectors.vector(item) for item in ITEMS]))
    theirs = keyed.most_similar(positive=positive, negative=negative, topn=10)
    assert [n.item for n in ours] == [item for item, _ in theirs]
    assert [n.score for n in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)


def test_inputs_are_left_out_and_restrict_applies(random_store: Path) -> None:
    with embedstore.open(random_store) as vectors:
        results = vectors.similar("item1", "item2", minus=["item3"], k=300)
        assert {"item1", "item2", "item3"}.isdisjoint(n.item for n in results)
        assert len(results) == 297
        restricted = vectors.similar("item1", "item2", minus=["item3"], k=5, restrict=20)
        assert all(ITEMS.index(n.item) < 20 for n in restricted)


def test_an_unknown_minus_item_is_named_with_close_spellings(random_store: Path) -> None:
    with embedstore.open(random_store) as vectors, pytest.raises(
            embedstore.UnknownItemError, match="unknown item 'itme3'"):
        vectors.similar("item1", minus=["itme3"])


def test_similar_needs_an_item_and_a_list_to_subtract(random_store: Path) -> None:
    with embedstore.open(random_store) as vectors:
        with pytest.raises(embedstore.QueryError, match="at least one item"):
            vectors.similar(minus=["item3"])
        with pytest.raises(embedstore.QueryError, match=r"minus=\['item3'\]"):
            vectors.similar("item1", minus="item3")


def test_batch_lines_answer_as_the_python_api_does(random_store: Path) -> None:
    lines = [
        {"op": "similar", "items": ["item1", "item5", "item9"], "minus": ["item3"], "k": 4,
         "id": 1},
        {"op": "similar", "item": "item1", "minus": ["item2"], "k": 4, "id": 2},
        {"op": "similar", "items": ["item8"], "k": 4, "id": 3},
        {"op": "similar", "item": "item8", "k": 4, "id": 4},
    ]
    with embedstore.open(random_store) as vectors:
        answers = [r.to_json() for r in vectors.batch(lines)]
        expected = [vectors.similar("item1", "item5", "item9", minus=["item3"], k=4),
                    vectors.similar("item1", minus=["item2"], k=4),
                    vectors.similar("item8", k=4), vectors.similar("item8", k=4)]
    for answer, neighbors in zip(answers, expected, strict=True):
        assert [r["item"] for r in answer["results"]] == [n.item for n in neighbors]
        assert [r["score"] for r in answer["results"]] == pytest.approx(
            [n.score for n in neighbors], abs=1e-6)
    assert answers[0]["query"] == {"op": "similar", "items": ["item1", "item5", "item9"],
                                   "minus": ["item3"], "k": 4}
    assert answers[1]["query"] == {"op": "similar", "items": ["item1"], "minus": ["item2"],
                                   "k": 4}
    # one item alone echoes the single-item shape, whichever way it was asked
    assert answers[2]["query"] == answers[3]["query"] == {"op": "similar", "item": "item8",
                                                          "k": 4}


@pytest.mark.parametrize(("line", "message"), [
    ({"op": "similar", "items": []}, "'items' as a non-empty list"),
    ({"op": "similar", "items": "item1"}, "'items' as a non-empty list"),
    ({"op": "similar", "items": ["item1", ""]}, "'items' as a non-empty list"),
    ({"op": "similar", "items": ["item1"], "minus": "item2"}, "'minus' as a list"),
    ({"op": "similar", "item": "item1", "items": ["item2"]}, "not both"),
    ({"op": "similar", "items": ["item1"], "minus": ["nothing"]}, "unknown item 'nothing'"),
])
def test_malformed_similar_lines_fail_alone(random_store: Path, line: dict[str, object],
                                            message: str) -> None:
    with embedstore.open(random_store) as vectors:
        first, second = vectors.batch([line, {"op": "similar", "item": "item1", "k": 1}])
    assert first.error is not None and message in first.error
    assert first.error.startswith("line 1: ")
    assert second.ok


def test_cli_similar_with_several_items_and_minus(random_store: Path,
                                                  run: Callable[..., Result]) -> None:
    result = run("similar", "item1", "item5", "--minus", "item3", "--k", "3", "--json")
    assert result.exit_code == 0
    answer = json.loads(result.output)
    with embedstore.open(random_store) as vectors:
        expected = vectors.similar("item1", "item5", minus=["item3"], k=3)
    assert [r["item"] for r in answer["results"]] == [n.item for n in expected]
    assert answer["query"] == {"op": "similar", "items": ["item1", "item5"],
                               "minus": ["item3"], "k": 3}
    table = run("similar", "item1", "item5", "--minus", "item3", "--k", "3")
    assert [line.split()[0] for line in table.output.splitlines()] == [n.item for n in expected]
    unknown = run("similar", "item1", "--minus", "itme3")
    assert unknown.exit_code == 1
    assert "unknown item 'itme3'" in unknown.output
    assert run("similar").exit_code == 2  # an item is required
