"""The short way for the two routes that carry the load: a ``similar`` or ``analogy`` GET whose
parameters are plainly valid is answered without the framework's routing, dependency solving
and parameter validation, by the same handler code (:mod:`.routes.queries`).

"Plainly valid" is narrow on purpose: only the route's own parameters, each scalar given once,
numbers written as digits within their ranges, ``exact`` as ``true`` or ``false``, the API key
(when one is set) given and right. Anything else (a parameter to refuse, a key to refuse, a
parameter the route ignores) takes the full way, so every refusal is the framework's 422 or
401 as before. An answer or a library error is the same status and body either way (a test
compares both ways request by request); the request is counted under its route's template.

Measured on the benchmark model (benchmarks/RESULTS.md): the framework's share was about half
of a request's own time on the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse

from embedstore import EmbedstoreError
from embedstore.errors import QueryError
from embedstore.names import parse_version

from .auth import key_matches
from .context import Context
from .errors import error_response, status_of, suggestions_of
from .metrics import ASGIApp, Message, RouteTemplate, Scope
from .routes.queries import MAX_K, answer_analogy, answer_similar

Answer = Callable[[], Awaitable[JSONResponse]]
SIMILAR = frozenset({"item", "minus", "k", "version", "restrict", "exact"})
ANALOGY = frozenset({"a", "b", "c", "k", "method", "version", "restrict", "exact"})
REPEATABLE = frozenset({"item", "minus"})


class QueryShortcut:
    """ASGI middleware: plainly valid ``similar`` and ``analogy`` GETs answered directly."""

    def __init__(self, app: ASGIApp, context: Context) -> None:
        self.app = app
        self.context = context
        self.api_key = context.settings.api_key

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        answer = self._answer(scope) if scope["type"] == "http" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await answer()
        except EmbedstoreError as error:
            response = error_response(status_of(error), str(error), suggestions_of(error))
        await response(scope, receive, send)

    def _answer(self, scope: Scope) -> Answer | None:
        """How to answer the request the short way, or None for the full way."""
        if scope["method"] != "GET":
            return None
        parts = scope["path"].split("/")
        if len(parts) != 5 or parts[1] != "v1" or parts[2] != "models" or not parts[3] \
                or parts[4] not in ("similar", "analogy"):
            return None
        if self.api_key is not None and not key_matches(_bearer(scope), self.api_key):
            return None
        values = _parameters(scope, SIMILAR if parts[4] == "similar" else ANALOGY)
        if values is None:
            return None
        answer = (_similar if parts[4] == "similar" else _analogy)(self.context, parts[3],
                                                                    values)
        if answer is not None:
            scope["route"] = RouteTemplate(f"/v1/models/{{model}}/{parts[4]}")
        return answer


def _similar(context: Context, model: str, values: dict[str, list[str]]) -> Answer | None:
    common = _common(values)
    if common is None or "item" not in values:
        return None
    k, version, restrict, exact = common
    return lambda: answer_similar(context, model, values["item"], values.get("minus", []), k,
                                  version, restrict, exact)


def _analogy(context: Context, model: str, values: dict[str, list[str]]) -> Answer | None:
    common = _common(values)
    method = values.get("method", ["add"])[0]
    if common is None or method not in ("add", "mul") or not {"a", "b", "c"} <= set(values):
        return None
    k, version, restrict, exact = common
    (a,), (b,), (c,) = values["a"], values["b"], values["c"]
    return lambda: answer_analogy(context, model, (a, b, c), k, method, version, restrict,
                                  exact)


def _common(values: dict[str, list[str]]
            ) -> tuple[int, int | str | None, int | None, bool] | None:
    """``k``, ``version``, ``restrict`` and ``exact``, or None when one needs checking."""
    k = _count(values.get("k", ["10"])[0], MAX_K)
    restrict = _count(values["restrict"][0], None) if "restrict" in values else None
    exact = values.get("exact", ["false"])[0]
    if k is None or ("restrict" in values and restrict is None) or exact not in ("true",
                                                                                  "false"):
        return None
    try:
        version = parse_version(values["version"][0]) if "version" in values else None
    except QueryError:
        return None
    return k, version, restrict, exact == "true"


def _count(text: str, most: int | None) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    number = int(text)
    return number if number >= 1 and (most is None or number <= most) else None


def _parameters(scope: Scope, allowed: frozenset[str]) -> dict[str, list[str]] | None:
    """The query string's values by name, or None when a name is not the route's, a scalar
    is repeated or a value is empty."""
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"),
                                 keep_blank_values=True):
        if name not in allowed or not value or (name in values and name not in REPEATABLE):
            return None
        values.setdefault(name, []).append(value)
    return values


def _bearer(scope: Scope) -> str:
    """The credentials of an ``Authorization: Bearer ...`` header ("" when there is none)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials if scheme.lower() == "bearer" else ""
    return ""

