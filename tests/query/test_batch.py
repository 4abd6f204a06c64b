from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import embedstore
from embedstore.query.embeddings import run_batch
from embedstore.store import Store
from tests.conftest import DATA

Run = Callable[..., Result]


@pytest.fixture
def trained(run: Run) -> Run:
    assert run("train", str(DATA / "sample.csv"), "--quiet").exit_code == 0
    assert run("train", str(DATA / "animals.csv"), "--quiet", "--model", "animals").exit_code == 0
    return run


def lines(*queries: object) -> str:
    return "".join((q if isinstance(q, str) else json.dumps(q)) + "\n" for q in queries)


def test_results_in_input_order_with_ids_and_per_line_errors(trained: Run) -> None:
    result = trained("batch", "-", input=lines(
        {"op": "similar", "item": "cat", "k": 3, "id": "first"},
        "this is not json",
        {"op": "analogy", "a": "king", "b": "man", "c": "woman", "k": 1, "id": 2},
        {"op": "similar", "item": "kitte", "id": 3},
        {"op": "frobnicate", "id": 4},
        "",
        {"op": "similarity", "a": "cat", "b": "cat", "id": 5},
        {"op": "vector", "item": "dog", "id": 6},
        {"op": "similar", "id": 7},
        {"op": "similar", "item": "cat", "k": 0, "id": 8},
    ))
    assert result.exit_code == 1
    assert result.stderr.strip() == "5 line(s) failed"
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["first", None, 2, 3, 4, 5, 6, 7, 8]
    assert {r["item"] for r in out[0]["results"]} == {"dog", "kitten", "puppy"}
    assert out[0]["query"] == {"op": "similar", "item": "cat", "k": 3}
    assert out[1]["error"].startswith("line 2: not valid JSON")
    assert out[2]["results"][0]["item"] == "queen"
    assert out[3]["error"] == ("line 4: unknown item 'kitte' in model 'default' version 1; "
                               "did you mean 'kitten'?")
    assert "unknown op 'frobnicate'" in out[4]["error"]
    assert out[5]["score"] == pytest.approx(1.0, abs=1e-6)
    assert len(out[6]["vector"]) == 100
    assert "needs 'item'" in out[7]["error"]
    assert "k must be" in out[8]["error"]


def test_all_good_lines_exit_zero(trained: Run) -> None:
    result = trained("batch", "-", input=lines({"op": "similar", "item": "cat", "k": 1}))
    assert result.exit_code == 0 and result.stderr == ""


def test_batch_equals_single_queries(trained: Run, store: Path) -> None:
    with embedstore.open(store) as vectors:
        items = ["cat", "dog", "car", "truck", "king", "queen", "boy", "girl"]
        queries = [{"op": "similar", "item": item, "k": 4} for item in items]
        queries += [{"op": "analogy", "a": a, "b": b, "c": c, "k": 3, "method": m}
                    for a, b, c in [("king", "man", "woman"), ("kitten", "cat", "dog")]
                    for m in ("add", "mul")]
        results = list(vectors.batch(queries))
        for query, result in zip(queries, results, strict=True):
            if query["op"] == "similar":
                expected = vectors.similar(query["item"], k=4)
            else:
                expected = vectors.analogy(query["a"], query["b"], query["c"], k=3,
                                           method=query["method"])
            # Same items in the same order; scores equal up to float32 rounding (a matrix
            # product may sum in another order than a matrix-vector product), so items whose
            # scores tie within that rounding may swap places.
            assert tie_groups(result.results) == tie_groups(expected)
            assert [n.score for n in result.results] == pytest.approx(
                [n.score for n in expected], abs=1e-6)


def tie_groups(neighbors: list) -> list[set[str]]:  # type: ignore[type-arg]
    """The items in rank order, those whose scores lie within float32 rounding of the
    previous one's in one set."""
    groups: list[set[str]] = []
    previous = None
    for neighbor in neighbors:
        if previous is None or abs(neighbor.score - previous) > 1e-6:
            groups.append(set())
        groups[-1].add(neighbor.item)
        previous = neighbor.score
    return groups


def test_lines_may_name_their_model_and_version(trained: Run) -> None:
    trained("train", str(DATA / "animals.csv"), "--quiet")  # default version 2 (no royalty)
    result = trained("batch", "-", input=lines(
        {"op": "similar", "item": "king", "k": 1, "version": 1},
        {"op": "similar", "item": "king", "k": 1},
        {"op": "similar", "item": "cat", "k": 1, "model": "animals"},
        {"op": "similar", "item": "cat", "k": 1, "model": "nope"},
    ))
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert (out[0]["model"], out[0]["version"]) == ("default", 1)
    assert "unknown item 'king' in model 'default' version 2" in out[1]["error"]
    assert (out[2]["model"], out[2]["version"]) == ("animals", 1)
    assert "no model 'nope'" in out[3]["error"]
    assert result.exit_code == 1


def test_defaults_from_options_and_restrict(trained: Run) -> None:
    result = trained("batch", "-", "--model", "animals", "--restrict", "2",
                     input=lines({"op": "similar", "item": "cat", "k": 5}))
    out = json.loads(result.stdout)
    assert out["model"] == "animals"
    assert len(out["results"]) == 1  # two candidates, one of them the query itself


def test_undecodable_line_is_a_line_error(trained: Run, tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_bytes(b'{"op": "similar", "item": "cat", "k": 1}\n\xff\xfe\n')
    result = trained("batch", str(path))
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[1] == {"id": None, "error": "line 2: not valid UTF-8"}
    assert result.exit_code == 1


def test_streams_chunk_by_chunk(trained: Run, store: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("embedstore.query.batch.CHUNK_LINES", 3)
    consumed = []

    def source():  # type: ignore[no-untyped-def]
        for i in range(10):
            consumed.append(i)
            yield {"op": "similar", "item": "cat", "k": 1, "id": i}

    with Store.open(store) as opened:
        results = run_batch(opened, source())
        first = next(results)
        assert first.id == 0 and len(consumed) == 3  # only the first chunk was read
        assert [r.id for r in results] == list(range(1, 10))


def test_tiled_and_blocked_scoring_equals_one_pass(trained: Run, store: Path,
                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    queries = [{"op": "similar", "item": item, "k": 5}
               for item in ["cat", "dog", "car", "king", "queen", "boy", "girl", "son"]]
    with embedstore.open(store) as vectors:
        whole = [r.results for r in vectors.batch(queries)]
        monkeypatch.setattr("embedstore.query.search.QUERY_TILE", 3)
        monkeypatch.setattr("embedstore.query.search.SCORE_BUDGET", 3 * 7)  # blocks of 7 rows
        tiled = [r.results for r in vectors.batch(queries)]
    for a, b in zip(whole, tiled, strict=True):
        assert [n.item for n in a] == [n.item for n in b]
        assert [n.score for n in a] == pytest.approx([n.score for n in b], abs=1e-6)
