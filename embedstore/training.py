"""From a pair file to a published version: read, train, write."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .cooccurrence import Cooccurrence
from .embeddings import DEFAULT_MODEL, Embeddings
from .errors import TrainingError
from .factorize import train_svd
from .pairs import read_pairs
from .schema import (
    FileRecord,
    PairFileOptions,
    SgnsSettings,
    SourceRecord,
    SvdSettings,
    TextOptions,
    VersionRecord,
)
from .sgns import DEFAULT_DIM, train_sgns
from .store import Store, check_model_name, check_writable, sha256_of
from .textpairs import count_text

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
        vectors = Embeddings(opened, *opened.open_version(model, parent))
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


def train_pairs(path: str | Path, **options: Any) -> VersionRecord:
    """Train from a pair file; the options are those of :func:`train_file`."""
    return train_file(path, text=False, **options)


def _read(path: Path, reading: PairFileOptions | TextOptions,
          progress: Progress | None) -> Cooccurrence:
    total = path.stat().st_size if path.is_file() else 0
    if isinstance(reading, TextOptions):
        return count_text(
            path, window=reading.window, min_count=reading.min_count, sample=reading.sample,
            seed=reading.seed,
            progress=(lambda stage, done, _: progress(stage, done, total, None))
            if progress else None)
    return read_pairs(
        path, min_count=reading.min_count, header=reading.header,
        progress=(lambda done: progress("reading", done, total, None)) if progress else None)


def default_method(text: bool) -> str:
    """``svd`` for text corpora (far faster there, and better: see benchmarks/RESULTS.md),
    ``sgns`` for pair files (it also learns from explicit negative pairs)."""
    return "svd" if text else "sgns"


def default_settings(text: bool) -> SgnsSettings | SvdSettings:
    """The settings ``embed train`` uses when none are given.

    Pair files: skip-gram. Text: PPMI + SVD without the context side (on the benchmark corpus
    the item side alone answers analogies better, ``benchmarks/RESULTS.md``); with SVD on a pair
    file the context side is added, which cancels the components of negative eigenvalues that
    otherwise mislead on small symmetric data.
    """
    if default_method(text) == "svd":
        return SvdSettings(add_context=not text)
    return SgnsSettings()


def train_file(
    path: str | Path,
    *,
    text: bool = False,
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    name: str | None = None,
    settings: SgnsSettings | SvdSettings | None = None,
    reading: PairFileOptions | TextOptions | None = None,
    progress: Progress | None = None,
    quiet: bool = False,
    parent: int | str | None = None,
) -> VersionRecord:
    """Train a new version of ``model`` from a pair file or a text corpus, publish it in ``store``.

    Nothing in the store changes unless the whole run succeeds: the file is read and the
    vectors trained before the store is opened for writing.

    Parameters
    ----------
    path:
        Pair file (``item_a,item_b[,weight]``, CSV or TSV, optionally gzipped), or with
        ``text=True`` a corpus (one sentence or paragraph per line, optionally gzipped).
    store:
        Store path, open :class:`Store`, or None for the default store.
    model, name:
        The model to add a version to, and an optional free-text name for the version.
    settings:
        :class:`SgnsSettings` or :class:`SvdSettings`; None picks :func:`default_settings`.
    reading:
        :class:`PairFileOptions` or (text) :class:`TextOptions`; defaults when None.
    progress:
        Optional progress callback (see :data:`Progress`); ``quiet`` drops it.
    parent:
        Warm start (SGNS only) from this version (number or alias) of ``model``: items it
        knows start from its vectors, new items at random; the dimension is the parent's.

    Returns
    -------
    VersionRecord
        The metadata of the published version.
    """
    check_model_name(model)
    check_writable(store)
    if settings is None:
        settings = default_settings(text)
    reading = reading or (TextOptions() if text else PairFileOptions())
    if quiet:
        progress = None
    path = Path(path)
    started = time.perf_counter()
    cooc = _read(path, reading, progress)
    source = _source(path)
    parent_version, initial = None, None
    if parent is not None:
        if not isinstance(settings, SgnsSettings):
            raise TrainingError("a warm start (--from) needs --method sgns")
        parent_version, initial = _warm_start(store, model, parent, cooc.items, settings.dim)
        settings = settings.model_copy(update={"dim": initial[0].shape[1]})
    settings = settings.model_copy(update={"dim": settings.dim or DEFAULT_DIM})
    epochs, losses = None, []
    if isinstance(settings, SvdSettings):
        vectors = train_svd(
            cooc, settings,
            progress=(lambda stage, done, total: progress(stage, done, total, None))
            if progress else None)
    else:
        result = train_sgns(
            cooc, settings,
            progress=(lambda epoch, permille, loss: progress("training", permille, 1000, loss))
            if progress else None,
            initial=initial,
        )
        vectors, epochs, losses = result.vectors, result.epochs, result.epoch_losses
        settings = settings.model_copy(update={"epochs": epochs})
    duration = time.perf_counter() - started
    final_settings = settings

    def make_record(version: int, files: dict[str, FileRecord]) -> VersionRecord:
        return VersionRecord(
            model=model, version=version, name=name, created=datetime.now(UTC),
            source=source, reading=reading, parent=parent_version, settings=final_settings,
            n_items=cooc.n_items, dim=final_settings.dim or DEFAULT_DIM, epochs=epochs,
            epoch_losses=losses, duration_seconds=round(duration, 3),
            files=files, embedstore_version=__version__,
        )

    if isinstance(store, Store):
        return store.publish(model=model, items=cooc.items, counts=cooc.item_counts,
                             vectors=vectors, make_record=make_record)
    with Store.open(store, create=True) as opened:
        return opened.publish(model=model, items=cooc.items, counts=cooc.item_counts,
                              vectors=vectors, make_record=make_record)
