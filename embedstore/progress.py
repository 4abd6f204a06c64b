"""The one progress callback type every long-running stage reports through."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int, "float | None"], None]
"""Called as ``progress(stage, done, total, loss)``.

Stages and their units: ``reading`` (bytes of a pair file), ``vocabulary`` and ``counting``
(bytes of a text corpus, first and second pass), ``spilling`` (pair keys of a corpus spilled
to DuckDB so far; total 0: open-ended), ``aggregating`` (steps of the out-of-core
aggregation of :mod:`embedstore.engines.bounded.pair_aggregation` and
:mod:`embedstore.engines.bounded.spilled_counts`), ``ppmi`` (count
matrix entries turned into PPMI blocks on disk), ``svd pass N`` (row blocks of the Nth
product of a streamed SVD), ``cluster`` (steps of counting on a Dask cluster,
:mod:`embedstore.engines.cluster.dask_io`), ``training`` (per-mille of an SGNS run, with its
running loss), ``svd`` (power iterations done), ``propagating`` (steps done), ``indexing``
(rows added to an approximate index), ``subwords`` (0 then 1 of 1: the n-gram vectors fitted
after the method, :mod:`embedstore.subwords.fitting`). ``loss`` is None except for ``training``.
"""
