"""One record per training method: everything the rest of the code knows about a method.

The CLI's ``--method`` choices, ``--method auto``, which engines may run a method, what a warm
start does, what becomes of explicit negative pairs and the version's recorded settings are
all read from :data:`METHODS`, and so is how ``embed extend`` folds new items into a
version of the method. Adding a method is one module with its fit (and fold-in) function plus
one record here. Nothing is imported until it is used, so the CLI reads the records at start-up.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..schema import Record
    from .fitted import FitFunction, FoldFunction

DEFAULT_DIM = 100
"""The vector dimension when neither ``--dim`` nor a parent version gives one."""


@dataclass(frozen=True)
class Method:
    """A training method: its name, settings record and fit function, and what it can do."""

    name: str
    settings: str
    """``module:class`` of its settings record (a :class:`~embedstore.schema.Record` with a
    ``method`` field of this name)."""
    fit: str
    """``module:function`` of its :data:`~embedstore.methods.fitted.FitFunction`, imported
    only when it trains."""
    summary: str
    continues: bool
    """Whether a warm start continues from the parent's vectors; otherwise the method trains
    afresh and its vectors are rotated onto the parent's."""
    uses_negatives: bool
    """Whether explicit negative pairs (weight 0) push items apart."""
    engines: tuple[str, ...]
    """The engines that can run it (``embed train --engine``)."""
    needs_corpus: bool = False
    """Whether it streams over a text corpus's tokens, beyond the counts (read once for
    both)."""
    fold_in: str | None = None
    """``module:function`` of its :data:`~embedstore.methods.fitted.FoldFunction`: vectors for
    new items, the parent's left as they are (``embed extend``); None: versions of the method
    cannot be extended."""
    fold_summary: str = ""
    """How it folds new items in, for notes."""

    def fit_function(self) -> FitFunction:
        module, _, name = self.fit.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def fold_in_function(self) -> FoldFunction:
        if self.fold_in is None:
            from ..errors import TrainingError

            raise TrainingError(f"versions trained with {self.name} cannot be extended; "
                                "train a new version on all the pairs instead")
        module, _, name = self.fold_in.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def settings_type(self) -> type[Record]:
        module, _, name = self.settings.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def default_settings(self, **values: Any) -> Record:
        return self.settings_type()(**values)


SCHEMA = "embedstore.schema"
METHODS: dict[str, Method] = {method.name: method for method in (
    Method("propagate", f"{SCHEMA}:PropagateSettings",
           "embedstore.methods.propagate:fit_propagate",
           "random vectors smoothed over the pair graph", continues=False,
           uses_negatives=True, engines=("local", "dask"),
           fold_in="embedstore.methods.propagate:fold_in_propagate",
           fold_summary="its step operator over the new rows, the known rows fixed"),
    Method("sgns", f"{SCHEMA}:SgnsSettings", "embedstore.methods.sgns:fit_sgns",
           "skip-gram with negative sampling over the pairs", continues=True,
           uses_negatives=True, engines=("local",),
           fold_in="embedstore.methods.sgns_fold_in:fold_in_sgns",
           fold_summary="passes over the new items' pairs, the known vectors frozen"),
    Method("svd", f"{SCHEMA}:SvdSettings", "embedstore.methods.svd:fit_svd",
           "PPMI + truncated SVD", continues=False, uses_negatives=False,
           engines=("local", "dask"),
           fold_in="embedstore.methods.svd:fold_in_svd",
           fold_summary="each new PPMI row projected onto the version's basis"),
    Method("svd+sgns", f"{SCHEMA}:SvdSgnsSettings", "embedstore.methods.svd_sgns:fit_svd_sgns",
           "PPMI + SVD, then word2vec's skip-gram over the corpus from its vectors",
           continues=False, uses_negatives=False, engines=("local",), needs_corpus=True),
)}
"""Every method, by the name ``--method`` takes."""


def method_of(settings: Record) -> Method:
    """The method a settings record belongs to.

    >>> from embedstore.schema import SvdSettings
    >>> method_of(SvdSettings()).name
    'svd'
    """
    return METHODS[settings.method]  # type: ignore[attr-defined]


def methods_using_negatives() -> str:
    """The methods that use explicit negative pairs, for messages (``propagate and sgns``)."""
    names = [name for name, method in METHODS.items() if method.uses_negatives]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
