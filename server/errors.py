"""Every error answer is JSON ``{"error": "...", "suggestions": [...]}`` with a fitting status.

A user's mistake never yields a 500: library errors map to 400, 404 or 503, parameter
validation to 422; only an unexpected failure answers 500, in one line, while its traceback
goes to the server's log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from embedstore import EmbedstoreError, NotFoundError, StoreError, UnknownItemError

from .access import VersionNotFoundError

logger = logging.getLogger("embedstore_server")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str
    suggestions: list[str] = []


class UnauthorizedError(Exception):
    """A request without the API key the server was started with."""


class PayloadTooLargeError(Exception):
    """A request body (or batch) beyond the server's caps."""


def error_response(status: int, message: str, suggestions: list[str] | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "suggestions": suggestions or []}, status_code=status,
                        headers=headers)


def status_of(error: EmbedstoreError) -> int:
    """404 for what the store does not hold, 503 when the store cannot be read, else 400."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, StoreError):
        return 503
    return 400


def suggestions_of(error: EmbedstoreError) -> list[str]:
    if isinstance(error, UnknownItemError | VersionNotFoundError):
        return list(error.suggestions)
    return []


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EmbedstoreError)
    async def library_error(request: Request, error: EmbedstoreError) -> JSONResponse:
        return error_response(status_of(error), str(error), suggestions_of(error))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for problem in error.errors():
            where = " ".join(str(part) for part in problem.get("loc", ()))
            problems.append(f"{where}: {problem.get('msg', 'invalid')}")
        return error_response(422, "; ".join(problems) or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail), headers=error.headers)

    @app.exception_handler(UnauthorizedError)
    async def unauthorized(request: Request, error: UnauthorizedError) -> JSONResponse:
        return error_response(401, "missing or wrong API key; send 'Authorization: Bearer KEY'",
                              headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(PayloadTooLargeError)
    async def too_large(request: Request, error: PayloadTooLargeError) -> JSONResponse:
        return error_response(413, str(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error("unexpected error answering %s %s", request.method, request.url.path,
                     exc_info=error)
        return error_response(500, "internal error; the server's log has the details")
