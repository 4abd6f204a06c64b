"""Building and removing a version's approximate search index (``embed index``).

An index is derived from a version's vectors, which never change; it can be built after the
version is published (``embed index build``, or ``--index`` on ``embed train`` and ``embed
import``), rebuilt with other settings, and removed, without touching the version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EmbedstoreError, StoreError
from ..progress import Progress
from ..store import IndexRecord, StoreLike, opened
from .ann import (
    DEFAULT_KIND,
    UNRECORDED_KIND,
    build_settings,
    extend_index_file,
    library_and_suffix,
    write_index,
)
from .embeddings import DEFAULT_MODEL

if TYPE_CHECKING:
    from ..schema import VersionRecord


@dataclass(frozen=True)
class IndexReport:
    """An index just built or removed: whose, and its record."""

    model: str
    version: int
    n_items: int
    index: IndexRecord

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "n_items": self.n_items,
                "index": self.index.to_json()}


def build_index(
    store: StoreLike = None, model: str = DEFAULT_MODEL, version: int | str | None = None, *,
    kind: str = DEFAULT_KIND, lists: int | None = None, probes: int | None = None,
    seed: int | None = None, connectivity: int | None = None,
    expansion_add: int | None = None, expansion_search: int | None = None, threads: int = 0,
    progress: Progress | None = None,
) -> IndexReport:
    """Build the approximate index of a version (default: the latest) and publish it as the
    version's index, replacing any older one; queries use it from then on.

    ``kind`` is ``"ivf"`` (faiss; the default) or ``"hnsw"`` (usearch). IVF's settings:
    ``lists`` (k-means clusters; default from the number of items,
    :func:`embedstore.query.ann.ivf.default_lists`), ``probes`` (lists searched per query) and
    ``seed`` (of k-means). HNSW's: ``connectivity`` (graph edges per node), ``expansion_add``
    and ``expansion_search`` (the breadth of the search while building and while querying).
    Settings left None take their defaults; one of the other kind is refused.
    ``threads`` 0 uses every core. Built with one thread, the index is the same, byte for
    byte, every time.

    >>> import embedstore, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/sample.csv", store=store, quiet=True)
    >>> build_index(store).index.library
    'faiss'
    >>> with embedstore.open(store) as vectors:
    ...     [n.item for n in vectors.analogy("king", "man", "woman", k=1)], vectors.approximate()
    (['queen'], True)
    """
    given = {"lists": lists, "probes": probes, "seed": seed, "connectivity": connectivity,
             "expansion_add": expansion_add, "expansion_search": expansion_search}
    library, suffix = library_and_suffix(kind)
    with opened(store) as handle:
        handle.check_writable("build an index")
        info, vectors, _ = handle.open_version(model, version)
        handle.end_snapshot()
        settings = build_settings(kind, given, threads, info.n_items)

        def write(path: Path) -> None:
            report = None if progress is None else \
                lambda done, total: progress("indexing", done, total, None)
            write_index(vectors, settings, path, report)

        record = handle.publish_index(info, write, library=library, suffix=suffix,
                                      settings=settings)
    return IndexReport(info.model, info.version, info.n_items, record)


def remove_index(store: StoreLike = None, model: str = DEFAULT_MODEL,
                 version: int | str | None = None) -> IndexReport:
    """Remove a version's index (the version stays, answering exactly)."""
    with opened(store) as handle:
        info = handle.version_info(model, version)
        record = handle.index_record(info)
        handle.remove_index(model, info.version)
    assert record is not None  # remove_index raised otherwise
    return IndexReport(info.model, info.version, info.n_items, record)


def check_indexing() -> None:
    """Fail before a long run (``--index`` on train or import) when no index can be built."""
    build_settings(DEFAULT_KIND, {}, 0, 1)


def index_new_version(store: StoreLike, record: VersionRecord,
                      progress: Progress | None = None) -> None:
    """Build the index of a version just published (``--index``): the default kind, with its
    default settings.
    A failure says that the version itself is there and how to build its index later."""
    try:
        build_index(store, record.model, record.version, progress=progress)
    except EmbedstoreError as error:
        raise StoreError(
            f"version {record.version} of {record.model!r} was published, but its index was "
            f"not built: {error}; build it with: embed index build {record.version} "
            f"--model {record.model}") from None


def check_index_kind(record: IndexRecord) -> None:
    """Fail before ``embed extend`` does any work when the library of a parent's index is
    missing (its index could not be extended)."""
    build_settings(record.settings.get("kind", UNRECORDED_KIND), {}, 0, 1)


def extend_index(store: StoreLike, model: str, parent: int, record: VersionRecord,
                 progress: Progress | None = None) -> IndexReport:
    """Give the version ``record`` extends from version ``parent`` (``embed extend``) the
    parent's index with the new rows added, rather than one built anew: same kind, same
    settings. A failure says that the version itself is there and how to index it."""
    try:
        with opened(store) as handle:
            parent_info = handle.version_info(model, parent)
            old = handle.index_record(parent_info)
            info, vectors, _ = handle.open_version(model, record.version)
            handle.end_snapshot()
            if old is None:
                raise StoreError(f"version {parent} has no index any more")
            source = handle.inside_store(old.path)
            kind = old.settings.get("kind", UNRECORDED_KIND)
            library, suffix = library_and_suffix(kind)
            first = parent_info.n_items

            def write(path: Path) -> None:
                if progress is not None:
                    progress("indexing", 0, 1, None)
                extend_index_file(source, old.settings, vectors[first:], first, path)
                if progress is not None:
                    progress("indexing", 1, 1, None)

            built = handle.publish_index(info, write, library=library, suffix=suffix,
                                         settings=old.settings)
    except EmbedstoreError as error:
        raise StoreError(
            f"version {record.version} of {model!r} was published, but its index was not "
            f"extended from version {parent}'s: {error}; build it with: embed index build "
            f"{record.version} --model {model}") from None
    return IndexReport(info.model, info.version, info.n_items, built)
