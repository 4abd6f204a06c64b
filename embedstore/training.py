"""From a pair file to a published version: read, train, write."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import __version__
from .embeddings import DEFAULT_MODEL, Embeddings
from .errors import TrainingError
from .pairs import read_pairs
from .schema import FileRecord, PairFileOptions, SgnsSettings, SourceRecord, VersionRecord
from .sgns import DEFAULT_DIM, train_sgns
from .store import Store, check_model_name, sha256_of

Progress = Callable[[str, int, int, float | None], None]
"""Called as ``progress(stage, done, total, loss)``; stage ``"reading"`` counts bytes of the
input, stage ``"training"`` counts per-mille of the run and carries the running loss."""


def _source(path: Path) -> SourceRecord:
    return SourceRecord(path=str(path.resolve()), bytes=path.stat().st_size,
                        sha256=sha256_of(path))


def _warm_start(
    store: str | Path | Store | None, model: str, parent: int | str, items: list[str],
    dim: int | None,
) -> tuple[int, tuple[np.ndarray, np.ndarray]]:
    """The parent's version number and the starting vectors for ``items`` it knows."""
    opened = store if isinstance(store, Store) else Store.open(store)
    try:
        vectors = Embeddings(opened, opened.version_info(model, parent))
        if dim is not None and dim != vectors.info.dim:
            raise TrainingError(
                f"--dim {dim} differs from the {vectors.info.dim} of {model!r} version "
                f"{vectors.info.version}; leave --dim out to warm-start from it")
        rows = vectors.known_rows(items)
        known = np.array([item in rows for item in items], dtype=bool)
        start = np.zeros((len(items), vectors.info.dim), dtype=np.float32)
        start[known] = vectors.row_vectors([rows[item] for item in items if item in rows])
        return vectors.version, (start, known)
    finally:
        if not isinstance(store, Store):
            opened.close()


def train_pairs(
    path: str | Path,
    *,
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    name: str | None = None,
    settings: SgnsSettings | None = None,
    reading: PairFileOptions | None = None,
    progress: Progress | None = None,
    quiet: bool = False,
    parent: int | str | None = None,
) -> VersionRecord:
    """Train a new version of ``model`` from a pair file and publish it in ``store``.

    Nothing in the store changes unless the whole run succeeds: the file is read and the
    vectors trained before the store is opened for writing.

    Parameters
    ----------
    path:
        Pair file (``item_a,item_b[,weight]``, CSV or TSV, optionally gzipped).
    store:
        Store path, open :class:`Store`, or None for the default store.
    model, name:
        The model to add a version to, and an optional free-text name for the version.
    settings, reading:
        Training settings and pair-file options; defaults when None.
    progress:
        Optional progress callback (see :data:`Progress`); ``quiet`` is accepted for symmetry
        with the CLI and simply drops it.
    parent:
        Warm start from this version (number or alias) of ``model``: items it knows start
        from its vectors, new items start at random, and the dimension is the parent's.

    Returns
    -------
    VersionRecord
        The metadata of the published version.
    """
    check_model_name(model)
    settings = settings or SgnsSettings()
    reading = reading or PairFileOptions()
    if quiet:
        progress = None
    path = Path(path)
    started = time.perf_counter()
    total_bytes = path.stat().st_size if path.is_file() else 0
    cooc = read_pairs(
        path, min_count=reading.min_count, header=reading.header,
        progress=(lambda done: progress("reading", done, total_bytes, None)) if progress else None,
    )
    source = _source(path)
    parent_version, initial = None, None
    if parent is not None:
        parent_version, initial = _warm_start(store, model, parent, cooc.items, settings.dim)
        settings = settings.model_copy(update={"dim": initial[0].shape[1]})
    settings = settings.model_copy(update={"dim": settings.dim or DEFAULT_DIM})
    result = train_sgns(
        cooc, settings,
        progress=(lambda epoch, permille, loss: progress("training", permille, 1000, loss))
        if progress else None,
        initial=initial,
    )
    duration = time.perf_counter() - started

    def make_record(version: int, files: dict[str, FileRecord]) -> VersionRecord:
        return VersionRecord(
            model=model, version=version, name=name, created=datetime.now(UTC),
            source=source, reading=reading, parent=parent_version,
            settings=settings.model_copy(update={"epochs": result.epochs}),
            n_items=cooc.n_items, dim=settings.dim, epochs=result.epochs,
            epoch_losses=result.epoch_losses, duration_seconds=round(duration, 3),
            files=files, embedstore_version=__version__,
        )

    if isinstance(store, Store):
        return store.publish(model=model, items=cooc.items, counts=cooc.item_counts,
                             vectors=result.vectors, make_record=make_record)
    with Store.open(store, create=True) as opened:
        return opened.publish(model=model, items=cooc.items, counts=cooc.item_counts,
                              vectors=result.vectors, make_record=make_record)
