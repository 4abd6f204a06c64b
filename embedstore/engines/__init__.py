"""Where counts and matrix products come from: in memory, bounded (on disk, DuckDB) or a Dask
cluster.

This is the seam between the engines and the methods. An engine reads the input into
:class:`Counts`: the vocabulary, and the products the methods need (the PPMI matrix's for
svd, propagation's step operator's, the pairs themselves for sgns), built with the formulas
of :mod:`embedstore.methods` wherever the matrices live. Each method is written once against
this seam. The engine is chosen once, by :func:`choose_engine`, before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..errors import TrainingError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

    from ..counting.cooccurrence import Cooccurrence
    from ..counting.token_ids import TextCorpus
    from ..methods.dense import DenseMatrices
    from ..schema import PropagateSettings, SvdSettings

ENGINES = ("local", "dask")
"""``--engine`` choices: ``local`` (this machine, within ``--memory-limit``: counts and the
PPMI matrix move to disk when they would not fit) or ``dask`` (an existing Dask cluster)."""


class Product(Protocol):
    """A linear map given by its product with a dense matrix: ``product @ dense``. The
    methods see a matrix only through these, so it may live in memory, in blocks on disk or
    on a cluster."""

    shape: tuple[int, int]

    def __matmul__(self, dense: np.ndarray) -> np.ndarray: ...


class RowProduct(Product, Protocol):
    """A :class:`Product` that can also hand its result out in row blocks, top to bottom, so
    that the result need not be held whole (the bounded engine's dense matrices on disk)."""

    def row_products(self, dense: np.ndarray, max_rows: int
                     ) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, rows start:stop of self @ dense)``, at most ``max_rows`` rows each."""
        ...


class Counts(Protocol):
    """Co-occurrence counts as an engine holds them: the vocabulary in row order, and the
    products the methods ask for. ``notes`` collects what the engine had to do that the
    version should record (counts loaded back into memory, say)."""

    items: list[str]
    item_counts: np.ndarray
    notes: list[str]

    @property
    def n_items(self) -> int: ...

    @property
    def n_pairs(self) -> int: ...

    @property
    def n_negative_pairs(self) -> int: ...

    def ppmi_products(self, settings: SvdSettings) -> tuple[Product, Product]:
        """The products of the PPMI matrix and of its transpose."""
        ...

    def svd_matrices(self, settings: SvdSettings) -> DenseMatrices:
        """Where the SVD keeps its dense ``items x (dim + oversample)`` matrices: in memory,
        or (the bounded engine, when they would not fit its limit) in row blocks on disk.
        Called after :meth:`ppmi_products`."""
        ...

    def step_product(self, settings: PropagateSettings) -> Product:
        """The product of propagation's step operator."""
        ...

    def pairs(self) -> Cooccurrence:
        """The pairs in memory, for methods that visit pairs one by one."""
        ...

    def corpus(self) -> TextCorpus | None:
        """The text corpus as token ids, when the run kept it (methods that stream over the
        tokens: ``svd+sgns``); None otherwise. Handed over once: the counts drop it then,
        so that it is not held past the fit (later calls return None)."""
        ...

    def pair_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
        """Every distinct pair as ``(left, right, weight)`` chunks (explicit negative pairs
        last, with weight 0), for the version to keep; None where the pairs never come to
        this machine. Called before the products are built."""
        ...


@dataclass(frozen=True)
class EngineChoice:
    """Where a run counts and trains: ``name`` (``local`` or ``dask``), the cluster's
    ``scheduler`` address for ``dask``, and the ``memory_limit`` in bytes for ``local``."""

    name: str
    scheduler: str | None = None
    memory_limit: int | None = None


def choose_engine(engine: str, scheduler: str | None, *, memory_limit: int | None = None,
                  text: bool = False, pair_input: bool = True, parent: object = None,
                  method: str = "auto") -> EngineChoice:
    """The engine a run uses, checked against everything else asked of it before anything is
    read or any cluster is contacted; the memory limit's default is resolved here
    (:func:`embedstore.engines.bounded.budget.resolve_memory_limit`).

    ``text`` trains from a corpus; ``pair_input`` is False when ``embed pairs`` counts a
    corpus (which the cluster can do); ``method`` is the ``--method`` asked for.

    >>> choose_engine("local", None, memory_limit=300_000_000)
    EngineChoice(name='local', scheduler=None, memory_limit=300000000)
    """
    from ..methods.registry import METHODS

    if engine not in ENGINES:
        raise TrainingError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if (engine == "dask") != (scheduler is not None):
        raise TrainingError("--engine dask needs --scheduler tcp://HOST:8786, and --scheduler "
                            "needs --engine dask")
    if engine == "local":
        from .bounded.budget import resolve_memory_limit

        return EngineChoice("local", memory_limit=resolve_memory_limit(
            memory_limit, text=text or not pair_input))
    if text:
        raise TrainingError("--engine dask trains from pair data; count the corpus on the "
                            "cluster first (embed pairs CORPUS --engine dask --scheduler ADDRESS "
                            "-o counts/), then train counts/ with --engine dask")
    if parent is not None or memory_limit is not None:
        option = "--from" if parent is not None else "--memory-limit"
        raise TrainingError(f"{option} works on this machine only; leave it out with "
                            "--engine dask, or leave --engine dask out")
    if method in METHODS and "dask" not in METHODS[method].engines:
        able = sorted((name for name, known in METHODS.items() if "dask" in known.engines),
                      reverse=True)
        raise TrainingError(f"--engine dask trains with {' or '.join(able)}, not {method}; "
                            f"choose --method {able[0]}, or train here without --engine dask")
    return EngineChoice("dask", scheduler=scheduler)
