"""The models resource: what the store holds (models, versions, aliases, vocabularies)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from embedstore import NotFoundError, Store
from embedstore.inventory import list_versions
from embedstore.query.results import versions_json

from ..access import VersionNotFoundError, close_names
from ..context import Context, VersionQuery, version_reference

ModelPath = Annotated[str, Path(description="Model name.", examples=["default"])]


def models_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["models"])
    access = context.access

    @router.get("/models", summary="The models in the store, with their latest version and aliases")
    def list_models() -> dict[str, Any]:
        """`{"models": [{"model": "default", "latest": 3, "aliases": {"prod": 2}}, ...]}`"""
        with access.reading() as store:
            return {"models": [
                {"model": model, "latest": store.version_info(model).version,
                 "aliases": {alias.name: alias.version for alias in store.aliases(model)}}
                for model in store.models()]}

    @router.get("/models/{model}/versions", summary="Every version of a model, oldest first")
    def versions(model: ModelPath) -> JSONResponse:
        """The records `embed versions --model MODEL --json` prints (each with its aliases)."""
        with access.reading() as store:
            _check_model(store, model)
            return JSONResponse(versions_json(list_versions(store, model)))

    @router.get("/models/{model}/versions/{version}",
                summary="One version's full record, aliases and evaluations")
    def version_detail(model: ModelPath, version: Annotated[str, Path(
            description="Version number or alias.", examples=["prod"]),
            AfterValidator(version_reference)]) -> JSONResponse:
        """What `embed info --json` tells about a version: its record, plus the aliases
        pointing at it and the evaluations kept with it."""
        with access.version(model, version) as vectors:
            store, info = vectors.store, vectors.info
            record = store.version_record(info).model_dump(mode="json")
            return JSONResponse({**record,
                                 "aliases": _alias_names(store, model).get(info.version, []),
                                 "evaluations": store.evaluations(info)})

    @router.get("/models/{model}/items", summary="Items starting with a prefix (completion)")
    def complete(model: ModelPath,
                 prefix: Annotated[str, Query(description="Start of the item.")] = "",
                 limit: Annotated[int, Query(ge=1, le=100)] = 10,
                 version: VersionQuery = None) -> JSONResponse:
        """Up to `limit` items of the version that start with `prefix`, most frequent first."""
        with access.version(model, version) as vectors:
            return JSONResponse({"model": vectors.model, "version": vectors.version,
                                 "prefix": prefix,
                                 "items": vectors.items_with_prefix(prefix, limit)})

    return router


def _check_model(store: Store, model: str) -> None:
    if model not in store.models():
        try:
            store.version_info(model)
        except NotFoundError as error:
            raise VersionNotFoundError(str(error), close_names(store, model, None)) from None


def _alias_names(store: Store, model: str) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for alias in store.aliases(model):
        names.setdefault(alias.version, []).append(alias.name)
    return names
