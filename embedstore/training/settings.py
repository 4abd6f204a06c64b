"""What a run is asked to do, decided once: the method (``--method auto`` included), its
settings, and how the input is read.

The methods and what each can do come from :data:`embedstore.methods.registry.METHODS`.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import TrainingError
from ..methods.registry import METHODS
from ..schema import PairFileOptions, PropagateSettings, Record, SvdSettings, TextOptions

METHOD_CHOICES = ("auto", *METHODS)
"""``embed train --method`` choices."""
DENSE_PARTNERS = 100.0
"""``--method auto`` trains a pair file whose items have at least this many distinct partners
on average with ``svd`` (text-like counts), and a sparser one with ``propagate``."""
TREE_PARTNERS = 3.0
"""A pair file whose items have fewer distinct partners than this on average is nearly a tree
(a tree has just under 2: at most half an extra pair per item beyond a spanning tree), and
propagation weighs hubs differently there (:data:`TREE_PROPAGATION`)."""
TREE_PROPAGATION = {"degree_exponent": 0.25, "steps": 32, "average_from": 16}
"""Propagation's defaults on a tree-like graph: its hubs are the parents that make a category
(a hypernym, a folder), not hubs that pair with everything, so they are discounted less
(``degree ** -0.25`` instead of ``-0.75``), and more steps reach up a hierarchy's levels
(measured in ``benchmarks/RESULTS.md``, "Graphs of other shapes")."""


class PairCounts(Protocol):
    """What choosing a method needs to know of the counts (any engine's
    :class:`~embedstore.engines.Counts`)."""

    @property
    def n_items(self) -> int: ...

    @property
    def n_pairs(self) -> int: ...


def mean_partners(counts: PairCounts) -> float:
    """Distinct partners per item, on average (each pair counts for both its items)."""
    return 2.0 * counts.n_pairs / max(counts.n_items, 1)


def check_method(method: str) -> None:
    """Refuse a ``--method`` that does not exist, before anything is read."""
    if method not in METHOD_CHOICES:
        raise TrainingError(f"unknown method {method!r}; choose one of "
                            f"{', '.join(METHOD_CHOICES)}")


def kernel_installed() -> bool:
    """Whether the compiled skip-gram kernel can run (numba is installed; not imported)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def auto_method(text: bool, counts: PairCounts | None = None) -> tuple[str, str]:
    """The method ``--method auto`` picks for this input, and why (measured in
    ``benchmarks/RESULTS.md``).

    A corpus trains with ``svd+sgns`` (count-based vectors refined by two skip-gram epochs)
    when the compiled kernel is installed (the ``kernel`` extra), else with ``svd``.

    >>> auto_method(True)[0] in ("svd+sgns", "svd")
    True
    """
    if text:
        if kernel_installed():
            return "svd+sgns", ("auto: svd+sgns for a text corpus (PPMI + SVD, then skip-gram "
                                "epochs over the text from its vectors)")
        return "svd", ("auto: svd for a text corpus; install the kernel extra (pip install "
                       "'embedstore[kernel]') to train svd+sgns, which answers analogies and "
                       "similarities better")
    partners = mean_partners(counts) if counts is not None else 0.0
    if partners >= DENSE_PARTNERS:
        return "svd", (f"auto: svd, as items have {partners:.1f} distinct partners on average "
                       f"(at least {DENSE_PARTNERS:g}: dense, text-like counts)")
    if partners < TREE_PARTNERS:
        return "propagate", (f"auto: propagate for a tree-like graph, as items have "
                             f"{partners:.1f} distinct partners on average (below "
                             f"{TREE_PARTNERS:g}: nearly a tree): degree exponent "
                             f"{TREE_PROPAGATION['degree_exponent']:g}, "
                             f"{TREE_PROPAGATION['steps']:g} steps")
    return "propagate", (f"auto: propagate, as items have {partners:.1f} distinct partners on "
                         f"average (below {DENSE_PARTNERS:g}: a graph or a sparse log)")


def default_settings(text: bool, method: str = "auto",
                     counts: PairCounts | None = None) -> Record:
    """The settings ``embed train`` uses when none are given (for ``method``, default auto).

    Pair files: :func:`auto_method` decides. SVD adds the context side for a graph-like pair
    file (it cancels the components of negative eigenvalues that otherwise mislead on small
    symmetric data) and leaves it out for text and text-like counts, where the item side alone
    answers analogies better (``benchmarks/RESULTS.md``). Propagation takes
    :data:`TREE_PROPAGATION` on a tree-like pair file (fewer than :data:`TREE_PARTNERS`
    distinct partners per item on average).
    """
    if method == "auto":
        method = auto_method(text, counts)[0]
    if method == "svd":
        dense = text or (counts is not None and mean_partners(counts) >= DENSE_PARTNERS)
        return SvdSettings(add_context=not dense)
    if method == "propagate" and counts is not None and mean_partners(counts) < TREE_PARTNERS:
        return PropagateSettings(**TREE_PROPAGATION)
    return METHODS[method].default_settings()


def choose_settings(text: bool, method: str = "auto", counts: PairCounts | None = None,
                    **given: Any) -> Record:
    """The settings of ``method`` (``auto``: :func:`auto_method` for ``counts``) with the
    values ``given`` that are not None and that the method has; every other value is the
    library default.

    >>> choose_settings(False, "sgns", negative=7, seed=None).negative
    7
    >>> choose_settings(True, "svd", add_context=None).add_context
    False
    """
    check_method(method)
    base = default_settings(text, method, counts)
    fields = type(base).model_fields
    chosen = {name: value for name, value in given.items() if value is not None}
    unused = sorted(name for name in chosen if name not in fields)
    if unused:
        options = ", ".join("--" + name.replace("_", "-") for name in unused)
        verb = "is not a setting" if len(unused) == 1 else "are not settings"
        raise TrainingError(f"{options} {verb} of --method {base.method}; leave it out or "  # type: ignore[attr-defined]
                            "choose the method it belongs to (see embed train --help)")
    return type(base).model_validate({**base.model_dump(), **chosen})


def text_reading(*, min_count: float | None = None, window: int | None = None,
                 sample: float | None = None, seed: int | None = None) -> TextOptions:
    """:class:`TextOptions` with the values given (not None) over the library defaults."""
    given = {"min_count": None if min_count is None else int(min_count), "window": window,
             "sample": sample, "seed": seed}
    return TextOptions(**{name: value for name, value in given.items() if value is not None})


def choose_reading(text: bool, *, min_count: float | None = None, header: bool | None = None,
                   window: int | None = None, sample: float | None = None,
                   seed: int | None = None) -> PairFileOptions | TextOptions:
    """How to read the file: :func:`text_reading` for a corpus, else :class:`PairFileOptions`,
    with the values given (not None) over the library defaults."""
    if text:
        return text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
    given = {"min_count": min_count, "header": header}
    return PairFileOptions(**{name: value for name, value in given.items() if value is not None})
