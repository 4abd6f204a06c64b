"""What colours a map: the groups of a labels file, or clusters found in the vectors."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry import unit_rows
from ..names import normalize_item

FEWEST_CLUSTERS = 2
MOST_CLUSTERS = 10
KMEANS_ROUNDS = 50
RESTARTS = 8
RESTART_BUDGET = 4_000_000
"""Starts are cut so that starts x rows x dimensions stays within this (at least one)."""
LABEL_HEADERS = (("item", "group"), ("item", "label"))


def read_labels(path: str | Path) -> dict[str, str]:
    """The ``item,group`` lines of a labels file (CSV or TSV, optional ``item,group`` header),
    items in Unicode normal form C as the store keeps them.

    Raises :class:`InputError` naming the file and line for a wrong column count, an empty
    item or group, an item given two different groups, or bytes that are not UTF-8.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read labels file {path}: {error.strerror or error}; "
                         "check the path") from None
    lines = raw.split(b"\n")
    text_lines: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            text_lines.append(line.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{path}, line {number}: bytes that are not UTF-8; save the "
                             "labels file as UTF-8") from None
    first = next((line for line in text_lines if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    groups: dict[str, str] = {}
    seen_at: dict[str, int] = {}
    for number, text_line in enumerate(text_lines, start=1):
        if not text_line.strip():
            continue
        fields = [field.strip() for field in
                  next(csv.reader(io.StringIO(text_line), delimiter=delimiter))]
        if number == 1 and tuple(f.lower() for f in fields) in LABEL_HEADERS:
            continue
        if len(fields) != 2:
            raise InputError(f"{path}, line {number}: expected 2 columns (item,group), found "
                             f"{len(fields)}")
        item, group = normalize_item(fields[0]), fields[1]
        if not item or not group:
            raise InputError(f"{path}, line {number}: empty {'item' if not item else 'group'}; "
                             "every line needs item,group")
        if item in groups and groups[item] != group:
            raise InputError(f"{path}, line {number}: {item!r} is in group {group!r} here but "
                             f"in {groups[item]!r} on line {seen_at[item]}; give each item one "
                             "group")
        groups[item] = group
        seen_at.setdefault(item, number)
    if not groups:
        raise InputError(f"{path} holds no item,group lines; write one item and its group "
                         "per line")
    return groups


def cluster_count(n_items: int) -> int:
    """How many clusters to colour ``n_items`` by: about sqrt(n / 3), from 2 to 10."""
    return max(FEWEST_CLUSTERS, min(MOST_CLUSTERS, round(math.sqrt(n_items / 3))))


def find_clusters(vectors: np.ndarray, n_clusters: int, seed: int) -> list[str]:
    """Spherical k-means (cosine) with k-means++ starts; one name per row.

    Several starts drawn from ``seed`` are run (fewer for large inputs, see
    :data:`RESTART_BUDGET`) and the one whose rows lie closest to their centres is kept.
    Clusters are named ``cluster 1``, ``cluster 2``, ... in the order their first row
    appears, so the same vectors and seed always give the same names.

    >>> rows = np.array([[1.0, 0.1], [1.0, 0.0], [0.0, 1.0], [0.1, 1.0]])
    >>> find_clusters(rows, 2, seed=0)
    ['cluster 1', 'cluster 1', 'cluster 2', 'cluster 2']
    """
    unit = unit_rows(np.asarray(vectors, dtype=np.float64))
    if len(unit) == 0:
        return []
    n_clusters = max(1, min(n_clusters, len(unit)))
    rng = np.random.default_rng(seed)
    restarts = max(1, min(RESTARTS, RESTART_BUDGET // unit.size))
    best_fit, assigned = -np.inf, np.zeros(len(unit), dtype=np.int64)
    for _ in range(restarts):
        fit, candidate = _spherical_kmeans(unit, n_clusters, rng)
        if fit > best_fit + 1e-9:
            best_fit, assigned = fit, candidate
    names: dict[int, str] = {}
    for cluster in assigned:
        names.setdefault(int(cluster), f"cluster {len(names) + 1}")
    return [names[int(cluster)] for cluster in assigned]


def _spherical_kmeans(unit: np.ndarray, n_clusters: int, rng: np.random.Generator
                      ) -> tuple[float, np.ndarray]:
    """One run from k-means++ starts: the summed cosine of rows to their centres, and the
    cluster of every row."""
    n = len(unit)
    centres = [unit[rng.integers(n)]]
    for _ in range(1, n_clusters):
        distance = np.min(1 - unit @ np.array(centres).T, axis=1).clip(min=0)
        total = distance.sum()
        pick = rng.choice(n, p=distance / total) if total > 0 else rng.integers(n)
        centres.append(unit[pick])
    centre_matrix = np.array(centres)
    assigned = np.full(n, -1)
    for _ in range(KMEANS_ROUNDS):
        new_assigned = np.argmax(unit @ centre_matrix.T, axis=1)
        if np.array_equal(new_assigned, assigned):
            break
        assigned = new_assigned
        for cluster in range(len(centre_matrix)):
            members = unit[assigned == cluster]
            if len(members):
                mean = members.sum(axis=0)
                norm = np.linalg.norm(mean)
                centre_matrix[cluster] = mean / norm if norm > 0 else mean
    fit = float(np.sum(unit * centre_matrix[assigned]))
    return fit, assigned
