"""Training as one way down: read (pair file or corpus) -> count -> fit -> publish.

Each stage has its own module and one input type: :mod:`embedstore.training.sources` reads a file
into
a :class:`~embedstore.counting.cooccurrence.Cooccurrence`, :mod:`embedstore.training.fitting` turns
counts into
vectors with the method the settings name, :mod:`embedstore.training.publish` makes them a version.
This module chooses the defaults and runs the stages in order.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..engines.bounded.pair_aggregation import default_memory_limit
from ..engines.bounded.text_counts import DiskCooccurrence, default_text_memory_limit
from ..errors import TrainingError
from ..names import check_model_name
from ..progress import Progress
from ..schema import (
    PairFileOptions,
    PropagateSettings,
    SgnsSettings,
    SvdSettings,
    TextOptions,
    VersionRecord,
)
from ..store import StoreLike, check_writable, file_digest, opened
from .fitting import WarmStart, fit
from .publish import DEFAULT_MODEL, publish
from .sources import choose_reading, read_source

Settings = SgnsSettings | SvdSettings | PropagateSettings
SETTINGS_BY_METHOD: dict[str, type[Settings]] = {
    "propagate": PropagateSettings,
    "sgns": SgnsSettings,
    "svd": SvdSettings,
}
"""The settings record of each ``--method``."""
METHODS = ("auto", *SETTINGS_BY_METHOD)
ENGINES = ("local", "dask")
"""``embed train --engine`` choices: this machine, or an existing Dask cluster (svd and
propagate of pair data; :mod:`embedstore.engines.cluster.matrix`)."""
DENSE_PARTNERS = 100.0
"""``--method auto`` trains a pair file whose items have at least this many distinct partners
on average with ``svd`` (text-like counts), and a sparser one with ``propagate``."""


class PairCounts(Protocol):
    """What choosing a method needs to know of the counts: a
    :class:`~embedstore.counting.cooccurrence.Cooccurrence`, or the summary of counts on a
    cluster."""

    @property
    def n_items(self) -> int: ...

    @property
    def n_pairs(self) -> int: ...


def mean_partners(cooc: PairCounts) -> float:
    """Distinct partners per item, on average (each pair counts for both its items)."""
    return 2.0 * cooc.n_pairs / max(cooc.n_items, 1)


def auto_method(text: bool, cooc: PairCounts | None = None) -> tuple[str, str]:
    """The method ``--method auto`` picks for this input, and why (measured in
    ``benchmarks/RESULTS.md``).

    >>> auto_method(True)[0]
    'svd'
    """
    if text:
        return "svd", "auto: svd for a text corpus"
    partners = mean_partners(cooc) if cooc is not None else 0.0
    if partners >= DENSE_PARTNERS:
        return "svd", (f"auto: svd, as items have {partners:.1f} distinct partners on average "
                       f"(at least {DENSE_PARTNERS:g}: dense, text-like counts)")
    return "propagate", (f"auto: propagate, as items have {partners:.1f} distinct partners on "
                         f"average (below {DENSE_PARTNERS:g}: a graph or a sparse log)")


def default_settings(text: bool, method: str = "auto",
                     cooc: PairCounts | None = None) -> Settings:
    """The settings ``embed train`` uses when none are given (for ``method``, default auto).

    Pair files: :func:`auto_method` decides. SVD adds the context side for a graph-like pair
    file (it cancels the components of negative eigenvalues that otherwise mislead on small
    symmetric data) and leaves it out for text and text-like counts, where the item side alone
    answers analogies better (``benchmarks/RESULTS.md``).
    """
    if method == "auto":
        method = auto_method(text, cooc)[0]
    if method == "svd":
        dense = text or (cooc is not None and mean_partners(cooc) >= DENSE_PARTNERS)
        return SvdSettings(add_context=not dense)
    return SETTINGS_BY_METHOD[method]()


def choose_settings(text: bool, method: str = "auto", cooc: PairCounts | None = None,
                    **given: Any) -> Settings:
    """The settings of ``method`` (``auto``: :func:`auto_method` for ``cooc``) with the values
    ``given`` that are not None and that the method has; every other value is the library
    default.

    >>> choose_settings(False, "sgns", negative=7, seed=None).negative
    7
    >>> choose_settings(True).method, choose_settings(True, "svd", add_context=None).add_context
    ('svd', False)
    """
    if method not in METHODS:
        raise TrainingError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    base = default_settings(text, method, cooc)
    fields = type(base).model_fields
    chosen = {name: value for name, value in given.items() if value is not None}
    unused = sorted(name for name in chosen if name not in fields)
    if unused:
        options = ", ".join("--" + name.replace("_", "-") for name in unused)
        verb = "is not a setting" if len(unused) == 1 else "are not settings"
        raise TrainingError(f"{options} {verb} of --method {base.method}; leave it out or "
                            "choose the method it belongs to (see embed train --help)")
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
    settings: Settings | None = None,
    method: str = "auto",
    given: Mapping[str, Any] | None = None,
    reading: PairFileOptions | TextOptions | None = None,
    progress: Progress | None = None,
    quiet: bool = False,
    parent: int | str | None = None,
    memory_limit: int | None = None,
    index: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
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
        :class:`PropagateSettings`, :class:`SgnsSettings` or :class:`SvdSettings`; None
        chooses them once the file is read: ``method`` (``auto``: :func:`auto_method`) with
        the values in ``given`` over its defaults (:func:`choose_settings`).
    reading:
        :class:`PairFileOptions` or (text) :class:`TextOptions`; defaults when None.
    progress:
        Optional progress callback (see :data:`embedstore.progress.Progress`); ``quiet``
        drops it.
    parent:
        Warm start from this version (number or alias) of ``model``; the dimension is the
        parent's. SGNS continues from its vectors (new items start at random); the other
        methods train afresh and are rotated onto them
        (:func:`embedstore.training.fitting.align_to`).
    memory_limit:
        Bytes reading, counting and the svd method may use (None: a quarter of the
        machine's memory, for a corpus at most 1 GB); bigger pair data is aggregated out of core
        (:mod:`embedstore.engines.bounded.pair_aggregation`), a corpus's pairs are summed out of
        core
        (:mod:`embedstore.engines.bounded.text_counts`) and a PPMI matrix that would not fit is
        built and
        factorised in blocks on disk (:mod:`embedstore.engines.bounded.disk_rows`), to the same
        counts and
        vectors.
    index:
        Build the version's approximate index right after publishing it
        (:func:`embedstore.query.indexing.build_index` with its defaults).
    engine, scheduler:
        ``"local"`` trains here; ``"dask"`` reads pair data (``path``: a file, a glob or a
        directory of Parquet shards the workers can read) and factorises it with svd or
        propagate on the Dask cluster at ``scheduler`` (:func:`train_on_cluster`).

    Returns
    -------
    VersionRecord
        The metadata of the published version.
    """
    check_model_name(model)
    check_writable(store)
    if method not in METHODS:
        raise TrainingError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    check_engine(engine, scheduler, text=text, parent=parent, memory_limit=memory_limit)
    reading = reading or choose_reading(text)
    progress = None if quiet else progress
    if index:
        from ..query.indexing import check_indexing, index_new_version

        check_indexing()
    if engine == "dask":
        assert isinstance(reading, PairFileOptions) and scheduler is not None
        return train_on_cluster(str(path), scheduler=scheduler, store=store, model=model,
                                name=name, settings=settings, method=method, given=given,
                                reading=reading, progress=progress, index=index)
    path = Path(path)
    started = time.perf_counter()
    limit = memory_limit or (default_text_memory_limit() if text else default_memory_limit())
    cooc = read_source(path, reading, progress, limit)
    try:
        source = file_digest(path)
        notes = []
        if settings is None:
            settings = choose_settings(text, method, cooc, **(given or {}))  # type: ignore[arg-type]
            if method == "auto":
                notes.append(auto_method(text, cooc)[1])  # type: ignore[arg-type]
        warm = None
        if parent is not None:
            with opened(store) as handle:
                warm = WarmStart(*handle.starting_vectors(model, parent, cooc.items,
                                                          getattr(settings, "dim", None)))
        fitted = fit(cooc, settings, progress, warm, limit)
    finally:
        if isinstance(cooc, DiskCooccurrence):
            cooc.close()
    record = publish(
        store, model=model, items=cooc.items, counts=cooc.item_counts, vectors=fitted.vectors,
        name=name, source=source, reading=reading, parent=warm.parent if warm else None,
        settings=fitted.settings, epochs=fitted.epochs, epoch_losses=fitted.epoch_losses,
        duration_seconds=round(time.perf_counter() - started, 3), notes=notes + fitted.notes)
    if index:
        index_new_version(store, record, progress)
    return record


def check_engine(engine: str, scheduler: str | None, *, text: bool = False,
                 parent: int | str | None = None, memory_limit: int | None = None) -> None:
    """Refuse an engine, or options the Dask engine cannot honour, saying what to give."""
    if engine not in ENGINES:
        raise TrainingError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if (engine == "dask") != (scheduler is not None):
        raise TrainingError("--engine dask needs --scheduler tcp://HOST:8786, and --scheduler "
                            "needs --engine dask")
    if engine != "dask":
        return
    if text:
        raise TrainingError("--engine dask trains from pair data; count the corpus on the "
                            "cluster first (embed pairs CORPUS --engine dask --scheduler ADDRESS "
                            "-o counts/), then train counts/ with --engine dask")
    if parent is not None or memory_limit is not None:
        option = "--from" if parent is not None else "--memory-limit"
        raise TrainingError(f"{option} works on this machine only; leave it out with "
                            "--engine dask, or leave --engine dask out")


def train_on_cluster(inputs: str, *, scheduler: str, store: StoreLike = None,
                     model: str = DEFAULT_MODEL, name: str | None = None,
                     settings: Settings | None = None, method: str = "auto",
                     given: Mapping[str, Any] | None = None,
                     reading: PairFileOptions | None = None, progress: Progress | None = None,
                     index: bool = False) -> VersionRecord:
    """Train a new version of ``model`` from pair data on the Dask cluster at ``scheduler``
    and publish it in ``store``: the workers hold the sparse matrices, this machine the
    vocabulary and the vectors (:mod:`embedstore.engines.cluster.matrix`). svd and propagate
    only; the same vectors as :func:`train_file` here for the same data and seed, within
    float tolerance."""
    from ..engines.cluster.matrix import cluster_matrix, fit_on_cluster, input_digest

    check_model_name(model)
    check_writable(store)
    if index:
        from ..query.indexing import check_indexing, index_new_version

        check_indexing()
    reading = reading or PairFileOptions()
    started = time.perf_counter()
    source = input_digest(inputs)
    notes = []
    with cluster_matrix(inputs, scheduler=scheduler, reading=reading,
                        progress=progress) as matrix:
        counts = matrix.summary
        if settings is None:
            settings = choose_settings(False, method, counts, **(given or {}))
            if method == "auto":
                notes.append(auto_method(False, counts)[1])
        fitted = fit_on_cluster(matrix, settings, progress)
    record = publish(
        store, model=model, items=counts.items, counts=counts.item_counts,
        vectors=fitted.vectors, name=name, source=source, reading=reading,
        settings=fitted.settings, duration_seconds=round(time.perf_counter() - started, 3),
        notes=[*notes, *fitted.notes])
    if index:
        index_new_version(store, record, progress)
    return record
