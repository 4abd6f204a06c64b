"""The web page: one HTML file and its script and style, served from the package (no CDN)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from ..context import Context
from ..errors import error_response

ASSETS = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


def page_router(context: Context) -> APIRouter:
    router = APIRouter(tags=["page"], include_in_schema=False)
    static = resources.files("embedstore_server") / "static"
    page = (static / "index.html").read_text(encoding="utf-8")
    assets = {name: (static / name).read_bytes() for name in ASSETS}

    @router.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get("/static/{name}")
    async def asset(name: str = Path()) -> Response:
        if name not in assets:
            return error_response(404, f"no page asset {name!r}")
        return Response(assets[name], media_type=ASSETS[name],
                        headers={"Cache-Control": "no-cache"})

    return router
