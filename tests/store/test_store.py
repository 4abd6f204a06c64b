from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.errors import NotFoundError, StoreError
from embedstore.schema import SgnsSettings, VersionRecord
from embedstore.store import DB_NAME, TMP_DIR, VERSIONS_DIR, Store, sha256_of
from tests.conftest import DATA

FAST = SgnsSettings(epochs=30, dim=8)


def train(store: Path, **kwargs) -> VersionRecord:  # type: ignore[no-untyped-def]
    return embedstore.train_pairs(DATA / "animals.csv", store=store, settings=FAST, **kwargs)


def test_versions_count_up_per_model(store: Path) -> None:
    assert [train(store).version for _ in range(3)] == [1, 2, 3]
    assert train(store, model="other").version == 1
    with Store.open(store) as opened:
        assert opened.models() == ["default", "other"]
        assert [r.version for r in opened.version_records("default")] == [1, 2, 3]
        assert opened.version_info("default").version == 3
        assert opened.version_info("default", 2).version == 2


def test_metadata_round_trips_and_checksums_match_the_files(store: Path) -> None:
    record = train(store, name="first try")
    with Store.open(store) as opened:
        stored = opened.version_record(opened.version_info("default", 1))
    assert stored == record
    assert stored.name == "first try"
    assert stored.settings.epochs == 30 and stored.settings.seed == 0
    assert stored.source.sha256 == sha256_of(DATA / "animals.csv")
    assert stored.source.bytes == (DATA / "animals.csv").stat().st_size
    assert len(stored.epoch_losses) == 30
    for file in stored.files.values():
        assert (store / file.path).stat().st_size == file.bytes
        assert sha256_of(store / file.path) == file.sha256
    assert stored.created.tzinfo is not None


def test_vectors_are_memory_mapped_with_stored_norms(store: Path) -> None:
    train(store)
    with Store.open(store) as opened:
        info = opened.version_info("default")
        vectors, norms = opened.load_vectors(info)
    assert isinstance(vectors, np.memmap)
    assert not vectors.flags.writeable
    assert np.allclose(np.linalg.norm(vectors, axis=1), norms, rtol=1e-6)


def test_missing_store_model_and_version_say_what_to_do(store: Path) -> None:
    with pytest.raises(StoreError, match=r"no store at .*embed train FILE"):
        Store.open(store)
    train(store)
    with Store.open(store) as opened:
        with pytest.raises(NotFoundError, match=r"no model 'nope'.*models here: default"):
            opened.version_info("nope")
        with pytest.raises(NotFoundError, match="has no version 7; its versions are 1"):
            opened.version_info("default", 7)


def test_a_directory_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"x")
    with pytest.raises(StoreError, match="not an embedstore store"):
        Store.open(tmp_path / "photos", create=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        Store.open(tmp_path / "file", create=True)


def test_a_database_from_a_newer_embedstore_is_refused(store: Path) -> None:
    train(store)
    with sqlite3.connect(store / DB_NAME) as connection:
        connection.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('embedstore', 'm999_from_the_future', '2099-01-01')"
        )
    with pytest.raises(StoreError, match=r"newer embedstore.*upgrade"):
        Store.open(store)


def test_a_damaged_database_file_is_reported(store: Path) -> None:
    store.mkdir()
    (store / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot be used as a store database"):
        Store.open(store)


def test_a_failed_publish_leaves_no_version_and_no_files(store: Path) -> None:
    train(store)
    before = sorted(p.name for p in (store / VERSIONS_DIR).iterdir())

    def broken_record(version: int, files: dict) -> VersionRecord:  # type: ignore[type-arg]
        raise RuntimeError("disk on fire")

    with Store.open(store) as opened, pytest.raises(RuntimeError):
        opened.publish(model="default", items=["a", "b"], counts=np.array([1.0, 1.0]),
                       vectors=np.ones((2, 3), np.float32), make_record=broken_record)
    with Store.open(store) as opened:
        assert [r.version for r in opened.version_records("default")] == [1]
    assert sorted(p.name for p in (store / VERSIONS_DIR).iterdir()) == before
    assert not any((store / TMP_DIR).iterdir())


def test_a_missing_or_truncated_vector_file_is_reported_not_served(store: Path) -> None:
    record = train(store)
    vectors_file = store / record.files["vectors"].path
    vectors_file.write_bytes(vectors_file.read_bytes()[:-16])
    with pytest.raises(StoreError, match=r"version 1 is damaged.*embed verify"):
        embedstore.open(store)
    vectors_file.unlink()
    with pytest.raises(StoreError, match=r"vectors\.npy is missing"):
        embedstore.open(store)


def test_invalid_model_names_are_refused(store: Path) -> None:
    with pytest.raises(StoreError, match="invalid model name"):
        train(store, model="../escape")
    assert not store.exists()
