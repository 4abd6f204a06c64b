"""Training as one way down: read (pair file or corpus) -> count -> fit -> publish.

Each stage has its own module and one input type: :mod:`embedstore.sources` reads a file into
a :class:`~embedstore.cooccurrence.Cooccurrence`, :mod:`embedstore.fit` turns counts into
vectors with the method the settings name, :mod:`embedstore.publish` makes them a version.
This module chooses the defaults and runs the stages in order.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .fit import WarmStart, check_warm_start, fit
from .names import check_model_name
from .progress import Progress
from .publish import DEFAULT_MODEL, publish
from .schema import PairFileOptions, SgnsSettings, SvdSettings, TextOptions, VersionRecord
from .sources import choose_reading, read_source
from .store import StoreLike, check_writable, file_digest, opened

SETTINGS_BY_METHOD: dict[str, type[SgnsSettings] | type[SvdSettings]] = {
    "sgns": SgnsSettings,
    "svd": SvdSettings,
}
"""The settings record of each ``--method``."""


def default_method(text: bool) -> str:
    """``svd`` for text corpora (far faster there, and better: see benchmarks/RESULTS.md),
    ``sgns`` for pair files (it also learns from explicit negative pairs)."""
    return "svd" if text else "sgns"


def default_settings(text: bool, method: str = "auto") -> SgnsSettings | SvdSettings:
    """The settings ``embed train`` uses when none are given (for ``method``, default auto).

    Pair files: skip-gram. Text: PPMI + SVD without the context side (on the benchmark corpus
    the item side alone answers analogies better, ``benchmarks/RESULTS.md``); with SVD on a pair
    file the context side is added, which cancels the components of negative eigenvalues that
    otherwise mislead on small symmetric data.
    """
    method = default_method(text) if method == "auto" else method
    if method == "svd":
        return SvdSettings(add_context=not text)
    return SETTINGS_BY_METHOD[method]()


def choose_settings(text: bool, method: str = "auto", **given: Any) -> SgnsSettings | SvdSettings:
    """The settings of ``method`` (``auto``: :func:`default_method`) with the values ``given``
    that are not None and that the method has; every other value is the library default.

    >>> choose_settings(False, negative=7, power_iterations=9).negative
    7
    >>> choose_settings(True).method, choose_settings(True, "svd", add_context=None).add_context
    ('svd', False)
    """
    base = default_settings(text, method)
    fields = type(base).model_fields
    chosen = {name: value for name, value in given.items() if value is not None and name in fields}
    return type(base).model_validate({**base.model_dump(), **chosen})


def train_pairs(path: str | Path, **options: Any) -> VersionRecord:
    """Train from a pair file; the options are those of :func:`train_file`."""
    return train_file(path, text=False, **options)


def train_file(
    path: str | Path,
    *,
    text: bool = False,
    store: StoreLike = None,
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
        Store path, open :class:`~embedstore.store.Store`, or None for the default store.
    model, name:
        The model to add a version to, and an optional free-text name for the version.
    settings:
        :class:`SgnsSettings` or :class:`SvdSettings`; None picks :func:`default_settings`.
    reading:
        :class:`PairFileOptions` or (text) :class:`TextOptions`; defaults when None.
    progress:
        Optional progress callback (see :data:`embedstore.progress.Progress`); ``quiet``
        drops it.
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
    settings = settings or default_settings(text)
    reading = reading or choose_reading(text)
    progress = None if quiet else progress
    path = Path(path)
    started = time.perf_counter()
    cooc = read_source(path, reading, progress)
    source = file_digest(path)
    warm = None
    if parent is not None:
        check_warm_start(settings)
        with opened(store) as handle:
            warm = WarmStart(*handle.starting_vectors(model, parent, cooc.items,
                                                      getattr(settings, "dim", None)))
    fitted = fit(cooc, settings, progress, warm)
    return publish(
        store, model=model, items=cooc.items, counts=cooc.item_counts, vectors=fitted.vectors,
        name=name, source=source, reading=reading, parent=warm.parent if warm else None,
        settings=fitted.settings, epochs=fitted.epochs, epoch_losses=fitted.epoch_losses,
        duration_seconds=round(time.perf_counter() - started, 3))
