"""Hostile batch query lines: property-based tests through the library and the CLI (the harness is
``tests/hostile.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import embedstore
from embedstore.query.embeddings import run_batch
from embedstore.store import Store
from embedstore.training.publish import publish_vectors
from tests.hostile import (
    LONG_LINE,
    budget,
    embed,
    time_limit,
)

# 3. Batch queries (embedstore.query.batch.run_batch, embed batch)
# =============================================================================================

BATCH_ITEMS = ["cat", "dog", "kitten", "'; DROP TABLE items; --",
               "Robert'); DROP TABLE versions;--", "a\x00b", "日本", "1e400", "NaN", "x\ny",
               "%", "_", "emu"]
RNG = np.random.default_rng(7)
BATCH_VECTORS = {1: RNG.normal(size=(len(BATCH_ITEMS), 6)).astype(np.float32),
                 2: RNG.normal(size=(len(BATCH_ITEMS) - 3, 6)).astype(np.float32)}
VERSION_ITEMS = {1: BATCH_ITEMS, 2: BATCH_ITEMS[:-3]}


@pytest.fixture(scope="module")
def batch_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    path = tmp_path_factory.mktemp("batch") / "store"
    for version, vectors in BATCH_VECTORS.items():
        publish_vectors(VERSION_ITEMS[version], vectors, store=path)
    with Store.open(path) as store:
        store.set_alias("default", 1, "prod")
        yield path, store


@pytest.fixture(scope="module")
def references(batch_store: tuple[Path, Store]) -> Iterator[dict[Any, Any]]:
    path, _ = batch_store
    first, second = embedstore.open(path, version=1), embedstore.open(path, version=2)
    yield {None: second, 1: first, 2: second, "1": first, "2": second, "prod": first}
    first.close()
    second.close()


@st.composite
def valid_queries(draw: st.DrawFn) -> dict[str, Any]:
    """A query that must be answered, and answered as the single-query API answers it."""
    version = draw(st.sampled_from([None, 1, 2, "1", "prod"]))
    pool = VERSION_ITEMS[2 if version is None else 1 if version in (1, "1", "prod") else 2]
    name = st.sampled_from(pool)
    op = draw(st.sampled_from(["similar", "analogy", "vector", "similarity"]))
    query: dict[str, Any] = {"op": op}
    for key in {"similar": ["item"], "vector": ["item"], "analogy": ["a", "b", "c"],
                "similarity": ["a", "b"]}[op]:
        query[key] = draw(name)
    if op in ("similar", "analogy") and draw(st.booleans()):
        query["k"] = draw(st.one_of(st.integers(1, 20), st.just(10**30)))
    if op == "analogy" and draw(st.booleans()):
        query["method"] = draw(st.sampled_from(["add", "mul"]))
    if version is not None:
        query["version"] = version
    if op in ("similar", "analogy") and draw(st.booleans()):
        query["restrict"] = draw(st.integers(1, 15))
    if draw(st.booleans()):
        query["id"] = draw(st.one_of(st.integers(), st.text(max_size=5), st.none()))
    return query


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(10**18, 10**600), st.floats(),
    st.text(max_size=6), st.sampled_from(BATCH_ITEMS), st.sampled_from(["²", "\u0661", "0", "-1",
                                                                        "9" * 30, "prod", ""]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6,
)
QUERY_KEYS = ["op", "item", "a", "b", "c", "k", "method", "id", "model", "version", "restrict"]
HOSTILE_LINES = [
    b"\x00", b"\xff\xfe", b"NaN", b"1e400", b"[]", b"null", b'"text"', b"9" * 5000,
    b"[" * 100_000, b'{"a":' * 100_000, b'{"op": "similar", "item": "cat", "k": ' + b"9" * 5000
    + b"}", '\ufeff{"op": "similar", "item": "cat"}'.encode(),
    b'{"op": "similar", "item": "\\ud800"}',
    b'{"op": "similar", "item": "cat", "model": "\\udfff"}',
    b'{"op": "similar", "item": "cat", "version": "\xc2\xb2"}',
    b'{"op": "similar", "item": "cat", "version": 99999999999999999999999}',
    b'{"op": "similar", "item": "cat", "version": "99999999999999999999999"}',
    b'{"op": ["similar"], "item": "cat"}', b'{"op": {"x": 1}, "item": "cat"}',
    b'{"op": "similar", "item": "cat", "k": NaN, "id": NaN}',
    b'{"op": "similar", "item": "cat", "k": -Infinity, "id": 1e400}',
    b'{"op": "similar", "item": "cat", "restrict": 1e400}',
    b'{"op": "similar", "item": "c\\u0000at"}',
    b'{"op": "similar", "item": "cat", "id": "\\ud800"}', b"{" + LONG_LINE + b"}",
    b'{"op": "similar", "item": "' + LONG_LINE + b'"}', b" \t ", b"",
]


@st.composite
def hostile_lines(draw: st.DrawFn) -> bytes | str:
    kind = draw(st.sampled_from(["fixed", "bytes", "query", "query", "valid", "text"]))
    if kind == "fixed":
        return draw(st.sampled_from(HOSTILE_LINES))
    if kind == "bytes":
        return draw(st.binary(max_size=40).filter(lambda b: b"\n" not in b))
    if kind == "text":  # str lines, possibly with lone surrogates (the library takes str too)
        return draw(st.text(max_size=30).filter(lambda s: "\n" not in s))
    if kind == "valid":
        line = json.dumps(draw(valid_queries()))
    else:
        query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), JSON_VALUES, max_size=6))
        if draw(st.booleans()):
            query["op"] = draw(st.sampled_from(["similar", "analogy", "vector", "similarity"]))
        line = json.dumps(query, ensure_ascii=draw(st.booleans()))
    return line.encode("utf-8", "surrogatepass") if draw(st.booleans()) else line


def blank(line: bytes | str) -> bool:
    return not line.strip()


def as_object(line: bytes | str, number: int) -> dict[str, Any] | None:
    """The JSON object line ``number`` holds, if it is one (UTF-8, a BOM allowed on line 1)."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        value = json.loads(text[1:] if number == 1 and text.startswith("\ufeff") else text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_answer(query: dict[str, Any], answer: dict[str, Any], references: dict[Any, Any]) -> None:
    """A valid query's answer equals what the single-query API says."""
    assert "error" not in answer, (query, answer)
    vectors = references[query.get("version")]
    assert answer["version"] == vectors.version
    op, k = query["op"], query.get("k", 10)
    if op == "vector":
        assert answer["vector"] == vectors.vector(query["item"]).tolist()
        return
    if op == "similarity":
        assert answer["score"] == pytest.approx(vectors.similarity(query["a"], query["b"]),
                                                abs=1e-5)
        return
    if op == "similar":
        expected = vectors.similar(query["item"], k=k, restrict=query.get("restrict"))
    else:
        expected = vectors.analogy(query["a"], query["b"], query["c"], k=k,
                                   method=query.get("method", "add"),
                                   restrict=query.get("restrict"))
    assert [r["item"] for r in answer["results"]] == [n.item for n in expected]
    assert [r["score"] for r in answer["results"]] == pytest.approx(
        [n.score for n in expected], abs=1e-5)


def check_batch_output(lines: list[bytes | str], answers: list[dict[str, Any]]) -> None:
    """One answer per non-blank line, in order: an answer, or an error naming the line."""
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if not blank(line)]
    assert len(answers) == len(numbered)
    for (number, line), answer in zip(numbered, answers, strict=True):
        obj = as_object(line, number)
        if obj is not None:
            assert same_json(answer["id"], obj.get("id"))
        if "error" in answer:
            assert set(answer) == {"id", "error"}
            assert answer["error"].startswith(f"line {number}: "), answer
            assert "\n" not in answer["error"]
        else:
            assert obj is not None and {"model", "version", "query"} <= set(answer)


@budget("batch", "library")
@given(lines=st.lists(hostile_lines(), max_size=12), valid=st.lists(valid_queries(), max_size=4),
       data=st.data())
def test_every_batch_line_gets_one_answer_in_order(
    batch_store: tuple[Path, Store], references: dict[Any, Any], lines: list[bytes | str],
    valid: list[dict[str, Any]], data: st.DataObject,
) -> None:
    for query in valid:  # valid queries at random places among the hostile lines
        lines.insert(data.draw(st.integers(0, len(lines))), json.dumps(query))
    _, store = batch_store
    with time_limit():
        results = list(run_batch(store, lines))
    answers = [result.to_json() for result in results]
    check_batch_output(lines, answers)
    for result, answer in zip(results, answers, strict=True):
        json.dumps(answer)  # every answer can be written out
        query = as_object(lines[result.line - 1], result.line)
        if query in valid:
            check_answer(query, answer, references)  # type: ignore[arg-type]


@budget("batch", "cli", seconds=20)
@given(lines=st.lists(hostile_lines(), min_size=1, max_size=8),
       valid=st.lists(valid_queries(), max_size=3), newline=st.sampled_from([b"\n", b"\r\n"]))
def test_embed_batch_answers_every_line_with_one_json_line(
    batch_store: tuple[Path, Store], references: dict[Any, Any], lines: list[bytes | str],
    valid: list[dict[str, Any]], newline: bytes,
) -> None:
    path, _ = batch_store
    raw = [line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
           for line in lines] + [json.dumps(q).encode() for q in valid]
    with time_limit():
        result = embed(path, "batch", "-", input=newline.join(raw) + newline)
    assert "Traceback" not in result.output
    # JSON lines end at \n only (an id may hold U+0085 or U+2028, which splitlines() splits at)
    out = result.stdout_bytes.decode("utf-8").split("\n")[:-1]
    answers = [json.loads(line) for line in out]
    # The CLI reads bytes lines, split at \n only.
    check_batch_output(raw, answers)
    failed = sum("error" in answer for answer in answers)
    assert result.exit_code == (1 if failed else 0)
    assert result.stderr == (f"{failed} line(s) failed\n" if failed else "")
    for query, answer in zip(valid, answers[-len(valid):] if valid else [], strict=True):
        check_answer(query, answer, references)


@pytest.mark.parametrize("version", ["²", "99999999999999999999", "0", "-1", "x y"])
def test_bad_version_options_are_usage_errors(batch_store: tuple[Path, Store],
                                              version: str) -> None:
    path, _ = batch_store
    result = embed(path, "similar", "cat", "--version", version)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "neither a version number" in result.stderr or "too large" in result.stderr


# =============================================================================================
