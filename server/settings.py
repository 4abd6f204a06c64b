"""What a server is built from: one frozen settings object, also readable from the environment
(so every ``--workers`` process builds the same application)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

STORE_VARIABLE = "EMBED_STORE"
API_KEY_VARIABLE = "EMBED_API_KEY"
CORS_VARIABLE = "EMBED_SERVE_CORS_ORIGINS"
THREADS_VARIABLE = "EMBED_SERVE_THREADS"
BATCH_LINES_VARIABLE = "EMBED_SERVE_MAX_BATCH_LINES"
BATCH_BYTES_VARIABLE = "EMBED_SERVE_MAX_BATCH_BYTES"
BATCH_WAIT_VARIABLE = "EMBED_SERVE_BATCH_WAIT_MS"
BATCH_SIZE_VARIABLE = "EMBED_SERVE_BATCH_SIZE"
DEFAULT_BATCH_WAIT_MS = 0.5
MAX_BATCH_WAIT_MS = 1000.0


class Settings(BaseModel):
    """Settings of one server application."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: Path | None = Field(
        default=None, description="Store directory (None: $EMBED_STORE, else the default).")
    api_key: str | None = Field(
        default=None, min_length=1,
        description="When set, /v1 and the page need 'Authorization: Bearer KEY'.")
    cors_origins: tuple[str, ...] = Field(
        default=(), description="Origins whose pages may call the API (none: CORS off).")
    max_batch_lines: int = Field(default=100_000, ge=1,
                                 description="Most query lines in one POST /v1/batch.")
    max_batch_bytes: int = Field(default=16 << 20, ge=1,
                                 description="Largest POST /v1/batch body, in bytes.")
    query_threads: int = Field(default=8, ge=1,
                               description="Threads answering the plain routes in each process "
                                           "(similar and analogy run on the event loop).")
    batch_wait_ms: float = Field(
        default=DEFAULT_BATCH_WAIT_MS, ge=0, le=MAX_BATCH_WAIT_MS,
        description="Milliseconds a batch of concurrent similar/analogy queries waits for more "
                    "after its first query (never when that query is alone).")
    batch_size: int = Field(
        default=64, ge=1, le=4096,
        description="Most queries answered together by one matrix product (1: each alone).")


def settings_from_environment() -> Settings:
    """The settings ``embed serve`` hands to its worker processes through the environment."""
    store = os.environ.get(STORE_VARIABLE)
    origins = os.environ.get(CORS_VARIABLE, "")
    numbers: dict[str, float] = {name: int(os.environ[variable]) for name, variable in (
        ("query_threads", THREADS_VARIABLE), ("max_batch_lines", BATCH_LINES_VARIABLE),
        ("max_batch_bytes", BATCH_BYTES_VARIABLE), ("batch_size", BATCH_SIZE_VARIABLE))
        if os.environ.get(variable, "").isdigit()}
    if os.environ.get(BATCH_WAIT_VARIABLE):
        numbers["batch_wait_ms"] = float(os.environ[BATCH_WAIT_VARIABLE])
    return Settings(
        store=Path(store) if store else None,
        api_key=os.environ.get(API_KEY_VARIABLE) or None,
        cors_origins=tuple(origin for origin in origins.split("\n") if origin),
        **numbers,
    )
