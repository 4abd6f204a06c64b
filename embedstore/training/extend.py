"""``embed extend``: new items folded into a version; every vector the version had stays as it
is, bit for bit.

:func:`extend_version` reads a pair file with the training readers, decides which of its items
are new (not in the parent version), which new items have no path of positive pairs to a known
item (left out, with a note) and which pairs join two known items (ignored, with a note: their
vectors do not move); the parent's method folds the new items in
(:attr:`embedstore.methods.registry.Method.fold_in`), and the version is published with the
parent's rows first, copied as they are, and the new rows after them. It keeps the parent's
counts plus the new pairs (so it can be explained and extended again) and the method's arrays;
the parent's approximate index, if it had one, is extended rather than rebuilt.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..counting.kept import (
    NOT_KEPT,
    PAIRS,
    SUBWORDS,
    WEIGHTS,
    KeptCounts,
    read_kept_arrays,
    read_kept_counts,
    write_kept_counts,
)
from ..errors import InputError, TrainingError
from ..methods.fitted import Extension, Folded
from ..methods.registry import Method, method_of
from ..names import check_model_name
from ..progress import Progress
from ..schema import PairFileOptions, SubwordSettings, VersionRecord
from ..store import StoreLike, check_writable, opened
from ..store.files import Base
from ..subwords.fitting import keep_subwords
from .pipeline import check_subwords
from .publish import DEFAULT_MODEL, publish, source_digest
from .sources import read_pair_data

if TYPE_CHECKING:
    from ..counting.cooccurrence import Cooccurrence
    from ..store import Store, VersionInfo

CHUNK = 1 << 20
"""Kept pairs copied from the parent per step."""
EXAMPLES = 3
"""Items named in a note about items left out."""


@dataclass(frozen=True)
class NewPairs:
    """The pairs of a file as they meet a version of ``n_old`` items: the new items (in row
    order, after the parent's rows) with their counts, the pairs that involve them in the new
    version's rows, the items left out and the pairs ignored."""

    items: list[str]
    counts: np.ndarray
    left: np.ndarray
    right: np.ndarray
    weight: np.ndarray
    negative_left: np.ndarray
    negative_right: np.ndarray
    unreachable: list[str]
    known_pairs: int


def split_pairs(pairs: Cooccurrence, rows: dict[str, int], n_old: int) -> NewPairs:
    """Which items of ``pairs`` are new (not in ``rows``, the parent's rows by item), which
    of them have a path of positive pairs to a known item, and the pairs that involve them."""
    n = pairs.n_items
    parent_row = np.array([rows.get(item, -1) for item in pairs.items], dtype=np.int64)
    known = parent_row >= 0
    left, right = pairs.left, pairs.right
    among_new = ~known[left] & ~known[right]
    component = components(n, left[among_new], right[among_new])
    touching = known[left] != known[right]
    seeds = np.where(known[left], right, left)[touching]
    reached = np.zeros(n, dtype=bool)
    reached[np.isin(component, component[seeds])] = True
    reached &= ~known
    new_row = parent_row.copy()
    new_row[reached] = n_old + np.arange(int(reached.sum()))
    positive = _rows_of(new_row, left, right, known)
    negative = _rows_of(new_row, pairs.negative_left, pairs.negative_right, known)
    ignored = (known[left] & known[right]).sum() + (
        known[pairs.negative_left] & known[pairs.negative_right]).sum()
    return NewPairs(
        items=[item for item, kept in zip(pairs.items, reached, strict=True) if kept],
        counts=pairs.item_counts[reached], left=positive[0], right=positive[1],
        weight=pairs.weight[positive[2]], negative_left=negative[0],
        negative_right=negative[1], known_pairs=int(ignored),
        unreachable=[item for item, is_known, kept in
                     zip(pairs.items, known, reached, strict=True) if not (is_known or kept)])


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The connected component of each of ``n`` nodes joined by the edges ``left, right``,
    named by its smallest node: the higher root of every edge is hooked onto the lower one,
    then every node jumps to its root, until no edge joins two roots.

    >>> components(5, np.array([3, 1]), np.array([4, 3])).tolist()
    [0, 1, 2, 1, 1]
    """
    label = np.arange(n)
    while True:
        a, b = label[left], label[right]
        if (a == b).all():
            return label
        np.minimum.at(label, np.maximum(a, b), np.minimum(a, b))
        jumped = label[label]
        while (jumped != label).any():
            label, jumped = jumped, jumped[jumped]


def _rows_of(new_row: np.ndarray, left: np.ndarray, right: np.ndarray,
             known: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs with a new item in reach at one end at least, in the new version's rows
    (``left <= right``), and which of the given pairs they are."""
    a, b = new_row[left], new_row[right]
    chosen = (a >= 0) & (b >= 0) & ~(known[left] & known[right])
    a, b = a[chosen], b[chosen]
    return np.minimum(a, b), np.maximum(a, b), chosen


def extend_version(path: str | Path, *, store: StoreLike = None, model: str = DEFAULT_MODEL,
                   parent: int | str | None = None, name: str | None = None,
                   header: bool | None = None, progress: Progress | None = None,
                   quiet: bool = False, subwords: bool = False,
                   subword_buckets: int | None = None) -> VersionRecord:
    """Publish a new version of ``model`` that holds every vector of version ``parent`` (a
    number or an alias; default the latest) bit for bit, plus vectors for the items of the
    pair file ``path`` that it lacks, folded in from their pairs by the parent's method, and
    return its record. The version records ``parent``; with ``name`` it is named.

    New items without a path of positive pairs to a known item are left out, and pairs
    between two known items are ignored; the record's notes count both. If the parent has an
    approximate index, the new version's index is the parent's with the new rows added. With
    ``subwords`` (and ``subword_buckets``, as :func:`~embedstore.train_file` takes them) the
    new version's subword vectors are fitted to all of its vectors; without, it keeps the
    parent's as they are, if the parent has any. The store changes only if the whole run
    succeeds.

    >>> import embedstore, pathlib, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/animals.csv", store=store, quiet=True)
    >>> new = pathlib.Path(store) / "new.csv"
    >>> _ = new.write_text("lion,cat\\nlion,kitten\\n")
    >>> record = extend_version(new, store=store, quiet=True)
    >>> record.origin, record.parent, record.n_items
    ('extend', 1, 9)
    """
    check_model_name(model)
    check_writable(store)
    subword = check_subwords(subwords, subword_buckets)
    progress = None if quiet else progress
    started = time.perf_counter()
    with opened(store) as handle:
        info, vectors, norms = handle.open_version(model, parent)
        record = handle.version_record(info)
        method = _method(record)
        index = handle.index_record(info)
        handle.end_snapshot()
        if index is not None:
            from ..query.indexing import check_index_kind

            check_index_kind(index)
        counts = _kept_counts(handle, record)
        pairs = read_pair_data(path, min_count=0, header=header, progress=progress)
        split = split_pairs(pairs, _parent_rows(handle, info, pairs.items), info.n_items)
        _check_new(split, path, record)
        extension = Extension(
            info.version, vectors, counts, read_kept_arrays(_kept_paths(handle, record)),
            len(split.items), split.left, split.right, split.weight, split.negative_left,
            split.negative_right, split.counts)
        folded = method.fold_in_function()(extension, record.settings, progress)
        notes = [*_notes(method, split, extension, path), *folded.notes]
        with tempfile.TemporaryDirectory(prefix="embedstore-",
                                         ignore_cleanup_errors=True) as scratch:
            kept = _write_kept(extension, split, folded, record, handle, Path(scratch))
            kept |= _subword_files(subword, handle, record, info, np.concatenate(
                [vectors, folded.vectors]), split, Path(scratch), notes, progress)
            new = publish(
                handle, model=model, items=split.items, counts=split.counts,
                vectors=folded.vectors, kept=kept, base=Base(info, vectors, norms),
                origin="extend", name=name, source=source_digest(str(path)),
                reading=PairFileOptions(min_count=0, header=header),
                settings=record.settings, parent=info.version,
                epoch_losses=folded.epoch_losses, notes=notes,
                subwords=subword or record.subwords,
                duration_seconds=round(time.perf_counter() - started, 3))
    if index is not None:
        from ..query.indexing import extend_index

        extend_index(store, model, info.version, new, progress)
    return new


def _parent_rows(handle: Store, info: VersionInfo, items: list[str]) -> dict[str, int]:
    """The parent's rows of those of ``items`` it has: looked up one by one, or for many
    items (a quarter of the parent's) read with the whole vocabulary; either way, spellings
    of stores older than NFC names are found (:meth:`~embedstore.store.Store.rows_of`)."""
    if 4 * len(items) < info.n_items:
        return handle.rows_of(info, items)
    rows = handle.all_rows(info)
    found = {item: rows[item] for item in items if item in rows}
    return found | handle.rows_of(info, [item for item in items
                                         if item not in found and not item.isascii()])


def _subword_files(subword: SubwordSettings | None, handle: Store, record: VersionRecord,
                   info: VersionInfo, vectors: np.ndarray, split: NewPairs, directory: Path,
                   notes: list[str], progress: Progress | None) -> dict[str, Path]:
    """The new version's subword vectors in ``directory``: fitted to all of ``vectors`` (the
    parent's rows, then the new ones) with ``subword``, else the parent's copied, if any (a
    note says which)."""
    if subword is not None:
        parent = handle.items_and_counts(info)
        files, note = keep_subwords(
            subword, [item for item, _ in parent] + split.items, vectors,
            np.concatenate([np.array([count for _, count in parent]), split.counts]),
            directory, progress)
        notes.append(note)
        return files
    if record.subwords is None or SUBWORDS not in record.files:
        return {}
    copy = directory / f"{SUBWORDS}.npy"
    shutil.copyfile(handle.inside_store(record.files[SUBWORDS].path), copy)
    notes.append(f"the subword vectors of version {info.version} are kept as they are "
                 "(extend with --subwords to fit them to the new items too)")
    return {SUBWORDS: copy}


def _method(record: VersionRecord) -> Method:
    """The method that made ``record``'s version, or why it cannot be extended."""
    if record.settings is None:
        why = ("was imported from a vector file" if record.origin == "import"
               else "records no training method")
        raise TrainingError(f"model {record.model!r} version {record.version} {why}, so no "
                            "method can fold new items into it; train a version from pairs "
                            "to extend")
    return method_of(record.settings)


def _kept_counts(handle: Store, record: VersionRecord) -> KeptCounts:
    if PAIRS not in record.files or WEIGHTS not in record.files:
        raise TrainingError(
            f"model {record.model!r} version {record.version} keeps no counts (it was trained "
            "on a Dask cluster or before versions kept their counts), and new items are "
            "folded in against them; train it here again to extend it")
    return read_kept_counts(handle.inside_store(record.files[PAIRS].path),
                            handle.inside_store(record.files[WEIGHTS].path))


def _kept_paths(handle: Store, record: VersionRecord) -> dict[str, Path]:
    return {key: handle.inside_store(file.path) for key, file in record.files.items()
            if key not in NOT_KEPT}


def _check_new(split: NewPairs, path: str | Path, record: VersionRecord) -> None:
    where = f"model {record.model!r} version {record.version}"
    if not split.items and not split.unreachable:
        raise InputError(f"{path}: every item is in {where} already, so there is nothing to "
                         "extend (pairs between known items do not move their vectors: train "
                         "a new version to take them in)")
    if not split.items:
        raise InputError(f"{path}: none of its {len(split.unreachable)} new items has a path "
                         f"of positive pairs to an item of {where}; nothing to extend")


def _notes(method: Method, split: NewPairs, extension: Extension,
           path: str | Path) -> Iterator[str]:
    yield (f"{method.name} folded {extension.n_new} new items into version "
           f"{extension.parent} ({method.fold_summary}); its {extension.n_old} vectors are "
           "unchanged")
    if split.unreachable:
        named = ", ".join(repr(item) for item in split.unreachable[:EXAMPLES])
        more = ", ..." if len(split.unreachable) > EXAMPLES else ""
        yield (f"{_count(len(split.unreachable), 'item')} of {Path(path).name} "
               f"{'has' if len(split.unreachable) == 1 else 'have'} no path of positive pairs "
               f"to an item of version {extension.parent}: left out ({named}{more})")
    if split.known_pairs:
        yield (f"{_count(split.known_pairs, 'pair')} between items of version "
               f"{extension.parent} ignored: their vectors do not move (train a new version "
               "to take them in)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _write_kept(extension: Extension, split: NewPairs, folded: Folded, record: VersionRecord,
                handle: Store, directory: Path) -> dict[str, Path]:
    """The new version's kept files in ``directory``: the parent's counts and the new pairs;
    the method's arrays, the parent's rows followed by the new ones where the fold-in gave
    rows, replaced where it gave whole arrays, else the parent's as they are."""
    counts = extension.counts

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for start in range(0, counts.n_pairs, CHUNK):
            stop = start + CHUNK
            yield counts.left[start:stop], counts.right[start:stop], counts.weight[start:stop]
        yield split.left, split.right, split.weight
        yield split.negative_left, split.negative_right, np.zeros(len(split.negative_left))

    total = counts.n_pairs + len(split.weight) + len(split.negative_left)
    kept = write_kept_counts(chunks(), total, directory)
    for key, source in _kept_paths(handle, record).items():
        kept[key] = directory / f"{key}.npy"
        if key in folded.kept:
            np.save(kept[key], folded.kept[key], allow_pickle=False)
        elif key in folded.kept_rows:
            _append_rows(extension.kept[key], folded.kept_rows[key], kept[key])
        else:
            shutil.copyfile(source, kept[key])
    for key, array in folded.kept.items():
        if key not in kept:
            kept[key] = directory / f"{key}.npy"
            np.save(kept[key], array, allow_pickle=False)
    return kept


def _append_rows(first: np.ndarray, rows: np.ndarray, path: Path) -> None:
    from numpy.lib.format import open_memmap

    joined = open_memmap(path, mode="w+", dtype=first.dtype,
                         shape=(len(first) + len(rows), *first.shape[1:]))
    for start in range(0, len(first), CHUNK):
        stop = min(start + CHUNK, len(first))
        joined[start:stop] = first[start:stop]
    joined[len(first):] = rows
    joined.flush()
    del joined
