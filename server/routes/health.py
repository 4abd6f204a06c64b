"""Liveness, readiness and metrics: open even when an API key is set."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from embedstore import EmbedstoreError

from ..context import Context
from ..errors import error_response
from ..metrics import CONTENT_TYPE


def health_router(context: Context) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> JSONResponse:
        """Always `{"status": "ok"}` while the server runs."""
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", summary="The store is open and readable (503 otherwise)",
                responses={503: {"description": "The store cannot be read; the error says why."}})
    def readyz() -> JSONResponse:
        """`{"status": "ready", "models": N}`, or 503 with the reason."""
        try:
            with context.access.reading() as store:
                models = store.models()
        except EmbedstoreError as error:
            return error_response(503, str(error))
        return JSONResponse({"status": "ready", "models": len(models)})

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        """Requests by route and status, a latency histogram, answers by version, and each
        model's latest version and aliases (Prometheus text format)."""
        return Response(context.metrics.exposition(), media_type=CONTENT_TYPE)

    return router
