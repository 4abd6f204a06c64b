"""Query one stored version: the Python API that the CLI uses too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import QueryError, UnknownItemError
from .query import ANALOGY_METHODS, analogy_scores, cosine_scores, top_k
from .store import Store, VersionInfo

DEFAULT_MODEL = "default"


@dataclass(frozen=True)
class Neighbor:
    """One result of a query: an item and its score (cosine, or 3CosMul's ratio)."""

    item: str
    score: float


class Embeddings:
    """The vectors of one version of one model, memory-mapped, ready for queries.

    Obtain one with :func:`embedstore.open`; close it with :meth:`close` or a ``with`` block.

    Examples
    --------
    >>> import embedstore, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/animals.csv", store=store, quiet=True)
    >>> with embedstore.open(store) as vectors:
    ...     sorted(n.item for n in vectors.similar("cat", k=3))
    ['dog', 'kitten', 'puppy']
    """

    def __init__(self, store: Store, info: VersionInfo, owns_store: bool = False) -> None:
        self.store = store
        self.info = info
        self._owns_store = owns_store
        self._vectors, self._norms = store.load_vectors(info)

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

    def _rows(self, *items: str) -> list[int]:
        found = self.store.rows_of(self.info, list(items))
        for item in items:
            if item not in found:
                raise UnknownItemError(
                    item, self.model, self.version, self.store.close_items(self.info, item)
                )
        return [found[item] for item in items]

    def _candidates(self, restrict: int | None) -> tuple[np.ndarray, np.ndarray]:
        if restrict is None:
            return self._vectors, self._norms
        if restrict < 1:
            raise QueryError("restrict must be at least 1")
        return self._vectors[:restrict], self._norms[:restrict]

    def _neighbors(self, rows: np.ndarray, scores: np.ndarray) -> list[Neighbor]:
        items = self.store.items_at(self.info, rows)
        return [Neighbor(item, float(score)) for item, score in zip(items, scores, strict=True)]

    def vector(self, item: str) -> np.ndarray:
        """A read-only copy of the stored vector of ``item``."""
        (row,) = self._rows(item)
        vector = np.array(self._vectors[row])
        vector.flags.writeable = False
        return vector

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two items (0 when either vector is all zeros)."""
        row_a, row_b = self._rows(a, b)
        return float(cosine_scores(self._vectors[[row_b]], self._norms[[row_b]],
                                   self._vectors[row_a])[0])

    def similar(self, item: str, k: int = 10, restrict: int | None = None) -> list[Neighbor]:
        """The ``k`` items most cosine-similar to ``item``, best first, ``item`` left out.

        ``restrict`` limits candidates to the ``restrict`` most frequent items.
        """
        _check_k(k)
        (row,) = self._rows(item)
        vectors, norms = self._candidates(restrict)
        scores = cosine_scores(vectors, norms, self._vectors[row])
        return self._neighbors(*top_k(scores, k, exclude=[row]))

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
        rows = self._rows(a, b, c)
        vectors, norms = self._candidates(restrict)
        a_vector, b_vector, c_vector = (self._vectors[row] for row in rows)
        scores = analogy_scores(vectors, norms, a_vector, b_vector, c_vector, method)
        return self._neighbors(*top_k(scores, k, exclude=rows))


def _check_k(k: int) -> None:
    if k < 1:
        raise QueryError(f"k must be at least 1, not {k}")


def open_embeddings(
    store: str | Path | Store | None = None,
    model: str = DEFAULT_MODEL,
    version: int | None = None,
) -> Embeddings:
    """Open ``version`` (default: the latest) of ``model`` in ``store`` for queries.

    ``store`` is a path, an open :class:`Store`, or None for the default store
    (``$EMBED_STORE``, else ``~/.local/share/embedstore``).
    """
    if isinstance(store, Store):
        return Embeddings(store, store.version_info(model, version))
    opened = Store.open(store)
    try:
        return Embeddings(opened, opened.version_info(model, version), owns_store=True)
    except BaseException:
        opened.close()
        raise
