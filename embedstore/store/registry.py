"""Looking after versions: removal, garbage collection, verification.

Every change to the database is one transaction; files are removed only after the rows that
owned them are gone, so a crash leaves at worst unowned files, which :func:`garbage_collect`
removes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import NotFoundError
from .catalog import VersionInfo
from .connection import INDEXES_DIR, NORMS_FILE, TMP_DIR, VECTORS_FILE, VERSIONS_DIR
from .files import sha256_of
from .indexes import Indexes


@dataclass(frozen=True)
class CollectedGarbage:
    paths: list[str]
    bytes: int


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of checking one version: ``problems`` is empty when it is intact."""

    model: str
    version: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def remove_version(store: Indexes, model: str, version: int | str, *, force: bool = False
                   ) -> VersionInfo:
    """Remove one version: its rows in one transaction, then its files.

    Refused while an alias points at it, unless ``force`` (which removes those aliases too,
    recording the removal in their history).
    """
    with store.write_transaction():
        info = store.version_info(model, version)
        index_file = store.owned_index_file(info)
        store._delete_version_rows(info, force=force)
    if index_file is not None:
        store.delete_index_file(index_file)
    directory = store.path / info.directory
    if directory.resolve().is_relative_to((store.path / VERSIONS_DIR).resolve()):
        # Readers map files under the shared lock: wait for any that resolved this version
        # before the commit above; once mapped, a deleted file stays readable to them.
        with store.file_lock(exclusive=True):
            shutil.rmtree(directory, ignore_errors=True)
    return info


def garbage_collect(store: Indexes) -> CollectedGarbage:
    """Remove files that no version owns (left by a crash or an interrupted removal).

    Waits for any publish in progress, so it never removes a version being written.
    """
    removed: list[str] = []
    freed = 0
    with store.file_lock(exclusive=True):
        owned = store.owned_directories() | store.owned_index_files()
        candidates = []
        for parent in (VERSIONS_DIR, INDEXES_DIR, TMP_DIR):
            if (store.path / parent).is_dir():
                candidates += sorted((store.path / parent).iterdir())
        for path in candidates:
            relative = path.relative_to(store.path).as_posix()
            if relative in owned:
                continue
            freed += _size(path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(relative)
    return CollectedGarbage(paths=removed, bytes=freed)


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())


def verify(store: Indexes, model: str | None = None, version: int | str | None = None
           ) -> list[VerifyReport]:
    """Check versions against their metadata: checksums, shapes, vocabulary rows.

    With ``model`` and ``version``, that version; with ``model`` only, all its versions; with
    neither, every version in the store.
    """
    if model is not None and version is not None:
        infos = [store.version_info(model, version)]
    else:
        infos = store.version_infos(model)
        if model is not None and not infos:
            raise NotFoundError(f"no model {model!r} in store {store.path}")
    return [_verify_one(store, info) for info in infos]


def _verify_one(store: Indexes, info: VersionInfo) -> VerifyReport:
    problems: list[str] = []
    try:
        record = store.version_record(info)
    except Exception as exc:  # a damaged metadata row is itself the finding
        return VerifyReport(info.model, info.version, [f"metadata cannot be read: {exc}"])
    expected_shapes = {"vectors": (info.n_items, info.dim), "norms": (info.n_items,)}
    if record.subwords is not None:
        expected_shapes["subwords"] = (record.subwords.buckets, info.dim)
    for key, file in sorted(record.files.items()):
        path = (store.path / file.path).resolve()
        if not path.is_relative_to(store.path.resolve()):
            problems.append(f"{key} file path {file.path!r} points outside the store")
            continue
        if not path.is_file():
            problems.append(f"{file.path} is missing")
            continue
        size = path.stat().st_size
        if size != file.bytes:
            problems.append(f"{file.path} has {size} bytes, expected {file.bytes}")
        elif sha256_of(path) != file.sha256:
            problems.append(f"{file.path} checksum differs from the one recorded")
        else:
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except ValueError as exc:
                problems.append(f"{file.path} cannot be read: {exc}")
                continue
            if key in expected_shapes and array.shape != expected_shapes[key]:
                problems.append(f"{file.path} has shape {array.shape}, "
                                f"expected {expected_shapes[key]}")
    for name in (VECTORS_FILE, NORMS_FILE):
        if not any(f.path.endswith(f"/{name}") for f in record.files.values()):
            problems.append(f"metadata lists no {name}")
    problems += _verify_index(store, info)
    count, low, high = store.row_numbering(info)
    if (count, low, high) != (info.n_items, 0, info.n_items - 1):
        problems.append(f"vocabulary has {count} rows, expected {info.n_items} "
                        f"numbered 0..{info.n_items - 1}")
    return VerifyReport(info.model, info.version, problems)


def _verify_index(store: Indexes, info: VersionInfo) -> list[str]:
    """The problems of a version's index file (none when it has no index)."""
    record = store.index_record(info)
    if record is None:
        return []
    path = (store.path / record.path).resolve()
    if not path.is_relative_to(store.path.resolve()):
        return [f"index file path {record.path!r} points outside the store"]
    if not path.is_file():
        return [f"index {record.path} is missing"]
    size = path.stat().st_size
    if size != record.bytes:
        return [f"index {record.path} has {size} bytes, expected {record.bytes}"]
    if sha256_of(path) != record.sha256:
        return [f"index {record.path} checksum differs from the one recorded"]
    return []
