"""The bounded engine's counts: in memory while they fit the memory limit, on disk otherwise.

A corpus whose pairs outgrew the limit arrives here on disk (a
:class:`~embedstore.engines.bounded.text_counts.DiskCooccurrence`); pair data aggregated out
of core arrives in memory (only its distinct pairs come back). The PPMI matrix is built in
memory when it fits (:func:`~embedstore.engines.bounded.budget.ppmi_fits`) and as row blocks
on disk otherwise, the counts moved to disk first if need be: the same vectors either way.
The SVD's dense matrices stay in memory when they fit
(:func:`~embedstore.engines.bounded.budget.dense_fits`), and go to disk in row blocks otherwise
(:class:`~embedstore.engines.bounded.dense_rows.DiskMatrices`; a note says so, as the vectors
may then differ in the last bits). Propagation and sgns take the pairs into memory, saying so
in the version's notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from ...counting.cooccurrence import Cooccurrence
from ...counting.token_ids import TextCorpus
from ...methods.dense import IN_MEMORY, DenseMatrices
from ...methods.svd import sketch_width
from ...progress import Progress
from ...schema import PropagateSettings, SvdSettings
from ..memory import MemoryCounts, RowBlocks
from .allocator import return_freed_memory
from .budget import dense_block_rows, dense_fits, ppmi_fits
from .dense_rows import DiskMatrices
from .disk_rows import DiskRows, disk_ppmi
from .text_counts import DiskCooccurrence, spill_cooccurrence


@dataclass
class BoundedCounts:
    """Counts within ``memory_limit`` bytes, seen through the engine seam
    (:class:`embedstore.engines.Counts`). Close it (or use ``with``) to remove its files."""

    counted: Cooccurrence | DiskCooccurrence
    memory_limit: int
    progress: Progress | None = None
    text_corpus: TextCorpus | None = None
    notes: list[str] = field(default_factory=list)
    _files: ExitStack = field(default_factory=ExitStack)

    def __post_init__(self) -> None:
        if isinstance(self.counted, DiskCooccurrence):
            self._files.enter_context(self.counted)

    @property
    def items(self) -> list[str]:
        return self.counted.items

    @property
    def item_counts(self) -> np.ndarray:
        return self.counted.item_counts

    @property
    def n_items(self) -> int:
        return self.counted.n_items

    @property
    def n_pairs(self) -> int:
        return self.counted.n_pairs

    @property
    def n_negative_pairs(self) -> int:
        return self.counted.n_negative_pairs

    def ppmi_products(self, settings: SvdSettings) -> tuple[RowBlocks | DiskRows, ...]:
        counted = self.counted
        if isinstance(counted, Cooccurrence):
            if ppmi_fits(counted.n_pairs, self.memory_limit):
                return MemoryCounts(counted).ppmi_products(settings)
            counted = self._files.enter_context(
                spill_cooccurrence(counted, self.memory_limit, self.progress))
        return_freed_memory()
        forward, backward = disk_ppmi(counted, settings, self.memory_limit, self.progress)
        if forward.indptr[-1] == 0:
            from ...methods.ppmi import no_positive_pmi

            raise no_positive_pmi()
        return forward, backward

    def svd_matrices(self, settings: SvdSettings) -> DenseMatrices:
        columns = sketch_width(self.n_items, settings)
        if dense_fits(self.n_items, columns, self.memory_limit):
            return IN_MEMORY
        self.notes.append(f"svd kept its {self.n_items} x {columns} dense matrices on disk in "
                          "row blocks, as they would not fit the memory limit; the vectors "
                          "may differ from an in-memory run's in the last bits")
        return_freed_memory()
        return self._files.enter_context(
            DiskMatrices(dense_block_rows(columns, self.memory_limit)))

    def pair_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if isinstance(self.counted, DiskCooccurrence):
            return self.counted.chunks()
        return MemoryCounts(self.counted).pair_chunks()

    def step_product(self, settings: PropagateSettings) -> RowBlocks:
        return MemoryCounts(self._in_memory(settings.method)).step_product(settings)

    def pairs(self) -> Cooccurrence:
        return self._in_memory("sgns")

    def corpus(self) -> TextCorpus | None:
        corpus, self.text_corpus = self.text_corpus, None  # not held past the fit
        return corpus

    def _in_memory(self, method: str) -> Cooccurrence:
        if isinstance(self.counted, DiskCooccurrence):
            self.notes.append(f"{method} trains in memory: the {self.counted.n_pairs} counted "
                              "pairs were over the memory limit and were loaded back (only svd "
                              "streams them)")
            loaded = self.counted.load()
            self.counted.close()
            self.counted = loaded
        return self.counted

    def close(self) -> None:
        self._files.close()

    def __enter__(self) -> BoundedCounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
