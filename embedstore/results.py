"""The shape of a query's answer, in Python and in JSON, defined once.

The CLI's ``--json``, each line of ``embed batch`` and any other front end render answers with
:func:`answer_json`, so they cannot drift apart::

    {"model": "default", "version": 1, "query": {"op": "similar", "item": "cat", "k": 3},
     "results": [{"item": "dog", "score": 0.99}, ...]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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
                score: float | None = None) -> dict[str, Any]:
    """The JSON object answering one query; exactly one of the answer fields is given.

    >>> answer_json("default", 1, {"op": "similar", "item": "cat", "k": 1},
    ...             results=[Neighbor("dog", 0.5)])
    {'model': 'default', 'version': 1, 'query': {'op': 'similar', 'item': 'cat', 'k': 1}, \
'results': [{'item': 'dog', 'score': 0.5}]}
    """
    payload: dict[str, Any] = {"model": model, "version": version, "query": query}
    if results is not None:
        payload["results"] = neighbors_json(results)
    if vector is not None:
        payload["vector"] = vector
    if score is not None:
        payload["score"] = score
    return payload
