"""The publish stage: vectors (trained here, or imported) become a new version in a store."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from ..errors import InputError
from ..names import check_model_name, normalize_item
from ..schema import FileDigest, VersionRecord
from ..store import StoreLike, opened

if TYPE_CHECKING:
    from ..store.files import Base

DEFAULT_MODEL = "default"
MAX_NORM = 1e18
"""Longest vector accepted: the product of two such lengths stays well inside float32."""


def publish(store: StoreLike, *, model: str, items: Sequence[str], counts: np.ndarray,
            vectors: np.ndarray, kept: Mapping[str, Path] | None = None,
            base: Base | None = None, **record: Any) -> VersionRecord:
    """Publish ``vectors`` as the next version of ``model``; ``kept`` are files written
    beforehand that the version keeps (its counts); with ``base`` the version starts with that
    version's rows and ``items``, ``counts`` and ``vectors`` follow them (``embed extend``);
    ``record`` holds the fields of its :class:`VersionRecord` besides those the store fills in
    (number, files, time, size)."""
    first = base.info.n_items if base is not None else 0

    def make_record(version: int, files: dict[str, FileDigest]) -> VersionRecord:
        return VersionRecord(
            model=model, version=version, created=datetime.now(UTC),
            n_items=first + len(items), dim=int(vectors.shape[1]), files=files,
            embedstore_version=__version__, **record)

    with opened(store, create=True) as handle:
        return handle.publish(model=model, items=items, counts=counts, vectors=vectors,
                              make_record=make_record, kept=kept, base=base)


def check_items(items: Sequence[str]) -> list[str]:
    """The items in NFC; refuses empty items and items that are one after normalisation."""
    normal = [normalize_item(item) for item in items]
    first_at: dict[str, int] = {}
    for index, item in enumerate(normal):
        if not item:
            raise InputError("items must be distinct, non-empty strings")
        if item in first_at:
            earlier = items[first_at[item]]
            if earlier == items[index]:
                raise InputError("items must be distinct, non-empty strings")
            raise InputError(f"items {earlier!r} and {items[index]!r} are the same text after "
                             "Unicode normalisation (NFC); keep one of them")
        first_at[item] = index
    return normal


def publish_vectors(
    items: Sequence[str],
    vectors: np.ndarray,
    *,
    store: StoreLike = None,
    model: str = DEFAULT_MODEL,
    name: str | None = None,
    counts: np.ndarray | None = None,
    source: FileDigest | None = None,
    import_format: str = "memory",
) -> VersionRecord:
    """Publish ``vectors`` (one row per item, in frequency order) as a new version of ``model``.

    ``counts`` default to ``n, n-1, ..., 1`` so that row order keeps meaning "most frequent
    first" (``--restrict``). Items must be distinct non-empty strings, also after Unicode
    normalisation (they are stored in NFC), and values finite.

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
    normal = check_items(items)
    if not np.isfinite(matrix).all():
        raise InputError("vectors hold NaN or infinite values")
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    if (norms > MAX_NORM).any():
        row = int(np.argmax(norms))
        raise InputError(f"the vector of {items[row]!r} has length {norms[row]:.3g}; lengths "
                         f"above {MAX_NORM:g} overflow float32 cosine arithmetic: rescale them")
    if counts is None:
        counts = np.arange(len(items), 0, -1, dtype=np.float64)
    return publish(store, model=model, items=normal, counts=counts, vectors=matrix, name=name,
                   origin="import", source=source, import_format=import_format,
                   duration_seconds=round(time.perf_counter() - started, 3))


def source_digest(inputs: str) -> FileDigest:
    """The input as the version records it: a file or directory by :func:`file_digest`, a
    glob by the names and digests of the files it matches."""
    from ..engines.cluster.dask_io import input_files
    from ..store import file_digest
    from ..store.files import sha256_of

    path = Path(inputs)
    if path.exists():
        return file_digest(path)
    files = [Path(name) for name in input_files(inputs)]
    listing = "".join(f"{p.resolve().as_posix()}\t{sha256_of(p)}\n" for p in files)
    return FileDigest(path=inputs, bytes=sum(p.stat().st_size for p in files),
                      sha256=hashlib.sha256(listing.encode()).hexdigest())
