"""The points of a map as plain data: which items, where in 2-D, and in which group.

This is what ``embed plot`` draws and what a web page can fetch as JSON
(:meth:`ItemMap.to_json`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, QueryError
from ..names import normalize_item
from ..query.embeddings import Embeddings, open_embeddings
from ..store import StoreLike
from .groups import cluster_count, find_clusters, read_labels
from .projection import METHODS, project

DEFAULT_ITEMS = 500
DEFAULT_K = 50
MOST_ITEMS = 10_000
"""Most items one map shows: the projection, clustering and labels stay quick and readable."""


@dataclass(frozen=True)
class MapPoint:
    """One item on the map: its coordinates (in [-1, 1]) and its group (None: no label)."""

    item: str
    x: float
    y: float
    group: str | None


@dataclass(frozen=True)
class ItemMap:
    """A 2-D map of one version: the most frequent items, or one item's neighbourhood.

    ``points`` come in frequency order, or for a neighbourhood the item first and then its
    neighbours best first. ``groups`` lists the group names in legend order; ``grouping`` says
    where they came from (``labels`` or ``clusters``).
    """

    model: str
    version: int
    method: str
    seed: int
    around: str | None
    grouping: str
    groups: list[str]
    points: list[MapPoint]

    def to_json(self) -> dict[str, Any]:
        """The map as JSON-ready values (what a web page fetches)."""
        return asdict(self)


def check_settings(method: str, count: int, name: str) -> None:
    if method not in METHODS:
        raise QueryError(f"unknown projection method {method!r}; use one of {METHODS}")
    if not 1 <= count <= MOST_ITEMS:
        raise QueryError(f"{name} must be from 1 to {MOST_ITEMS}, not {count}")


def most_frequent(vectors: Embeddings, n: int) -> tuple[list[str], np.ndarray]:
    """The ``n`` most frequent items of a version and their vectors (rows are in frequency
    order, so only the first ``n`` rows of the memory-mapped matrix are read)."""
    rows = range(min(n, len(vectors)))
    return vectors.items_at(rows), vectors.row_vectors(rows)


def neighbourhood(vectors: Embeddings, item: str, k: int) -> tuple[list[str], np.ndarray]:
    """``item`` (in NFC) and its ``k`` nearest neighbours (best first, found through the
    version's searcher as every query is), with their vectors."""
    neighbors = vectors.similar(item, k=min(k, max(1, len(vectors) - 1)))
    items = [normalize_item(item), *(n.item for n in neighbors)]
    return items, vectors.row_vectors(vectors.rows(items))


def map_points(
    store: StoreLike = None, model: str = "default",
    version: int | str | None = None, *, items: int = DEFAULT_ITEMS, around: str | None = None,
    k: int = DEFAULT_K, labels: str | Path | None = None, method: str = "pca", seed: int = 0,
) -> ItemMap:
    """Project the ``items`` most frequent items of a version, or ``around`` and its ``k``
    nearest neighbours, to 2-D by ``method`` (``pca`` or ``tsne``) with ``seed``.

    Points are grouped by a ``labels`` file (``item,group`` lines; items it leaves out get
    the group None) or, without one, by clusters of the vectors (cosine k-means). The same
    version, settings and seed always give the same map. Items (``around``, the labels
    file's) are read in Unicode normal form C, as the store keeps them.

    Examples
    --------
    >>> import embedstore, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True)
    >>> near_cat = map_points(store, around="cat", k=3)
    >>> near_cat.points[0].item, sorted(point.item for point in near_cat.points[1:])
    ('cat', ['dog', 'kitten', 'puppy'])
    >>> sorted(near_cat.to_json())
    ['around', 'grouping', 'groups', 'method', 'model', 'points', 'seed', 'version']
    """
    groups_of = read_labels(labels) if labels is not None else None
    with open_embeddings(store, model, version) as vectors:
        return map_version(vectors, items=items, around=around, k=k, groups_of=groups_of,
                           labels_name=str(labels), method=method, seed=seed)


def map_version(
    vectors: Embeddings, *, items: int = DEFAULT_ITEMS, around: str | None = None,
    k: int = DEFAULT_K, groups_of: dict[str, str] | None = None, labels_name: str = "",
    method: str = "pca", seed: int = 0,
) -> ItemMap:
    """:func:`map_points` of a version already open (the server keeps its versions open);
    ``groups_of`` is a labels file as :func:`~embedstore.plot.groups.read_labels` reads it
    and ``labels_name`` names that file in errors."""
    check_settings(method, k if around is not None else items,
                   "k" if around is not None else "items")
    around = normalize_item(around) if around is not None else None
    if around is not None:
        names, matrix = neighbourhood(vectors, around, k)
    else:
        names, matrix = most_frequent(vectors, items)
    coordinates = project(matrix, method, seed)
    if groups_of is not None:
        point_groups: list[str | None] = [groups_of.get(name) for name in names]
        if not any(group is not None for group in point_groups):
            raise InputError(f"none of the {len(names)} items on the map is in {labels_name}; "
                             f"a labels file names items of model {vectors.model!r} "
                             f"version {vectors.version}")
    else:
        point_groups = list(find_clusters(matrix, cluster_count(len(names)), seed))
    legend = list(dict.fromkeys(group for group in point_groups if group is not None))
    return ItemMap(
        model=vectors.model, version=vectors.version, method=method, seed=seed, around=around,
        grouping="labels" if groups_of is not None else "clusters", groups=legend,
        points=[MapPoint(name, float(x), float(y), group) for name, (x, y), group
                in zip(names, coordinates, point_groups, strict=True)],
    )
