"""Training as one way down: read -> count -> fit -> publish.

:func:`train_file` makes every decision first (:func:`plan_training`: the model name, the
store's writability, the method, the engine and its memory limit, the index), before anything
is read or any cluster is contacted; then the engine reads the input into counts
(:func:`embedstore.training.sources.open_counts`), the method fits them
(:func:`embedstore.training.fitting.fit`) and the vectors become a version
(:func:`embedstore.training.publish.publish`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..counting.kept import write_kept_arrays, write_kept_counts
from ..engines import Counts, EngineChoice, choose_engine
from ..errors import TrainingError
from ..methods.fitted import WarmStart
from ..methods.registry import METHODS
from ..names import check_model_name
from ..progress import Progress
from ..schema import PairFileOptions, Record, SubwordSettings, TextOptions, VersionRecord
from ..store import StoreLike, check_writable, opened
from ..subwords.fitting import keep_subwords
from .fitting import fit
from .publish import DEFAULT_MODEL, publish, source_digest
from .settings import auto_method, check_method, choose_reading, choose_settings
from .sources import open_counts


@dataclass(frozen=True)
class TrainingPlan:
    """Everything decided about a run before its input is read."""

    path: str
    text: bool
    reading: PairFileOptions | TextOptions
    engine: EngineChoice
    method: str = "auto"
    settings: Record | None = None
    given: Mapping[str, Any] = field(default_factory=dict)

    def settings_for(self, counts: Counts) -> tuple[Record, list[str]]:
        """The settings to train with, now that the counts are known (``--method auto``
        looks at them), and the note saying why auto chose its method."""
        if self.settings is not None:
            return self.settings, []
        settings = choose_settings(self.text, self.method, counts, **self.given)
        if isinstance(self.reading, TextOptions) and "window" in type(settings).model_fields:
            settings = settings.model_copy(update={"window": self.reading.window,
                                                   "sample": self.reading.sample})
        notes = [auto_method(self.text, counts)[1]] if self.method == "auto" else []
        return settings, notes

    @property
    def keeps_corpus(self) -> bool:
        """Whether the method streams over the corpus's tokens, so the read keeps them."""
        if not self.text:
            return False
        name = (self.settings.method if self.settings is not None  # type: ignore[attr-defined]
                else auto_method(True)[0] if self.method == "auto" else self.method)
        return METHODS[name].needs_corpus


def plan_training(path: str | Path, *, text: bool = False, store: StoreLike = None,
                  model: str = DEFAULT_MODEL, settings: Record | None = None,
                  method: str = "auto", given: Mapping[str, Any] | None = None,
                  reading: PairFileOptions | TextOptions | None = None,
                  parent: int | str | None = None, memory_limit: int | None = None,
                  index: bool = False, engine: str = "local",
                  scheduler: str | None = None) -> TrainingPlan:
    """Check everything a run is asked to do and decide what can be decided before reading:
    the one place the method, the engine and the memory limit are chosen."""
    check_model_name(model)
    check_writable(store)
    check_method(method)
    asked = settings.method if settings is not None else method  # type: ignore[attr-defined]
    if asked in METHODS and METHODS[asked].needs_corpus and not text:
        raise TrainingError(f"--method {asked} trains from a text corpus (--text); for pair "
                            "files choose svd or sgns")
    choice = choose_engine(engine, scheduler, memory_limit=memory_limit, text=text,
                           parent=parent, method=asked)
    if index:
        from ..query.indexing import check_indexing

        check_indexing()
    return TrainingPlan(str(path), text, reading or choose_reading(text), choice, method,
                        settings, {k: v for k, v in (given or {}).items() if v is not None})


def train_pairs(path: str | Path, **options: Any) -> VersionRecord:
    """Train from a pair file; the options are those of :func:`train_file`."""
    return train_file(path, text=False, **options)


def train_file(path: str | Path, *, store: StoreLike = None, model: str = DEFAULT_MODEL,
               name: str | None = None, progress: Progress | None = None,
               quiet: bool = False, parent: int | str | None = None, index: bool = False,
               subwords: bool = False, subword_buckets: int | None = None,
               **choices: Any) -> VersionRecord:
    """Train a new version of ``model`` from a pair file or a text corpus, publish it in
    ``store``, and return its metadata.

    Nothing in the store changes unless the whole run succeeds: the input is read and the
    vectors trained before the store is opened for writing.

    Parameters
    ----------
    path:
        Pair file (``item_a,item_b[,weight]``, CSV or TSV, optionally gzipped), Parquet pair
        data, or with ``text=True`` a corpus (one sentence or paragraph per line); with
        ``engine="dask"`` also a glob or a directory of shards the workers can read.
    store:
        Store path, open :class:`~embedstore.store.Store`, or None for the default store.
    model, name:
        The model to add a version to, and an optional free-text name for the version.
    progress, quiet:
        Optional progress callback (:data:`embedstore.progress.Progress`); ``quiet`` drops
        it.
    parent:
        Warm start from this version (number or alias) of ``model``; the dimension is the
        parent's. A method that continues (sgns) starts from its vectors; the others train
        afresh and are rotated onto them (:func:`embedstore.training.fitting.align_to`).
    index:
        Build the version's approximate index right after publishing it.
    subwords, subword_buckets:
        Also fit vectors of hashed character n-grams to the trained vectors
        (:mod:`embedstore.subwords`; ``subword_buckets`` buckets, default
        :data:`~embedstore.subwords.fitting.DEFAULT_BUCKETS`) and keep them with the version,
        so that its queries answer items it has not seen from their spelling.
    choices:
        ``text``, ``settings`` (a settings record; None: ``method``, default ``auto``, with
        the values in ``given`` over its defaults), ``reading`` (:class:`PairFileOptions` or
        :class:`TextOptions`), ``memory_limit`` (bytes; None: the default of
        :func:`embedstore.engines.bounded.budget.resolve_memory_limit`), ``engine``
        (``local`` or ``dask``) and ``scheduler``: see :func:`plan_training`.
    """
    plan = plan_training(path, store=store, model=model, parent=parent, index=index,
                         **choices)
    subword = check_subwords(subwords, subword_buckets)
    progress = None if quiet else progress
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="embedstore-", ignore_cleanup_errors=True) as scratch, \
            open_counts(plan.path, plan.reading, plan.engine, progress,
                        keep_corpus=plan.keeps_corpus) as counts:
        source = source_digest(plan.path)
        kept = keep_counts(counts, Path(scratch))
        settings, notes = plan.settings_for(counts)
        warm = warm_start(store, model, parent, counts, settings)
        fitted = fit(counts, settings, progress, warm)
        kept |= write_kept_arrays(fitted.kept, Path(scratch))
        if subword is not None:
            files, note = keep_subwords(subword, counts.items, fitted.vectors,
                                        counts.item_counts, Path(scratch), progress)
            kept |= files
            notes.append(note)
        record = publish(
            store, model=model, items=counts.items, counts=counts.item_counts,
            vectors=fitted.vectors, kept=kept, name=name, source=source, reading=plan.reading,
            parent=warm.parent if warm else None, settings=fitted.settings,
            epochs=fitted.epochs, epoch_losses=fitted.epoch_losses, subwords=subword,
            duration_seconds=round(time.perf_counter() - started, 3),
            notes=notes + fitted.notes)
    if index:
        from ..query.indexing import index_new_version

        index_new_version(store, record, progress)
    return record


def check_subwords(subwords: bool, buckets: int | None) -> SubwordSettings | None:
    """The subword settings a run asks for (None: it keeps no subword vectors), checked
    before anything is read."""
    if not subwords:
        if buckets is not None:
            raise TrainingError("--subword-buckets sets the buckets of --subwords; add "
                                "--subwords or leave it out")
        return None
    from ..subwords.fitting import subword_settings

    return subword_settings(buckets)


def keep_counts(counts: Counts, directory: Path) -> dict[str, Path]:
    """The counts' pairs written to ``directory`` for the version to keep
    (:mod:`embedstore.counting.kept`); nothing when they never came here (a cluster)."""
    chunks = counts.pair_chunks()
    if chunks is None:
        return {}
    return write_kept_counts(chunks, counts.n_pairs + counts.n_negative_pairs, directory)


def warm_start(store: StoreLike, model: str, parent: int | str | None, counts: Counts,
               settings: Record) -> WarmStart | None:
    """The parent version's vectors for the items of ``counts`` (None without a parent)."""
    if parent is None:
        return None
    with opened(store) as handle:
        return WarmStart(*handle.starting_vectors(model, parent, counts.items,
                                                  getattr(settings, "dim", None)))
