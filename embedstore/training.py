"""From a pair file to a published version: read, train, write."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .embeddings import DEFAULT_MODEL
from .pairs import read_pairs
from .schema import FileRecord, PairFileOptions, SgnsSettings, SourceRecord, VersionRecord
from .sgns import train_sgns
from .store import Store, check_model_name, sha256_of

Progress = Callable[[str, int, int, float | None], None]
"""Called as ``progress(stage, done, total, loss)``; stage ``"reading"`` counts bytes of the
input, stage ``"training"`` counts per-mille of the run and carries the running loss."""


def _source(path: Path) -> SourceRecord:
    return SourceRecord(path=str(path.resolve()), bytes=path.stat().st_size,
                        sha256=sha256_of(path))


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
    result = train_sgns(
        cooc, settings,
        progress=(lambda epoch, permille, loss: progress("training", permille, 1000, loss))
        if progress else None,
    )
    duration = time.perf_counter() - started

    def make_record(version: int, files: dict[str, FileRecord]) -> VersionRecord:
        return VersionRecord(
            model=model, version=version, name=name, created=datetime.now(UTC),
            source=source, reading=reading,
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
