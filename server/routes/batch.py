"""The batch resource: the JSON lines ``embed batch`` reads, answered as streamed JSON lines.

The body is read up to the byte cap and counted against the line cap (413 beyond either);
then one thread answers it with the library's batch runner, on its own store connection and
one read snapshot, and hands the encoded lines to the response as they come, in input order.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from embedstore import Store
from embedstore.query.embeddings import run_batch

from ..context import Context, RestrictQuery, VersionQuery
from ..errors import PayloadTooLargeError

LINES_PER_BLOCK = 256
"""Answer lines sent to the client together."""
QUEUED_BLOCKS = 8
"""Blocks a batch may run ahead of a slow client."""
_DONE = object()


def batch_router(context: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["batch"])
    settings = context.settings

    @router.post(
        "/batch", response_class=StreamingResponse,
        summary="Many queries at once: JSON lines in, JSON lines out, in input order",
        openapi_extra={"requestBody": {"required": True, "content": {"application/x-ndjson": {
            "schema": {"type": "string"},
            "example": '{"op": "similar", "item": "cat", "k": 3, "id": 1}\n'
                       '{"op": "similar", "items": ["cat", "dog"], "minus": ["kitten"]}\n'}}}},
        responses={200: {"content": {"application/x-ndjson": {}},
                         "description": "One JSON line per query line."},
                   413: {"description": "Body over the byte or line cap."}},
    )
    async def batch(
        request: Request,
        model: Annotated[str, Query(description="Default model of the lines.")] = "default",
        version: VersionQuery = None, restrict: RestrictQuery = None,
    ) -> StreamingResponse:
        """What `embed batch` does: each line a query (`similar`, `analogy`, `vector`,
        `similarity`), each answer a line with the line's `id`, or `{"id": ..., "error":
        "line N: ..."}` for a line that fails while the others go on."""
        body = await _read_capped(request, settings.max_batch_bytes)
        lines = body.split(b"\n")
        queries = sum(1 for line in lines if line.strip())
        if queries > settings.max_batch_lines:
            raise PayloadTooLargeError(f"the batch has {queries} query lines; at most "
                                  f"{settings.max_batch_lines} are answered per request")
        stream = _answer_in_thread(context, lines, model, version, restrict)
        first = await stream.__anext__()  # a store that cannot be opened fails the request
        return StreamingResponse(_prepend(first, stream), media_type="application/x-ndjson")

    return router


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise PayloadTooLargeError(f"the body has {declared} bytes; at most {cap} are accepted")
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > cap:
            raise PayloadTooLargeError(f"the body has more than {cap} bytes; at most {cap} "
                                  "are accepted")
        parts.append(part)
    return b"".join(parts)


async def _prepend(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    try:
        yield first
        async for block in rest:
            yield block
    finally:
        await rest.aclose()  # a client gone mid-answer stops the batch's thread now


async def _answer_in_thread(context: Context, lines: list[bytes], model: str,
                            version: int | str | None, restrict: int | None
                            ) -> AsyncGenerator[bytes, None]:
    """Blocks of answer lines produced by a thread of their own; the thread stops when the
    client goes away."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(QUEUED_BLOCKS)
    stopped = threading.Event()

    def put(value: Any) -> None:
        while not stopped.is_set():
            future = asyncio.run_coroutine_threadsafe(queue.put(value), loop)
            try:
                future.result(timeout=1.0)
                return
            except TimeoutError:
                future.cancel()

    def produce() -> None:
        try:
            store = Store.open(context.access.path)
        except Exception as error:  # handed to the request, which answers it
            put(error)
            return
        try:
            put(b"")
            block: list[str] = []
            for result in run_batch(store, lines, model=model, version=version,
                                    restrict=restrict):
                if stopped.is_set():
                    return
                if result.model is not None and result.version is not None:
                    context.metrics.answered(result.model, result.version)
                block.append(_encoded(result.to_json()))
                if len(block) >= LINES_PER_BLOCK:
                    put("".join(block).encode())
                    block = []
            if block:
                put("".join(block).encode())
        except Exception as error:
            put(error)
        finally:
            store.close()
            put(_DONE)

    threading.Thread(target=produce, name="embedstore-batch", daemon=True).start()
    try:
        while True:
            value = await queue.get()
            if value is _DONE:
                return
            if isinstance(value, Exception):
                raise value
            yield value
    finally:
        stopped.set()


def _encoded(payload: dict[str, Any]) -> str:
    line = json.dumps(payload, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # an id with a lone surrogate: escape it, as embed batch does
        line = json.dumps(payload)
    return line + "\n"
