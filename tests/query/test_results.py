"""The one shape of an answer in JSON, whichever front end prints it."""

from __future__ import annotations

import json
from pathlib import Path

import embedstore
from embedstore.inventory import list_versions
from embedstore.query.results import Neighbor, answer_json, similar_query, versions_json
from tests.conftest import DATA


def test_an_answer_names_its_version_query_and_whether_it_is_approximate() -> None:
    query = similar_query(["cat"], [], 2)
    assert query == {"op": "similar", "item": "cat", "k": 2}
    assert answer_json("m", 3, query, results=[Neighbor("dog", 0.5)]) == {
        "model": "m", "version": 3, "query": query, "approximate": False,
        "results": [{"item": "dog", "score": 0.5}]}
    assert answer_json("m", 3, {"op": "vector"}, vector=[1.0], approximate=True) == {
        "model": "m", "version": 3, "query": {"op": "vector"}, "approximate": True,
        "vector": [1.0]}
    assert answer_json("m", 1, {}, score=0.25)["score"] == 0.25
    assert similar_query(["cat"], ["dog"], 1) == {"op": "similar", "items": ["cat"],
                                                 "minus": ["dog"], "k": 1}


def test_versions_are_their_records_as_json_with_their_aliases(store: Path) -> None:
    embedstore.train_pairs(DATA / "animals.csv", store=store, quiet=True)
    with embedstore.Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
        listing = list_versions(opened, "default")
    (shown,) = versions_json(listing)
    assert json.loads(json.dumps(shown)) == shown  # plain JSON: dates are strings
    assert shown["aliases"] == ["prod"] and shown["version"] == 1
    assert isinstance(shown["created"], str) and shown["model"] == "default"
