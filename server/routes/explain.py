"""The explain resource: why two items of one version are neighbours.

The answer has exactly the shape ``embed explain A B --json`` prints.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..context import Context, VersionQuery
from .models import ModelPath
from .queries import Item


class SharedPartnerBody(BaseModel):
    item: str
    contribution: float
    weight_a: float
    weight_b: float


class OwnPartnerBody(BaseModel):
    item: str
    weight: float


class ExplanationAnswer(BaseModel):
    """What `embed explain A B --json` prints."""

    model: str
    version: int
    a: str
    b: str
    cosine: float
    method: str
    measure: str
    shared: list[SharedPartnerBody]
    only_a: list[OwnPartnerBody]
    only_b: list[OwnPartnerBody]


def explain_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["queries"])
    access, metrics = context.access, context.metrics

    @router.get("/models/{model}/explain", response_model=ExplanationAnswer,
                summary="Why two items are neighbours: the partners they share")
    def explain(model: ModelPath, a: Item, b: Item,
                k: Annotated[int, Query(ge=1, le=1000, description="Partners per list.")] = 10,
                version: VersionQuery = None) -> JSONResponse:
        """The cosine of `a` and `b`, the `k` partners they share that add most to it
        (weighed as the version's method weighs them), and the `k` strongest partners each
        has that the other lacks: what `embed explain A B --json` prints. A version keeps
        the counts this needs when it is trained here; an imported one answers 400.

        Example: `GET /v1/models/default/explain?a=cat&b=kitten&k=3`"""
        from embedstore.query.explain import explain as explain_pair

        with access.version(model, version) as vectors:
            found = explain_pair(vectors, a, b, k=k)
            metrics.answered(vectors.model, vectors.version)
            return JSONResponse(found.to_json())

    return router
