"""Publish vectors that were not trained here (from a file or from memory) as a new version."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from .embeddings import DEFAULT_MODEL
from .errors import InputError
from .schema import FileRecord, SourceRecord, VersionRecord
from .store import Store, check_model_name


def publish_vectors(
    items: Sequence[str],
    vectors: np.ndarray,
    *,
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    name: str | None = None,
    counts: np.ndarray | None = None,
    source: SourceRecord | None = None,
    import_format: str = "memory",
) -> VersionRecord:
    """Publish ``vectors`` (one row per item, in frequency order) as a new version of ``model``.

    ``counts`` default to ``n, n-1, ..., 1`` so that row order keeps meaning "most frequent
    first" (``--restrict``). Items must be distinct non-empty strings and values finite.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> record = publish_vectors(["a", "b"], np.eye(2, dtype=np.float32),
    ...                          store=tempfile.mkdtemp())
    >>> record.origin, record.version, record.n_items
    ('import', 1, 2)
    """
    check_model_name(model)
    started = time.perf_counter()
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(items) or matrix.shape[0] < 2:
        raise InputError(f"need a 2-D matrix with one row per item and at least two items; "
                         f"got shape {matrix.shape} for {len(items)} items")
    if len(set(items)) != len(items) or not all(items):
        raise InputError("items must be distinct, non-empty strings")
    if not np.isfinite(matrix).all():
        raise InputError("vectors hold NaN or infinite values")
    if counts is None:
        counts = np.arange(len(items), 0, -1, dtype=np.float64)

    def make_record(version: int, files: dict[str, FileRecord]) -> VersionRecord:
        return VersionRecord(
            model=model, version=version, name=name, created=datetime.now(UTC),
            origin="import", source=source, import_format=import_format,
            n_items=len(items), dim=int(matrix.shape[1]),
            duration_seconds=round(time.perf_counter() - started, 3), files=files,
            embedstore_version=__version__,
        )

    if isinstance(store, Store):
        return store.publish(model=model, items=items, counts=counts, vectors=matrix,
                             make_record=make_record)
    with Store.open(store, create=True) as opened:
        return opened.publish(model=model, items=items, counts=counts, vectors=matrix,
                              make_record=make_record)
