"""A version's files: rows written as one .npy with its checksum, warm starts read back."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.errors import TrainingError
from embedstore.store import Store
from embedstore.store import files as files_module
from embedstore.store.files import file_digest, sha256_of, write_rows


@pytest.mark.parametrize("block", [1 << 24, 8])  # 8 bytes at a time: many blocks
def test_rows_are_written_as_numpy_writes_their_concatenation(
        tmp_path: Path, block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_module, "COPY_BLOCK", block)
    rng = np.random.default_rng(1)
    first = rng.standard_normal((5, 3)).astype(np.float32)
    np.save(tmp_path / "mapped.npy", rng.standard_normal((4, 3)))  # float64, mapped
    mapped = np.load(tmp_path / "mapped.npy", mmap_mode="r")
    third = np.asfortranarray(rng.standard_normal((2, 3)).astype(np.float32))
    folder = tmp_path / "versions" / "v1"
    folder.mkdir(parents=True)
    record = write_rows(folder / "vectors.npy", [first, mapped, third], tmp_path)
    expected = io.BytesIO()
    np.save(expected, np.concatenate([first, mapped.astype(np.float32), third]))
    written = (folder / "vectors.npy").read_bytes()
    assert written == expected.getvalue()
    assert record.path == "versions/v1/vectors.npy"
    assert record.bytes == len(written)
    assert record.sha256 == hashlib.sha256(written).hexdigest() == sha256_of(folder / "vectors.npy")


def test_a_folder_of_shards_has_one_digest_of_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "counts"
    (folder / "deeper").mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"one")
    (folder / "deeper" / "part-1.parquet").write_bytes(b"three")
    digest = file_digest(folder, "counts/")
    listing = (f"deeper/part-1.parquet\t{hashlib.sha256(b'three').hexdigest()}\n"
               f"part-0.parquet\t{hashlib.sha256(b'one').hexdigest()}\n")
    assert (digest.path, digest.bytes) == ("counts/", 8)
    assert digest.sha256 == hashlib.sha256(listing.encode()).hexdigest()
    single = file_digest(folder / "part-0.parquet")
    assert single.path == str((folder / "part-0.parquet").resolve()) and single.bytes == 3


def test_a_warm_start_holds_the_parent_rows_of_the_items_it_knows(store: Path) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    embedstore.publish_vectors(["a", "b", "c", "d"], vectors, store=store)
    embedstore.publish_vectors(["c", "a"], vectors[:2] + 100, store=store)
    with Store.open(store) as opened:
        version, start, known = opened.starting_vectors("default", 1, ["c", "x", "a"], None)
        assert version == 1 and known.tolist() == [True, False, True]
        assert start.tolist() == [[6, 7, 8], [0, 0, 0], [0, 1, 2]]
        assert start.dtype == np.float32
        assert opened.starting_vectors("default", 1, ["a"], 3)[0] == 1
        with pytest.raises(TrainingError) as refused:
            opened.starting_vectors("default", 1, ["a"], 4)
    assert str(refused.value) == ("--dim 4 differs from the 3 of 'default' version 1; leave "
                                  "--dim out to warm-start from it")
