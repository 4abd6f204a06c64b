"""Query one stored version: the Python API that the CLI uses too."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import QueryError, StoreError, UnknownItemError
from ..store import Store, StoreLike, VersionInfo
from .questions import Inputs, Question
from .results import Neighbor
from .scoring import ANALOGY_METHODS, analogy_targets, cosine, similar_target
from .search import ExactSearcher, Ranked, Searcher, check_k
from .vocabulary_cache import VocabularyCache

if TYPE_CHECKING:
    from pathlib import Path

    from ..store import IndexRecord
    from .ann import Candidates
    from .batch import BatchResult

DEFAULT_MODEL = "default"


class Embeddings:
    """The vectors of one version of one model, memory-mapped, ready for queries.

    Obtain one with :func:`embedstore.open`; close it with :meth:`close` or a ``with`` block.
    Opening costs the same for any vocabulary size: vectors and norms are memory-mapped and
    items are looked up through the store's index only when a query names them. It keeps a
    read snapshot of the store: a version removed after it was opened still answers, in full,
    until it is closed. Items are looked up in Unicode normal form C, as they are stored.

    A version that keeps subword vectors (trained with ``subwords=True``) answers an item it
    has not seen from its character n-grams (:meth:`inputs` says which items were);
    without them, an unknown item raises :class:`UnknownItemError` with close spellings.

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
                 owns_store: bool = False, searcher: Searcher | None = None,
                 index: Candidates | None = None, index_file: str | None = None,
                 subwords: np.ndarray | None = None) -> None:
        self.store = store
        self.info = info
        self.index_file = index_file
        """The index file answering this version's queries (relative to the store), if any."""
        self._owns_store = owns_store
        self._vectors = np.asarray(vectors)  # a plain view of the mapping: cheaper to slice
        self._norms = norms
        self._exact: ExactSearcher | None = None
        self._origin: Embeddings | None = None
        self._vocabulary = VocabularyCache()
        self._subwords = subwords
        self._ngram_lengths: tuple[int, int] | None = None
        self.suggest = True
        """Whether an unknown item's error names close spellings (a scan of the vocabulary,
        which a server answering on its event loop leaves to another thread)."""
        if searcher is not None:
            self.searcher: Searcher = searcher
        elif index is not None:
            from .ann import IndexSearcher

            self.searcher = IndexSearcher(index, vectors, norms, self._exact_searcher)
        else:
            self.searcher = self._exact_searcher()

    def _exact_searcher(self) -> ExactSearcher:
        if self._origin is not None:
            return self._origin._exact_searcher()
        if self._exact is None:
            self._exact = ExactSearcher(self._vectors, self._norms)
        return self._exact

    def searcher_for(self, exact: bool = False) -> Searcher:
        """The searcher answering a query: the version's index, unless ``exact`` (or it has
        none)."""
        return self._exact_searcher() if exact else self.searcher

    def with_store(self, store: Store) -> Embeddings:
        """This version reading items through ``store`` (another connection to the same
        store), sharing its mapped files and searchers: how a server's connections share one
        opened version. Closing it leaves ``store`` open."""
        twin = Embeddings(store, self.info, self._vectors, self._norms, searcher=self.searcher,
                          index_file=self.index_file, subwords=self._subwords)
        twin._origin = self
        twin._vocabulary = self._vocabulary
        return twin

    def approximate(self, exact: bool = False) -> bool:
        """Whether a ``similar`` or 3CosAdd ``analogy`` answer (``exact`` as given) comes from
        the version's approximate index.

        >>> import embedstore, tempfile
        >>> store = tempfile.mkdtemp()
        >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True)
        >>> with embedstore.open(store) as vectors:
        ...     vectors.approximate()
        False
        """
        return not exact and bool(getattr(self.searcher, "approximate", False))

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

    # -- building blocks shared with batch queries, evaluations and diffs ----------------

    def rows(self, items: Sequence[str]) -> list[int]:
        """The rows of ``items``; raises :class:`UnknownItemError` for the first unknown one."""
        found = self.known_rows(items)
        for item in items:
            if item not in found:
                raise self.unknown(item)
        return [found[item] for item in items]

    def known_rows(self, items: Sequence[str]) -> dict[str, int]:
        """The rows of those of ``items`` that are in the vocabulary (keyed as given)."""
        return self._vocabulary.rows_of(list(dict.fromkeys(items)),
                                        lambda missing: self.store.rows_of(self.info, missing))

    @property
    def has_subwords(self) -> bool:
        """Whether the version keeps subword vectors, so that it answers unknown items."""
        return self._subwords is not None

    def subword_vectors(self, items: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors built from their character n-grams (:mod:`embedstore.subwords.ngrams`)
        for ``items``, whether or not the version knows them (keyed as given); empty when
        the version keeps no subword vectors. An item none of whose n-grams met a trained
        item gets no vector.

        >>> import embedstore, tempfile
        >>> store = tempfile.mkdtemp()
        >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True,
        ...                            subwords=True, subword_buckets=5000)
        >>> with embedstore.open(store) as vectors:
        ...     vectors.subword_vectors(["kitten", "kittens"])["kittens"].shape
        (100,)
        """
        if self._subwords is None or not items:
            return {}
        from ..names import normalize_item
        from ..subwords.ngrams import compose

        min_n, max_n = self._lengths()
        names = list(dict.fromkeys(items))
        built = compose([normalize_item(item) for item in names], self._subwords, min_n, max_n)
        return {item: vector for item, vector in zip(names, built, strict=True)
                if vector.any()}

    def _lengths(self) -> tuple[int, int]:
        """The n-gram lengths the subword vectors were fitted with (read once)."""
        if self._origin is not None:
            return self._origin._lengths()
        if self._ngram_lengths is None:
            from ..subwords.ngrams import HASHING

            settings = self.store.subword_settings(self.info) or {}
            if settings.get("hashing") != HASHING or settings.get("combine") != "mean":
                raise StoreError(f"model {self.model!r} version {self.version} keeps subword "
                                 f"vectors made by a rule this embedstore does not know "
                                 f"({settings.get('hashing')!r}); upgrade embedstore")
            self._ngram_lengths = (int(settings["min_n"]), int(settings["max_n"]))
        return self._ngram_lengths

    def inputs(self, items: Sequence[str]) -> Inputs:
        """``items`` as vectors: a known item's stored vector, an unknown one's built from its
        n-grams when the version keeps subword vectors; raises :class:`UnknownItemError` for
        the first item it can do neither for."""
        known = self.known_rows(items)
        built = self.subword_vectors([item for item in items if item not in known])
        for item in items:
            if item not in known and item not in built:
                raise self.unknown(item)
        vectors = np.array([self._vectors[known[item]] if item in known else built[item]
                            for item in items], dtype=np.float32).reshape(len(items), -1)
        return Inputs(vectors, [known[item] for item in items if item in known],
                      list(dict.fromkeys(item for item in items if item not in known)))

    def unknown(self, item: str) -> UnknownItemError:
        return UnknownItemError(item, self.model, self.version,
                                self.store.close_items(self.info, item) if self.suggest else [])

    def items_at(self, rows: Iterable[int]) -> list[str]:
        """The items of ``rows`` (row order is frequency order: row 0 is the most frequent)."""
        return self._vocabulary.items_at(rows, lambda missing: self.store.items_at(self.info,
                                                                                  missing))

    def row_vectors(self, rows: Sequence[int]) -> np.ndarray:
        return np.asarray(self._vectors[list(rows)], dtype=np.float32)

    def analogy_targets(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """``unit(a) - unit(b) + unit(c)`` for each (a, b, c) row triple (3CosAdd targets)."""
        triples = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        picked = self.row_vectors(triples.ravel().tolist())
        return analogy_targets(picked.reshape(len(triples), 3, -1))

    def nearest(
        self, targets: np.ndarray, k: int, exclude: Sequence[Iterable[int]],
        restrict: int | None = None, exact: bool = False,
    ) -> list[list[Neighbor]]:
        """The ``k`` items nearest by cosine to each target vector (through the searcher;
        the exact one when ``exact``)."""
        return self.neighbors(self.searcher_for(exact).nearest(targets, k, exclude, restrict))

    def neighbors(self, ranked: Ranked) -> list[list[Neighbor]]:
        """The rows and scores of a searcher's answer (per target) as items and scores."""
        rows, scores = ranked
        items = self.items_at(np.concatenate(rows) if rows else [])
        results: list[list[Neighbor]] = []
        position = 0
        for values in scores:
            results.append([Neighbor(items[position + j], float(v)) for j, v in enumerate(values)])
            position += len(values)
        return results

    def items_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Up to ``limit`` items starting with ``prefix``, most frequent first (completion).

        >>> import embedstore, tempfile
        >>> store = tempfile.mkdtemp()
        >>> _ = embedstore.train_pairs("data/animals.csv", store=store, quiet=True)
        >>> with embedstore.open(store) as vectors:
        ...     sorted(vectors.items_with_prefix("c"))
        ['car', 'cat']
        """
        return self.store.items_with_prefix(self.info, prefix, limit)

    # -- single queries -------------------------------------------------------------------

    def vector(self, item: str) -> np.ndarray:
        """A read-only copy of the stored vector of ``item`` (built from its n-grams when the
        version does not know it and keeps subword vectors)."""
        vector = self.inputs([item]).vectors[0]
        vector.flags.writeable = False
        return vector

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two items (0 when either vector is all zeros)."""
        first, second = self.inputs([a, b]).vectors
        return cosine(first, second)

    def similar(self, *items: str, k: int = 10, restrict: int | None = None,
                minus: Sequence[str] = (), exact: bool = False) -> list[Neighbor]:
        """The ``k`` items most cosine-similar to ``items``, best first, inputs left out.

        With one item, its nearest neighbours. With several items, or items to avoid in
        ``minus``, the query is the mean of the items' unit vectors minus those of ``minus``,
        as gensim's ``most_similar(positive=items, negative=minus)`` computes it (a basket
        asking for recommendations). ``restrict`` limits candidates to the ``restrict`` most
        frequent items. A version with an index answers through it unless ``exact``
        (:meth:`approximate` says which it was).

        Examples
        --------
        >>> import embedstore, tempfile
        >>> store = tempfile.mkdtemp()
        >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True)
        >>> with embedstore.open(store) as vectors:
        ...     [n.item for n in vectors.similar("king", "woman", minus=["man"], k=1)]
        ['queen']
        """
        return self.neighbors(self.similar_question(
            *items, k=k, restrict=restrict, minus=minus, exact=exact).ask())[0]

    def similar_question(self, *items: str, k: int = 10, restrict: int | None = None,
                         minus: Sequence[str] = (), exact: bool = False) -> Question:
        """What :meth:`similar` asks the searcher, its items looked up (:meth:`inputs`;
        unknown ones raise :class:`UnknownItemError`): answer it with ``question.ask()``, or
        together with others (:func:`~embedstore.query.questions.answer_together`), then
        :meth:`neighbors`."""
        check_k(k)
        if not items:
            raise QueryError("similar needs at least one item")
        if isinstance(minus, str):
            raise QueryError(f"minus takes a list of items, not a string: minus=[{minus!r}]")
        found = self.inputs([*items, *minus])
        target = similar_target(found.vectors[: len(items)], found.vectors[len(items):])
        return Question(self.searcher_for(exact), target[None, :], k, [found.rows], restrict,
                        from_subwords=found.from_subwords)

    def analogy(
        self, a: str, b: str, c: str, k: int = 10, method: str = "add",
        restrict: int | None = None, exact: bool = False,
    ) -> list[Neighbor]:
        """Items nearest to ``a - b + c`` (``king - man + woman``), leaving out a, b and c.

        ``method`` is ``"add"`` (3CosAdd, the default, through the version's index unless
        ``exact``) or ``"mul"`` (3CosMul, which needs every cosine and is always exact).
        """
        return self.neighbors(self.analogy_question(
            a, b, c, k=k, method=method, restrict=restrict, exact=exact).ask())[0]

    def analogy_question(self, a: str, b: str, c: str, k: int = 10, method: str = "add",
                         restrict: int | None = None, exact: bool = False) -> Question:
        """What :meth:`analogy` asks the searcher (see :meth:`similar_question`)."""
        check_k(k)
        if method not in ANALOGY_METHODS:
            raise QueryError(f"unknown analogy method {method!r}; use one of {ANALOGY_METHODS}")
        found = self.inputs([a, b, c])
        if method == "add":
            return Question(self.searcher_for(exact), analogy_targets(found.vectors[None]), k,
                            [found.rows], restrict, from_subwords=found.from_subwords)
        return Question(self.searcher, found.vectors, k, [found.rows], restrict, cosmul=True,
                        from_subwords=found.from_subwords)

    def batch(
        self, queries: Iterable[dict[str, Any] | str | bytes], restrict: int | None = None,
        exact: bool = False,
    ) -> Iterator[BatchResult]:
        """Answer many queries; see :mod:`embedstore.query.batch` for their form.

        Queries default to this model and version; a query may name another ``model`` or
        ``version`` of the same store. Results come in input order, one per query.
        """
        from .batch import answer_queries  # batch's parsing stays out of single queries

        return answer_queries(queries, open_version=self._sibling, model=self.model,
                              version=self.version, restrict=restrict, opened=[self],
                              exact=exact)

    def _sibling(self, model: str, version: int | str | None) -> Embeddings:
        return load_version(self.store, model, version)


def run_batch(
    store: Store, queries: Iterable[dict[str, Any] | str | bytes], *,
    model: str = DEFAULT_MODEL, version: int | str | None = None, restrict: int | None = None,
    exact: bool = False,
) -> Iterator[BatchResult]:
    """Answer batch queries (see :mod:`embedstore.query.batch`) against the versions of ``store``;
    ``model``, ``version``, ``restrict`` and ``exact`` are the defaults for lines without their
    own."""

    from .batch import answer_queries

    def open_version(name: str, reference: int | str | None) -> Embeddings:
        return load_version(store, name, reference)

    return answer_queries(queries, open_version=open_version, model=model, version=version,
                          restrict=restrict, exact=exact)


def load_version(store: Store, model: str, version: int | str | None,
                 owns_store: bool = False) -> Embeddings:
    """Open a version of ``store`` for queries, with its index when it has one (memory-mapped:
    opening costs the same for any size)."""
    from .ann import open_index

    def opener(path: Path, record: IndexRecord, dim: int) -> tuple[Candidates, str]:
        return open_index(path, record, dim), record.path

    info, vectors, norms, subwords, opened = store.open_indexed(model, version, opener)
    index, index_file = opened if opened is not None else (None, None)
    return Embeddings(store, info, vectors, norms, owns_store=owns_store, index=index,
                      index_file=index_file, subwords=subwords)


def open_embeddings(
    store: StoreLike = None,
    model: str = DEFAULT_MODEL,
    version: int | str | None = None,
) -> Embeddings:
    """Open ``version`` (a number or an alias; default: the latest) of ``model`` for queries.

    ``store`` is a path, an open :class:`Store`, or None for the default store
    (``$EMBED_STORE``, else ``~/.local/share/embedstore``).
    """
    if isinstance(store, Store):
        return load_version(store, model, version)
    opened = Store.open(store)
    try:
        return load_version(opened, model, version, owns_store=True)
    except BaseException:
        opened.close()
        raise
