"""What every router of one application shares, and the parameters several routes take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from embedstore.errors import QueryError
from embedstore.names import parse_version

from .access import StoreAccess
from .gather import Gatherer
from .metrics import Metrics
from .settings import Settings


@dataclass(frozen=True)
class Context:
    settings: Settings
    access: StoreAccess
    metrics: Metrics
    gatherer: Gatherer


def version_reference(version: str | None) -> int | str | None:
    """A version parameter read by the library's one parser of version references: a number,
    an alias, or None (the latest). A malformed one is a 422, as any other bad parameter.

    >>> version_reference("007"), version_reference("prod"), version_reference(None)
    (7, 'prod', None)
    """
    try:
        return parse_version(version)
    except QueryError as error:
        raise ValueError(str(error)) from None


VERSION_DESCRIPTION = "Version number or alias (default: the latest)."
VersionQuery = Annotated[str | None, Query(description=VERSION_DESCRIPTION, examples=["prod"]),
                         AfterValidator(version_reference)]
"""A ``version`` query parameter; the handler receives it parsed (``int | str | None``)."""
ExactQuery = Annotated[bool, Query(
    description="Exact answer, without the version's approximate index.")]
RestrictQuery = Annotated[int | None, Query(
    ge=1, description="Only consider the N most frequent items as results.")]
