"""The application built in the test's own process, asked over an in-memory transport: fast,
and the code under test runs here (so the mutation run can see what each test checks)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

import embedstore
from tests.conftest import DATA

pytest.importorskip("fastapi", reason="the serve extra is not installed")


def ask(settings: object, *requests: tuple[str, str, dict[str, str]],
        body: bytes | None = None) -> list[httpx.Response]:
    """The answers to ``(method, path, headers)`` requests (each sending ``body``), in order."""
    from embedstore_server import create_app

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [await http.request(method, path, headers=headers, content=body)
                    for method, path, headers in requests]

    return asyncio.run(run())


def animals_store(path: Path) -> Path:
    """Version 1 of ``default`` trained on the animals, alias ``prod`` on it."""
    embedstore.train_pairs(DATA / "animals.csv", store=path, quiet=True)
    with embedstore.Store.open(path) as opened:
        opened.set_alias("default", 1, "prod")
    return path
