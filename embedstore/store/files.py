"""A version's files: mapping them for queries, writing and publishing them.

Layout of a store directory::

    embedstore.db                 SQLite: versions, vocabularies, migrations (WAL mode)
    versions/<id>/vectors.npy     float32 item vectors, one row per item, memory-mapped on read
    versions/<id>/norms.npy       float32 Euclidean norm of every row
    versions/<id>/subwords.npy    float32 n-gram bucket vectors, if the version keeps them
    tmp/                          files being written; never read, removed by garbage collection

Publishing is crash-safe by construction: the files are written under ``tmp/``, flushed to
disk and checksummed, the directory is renamed into ``versions/``, and only then is the
version's row inserted, in one transaction that also assigns its number. A crash before the
commit leaves an unreferenced directory that readers never see; a version is either complete
or absent, and published files are never written again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import StoreError, TrainingError
from ..names import check_model_name
from .catalog import VersionInfo
from .connection import NORMS_FILE, SUBWORDS_FILE, TMP_DIR, VECTORS_FILE, VERSIONS_DIR
from .vocabulary import Vocabulary

if TYPE_CHECKING:  # pydantic is imported only when a version is published
    from ..schema import FileDigest, VersionRecord


COPY_BLOCK = 1 << 24
"""Bytes of a parent's rows copied (and hashed) at a time into a version extending it."""


@dataclass(frozen=True)
class Base:
    """The version a new one extends (``embed extend``): its rows come first in the new
    version, with their vectors, norms and vocabulary as they are (mapped here, so a removal
    cannot take them away while they are copied)."""

    info: VersionInfo
    vectors: np.ndarray
    norms: np.ndarray


class Files(Vocabulary):
    """Vectors and norms on disk: the files part of :class:`embedstore.store.Store`."""

    def open_version(self, model: str, version: int | str | None = None
                     ) -> tuple[VersionInfo, np.ndarray, np.ndarray]:
        """Resolve a version and map its files, consistently with concurrent writers.

        Under the shared file lock, the read snapshot is pinned, the version resolved in it and
        its files mapped; a removal committed later waits for the lock before deleting files,
        and a mapped file stays readable after it is deleted. So a version that was visible
        keeps answering, in full, for as long as this connection keeps its snapshot.
        """
        with self._reading_lock():
            self.begin_snapshot()
            info = self.version_info(model, version)
            vectors, norms = self.load_vectors(info)
        return info, vectors, norms

    def load_vectors(self, info: VersionInfo) -> tuple[np.ndarray, np.ndarray]:
        """Memory-map the vectors and norms of a version after checking their shapes."""
        directory = self.inside_store(info.directory)
        arrays = []
        expected = ((VECTORS_FILE, (info.n_items, info.dim)), (NORMS_FILE, (info.n_items,)))
        for name, shape in expected:
            path = directory / name
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
            except FileNotFoundError:
                raise StoreError(self.damaged(info, f"{path} is missing")) from None
            except (ValueError, OSError) as exc:
                raise StoreError(self.damaged(info, f"{path} cannot be read ({exc})")) from None
            if array.shape != shape or array.dtype != np.float32:
                raise StoreError(self.damaged(
                    info, f"{path} holds {array.dtype}{array.shape}, expected float32{shape}"))
            arrays.append(array)
        return arrays[0], arrays[1]

    def load_subwords(self, info: VersionInfo) -> np.ndarray | None:
        """Memory-map the version's subword vectors (``buckets x dim``), or None when it keeps
        none."""
        path = self.inside_store(info.directory) / SUBWORDS_FILE
        try:
            table = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            return None
        except (ValueError, OSError) as exc:
            raise StoreError(self.damaged(info, f"{path} cannot be read ({exc})")) from None
        if table.ndim != 2 or table.shape[1] != info.dim or table.dtype != np.float32:
            raise StoreError(self.damaged(
                info, f"{path} holds {table.dtype}{table.shape}, expected float32(*, {info.dim})"))
        return table

    def inside_store(self, relative: str) -> Path:
        path = (self.path / relative).resolve()
        if not path.is_relative_to(self.path.resolve()):
            raise StoreError(f"version directory {relative!r} points outside the store; "
                             "the database was altered: restore it from a backup")
        return path

    def starting_vectors(self, model: str, parent: int | str, items: Sequence[str],
                         dim: int | None) -> tuple[int, np.ndarray, np.ndarray]:
        """A warm start from version ``parent`` of ``model``: its number, an ``items x dim``
        matrix holding its vectors for the items it knows, and a mask of those rows."""
        info, vectors, _ = self.open_version(model, parent)
        if dim is not None and dim != info.dim:
            raise TrainingError(
                f"--dim {dim} differs from the {info.dim} of {model!r} version "
                f"{info.version}; leave --dim out to warm-start from it")
        rows = self.rows_of(info, items)
        known = np.array([item in rows for item in items], dtype=bool)
        start = np.zeros((len(items), info.dim), dtype=np.float32)
        start[known] = vectors[[rows[item] for item in items if item in rows]]
        return info.version, start, known

    def publish(
        self,
        *,
        model: str,
        items: Sequence[str],
        counts: np.ndarray,
        vectors: np.ndarray,
        make_record: Callable[[int, dict[str, FileDigest]], VersionRecord],
        kept: Mapping[str, Path] | None = None,
        base: Base | None = None,
    ) -> VersionRecord:
        """Write a new version of ``model`` and return its record.

        ``make_record(version, files)`` builds the metadata once the version number and the
        files' checksums are known. ``kept`` names further files written beforehand (``.npy``
        files, by key) that become part of the version, moved in beside its vectors and
        checksummed with them. With ``base``, the version starts with that version's rows,
        copied byte for byte (its vocabulary inside the database), and ``items``, ``counts``
        and ``vectors`` are the rows after them. The version becomes visible atomically, in
        full.
        """
        import shutil  # the modules of writing stay out of the query path
        import uuid

        check_model_name(model)
        with self.file_lock(exclusive=False):  # garbage collection waits for us
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1).astype(np.float32)
            directory_name = uuid.uuid4().hex
            staging = self.path / TMP_DIR / directory_name
            final = self.path / VERSIONS_DIR / directory_name
            try:
                staging.mkdir(parents=True)
                if base is None:
                    files = {
                        "vectors": write_array(staging / VECTORS_FILE, vectors, self.path),
                        "norms": write_array(staging / NORMS_FILE, norms, self.path),
                    }
                else:
                    files = {
                        "vectors": write_rows(staging / VECTORS_FILE, [base.vectors, vectors],
                                              self.path),
                        "norms": write_rows(staging / NORMS_FILE, [base.norms, norms],
                                            self.path),
                    }
                for key, source in (kept or {}).items():
                    files[key] = keep_file(source, staging / f"{key}.npy", self.path)
                files = {key: record.model_copy(update={"path": record.path.replace(
                    f"{TMP_DIR}/", f"{VERSIONS_DIR}/", 1)}) for key, record in files.items()}
                final.parent.mkdir(exist_ok=True)
                fsync_directory(staging)
                os.rename(staging, final)
                fsync_directory(final.parent)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise StoreError(f"cannot write the version's files in {self.path}: {exc}; "
                                 "check free space and permissions") from None
            try:
                with self.write_transaction():
                    return self._insert_version(model, directory_name, items, counts, files,
                                                make_record, base.info if base else None)
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise


def keep_file(source: Path, path: Path, root: Path) -> FileDigest:
    """Move ``source`` to ``path`` (copying across file systems), flush it to disk and return
    its checksum record."""
    import shutil

    shutil.move(source, path)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
    return file_digest(path, path.relative_to(root).as_posix())


def write_array(path: Path, array: np.ndarray, root: Path) -> FileDigest:
    """Write ``array`` as a .npy file, flush it to disk and return its checksum record."""
    with path.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    return file_digest(path, path.relative_to(root).as_posix())


def write_rows(path: Path, parts: Sequence[np.ndarray], root: Path) -> FileDigest:
    """Write the rows of ``parts`` one after another as one ``.npy`` file (the bytes
    ``np.save`` writes for their concatenation), hashing them as they are written, flush it
    to disk and return its checksum record. Mapped parts are copied block by block, never
    whole in memory."""
    import hashlib
    import io

    first = parts[0]
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {
        "descr": np.lib.format.dtype_to_descr(first.dtype), "fortran_order": False,
        "shape": (sum(int(part.shape[0]) for part in parts), *map(int, first.shape[1:]))})
    digest = hashlib.sha256(header.getvalue())
    with path.open("wb") as handle:
        handle.write(header.getvalue())
        for part in parts:
            flat = np.ascontiguousarray(part, dtype=first.dtype).reshape(-1)
            step = max(1, COPY_BLOCK // flat.itemsize)
            for start in range(0, flat.size, step):
                block = memoryview(flat[start : start + step]).cast("B")
                digest.update(block)
                handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    from ..schema import FileDigest

    return FileDigest(path=path.relative_to(root).as_posix(), bytes=path.stat().st_size,
                      sha256=digest.hexdigest())


def file_digest(path: Path, recorded_path: str | None = None) -> FileDigest:
    """The size and SHA-256 of a file, recorded under ``recorded_path`` (default: its
    absolute path). A directory (Parquet shards) counts the bytes of its files, and its digest
    is the SHA-256 of their names and digests in name order."""
    import hashlib

    from ..schema import FileDigest

    recorded = recorded_path or str(path.resolve())
    if not path.is_dir():
        return FileDigest(path=recorded, bytes=path.stat().st_size, sha256=sha256_of(path))
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = "".join(f"{p.relative_to(path).as_posix()}\t{sha256_of(p)}\n" for p in files)
    return FileDigest(path=recorded, bytes=sum(p.stat().st_size for p in files),
                      sha256=hashlib.sha256(listing.encode()).hexdigest())


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
