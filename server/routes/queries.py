"""The queries resource: neighbours, analogies, vectors and similarities of one version.

Each answer has exactly the shape ``embed similar --json`` (or ``analogy``) prints, and names
the version it came from. ``similar`` and ``analogy`` run on the event loop: they look their
items up through a slot lent to the request (its own connection and snapshot) and await their
answer from the gatherer (:mod:`..gather`), whose products run on a thread of their own.
``vector`` and ``similarity`` are plain functions, run in FastAPI's thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from embedstore import Embeddings, UnknownItemError
from embedstore.query.questions import Question
from embedstore.query.results import answer_json, similar_query, subword_query
from embedstore.query.scoring import cosine

from ..context import Context, ExactQuery, RestrictQuery, VersionQuery
from ..metrics import Metrics
from .models import ModelPath

MAX_K = 10_000
KQuery = Annotated[int, Query(ge=1, le=MAX_K, description="How many results.")]
Item = Annotated[str, Query(
    description="An item of the version's vocabulary (or, if the version keeps subword "
                "vectors, any word: it is answered from its n-grams, and the answer's query "
                "says \"from_subwords\": true).", examples=["cat"])]


class NeighborBody(BaseModel):
    item: str
    score: float


class NeighborsAnswer(BaseModel):
    """What `embed similar --json` and `embed analogy --json` print."""

    model: str
    version: int
    query: dict[str, Any]
    approximate: bool
    results: list[NeighborBody]


class VectorAnswer(BaseModel):
    model: str
    version: int
    query: dict[str, Any]
    approximate: bool
    vector: list[float]


class SimilarityAnswer(BaseModel):
    model: str
    version: int
    query: dict[str, Any]
    approximate: bool
    score: float


def answered(metrics: Metrics, vectors: Embeddings, query: dict[str, Any],
             **values: Any) -> JSONResponse:
    metrics.answered(vectors.model, vectors.version)
    return JSONResponse(answer_json(vectors.model, vectors.version, query, **values))


async def gathered(context: Context, model: str, version: int | str | None,
                   build: Callable[[Embeddings], Question], query: dict[str, Any],
                   exact: bool) -> JSONResponse:
    """The answer to a ``similar`` or ``analogy`` request: its items looked up through a slot
    lent to it, its question answered in a batch (an unknown item's close spellings are
    looked for on a thread)."""
    async with context.access.lend() as slot:
        with slot.version(model, version) as vectors:
            try:
                question = build(vectors)
            except UnknownItemError as error:
                raise await anyio.to_thread.run_sync(
                    context.access.unknown_item, error.model, error.version, error.item
                ) from None
            (results,) = vectors.neighbors(await context.gatherer.ask(question))
            return answered(context.metrics, vectors,
                            subword_query(query, question.from_subwords), results=results,
                            approximate=vectors.approximate(exact))


async def answer_similar(context: Context, model: str, items: list[str], minus: list[str],
                         k: int, version: int | str | None, restrict: int | None,
                         exact: bool) -> JSONResponse:
    """What ``GET .../similar`` answers (its parameters checked)."""
    return await gathered(context, model, version, lambda vectors: vectors.similar_question(
        *items, k=k, restrict=restrict, minus=minus, exact=exact),
        similar_query(items, minus, k), exact)


async def answer_analogy(context: Context, model: str, abc: tuple[str, str, str], k: int,
                         method: str, version: int | str | None, restrict: int | None,
                         exact: bool) -> JSONResponse:
    """What ``GET .../analogy`` answers (its parameters checked)."""
    a, b, c = abc
    return await gathered(context, model, version, lambda vectors: vectors.analogy_question(
        a, b, c, k=k, method=method, restrict=restrict, exact=exact),
        {"op": "analogy", "a": a, "b": b, "c": c, "k": k, "method": method},
        exact or method == "mul")


def queries_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])
    access, metrics = context.access, context.metrics

    @router.get("/models/{model}/similar", response_model=NeighborsAnswer,
                summary="Nearest neighbours of one item, or of several with items to avoid")
    async def similar(
        model: ModelPath,
        item: Annotated[list[str], Query(
            min_length=1, description="Item; repeat it to ask for several at once.",
            examples=["cat"])],
        minus: Annotated[list[str], Query(
            description="Item to steer away from (repeatable).")] = [],  # noqa: B006
        k: KQuery = 10, version: VersionQuery = None,
        restrict: RestrictQuery = None, exact: ExactQuery = False,
    ) -> JSONResponse:
        """The `k` items most cosine-similar to `item`, inputs left out: what
        `embed similar ITEM... --minus ITEM --json` prints. Several items (and `minus`) ask
        for the mean of their unit vectors minus those of `minus`, as gensim's
        `most_similar(positive, negative)` does. A version with an index answers through it
        (`"approximate": true`) unless `exact`. Concurrent requests are answered together."""
        return await answer_similar(context, model, item, minus, k, version, restrict, exact)

    @router.get("/models/{model}/analogy", response_model=NeighborsAnswer,
                summary="Items nearest to a - b + c (king - man + woman)")
    async def analogy(
        model: ModelPath, a: Item, b: Item, c: Item, k: KQuery = 10,
        method: Annotated[Literal["add", "mul"], Query(
            description="add: 3CosAdd; mul: 3CosMul.")] = "add",
        version: VersionQuery = None, restrict: RestrictQuery = None,
        exact: ExactQuery = False,
    ) -> JSONResponse:
        """What `embed analogy A B C --json` prints. Concurrent requests are answered
        together."""
        return await answer_analogy(context, model, (a, b, c), k, method, version, restrict,
                                    exact)

    @router.get("/models/{model}/vector", response_model=VectorAnswer,
                summary="The stored vector of an item")
    def vector(model: ModelPath, item: Item, version: VersionQuery = None) -> JSONResponse:
        """The answer of a batch line `{"op": "vector", "item": ...}`; for an item built
        from its n-grams, the query says `"from_subwords": true`."""
        with access.version(model, version) as vectors:
            found = vectors.inputs([item])
            return answered(metrics, vectors,
                            subword_query({"op": "vector", "item": item}, found.from_subwords),
                            vector=found.vectors[0].tolist())

    @router.get("/models/{model}/similarity", response_model=SimilarityAnswer,
                summary="Cosine similarity of two items")
    def similarity(model: ModelPath, a: Item, b: Item,
                   version: VersionQuery = None) -> JSONResponse:
        """The answer of a batch line `{"op": "similarity", "a": ..., "b": ...}`."""
        with access.version(model, version) as vectors:
            found = vectors.inputs([a, b])
            return answered(metrics, vectors, subword_query(
                {"op": "similarity", "a": a, "b": b}, found.from_subwords),
                score=cosine(found.vectors[0], found.vectors[1]))

    return router

