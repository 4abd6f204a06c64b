"""Query one stored version: the Python API that the CLI uses too."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import QueryError, UnknownItemError
from .query import ANALOGY_METHODS, analogy_scores, inverse, ranking_scores, top_k_rows
from .store import Store, VersionInfo

if TYPE_CHECKING:
    from .batch import BatchResult

DEFAULT_MODEL = "default"
SCORE_BUDGET = 1 << 22
"""Most similarity scores held at once (16 MiB of float32, small enough to stay in cache)."""
QUERY_TILE = 64
"""Targets scored together by one matrix product (measured best in benchmarks/)."""


@dataclass(frozen=True)
class Neighbor:
    """One result of a query: an item and its score (cosine, or 3CosMul's ratio)."""

    item: str
    score: float


class Embeddings:
    """The vectors of one version of one model, memory-mapped, ready for queries.

    Obtain one with :func:`embedstore.open`; close it with :meth:`close` or a ``with`` block.
    Opening costs the same for any vocabulary size: vectors and norms are memory-mapped and
    items are looked up through the store's index only when a query names them. It keeps a
    read snapshot of the store: a version removed after it was opened still answers, in full,
    until it is closed.

    Examples
    --------
    >>> import embedstore, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True)
    >>> with embedstore.open(store) as vectors:
    ...     print(sorted(n.item for n in vectors.similar("cat", k=3)))
    ...     print(vectors.analogy("king", "man", "woman", k=1)[0].item)
    ...     print(round(vectors.similarity("cat", "cat"), 3), vectors.vector("cat").shape)
    ...     print([r.results[0].item for r in vectors.batch([
    ...         {"op": "similar", "item": "car", "k": 1},
    ...         {"op": "analogy", "a": "king", "b": "man", "c": "woman"}])])
    ['dog', 'kitten', 'puppy']
    queen
    1.0 (100,)
    ['truck', 'queen']
    """

    def __init__(self, store: Store, info: VersionInfo, vectors: np.ndarray, norms: np.ndarray,
                 owns_store: bool = False) -> None:
        self.store = store
        self.info = info
        self._owns_store = owns_store
        self._vectors, self._norms = vectors, norms
        self._inverse_norms: np.ndarray | None = None
        self._scratch_scores: np.ndarray | None = None

    @property
    def model(self) -> str:
        return self.info.model

    @property
    def version(self) -> int:
        return self.info.version

    def __len__(self) -> int:
        return self.info.n_items

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Embeddings:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building blocks shared with batch queries ---------------------------------------

    def rows(self, items: Sequence[str]) -> list[int]:
        """The rows of ``items``; raises :class:`UnknownItemError` for the first unknown one."""
        found = self.store.rows_of(self.info, list(dict.fromkeys(items)))
        for item in items:
            if item not in found:
                raise UnknownItemError(
                    item, self.model, self.version, self.store.close_items(self.info, item)
                )
        return [found[item] for item in items]

    def known_rows(self, items: Sequence[str]) -> dict[str, int]:
        """The rows of those of ``items`` that are in the vocabulary."""
        return self.store.rows_of(self.info, list(dict.fromkeys(items)))

    def unknown(self, item: str) -> UnknownItemError:
        return UnknownItemError(item, self.model, self.version,
                                self.store.close_items(self.info, item))

    def _scratch(self) -> np.ndarray:
        """A reusable buffer for one query's scores (saves allocating it every query)."""
        if self._scratch_scores is None:
            self._scratch_scores = np.empty(self.info.n_items, dtype=np.float32)
        return self._scratch_scores

    def _inverse(self) -> np.ndarray:
        if self._inverse_norms is None:
            self._inverse_norms = inverse(self._norms)
        return self._inverse_norms

    def candidates(self, restrict: int | None) -> tuple[np.ndarray, np.ndarray]:
        if restrict is None:
            return self._vectors, self._inverse()
        if restrict < 1:
            raise QueryError(f"restrict must be at least 1, not {restrict}")
        return self._vectors[:restrict], self._inverse()[:restrict]

    def nearest(
        self, targets: np.ndarray, k: int, exclude: Sequence[Iterable[int]],
        restrict: int | None = None,
    ) -> list[list[Neighbor]]:
        """The ``k`` rows nearest by cosine to each target vector, as neighbours.

        Work is tiled so that at most :data:`SCORE_BUDGET` scores exist at once: up to
        :data:`QUERY_TILE` targets are scored together against blocks of rows, each block's
        top ``k`` is kept and the blocks' candidates are merged. Every row of the matrix is
        read once per tile of targets, not once per target.
        """
        _check_k(k)
        vectors, inverse_norms = self.candidates(restrict)
        n = len(vectors)
        tile = min(QUERY_TILE, max(1, len(targets)))
        block = max(1, SCORE_BUDGET // tile)
        exclude = [list(rows) for rows in exclude]
        all_rows: list[np.ndarray] = []
        all_scores: list[np.ndarray] = []
        targets = np.asarray(targets, dtype=np.float32)
        target_scale = inverse(np.linalg.norm(targets, axis=1))
        for start in range(0, len(targets), tile):
            queries = targets[start : start + tile]
            excluded = exclude[start : start + tile]
            if n <= block:
                scores = ranking_scores(vectors, inverse_norms, queries,
                                        out=self._scratch() if len(queries) == 1 else None)
                rows, values = top_k_rows(scores, k, excluded)
            else:
                rows, values = _blocked_top_k(vectors, inverse_norms, queries, k, excluded, block)
            all_rows += rows
            all_scores += [v * scale for v, scale in
                           zip(values, target_scale[start : start + tile], strict=True)]
        items = self.store.items_at(self.info, np.concatenate(all_rows) if all_rows else [])
        results: list[list[Neighbor]] = []
        position = 0
        for values in all_scores:
            results.append([Neighbor(items[position + j], float(v)) for j, v in enumerate(values)])
            position += len(values)
        return results

    def analogy_targets(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """``unit(a) - unit(b) + unit(c)`` for each (a, b, c) row triple (3CosAdd targets)."""
        triples = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        picked = np.asarray(self._vectors[triples.ravel()], dtype=np.float32)
        picked = picked * inverse(np.linalg.norm(picked, axis=1))[:, None]
        picked = picked.reshape(len(triples), 3, -1)
        return picked[:, 0] - picked[:, 1] + picked[:, 2]

    def row_vectors(self, rows: Sequence[int]) -> np.ndarray:
        return np.asarray(self._vectors[list(rows)], dtype=np.float32)

    # -- single queries -------------------------------------------------------------------

    def vector(self, item: str) -> np.ndarray:
        """A read-only copy of the stored vector of ``item``."""
        (row,) = self.rows([item])
        vector = np.array(self._vectors[row])
        vector.flags.writeable = False
        return vector

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two items (0 when either vector is all zeros)."""
        row_a, row_b = self.rows([a, b])
        return cosine_of(self._vectors[row_a], self._vectors[row_b])

    def similar(self, *items: str, k: int = 10, restrict: int | None = None,
                minus: Sequence[str] = ()) -> list[Neighbor]:
        """The ``k`` items most cosine-similar to ``items``, best first, inputs left out.

        With one item, its nearest neighbours. With several items, or items to avoid in
        ``minus``, the query is the mean of the items' unit vectors minus those of ``minus``,
        as gensim's ``most_similar(positive=items, negative=minus)`` computes it (a basket
        asking for recommendations). ``restrict`` limits candidates to the ``restrict`` most
        frequent items.

        >>> import embedstore, tempfile
        >>> store = tempfile.mkdtemp()
        >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True)
        >>> with embedstore.open(store) as vectors:
        ...     [n.item for n in vectors.similar("king", "woman", minus=["man"], k=1)]
        ['queen']
        """
        _check_k(k)
        if not items:
            raise QueryError("similar needs at least one item")
        if isinstance(minus, str):
            raise QueryError(f"minus takes a list of items, not a string: minus=[{minus!r}]")
        rows = self.rows([*items, *minus])
        return self.nearest(self.similar_targets([rows[: len(items)]], [rows[len(items):]]),
                            k, [rows], restrict)[0]

    def similar_targets(self, positive: Sequence[Sequence[int]],
                        negative: Sequence[Sequence[int]]) -> np.ndarray:
        """The query vector of each (positive rows, negative rows) pair, one per row.

        A single positive row and no negative is that row's vector; otherwise the sum of the
        rows' unit vectors, negatives subtracted (the direction of gensim's mean).
        """
        targets = np.empty((len(positive), self.info.dim), dtype=np.float32)
        for i, (plus, less) in enumerate(zip(positive, negative, strict=True)):
            if len(plus) == 1 and not less:
                targets[i] = self._vectors[plus[0]]
                continue
            picked = self.row_vectors([*plus, *less])
            picked *= inverse(np.linalg.norm(picked, axis=1))[:, None]
            targets[i] = picked[: len(plus)].sum(axis=0) - picked[len(plus):].sum(axis=0)
        return targets

    def analogy(
        self, a: str, b: str, c: str, k: int = 10, method: str = "add",
        restrict: int | None = None,
    ) -> list[Neighbor]:
        """Items nearest to ``a - b + c`` (``king - man + woman``), leaving out a, b and c.

        ``method`` is ``"add"`` (3CosAdd, the default) or ``"mul"`` (3CosMul).
        """
        _check_k(k)
        if method not in ANALOGY_METHODS:
            raise QueryError(f"unknown analogy method {method!r}; use one of {ANALOGY_METHODS}")
        rows = self.rows([a, b, c])
        if method == "add":
            return self.nearest(self.analogy_targets([rows]), k, [rows], restrict)[0]
        vectors, inverse_norms = self.candidates(restrict)
        a_vector, b_vector, c_vector = self.row_vectors(rows)
        scores = analogy_scores(vectors, inverse_norms, a_vector, b_vector, c_vector, method)
        top_rows, values = top_k_rows(scores[None, :], k, [rows])
        items = self.store.items_at(self.info, top_rows[0])
        return [Neighbor(item, float(v)) for item, v in zip(items, values[0], strict=True)]

    def batch(
        self, queries: Iterable[dict[str, Any] | str | bytes], restrict: int | None = None
    ) -> Iterator[BatchResult]:
        """Answer many queries; see :func:`embedstore.batch.run_batch` for their form.

        Queries default to this model and version; a query may name another ``model`` or
        ``version`` of the same store. Results come in input order, one per query.
        """
        from .batch import run_batch

        return run_batch(self.store, queries, model=self.model, version=self.version,
                         restrict=restrict, opened={(self.model, self.version): self})


def _blocked_top_k(
    vectors: np.ndarray, inverse_norms: np.ndarray, queries: np.ndarray, k: int,
    exclude: list[list[int]], block: int,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Top ``k`` per query over row blocks of ``block`` rows, merged (ties to the lower row)."""
    candidate_rows: list[list[np.ndarray]] = [[] for _ in queries]
    candidate_values: list[list[np.ndarray]] = [[] for _ in queries]
    for first in range(0, len(vectors), block):
        last = min(first + block, len(vectors))
        local = [[row - first for row in rows if first <= row < last] for rows in exclude]
        scores = ranking_scores(vectors[first:last], inverse_norms[first:last], queries)
        rows, values = top_k_rows(scores, k, local)
        for i in range(len(queries)):
            candidate_rows[i].append(rows[i] + first)
            candidate_values[i].append(values[i])
    merged_rows, merged_values = [], []
    for rows_parts, value_parts in zip(candidate_rows, candidate_values, strict=True):
        rows, values = np.concatenate(rows_parts), np.concatenate(value_parts)
        order = np.lexsort((rows, -values))[:k]
        merged_rows.append(rows[order])
        merged_values.append(values[order])
    return merged_rows, merged_values


def cosine_of(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm > 0 else 0.0


def _check_k(k: int) -> None:
    if k < 1:
        raise QueryError(f"k must be at least 1, not {k}")


def open_embeddings(
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    version: int | str | None = None,
) -> Embeddings:
    """Open ``version`` (a number or an alias; default: the latest) of ``model`` for queries.

    ``store`` is a path, an open :class:`Store`, or None for the default store
    (``$EMBED_STORE``, else ``~/.local/share/embedstore``).
    """
    if isinstance(store, Store):
        return Embeddings(store, *store.open_version(model, version))
    opened = Store.open(store)
    try:
        return Embeddings(opened, *opened.open_version(model, version), owns_store=True)
    except BaseException:
        opened.close()
        raise

