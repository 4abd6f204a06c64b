"""Many queries at once: JSON lines in, one result per line out, in input order.

Each query is an object with an ``op``:

- ``{"op": "similar", "item": "cat", "k": 3}``
- ``{"op": "similar", "items": ["cat", "dog"], "minus": ["kitten"], "k": 3}`` (several items,
  with items to avoid: see :meth:`embedstore.Embeddings.similar`)
- ``{"op": "analogy", "a": "king", "b": "man", "c": "woman", "k": 5, "method": "add"}``
- ``{"op": "vector", "item": "cat"}``
- ``{"op": "similarity", "a": "cat", "b": "dog"}``

and optionally ``"id"`` (echoed back), ``"model"``, ``"version"``, ``"restrict"`` and
``"exact": true`` (answer without the version's approximate index). Every answer says
``"approximate": true`` when it came from the index. ``k``
defaults to 10. A query that cannot be answered (bad JSON, unknown op or item, a missing
field) yields a result with ``error`` set, and the run goes on. An item the version does not
know is answered from its n-grams when the version keeps subword vectors, and the answer's
``query`` says ``"from_subwords": true`` (:func:`~embedstore.query.results.subword_query`).

Input is read in chunks of :data:`CHUNK_LINES` queries; the ``similar`` and 3CosAdd ``analogy``
queries of a chunk that share a version are answered together with matrix products and a
row-wise top-k, in pieces that keep memory bounded, and the chunk's results are yielded before
the next chunk is read. A million-line input therefore streams through in constant memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import EmbedstoreError, QueryError
from ..names import parse_version
from .results import Neighbor, answer_json, similar_query, subword_query
from .scoring import analogy_targets, cosine, similar_target

CHUNK_LINES = 4096
OPS = {
    "similar": ("item",),
    "analogy": ("a", "b", "c"),
    "vector": ("item",),
    "similarity": ("a", "b"),
}


class VersionQueries(Protocol):
    """What batch answering needs of an opened version (:class:`embedstore.Embeddings`)."""

    model: str
    version: int

    def known_rows(self, items: list[str]) -> dict[str, int]: ...
    def subword_vectors(self, items: list[str]) -> dict[str, np.ndarray]: ...
    def unknown(self, item: str) -> Exception: ...
    def row_vectors(self, rows: list[int]) -> np.ndarray: ...
    def nearest(self, targets: np.ndarray, k: int, exclude: list[list[int]],
                restrict: int | None = None, exact: bool = False) -> list[list[Neighbor]]: ...
    def approximate(self, exact: bool = False) -> bool: ...
    def analogy(self, a: str, b: str, c: str, k: int = 10, method: str = "add",
                restrict: int | None = None) -> list[Neighbor]: ...


VersionOpener = Callable[[str, "int | str | None"], VersionQueries]
"""Opens version ``version`` (a number, an alias or None for the latest) of ``model``."""


@dataclass(frozen=True)
class BatchResult:
    """The answer to one batch line. Exactly one of results, vector, score, error is set."""

    line: int
    id: Any = None
    model: str | None = None
    version: int | None = None
    query: dict[str, Any] | None = None
    results: list[Neighbor] | None = None
    vector: list[float] | None = None
    score: float | None = None
    error: str | None = None
    approximate: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """The JSON object written for this line (the ``--json`` shape plus ``id``)."""
        if self.error is not None:
            return {"id": self.id, "error": self.error}
        assert self.model is not None and self.version is not None and self.query is not None
        return {"id": self.id, **answer_json(self.model, self.version, self.query,
                                             results=self.results, vector=self.vector,
                                             score=self.score,
                                             approximate=self.approximate)}


@dataclass
class _Query:
    line: int
    id: Any = None
    op: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    version: int | str | None = None
    restrict: int | None = None
    exact: bool = False
    error: str | None = None


def _parse(line: int, raw: dict[str, Any] | str | bytes, model: str, version: int | str | None,
           restrict: int | None, exact: bool = False) -> _Query:
    query = _Query(line=line, model=model, version=version, restrict=restrict, exact=exact)
    decoded = _decode(line, raw)
    if isinstance(decoded, str):
        query.error = decoded
        return query
    query.id = decoded.get("id")
    for step in (_parse_op, _parse_items, _parse_options, _parse_references):
        query.error = step(line, decoded, query)
        if query.error is not None:
            break
    return query


def _decode(line: int, raw: dict[str, Any] | str | bytes) -> dict[str, Any] | str:
    """The line as a JSON object, or the error saying why it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return f"line {line}: not valid UTF-8"
    if isinstance(raw, str):
        if line == 1 and raw.startswith("\ufeff"):  # a byte order mark opening the input
            raw = raw[1:]
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return f"line {line}: not valid JSON ({exc.msg})"
        except ValueError:  # Python reads integers of at most 4300 digits
            return f"line {line}: a number too long to read (over 4300 digits)"
        except RecursionError:
            return f"line {line}: not valid JSON (nested too deeply)"
    if not isinstance(raw, dict):
        return f"line {line}: a query must be a JSON object"
    return raw


def _parse_op(line: int, raw: dict[str, Any], query: _Query) -> str | None:
    op = raw.get("op")
    if not isinstance(op, str) or op not in OPS:
        return f"line {line}: unknown op {op!r}; use one of {', '.join(OPS)}"
    query.op = op
    return None


def _parse_items(line: int, raw: dict[str, Any], query: _Query) -> str | None:
    """The items a query names: ``items`` and ``minus`` lists, or the op's own fields."""
    op = query.op
    if op == "similar" and ("items" in raw or "minus" in raw):
        error = _parse_similar_lists(line, raw, query.fields)
        if error is not None:
            return error
    for name in () if "items" in query.fields else OPS[op]:
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            return f"line {line}: {op} needs {name!r} as a non-empty string"
        if not _is_unicode(value):
            return f"line {line}: {name!r} holds a lone surrogate, which is not Unicode"
        query.fields[name] = value
    return None


def _parse_options(line: int, raw: dict[str, Any], query: _Query) -> str | None:
    """``k`` and the analogy ``method``."""
    op = query.op
    if op in ("similar", "analogy"):
        k = raw.get("k", 10)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            return f"line {line}: k must be a whole number of at least 1"
        query.fields["k"] = k
        if op == "similar" and "items" in query.fields:
            echo = similar_query(query.fields["items"], query.fields["minus"], k)
            query.fields = {key: value for key, value in echo.items() if key != "op"}
    if op == "analogy":
        method = raw.get("method", "add")
        if method not in ("add", "mul"):
            return f"line {line}: method must be 'add' or 'mul'"
        query.fields["method"] = method
    return None


def _parse_references(line: int, raw: dict[str, Any], query: _Query) -> str | None:
    """``model``, ``version``, ``restrict`` and ``exact``, each checked for its kind."""
    for name in ("model", "version", "restrict"):
        if name in raw and raw[name] is not None:
            value = raw[name]
            whole = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            text = isinstance(value, str) and bool(value) and _is_unicode(value)
            valid = {"model": text, "version": _is_reference(value), "restrict": whole}[name]
            if not valid:
                kind = {"model": "a string", "version": "a version number or an alias",
                        "restrict": "a whole number of at least 1"}[name]
                return f"line {line}: {name} must be {kind}"
            setattr(query, name, value)
    if "exact" in raw and raw["exact"] is not None:
        if not isinstance(raw["exact"], bool):
            return f"line {line}: exact must be true or false"
        query.exact = raw["exact"]
    return None


def _parse_similar_lists(line: int, raw: dict[str, Any], fields: dict[str, Any]) -> str | None:
    """Read ``items`` (or ``item``) and ``minus`` of a similar line into ``fields``; the error
    message when they are malformed."""
    if "items" in raw and "item" in raw:
        return f"line {line}: similar takes 'item' or 'items', not both"
    items = raw["items"] if "items" in raw else [raw.get("item")]
    minus = raw.get("minus", [])
    for name, values, least in (("items", items, 1), ("minus", minus, 0)):
        if (not isinstance(values, list) or len(values) < least
                or not all(isinstance(v, str) and v for v in values)):
            kind = "a non-empty list" if least else "a list"
            return f"line {line}: similar needs {name!r} as {kind} of non-empty strings"
        if not all(_is_unicode(v) for v in values):
            return f"line {line}: {name!r} holds a lone surrogate, which is not Unicode"
    fields["items"], fields["minus"] = items, minus
    return None


def _inputs(query: _Query) -> list[str]:
    """Every item a query names: positives first, then negatives."""
    if "items" in query.fields:
        return [*query.fields["items"], *query.fields["minus"]]
    return [query.fields[key] for key in OPS[query.op]]


def _is_unicode(text: str) -> bool:
    """False for text with lone surrogates (JSON may escape them), which SQLite refuses."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_reference(value: Any) -> bool:
    if not isinstance(value, int | str) or (isinstance(value, str) and not _is_unicode(value)):
        return False
    try:
        parse_version(value)
    except QueryError:
        return False
    return True


def _echo(query: _Query) -> dict[str, Any]:
    return {"op": query.op, **query.fields}


class _Opened:
    """Versions opened during a run, by (model, version reference) and (model, number)."""

    def __init__(self, open_version: VersionOpener, opened: Iterable[VersionQueries]) -> None:
        self.open_version = open_version
        self.opened: dict[tuple[str, int | str | None], VersionQueries] = {
            (version.model, version.version): version for version in opened}

    def get(self, model: str, version: int | str | None) -> VersionQueries:
        key = (model, version)
        if key not in self.opened:
            opened = self.open_version(model, version)
            self.opened.setdefault((model, opened.version), opened)
            self.opened[key] = self.opened[(model, opened.version)]
        return self.opened[key]


def answer_queries(
    queries: Iterable[dict[str, Any] | str | bytes],
    *,
    open_version: VersionOpener,
    model: str = "default",
    version: int | str | None = None,
    restrict: int | None = None,
    opened: Iterable[VersionQueries] = (),
    exact: bool = False,
) -> Iterator[BatchResult]:
    """Answer each query (a dict, or a JSON line as text or UTF-8 bytes) in input order.

    ``model``, ``version``, ``restrict`` and ``exact`` are the defaults for queries that do not name
    their own; ``open_version`` opens the versions queries name (``opened`` ones are reused).
    Blank lines are skipped (they yield nothing).
    """
    versions = _Opened(open_version, opened)
    chunk: list[_Query] = []
    for line, raw in enumerate(queries, start=1):
        if isinstance(raw, str | bytes) and not raw.strip():
            continue
        chunk.append(_parse(line, raw, model, version, restrict, exact))
        if len(chunk) >= CHUNK_LINES:
            yield from _answer(chunk, versions)
            chunk = []
    if chunk:
        yield from _answer(chunk, versions)


def _answer(chunk: list[_Query], versions: _Opened) -> list[BatchResult]:
    answers: dict[int, BatchResult] = {}
    groups: dict[tuple[str, int | str | None], list[_Query]] = {}
    for query in chunk:
        if query.error is not None:
            answers[query.line] = BatchResult(line=query.line, id=query.id, error=query.error)
        else:
            groups.setdefault((query.model, query.version), []).append(query)
    for (model, version), queries in groups.items():
        try:
            embeddings = versions.get(model, version)
        except EmbedstoreError as error:
            for query in queries:
                answers[query.line] = _failed(query, error)
            continue
        answers.update(_answer_version(embeddings, queries))
    return [answers[query.line] for query in chunk]


def _failed(query: _Query, error: Exception) -> BatchResult:
    return BatchResult(line=query.line, id=query.id, error=f"line {query.line}: {error}")


def _answer_version(embeddings: VersionQueries, queries: list[_Query]) -> dict[int, BatchResult]:
    answers: dict[int, BatchResult] = {}
    found = _Found(embeddings, [name for query in queries for name in _inputs(query)])
    nearest: dict[tuple[str, int | None, bool], list[tuple[_Query, list[int], np.ndarray]]] = {}

    def done(query: _Query, **values: Any) -> BatchResult:
        built = [item for item in dict.fromkeys(_inputs(query)) if item not in found.known]
        return BatchResult(line=query.line, id=query.id, model=embeddings.model,
                           version=embeddings.version, query=subword_query(_echo(query), built),
                           **values)

    for query in queries:
        items = _inputs(query)
        missing = next((item for item in items if item not in found), None)
        if missing is not None:
            answers[query.line] = _failed(query, embeddings.unknown(missing))
            continue
        vectors = found.vectors(items)
        try:
            if query.op == "vector":
                answers[query.line] = done(query, vector=vectors[0].tolist())
            elif query.op == "similarity":
                answers[query.line] = done(query, score=cosine(vectors[0], vectors[1]))
            elif query.op == "analogy" and query.fields["method"] == "mul":
                f = query.fields
                answers[query.line] = done(query, results=embeddings.analogy(
                    f["a"], f["b"], f["c"], k=f["k"], method="mul", restrict=query.restrict))
            else:
                nearest.setdefault((query.op, query.restrict, query.exact), []).append(
                    (query, found.rows(items), _target(query, vectors)))
        except (EmbedstoreError, QueryError) as error:
            answers[query.line] = _failed(query, error)
    for (_, restrict, exact), group in nearest.items():
        k = max(query.fields["k"] for query, _, _ in group)
        try:
            results = embeddings.nearest(np.array([target for _, _, target in group]), k,
                                         [rows for _, rows, _ in group], restrict, exact)
        except EmbedstoreError as error:
            for query, _, _ in group:
                answers[query.line] = _failed(query, error)
            continue
        for (query, _, _), neighbors in zip(group, results, strict=True):
            answers[query.line] = done(query, results=neighbors[: query.fields["k"]],
                                       approximate=embeddings.approximate(exact))
    return answers


def _target(query: _Query, vectors: np.ndarray) -> np.ndarray:
    """What a ``similar`` or 3CosAdd ``analogy`` line searches for."""
    if query.op == "similar":
        positives = len(query.fields["items"]) if "items" in query.fields else 1
        return similar_target(vectors[:positives], vectors[positives:])
    return analogy_targets(vectors[None])[0]


class _Found:
    """The items of a chunk's queries to one version: the rows of the known ones (their
    vectors read in one step) and the vectors built from subwords for the others."""

    def __init__(self, embeddings: VersionQueries, names: list[str]) -> None:
        self.known = embeddings.known_rows(names)
        self.built = embeddings.subword_vectors([name for name in names
                                                 if name not in self.known])
        rows = sorted(set(self.known.values()))
        self._at = {row: i for i, row in enumerate(rows)}
        self._matrix = embeddings.row_vectors(rows) if rows else None

    def __contains__(self, item: str) -> bool:
        return item in self.known or item in self.built

    def rows(self, items: list[str]) -> list[int]:
        return [self.known[item] for item in items if item in self.known]

    def vectors(self, items: list[str]) -> np.ndarray:
        return np.array([self._matrix[self._at[self.known[item]]]  # type: ignore[index]
                         if item in self.known else self.built[item] for item in items],
                        dtype=np.float32)
