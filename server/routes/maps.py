"""The map resource: a version's items projected to 2-D, as ``embed plot --json`` prints them
(without ``output``): the data the page draws its neighbourhood panel from."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from ..context import Context, VersionQuery
from .models import ModelPath

MOST_POINTS = 1000
"""Most neighbours (``k``) or items one map request may ask for: a map is drawn in a browser."""


def maps_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["maps"])
    access, metrics = context.access, context.metrics

    @router.get("/models/{model}/map",
                summary="A 2-D map of an item's neighbourhood, or of the most frequent items")
    def item_map(
        model: ModelPath,
        around: Annotated[str | None, Query(
            description="Map this item and its k nearest neighbours.", examples=["cat"])] = None,
        k: Annotated[int, Query(ge=1, le=MOST_POINTS,
                                description="Neighbours shown with `around`.")] = 50,
        items: Annotated[int, Query(ge=1, le=MOST_POINTS, description=(
            "Without `around`: map the N most frequent items."))] = 500,
        method: Annotated[Literal["pca", "tsne"], Query(
            description="Projection to 2-D (tsne needs the plot extra).")] = "pca",
        seed: Annotated[int, Query(ge=0, description="Seed of t-SNE and clustering.")] = 0,
        version: VersionQuery = None,
    ) -> JSONResponse:
        """What `embed plot --around ITEM --k K --json` prints, without `output`: the model,
        version, projection, groups (clusters of the vectors) and the points, the item first
        and then its neighbours best first, each with `x` and `y` in [-1, 1] and its group."""
        from embedstore.plot import map_version

        with access.version(model, version) as vectors:
            picture = map_version(vectors, items=items, around=around, k=k, method=method,
                                  seed=seed)
        metrics.answered(picture.model, picture.version)
        return JSONResponse(picture.to_json())

    return router
