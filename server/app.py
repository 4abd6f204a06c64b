"""``create_app(settings)``: the whole application, built the same way by tests, by ``embed
serve`` and by each of its worker processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from embedstore import __version__

from .access import StoreAccess
from .auth import key_check
from .context import Context
from .errors import ErrorBody, install_error_handlers
from .gather import Gatherer
from .metrics import Metrics, MetricsMiddleware
from .routes.batch import batch_router
from .routes.explain import explain_router
from .routes.health import health_router
from .routes.maps import maps_router
from .routes.models import models_router
from .routes.page import page_router
from .routes.queries import queries_router
from .settings import Settings, settings_from_environment
from .shortcut import QueryShortcut

DESCRIPTION = """Nearest neighbours, analogies and vectors from the versions of an embedstore
store. Every answer names the model and version it came from; a request without `version`
uses the latest version as of that request. Errors are `{"error": ..., "suggestions": [...]}`.
"""
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description} for status, description in (
        (401, "Missing or wrong API key."), (404, "Unknown model, version or item."),
        (422, "A parameter out of range or of the wrong type."),
        (503, "The store cannot be read."))}


def create_app(settings: Settings | None = None, shortcut: bool = True) -> FastAPI:
    """The application serving ``settings.store`` (default settings: the default store).
    ``shortcut=False`` sends every request the framework's full way (tests compare both)."""
    settings = settings or Settings()
    access = StoreAccess(settings.store)
    metrics = Metrics(access)
    gatherer = Gatherer(batch_size=settings.batch_size, wait=settings.batch_wait_ms / 1000,
                        observe=metrics.batched)
    context = Context(settings=settings, access=access, metrics=metrics, gatherer=gatherer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.query_threads
        yield
        gatherer.close()

    app = FastAPI(title="embedstore", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    install_error_handlers(app)
    guarded = [Depends(key_check(settings.api_key))]
    app.include_router(health_router(context))
    for router in (models_router(context), queries_router(context), explain_router(context),
                   maps_router(context), batch_router(context)):
        app.include_router(router, dependencies=guarded, responses=ERRORS)
    app.include_router(page_router(context), dependencies=guarded)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization"])
    if shortcut:
        app.add_middleware(QueryShortcut, context=context)
    app.add_middleware(MetricsMiddleware, metrics=context.metrics)
    return app


def app_from_environment() -> FastAPI:
    """The factory ``embed serve`` gives uvicorn: settings from the environment."""
    return create_app(settings_from_environment())
