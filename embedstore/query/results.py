"""The shape of a query's answer, in Python and in JSON, defined once.

The CLI's ``--json``, each line of ``embed batch`` and any other front end render answers with
:func:`answer_json`, so they cannot drift apart::

    {"model": "default", "version": 1, "query": {"op": "similar", "item": "cat", "k": 3},
     "approximate": false, "results": [{"item": "dog", "score": 0.99}, ...]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..schema import VersionRecord


@dataclass(frozen=True)
class Neighbor:
    """One result of a query: an item and its score (cosine, or 3CosMul's ratio)."""

    item: str
    score: float


def neighbors_json(neighbors: Sequence[Neighbor]) -> list[dict[str, Any]]:
    """``[{"item": ..., "score": ...}, ...]``, best first."""
    return [{"item": n.item, "score": n.score} for n in neighbors]


def answer_json(model: str, version: int, query: dict[str, Any], *,
                results: Sequence[Neighbor] | None = None, vector: list[float] | None = None,
                score: float | None = None, approximate: bool = False) -> dict[str, Any]:
    """The JSON object answering one query; exactly one of the answer fields is given.

    ``approximate`` says whether the results came from the version's approximate index
    (always false for a vector or a similarity, which are exact).

    >>> answer_json("default", 1, {"op": "similar", "item": "cat", "k": 1},
    ...             results=[Neighbor("dog", 0.5)])
    {'model': 'default', 'version': 1, 'query': {'op': 'similar', 'item': 'cat', 'k': 1}, \
'approximate': False, 'results': [{'item': 'dog', 'score': 0.5}]}
    """
    payload: dict[str, Any] = {"model": model, "version": version, "query": query,
                               "approximate": approximate}
    if results is not None:
        payload["results"] = neighbors_json(results)
    if vector is not None:
        payload["vector"] = vector
    if score is not None:
        payload["score"] = score
    return payload


def similar_query(items: Sequence[str], minus: Sequence[str], k: int) -> dict[str, Any]:
    """The query a ``similar`` answer echoes: ``item`` for one item alone, else ``items`` and
    ``minus`` (the same shape the CLI's ``--json``, batch lines and the server print).

    >>> similar_query(["cat"], [], 3)
    {'op': 'similar', 'item': 'cat', 'k': 3}
    >>> similar_query(["cat", "dog"], ["kitten"], 3)
    {'op': 'similar', 'items': ['cat', 'dog'], 'minus': ['kitten'], 'k': 3}
    """
    if len(items) == 1 and not minus:
        return {"op": "similar", "item": items[0], "k": k}
    return {"op": "similar", "items": list(items), "minus": list(minus), "k": k}


def subword_query(query: dict[str, Any], from_subwords: Sequence[str]) -> dict[str, Any]:
    """``query`` as an answer echoes it: with ``"from_subwords": true`` and the items whose
    vectors were built from their n-grams (``subword_items``) when there are any.

    >>> subword_query({"op": "vector", "item": "kittten"}, ["kittten"])
    {'op': 'vector', 'item': 'kittten', 'from_subwords': True, 'subword_items': ['kittten']}
    >>> subword_query({"op": "vector", "item": "cat"}, [])
    {'op': 'vector', 'item': 'cat'}
    """
    if not from_subwords:
        return query
    return {**query, "from_subwords": True, "subword_items": list(from_subwords)}


def subword_note(model: str, version: int, from_subwords: Sequence[str]) -> str:
    """The line saying which items a version did not know and answered from subwords.

    >>> subword_note("default", 2, ["kittten"])
    "'kittten' is not in model 'default' version 2: its vector was built from its character \
n-grams"
    """
    named = ", ".join(repr(item) for item in from_subwords)
    verb, whose = ("is", "its vector was") if len(from_subwords) == 1 else \
        ("are", "their vectors were")
    return (f"{named} {verb} not in model {model!r} version {version}: {whose} built from "
            f"{'its' if len(from_subwords) == 1 else 'their'} character n-grams")


def versions_json(listing: Sequence[tuple[VersionRecord, list[str]]]) -> list[dict[str, Any]]:
    """The versions of a model as ``embed versions --json`` prints them: each full record with
    the ``aliases`` pointing at it (see :func:`embedstore.inventory.list_versions`)."""
    return [{**record.model_dump(mode="json"), "aliases": names} for record, names in listing]
