"""The one hashing rule of subword vectors, and an item's vector from its n-grams.

An item ``where`` is written ``<where>`` (boundary markers, as fastText does) and cut into
its character n-grams of :data:`MIN_N` to :data:`MAX_N` characters (the whole ``<where>``
included when it is that short), in fastText's order: ``<wh <whe <wher <where whe wher where
where> her here here> ere ere> re>``.
Each n-gram's UTF-8 bytes are hashed with 32-bit FNV-1a, each byte sign-extended first
exactly as fastText's ``Dictionary::hash`` does (so non-ASCII n-grams land in the buckets
fastText and gensim's ``FastText`` use), and the n-gram's bucket is the hash modulo the number
of buckets. An item's vector is the mean of its n-grams' bucket vectors, an n-gram that occurs
twice counted twice (fastText's rule for a word it has not seen).

Everything here is numpy only: the query path builds a vector for an unknown item with it.

>>> ngrams("where")[:5]
['<wh', '<whe', '<wher', '<where', 'whe']
>>> fnv1a_32("<wh".encode())
1048167652
>>> bucket_ids(["where"], 2_000_000)[1][:3].tolist()
[167652, 989715, 1526707]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_N = 3
MAX_N = 6
"""Lengths of the n-grams, in characters (the markers count)."""
HASHING = "fnv1a-32"
"""The name of the hashing rule, recorded with every version that keeps subword vectors."""
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def ngrams(item: str, min_n: int = MIN_N, max_n: int = MAX_N) -> list[str]:
    """The character n-grams of ``<item>``, by where they start, then shortest first
    (fastText's order).

    >>> ngrams("cat", 3, 4)
    ['<ca', '<cat', 'cat', 'cat>', 'at>']
    """
    marked = f"<{item}>"
    return [marked[start : start + n] for start in range(len(marked))
            for n in range(min_n, min(max_n, len(marked) - start) + 1)]


def fnv1a_32(data: bytes) -> int:
    """32-bit FNV-1a of ``data``, each byte sign-extended as fastText does (``int8`` then
    ``uint32``): the same as plain FNV-1a for ASCII.

    >>> fnv1a_32(b""), fnv1a_32(b"a")
    (2166136261, 3826002220)
    """
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ (byte | 0xFFFFFF00 if byte >= 0x80 else byte)) * FNV_PRIME) \
            & 0xFFFFFFFF
    return value


def bucket_ids(items: Sequence[str], buckets: int, min_n: int = MIN_N, max_n: int = MAX_N
               ) -> tuple[np.ndarray, np.ndarray]:
    """The buckets of every item's n-grams, as CSR parts: ``starts`` (``len(items) + 1``
    offsets) and ``ids`` (``int64``), the buckets of item ``i`` being
    ``ids[starts[i]:starts[i + 1]]`` in the order of :func:`ngrams`. Vectorised over all items
    at once (what :func:`fnv1a_32` computes n-gram by n-gram).

    >>> starts, ids = bucket_ids(["ab", "é"], 10)
    >>> starts.tolist(), ids.tolist() == [fnv1a_32(g.encode()) % 10 for w in ["ab", "é"]
    ...                                   for g in ngrams(w)]
    ([0, 3, 4], True)
    """
    marked = [f"<{item}>" for item in items]
    lengths = np.fromiter((len(text) for text in marked), dtype=np.int64, count=len(marked))
    points = np.frombuffer("".join(marked).encode("utf-32-le"), dtype=np.uint32)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    table, widths = utf8_bytes(points)
    owners, starts_at, hashes = [], [], []
    for n in range(min_n, max_n + 1):
        per_item = np.maximum(lengths - n + 1, 0)
        owner = np.repeat(np.arange(len(marked)), per_item)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(per_item) - per_item, per_item)
        start = first[owner] + offset
        value = np.full(len(owner), FNV_OFFSET, dtype=np.uint32)
        for step in range(n):
            at = start + step
            for byte in range(int(widths[at].max(initial=1))):
                mixed = (value ^ table[at, byte]) * np.uint32(FNV_PRIME)
                value = np.where(widths[at] > byte, mixed, value) if byte else mixed
        owners.append(owner)
        starts_at.append(start)
        hashes.append(value)
    owner = np.concatenate(owners)
    order = np.argsort(np.concatenate(starts_at), kind="stable")  # starts grow with owners
    starts = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(marked)))])
    return starts.astype(np.int64), (np.concatenate(hashes)[order] % buckets).astype(np.int64)


def utf8_bytes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each code point's UTF-8 bytes, sign-extended to ``uint32`` as fastText hashes them
    (``points x 4``, unused places 0), and how many bytes each has."""
    points = points.astype(np.uint32)
    widths = 1 + (points >= 0x80).astype(np.int64) + (points >= 0x800) + (points >= 0x10000)
    table = np.zeros((len(points), 4), dtype=np.uint32)
    lead = {1: (0x00, 0), 2: (0xC0, 6), 3: (0xE0, 12), 4: (0xF0, 18)}
    for width, (mark, shift) in lead.items():
        rows = widths == width
        if not rows.any():
            continue
        table[rows, 0] = mark | (points[rows] >> shift)
        for byte in range(1, width):
            table[rows, byte] = 0x80 | ((points[rows] >> (6 * (width - 1 - byte))) & 0x3F)
    high = table >= 0x80
    table[high] |= np.uint32(0xFFFFFF00)
    return table, widths


def compose(items: Sequence[str], table: np.ndarray, min_n: int = MIN_N,
            max_n: int = MAX_N) -> np.ndarray:
    """The vectors of ``items`` from a bucket table (``buckets x dim``): each the mean of its
    n-grams' rows (``float32``).

    >>> table = np.arange(20, dtype=np.float32).reshape(10, 2)
    >>> starts, ids = bucket_ids(["ab"], 10)
    >>> bool((compose(["ab"], table) == table[ids].mean(axis=0)).all())
    True
    """
    starts, ids = bucket_ids(items, len(table), min_n, max_n)
    rows = np.asarray(table[ids], dtype=np.float64)
    sums = np.add.reduceat(rows, starts[:-1], axis=0) if len(ids) else \
        np.zeros((len(items), table.shape[1]))
    counts = np.diff(starts)[:, None]
    return (sums / np.maximum(counts, 1)).astype(np.float32)
