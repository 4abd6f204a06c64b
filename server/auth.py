"""The optional API key: a dependency of the /v1 routers and the page."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .errors import UnauthorizedError

bearer = HTTPBearer(auto_error=False, description="The key given to embed serve --api-key.")


def key_check(api_key: str | None) -> Callable[..., Awaitable[None]]:
    """A dependency that lets a request through when it carries ``api_key`` (or none is set)."""

    async def require_key(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> None:
        if api_key is None:
            return
        if not key_matches(credentials.credentials if credentials is not None else "", api_key):
            raise UnauthorizedError()

    return require_key


def key_matches(given: str, api_key: str) -> bool:
    """Whether the bearer credentials ``given`` are ``api_key``: exactly, in constant time."""
    return hmac.compare_digest(given.encode(), api_key.encode())
