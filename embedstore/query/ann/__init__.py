"""Approximate nearest-neighbour search: a version's index behind the search seam.

An index is of one of two kinds, each in its own module and the only one to import its
library, and only when an index of that kind is built or opened (a version without an index
never loads either):

- ``ivf`` (:mod:`.ivf`, faiss; the default): k-means lists of half-precision unit rows. It
  opens in constant time and builds in a fraction of HNSW's time.
- ``hnsw`` (:mod:`.hnsw`, usearch): a graph over half-precision rows. Opening walks the graph,
  in time growing with the rows.

Either one only proposes candidates; :class:`IndexSearcher` (:mod:`.searcher`) rescores them
exactly and does the over-fetching both need. An index's record says its kind in its settings
(records written before there were two kinds have none, and are HNSW).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import StoreError
from .searcher import Candidates, IndexSearcher

if TYPE_CHECKING:
    from ...store import IndexRecord

__all__ = ["DEFAULT_KIND", "KINDS", "UNRECORDED_KIND", "Candidates", "IndexSearcher",
           "build_settings", "extend_index_file", "kind_module", "library_and_suffix",
           "open_index", "write_index"]

KINDS = ("ivf", "hnsw")
DEFAULT_KIND = "ivf"
UNRECORDED_KIND = "hnsw"
"""The kind of an index whose record names none (built before IVF existed)."""


def kind_module(kind: str) -> ModuleType:
    """The module building and opening indexes of ``kind`` (imported on first use)."""
    if kind == "ivf":
        from . import ivf

        return ivf
    if kind == "hnsw":
        from . import hnsw

        return hnsw
    raise StoreError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")


def build_settings(kind: str, given: dict[str, int | None], threads: int, n_items: int
                   ) -> dict[str, Any]:
    """The checked settings of an index of ``kind`` over ``n_items`` rows, ready to record.

    ``given`` maps setting names of either kind to a value, or None when left out; a setting
    of the other kind is refused, and those left out take the kind's defaults.
    """
    module = kind_module(kind)
    for name, value in given.items():
        if value is not None and name not in module.DEFAULTS:
            owner = next(k for k in KINDS if k != kind and name in kind_module(k).DEFAULTS)
            option = "--" + name.replace("_", "-")
            raise StoreError(f"{option} is a setting of --kind {owner}; leave it out, or "
                             f"build with --kind {owner}")
    if threads < 0:
        raise StoreError(f"--threads must be 0 (every core) or more, not {threads}")
    chosen = {name: default if given.get(name) is None else given[name]
              for name, default in module.DEFAULTS.items()}
    settings: dict[str, Any] = module.build_settings(chosen, threads, n_items)
    return settings


def write_index(vectors: np.ndarray, settings: dict[str, Any], path: Path,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Build the index ``settings`` describe over ``vectors`` and save it to ``path``."""
    kind_module(settings["kind"]).write_index(vectors, settings, path, progress)


def extend_index_file(source: Path, settings: dict[str, Any], rows: np.ndarray, first: int,
                      path: Path) -> None:
    """Save to ``path`` the index file ``source`` (built with ``settings``) with ``rows``
    added as rows ``first`` onwards, without building it anew."""
    kind_module(settings.get("kind", UNRECORDED_KIND)).extend_index(source, settings, rows,
                                                                     first, path)


def open_index(path: Path, record: IndexRecord, dim: int) -> Candidates:
    """Memory-map the index file of ``record``, ready to propose candidates."""
    candidates: Candidates = kind_module(record.settings.get("kind", UNRECORDED_KIND)
                                         ).open_index(path, record, dim)
    return candidates


def library_and_suffix(kind: str) -> tuple[str, str]:
    """The library reading an index of ``kind`` and its files' suffix."""
    module = kind_module(kind)
    return module.LIBRARY, module.SUFFIX
