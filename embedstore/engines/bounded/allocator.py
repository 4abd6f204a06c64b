"""Freed memory goes back to the system while bounded work runs (glibc's allocator only).

glibc serves an allocation from ``mmap`` only above a threshold that it raises (up to 32 MB)
each time such a block is freed; after that, numpy's temporary arrays of a few megabytes come
from the heap, and holes left between them stay in the process's resident memory. Counting a
corpus and streaming an SVD allocate and free many such arrays, so under a memory limit they
fix the threshold at 128 KB (glibc's starting value) and trim the heap as eagerly: resident
memory then follows what is alive. Elsewhere (another C library) nothing changes.
"""

from __future__ import annotations

import functools

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 128 << 10


@functools.cache
def return_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds for this process (once); whether it took."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)
                    and libc.mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False
