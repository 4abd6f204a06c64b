"""The memory budget: what ``--memory-limit`` means, its default, and which data stays in memory.

Every decision that depends on the limit is made here from sizes alone, so each engine and
stage asks the same question the same way: the default limit (:func:`resolve_memory_limit`,
the one place it is chosen), whether pair data is aggregated out of core
(:func:`needs_spill`), whether a PPMI matrix is built in memory (:func:`ppmi_fits`), and whether
the SVD's dense matrices stay in memory (:func:`dense_fits`) or go to disk in row blocks
(:func:`dense_block_rows`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import InputError
from ...inputs.textio import GZIP_MAGIC

MIN_MEMORY_LIMIT = 16 * 10**6
"""DuckDB needs some memory to work in; smaller limits are refused."""
DEFAULT_MEMORY_SHARE = 0.25
"""The default ``--memory-limit`` is this share of the machine's physical memory."""
SPILL_SHARE = 0.5
"""Pair data is aggregated out of core when its estimated size in memory (its size on disk;
four times that when compressed: gzip or Parquet) is over this share of the limit."""
COMPRESSION_FACTOR = 4
UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
TEXT_LIMIT_CAP = 1_000_000_000
"""Without ``--memory-limit``, a corpus is counted and trained within the usual default
(:func:`default_memory_limit`) but at most this."""
PPMI_BYTES_PER_PAIR = 160
"""Peak bytes per distinct pair of building the PPMI matrix and its transpose in memory (the
pairs in both directions, their PMI values, scipy's conversions; measured on the benchmark
corpus: 1.75 GB for 11.2M pairs)."""


DENSE_BYTES_PER_ENTRY = 24
"""Peak bytes per item and column of the randomised SVD's dense ``items x (dim + oversample)``
matrices in memory (the float64 basis, its float32 copy and products, the factors U and V;
measured: 22.7 without context vectors, 23.3 with)."""
DENSE_SHARE = 0.5
"""The SVD's dense matrices stay in memory when they take at most this share of the limit (as
the PPMI matrix does); the other half leaves room for what the SVD reads beside them (the PPMI
matrix or its blocks, BLAS's buffers)."""
DENSE_BLOCK_SHARE = 1 / 64
"""A row block of the SVD's dense matrices on disk takes at most this share of the limit."""
DENSE_BLOCK_ALIGN = 64
"""Row blocks of the dense matrices hold a multiple of this many rows."""


def parse_memory_limit(text: str) -> int:
    """Bytes from ``256MB``, ``2GiB``, ``1.5GB`` or a plain number of bytes.

    >>> parse_memory_limit("256MB"), parse_memory_limit("1GiB"), parse_memory_limit("20000000")
    (256000000, 1073741824, 20000000)
    """
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in UNITS | {"": 1}:
        raise InputError(f"memory limit {text!r} is not a size; write it as 256MB, 4GB or 2GiB")
    value = int(float(match.group(1)) * UNITS.get(unit, 1))
    if value < MIN_MEMORY_LIMIT:
        raise InputError(f"memory limit {text!r} is below {MIN_MEMORY_LIMIT // 10**6}MB, "
                         "too little for DuckDB to work in; give at least 16MB")
    return value


def default_memory_limit_text() -> str:
    """The default limit as ``embed train --help`` shows it.

    >>> default_memory_limit_text()
    "25% of the machine's memory"
    """
    return f"{DEFAULT_MEMORY_SHARE:.0%} of the machine's memory"


def default_memory_limit() -> int:
    """:data:`DEFAULT_MEMORY_SHARE` of the machine's physical memory (1 GB when unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 10**9
    return max(MIN_MEMORY_LIMIT, int(total * DEFAULT_MEMORY_SHARE))


def needs_spill(path: Path, memory_limit: int) -> bool:
    """Whether pair data at ``path`` is big enough to aggregate out of core
    (:data:`SPILL_SHARE`)."""
    from ...inputs.parquet import is_parquet, shards

    if is_parquet(path):
        size = sum(shard.stat().st_size for shard in shards(path)) * COMPRESSION_FACTOR
    else:
        with path.open("rb") as handle:
            packed = handle.read(2) == GZIP_MAGIC
        size = path.stat().st_size * (COMPRESSION_FACTOR if packed else 1)
    return size > memory_limit * SPILL_SHARE


def default_text_memory_limit() -> int:
    """The memory limit of counting and training a corpus when none is given."""
    return min(default_memory_limit(), TEXT_LIMIT_CAP)


def memory_limit_default_text() -> str:
    """The default ``--memory-limit`` as ``--help`` shows it.

    >>> memory_limit_default_text()
    "25% of the machine's memory; for a corpus at most 1GB"
    """
    return f"{default_memory_limit_text()}; for a corpus at most {TEXT_LIMIT_CAP / 1e9:g}GB"


def ppmi_fits(n_pairs: int, memory_limit: int) -> bool:
    """Whether building the PPMI matrix of ``n_pairs`` pairs in memory stays within half of
    ``memory_limit``."""
    return n_pairs * PPMI_BYTES_PER_PAIR <= memory_limit // 2


def dense_fits(n_items: int, columns: int, memory_limit: int) -> bool:
    """Whether the randomised SVD's ``n_items x columns`` dense matrices stay in memory: at
    :data:`DENSE_BYTES_PER_ENTRY`, within :data:`DENSE_SHARE` of ``memory_limit``.

    >>> dense_fits(69_751, 120, 10**9), dense_fits(69_751, 120, 256 * 10**6)
    (True, False)
    """
    return n_items * columns * DENSE_BYTES_PER_ENTRY <= memory_limit * DENSE_SHARE


def dense_block_rows(columns: int, memory_limit: int) -> int:
    """Rows of a block of the SVD's dense float64 matrices kept on disk: at most
    :data:`DENSE_BLOCK_SHARE` of ``memory_limit``, a multiple of :data:`DENSE_BLOCK_ALIGN`.

    >>> dense_block_rows(120, 10**9)
    16256
    """
    rows = int(memory_limit * DENSE_BLOCK_SHARE) // (8 * max(1, columns))
    return max(DENSE_BLOCK_ALIGN, rows // DENSE_BLOCK_ALIGN * DENSE_BLOCK_ALIGN)


def resolve_memory_limit(memory_limit: int | None, *, text: bool = False) -> int:
    """The memory limit a run works within: ``memory_limit`` when given, else the default
    (:func:`default_memory_limit`; for a corpus, at most :data:`TEXT_LIMIT_CAP`).

    >>> resolve_memory_limit(300_000_000)
    300000000
    >>> resolve_memory_limit(None, text=True) <= TEXT_LIMIT_CAP
    True
    """
    if memory_limit is not None:
        return memory_limit
    return default_text_memory_limit() if text else default_memory_limit()
