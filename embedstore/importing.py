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
from .store import Store, check_model_name, sha256_of

MAX_NORM = 1e18
"""Longest vector accepted: the product of two such lengths stays well inside float32."""


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
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    if (norms > MAX_NORM).any():
        row = int(np.argmax(norms))
        raise InputError(f"the vector of {items[row]!r} has length {norms[row]:.3g}; lengths "
                         f"above {MAX_NORM:g} overflow float32 cosine arithmetic: rescale them")
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


def import_file(
    path: str | Path,
    *,
    format: str | None = None,
    vocab_path: str | Path | None = None,
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    name: str | None = None,
) -> VersionRecord:
    """Publish the vectors of a word2vec, word2vec-binary, GloVe or .npy file as a version.

    The format is detected when not given; item order and counts (from ``vocab_path`` or the
    .npy vocabulary) are kept. A bad file raises :class:`InputError` and stores nothing.
    """
    from .formats import detect_format, read_vectors

    path = Path(path)
    check_model_name(model)
    format = format or (detect_format(path) if path.is_file() else None)
    table = read_vectors(path, format, vocab_path)
    source = SourceRecord(path=str(path.resolve()), bytes=path.stat().st_size,
                          sha256=sha256_of(path))
    counts = None if table.counts is None else table.counts.astype(np.float64)
    try:
        return publish_vectors(table.items, table.vectors, store=store, model=model, name=name,
                               counts=counts, source=source, import_format=format or "detected")
    except InputError as error:  # too few items, or too long a vector: name the file
        raise InputError(f"{path}: {error}") from None


def export_version(
    path: str | Path,
    *,
    format: str = "word2vec",
    vocab_path: str | Path | None = None,
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    version: int | str | None = None,
) -> int:
    """Write a version's vectors to ``path`` in ``format``; returns the number of items.

    The file appears complete or not at all (written beside ``path``, then renamed).
    """
    import os

    from .formats import VectorTable, write_vectors

    opened = store if isinstance(store, Store) else Store.open(store)
    try:
        info = opened.version_info(model, version)
        vectors, _ = opened.load_vectors(info)
        rows = opened.connection.execute(
            "SELECT item, count FROM items WHERE version_id = ? ORDER BY row", [info.id]
        ).fetchall()
    finally:
        if not isinstance(store, Store):
            opened.close()
    table = VectorTable([item for item, _ in rows], np.asarray(vectors),
                        np.array([round(count) for _, count in rows], dtype=np.int64))
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        write_vectors(table, partial, format, vocab_path)
        os.replace(partial, path)
        if format == "npy" and vocab_path is None:
            os.replace(partial.with_suffix(".vocab"), path.with_suffix(".vocab"))
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        partial.unlink(missing_ok=True)
    return len(table.items)
