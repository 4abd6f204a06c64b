"""Vector files in and out: import a file as a new version, export a version to a file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import InputError
from .inputs.vector_files import VectorTable, detect_format, read_vectors, write_vectors
from .names import check_model_name
from .schema import VersionRecord
from .store import StoreLike, check_writable, file_digest, opened
from .training.publish import DEFAULT_MODEL, publish_vectors


def import_file(
    path: str | Path,
    *,
    format: str | None = None,
    vocab_path: str | Path | None = None,
    store: StoreLike = None,
    model: str = DEFAULT_MODEL,
    name: str | None = None,
    index: bool = False,
) -> VersionRecord:
    """Publish the vectors of a word2vec, word2vec-binary, GloVe or .npy file as a version.

    The format is detected when not given; item order and counts (from ``vocab_path`` or the
    .npy vocabulary) are kept. A bad file raises :class:`InputError` and stores nothing.
    With ``index``, the version's approximate index is built right after it is published.
    """
    path = Path(path)
    check_model_name(model)
    check_writable(store)
    if index:
        from .query.indexing import check_indexing

        check_indexing()
    format = format or (detect_format(path) if path.is_file() else None)
    table = read_vectors(path, format, vocab_path)
    source = file_digest(path)
    counts = None if table.counts is None else table.counts.astype(np.float64)
    try:
        record = publish_vectors(table.items, table.vectors, store=store, model=model,
                                 name=name, counts=counts, source=source,
                                 import_format=format or "detected")
    except InputError as error:  # too few items, or too long a vector: name the file
        raise InputError(f"{path}: {error}") from None
    if index:
        from .query.indexing import index_new_version

        index_new_version(store, record)
    return record


def export_version(
    path: str | Path,
    *,
    format: str = "word2vec",
    vocab_path: str | Path | None = None,
    store: StoreLike = None,
    model: str = DEFAULT_MODEL,
    version: int | str | None = None,
    subwords_path: str | Path | None = None,
) -> int:
    """Write a version's vectors to ``path`` in ``format``; returns the number of items.

    With ``subwords_path``, also the version's subword vectors: a ``.npy`` of ``float32``
    rows, one per hash bucket, and beside it (the same name with ``.json``) the hashing
    settings, ``{"buckets", "dim", "min_n", "max_n", "hashing": "fnv1a-32", "combine":
    "mean"}``: a word's vector is the mean of the rows of its n-grams' buckets
    (:mod:`embedstore.subwords.ngrams`). Each file appears complete or not at all (written
    beside its name, then renamed).
    """
    with opened(store) as handle:
        info = handle.version_info(model, version)
        vectors, _ = handle.load_vectors(info)
        rows = handle.items_and_counts(info)
        if subwords_path is not None:
            _export_subwords(handle.version_record(info), handle.load_subwords(info),
                             Path(subwords_path))
    table = VectorTable([item for item, _ in rows], np.asarray(vectors),
                        np.array([round(count) for _, count in rows], dtype=np.int64))
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        write_vectors(table, partial, format, vocab_path)
        os.replace(partial, path)
        if format == "npy" and vocab_path is None:
            os.replace(partial.with_suffix(".vocab"), path.with_suffix(".vocab"))
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        partial.unlink(missing_ok=True)
    return len(table.items)


def _export_subwords(record: VersionRecord, table: np.ndarray | None, path: Path) -> None:
    """Write a version's bucket vectors to ``path`` and its hashing settings beside it."""
    import json

    if table is None or record.subwords is None:
        raise InputError(f"model {record.model!r} version {record.version} keeps no subword "
                         "vectors: train it with --subwords (or extend it with --subwords) "
                         "to have them")
    settings = {"buckets": record.subwords.buckets, "dim": record.dim,
                **record.subwords.model_dump(exclude={"buckets", "damping"})}
    text = (json.dumps(settings, indent=2) + "\n").encode()
    for target, write in ((path, lambda out: np.save(out, np.asarray(table),
                                                     allow_pickle=False)),
                          (path.with_suffix(".json"), lambda out: out.write(text))):
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("wb") as out:
                write(out)
            os.replace(partial, target)
        except OSError as exc:
            raise InputError(f"{target}: cannot write ({exc.strerror})") from None
        finally:
            partial.unlink(missing_ok=True)
