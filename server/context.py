"""What every router of one application shares, and the parameters several routes take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from embedstore import QueryError

from .access import StoreAccess
from .metrics import Metrics
from .settings import Settings

MAX_VERSION = 2**63 - 1
VERSION_PATTERN = r"^([0-9]{1,19}|[A-Za-z][A-Za-z0-9._-]{0,63})$"


@dataclass(frozen=True)
class Context:
    settings: Settings
    access: StoreAccess
    metrics: Metrics


VersionQuery = Annotated[str | None, Query(
    pattern=VERSION_PATTERN, description="Version number or alias (default: the latest).",
    examples=["prod"])]
RestrictQuery = Annotated[int | None, Query(
    ge=1, description="Only consider the N most frequent items as results.")]


def version_reference(version: str | None) -> int | str | None:
    """A version parameter as the library takes it: a number, an alias, or None (latest)."""
    if version is None or not version.isdigit():
        return version
    number = int(version)
    if not 1 <= number <= MAX_VERSION:
        raise QueryError(f"version must be a number from 1 to {MAX_VERSION}, or an alias")
    return number
