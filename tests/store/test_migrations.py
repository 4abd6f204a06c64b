"""Schema upgrades: a store written by the first schema version opens, upgrades and answers."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.store import DB_NAME, Store
from embedstore.store.migrations import ALL_MIGRATIONS, KNOWN_NAMES
from embedstore.store.registry import verify

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema1-store"
NFC_CAFE, NFD_CAFE = "caf\u00e9", "cafe\u0301"


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    copy = tmp_path / "old-store"
    shutil.copytree(FIXTURE, copy)
    return copy


def applied(store: Path) -> set[str]:
    with sqlite3.connect(store / DB_NAME) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM _sqlite_migrations")}


def test_the_fixture_is_a_first_schema_store() -> None:
    assert applied(FIXTURE) == {ALL_MIGRATIONS[0].__name__}
    assert len(KNOWN_NAMES) > 1


def test_opening_applies_the_later_migrations_once(old_store: Path) -> None:
    Store.open(old_store).close()
    assert applied(old_store) == KNOWN_NAMES
    with sqlite3.connect(old_store / DB_NAME) as connection:
        assert connection.execute("SELECT model, last FROM version_numbers").fetchall() == [
            ("default", 3)]
    Store.open(old_store).close()  # nothing left to apply, nothing applied twice
    with sqlite3.connect(old_store / DB_NAME) as connection:
        assert connection.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone() == (
            len(KNOWN_NAMES),)


def test_version_numbers_survive_an_older_store(old_store: Path) -> None:
    """Version 2 was removed under the first schema; the next number is 4, never 2 again."""
    record = embedstore.publish_vectors(["x", "y"], np.eye(2, dtype=np.float32),
                                        store=old_store)
    assert record.version == 4
    with Store.open(old_store) as store:
        assert [r.version for r in store.version_records("default")] == [1, 3, 4]
        assert all(report.ok for report in verify(store, "default"))


def test_an_older_store_answers_as_it_did(old_store: Path) -> None:
    with embedstore.open(old_store, version=1) as vectors:
        assert [n.item for n in vectors.similar("cat", k=2)] == ["dog", NFD_CAFE]
        assert vectors.analogy("dog", "cat", "car", k=1)[0].item == NFD_CAFE
    with embedstore.open(old_store) as vectors:
        assert vectors.version == 3
        # its item was stored decomposed: both spellings find it, the stored one comes back
        assert vectors.similar(NFD_CAFE, k=1) == vectors.similar(NFC_CAFE, k=1)
        assert vectors.vector(NFC_CAFE).tolist() == [0.0, 1.0]
        assert vectors.similar("dog", k=3)[-1].item == "car"

