"""A disk that fills, a store nobody may write, and a store damaged by hand."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

import embedstore
from embedstore.store import DB_NAME, TMP_DIR, VERSIONS_DIR
from embedstore.store import connection as connection_module
from embedstore.store import files as files_module

DATA = Path(__file__).resolve().parents[2] / "data"
Run = Callable[..., Result]


def listing(store: Path) -> list[str]:
    """Every file in the store except SQLite's own journal files."""
    return sorted(p.relative_to(store).as_posix() for p in store.rglob("*")
                  if not p.name.endswith(("-wal", "-shm")))


def versions(run: Run) -> str:
    return run("versions").stdout


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_disk_full_while_writing_vectors_leaves_no_trace(run: Run, store: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run("train", str(DATA / "sample.csv"), "--quiet")
    before, listed = versions(run), listing(store)
    real_save = np.save

    def save_then_fill_the_disk(handle, array, allow_pickle=False):  # type: ignore[no-untyped-def]
        real_save(handle, array[: len(array) // 2], allow_pickle=allow_pickle)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files_module.np, "save", save_then_fill_the_disk)
    line = one_line_error(run("train", str(DATA / "sample.csv"), "--quiet"))
    assert "No space left on device" in line and "check free space" in line
    assert versions(run) == before
    assert listing(store) == listed


def test_database_full_at_commit_leaves_no_trace(run: Run, store: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run("train", str(DATA / "sample.csv"), "--quiet")
    before, listed = versions(run), listing(store)
    real_connect = connection_module._connect

    def nearly_full(database: Path, read_only: bool) -> sqlite3.Connection:
        connection = real_connect(database, read_only)
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        connection.execute(f"PRAGMA max_page_count = {pages + 1}")
        return connection

    monkeypatch.setattr(connection_module, "_connect", nearly_full)
    items = np.array([f"product-{i}" for i in range(5000)])
    matrix = np.random.default_rng(0).standard_normal((5000, 8)).astype(np.float32)
    np.save(store.parent / "m.npy", matrix)
    (store.parent / "m.vocab").write_text("\n".join(items) + "\n", encoding="utf-8")
    line = one_line_error(run("import", str(store.parent / "m.npy"), "--model", "big"))
    assert "database or disk is full" in line and "nothing was changed" in line
    monkeypatch.undo()
    assert versions(run) == before
    assert listing(store) == listed


@pytest.fixture
def read_only(store: Path) -> Iterator[Callable[[], None]]:
    """Make the store read-only: by permissions, or for root (whom permissions do not stop)
    with the immutable attribute; skipped where neither is possible."""
    protected: list[Path] = []

    def protect() -> None:
        paths = [*sorted(store.rglob("*"), reverse=True), store]
        if os.geteuid() != 0:
            for path in paths:
                path.chmod(path.stat().st_mode & ~0o222)
            protected.extend(paths)
            return
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a read-only store")
        done = subprocess.run(["chattr", "-R", "+i", str(store)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make the store immutable here: {done.stderr.decode().strip()}")
        protected.append(store)

    yield protect
    if os.geteuid() == 0 and protected:
        subprocess.run(["chattr", "-R", "-i", str(store)], check=True)
    for path in protected:
        if os.geteuid() != 0:
            path.chmod(path.stat().st_mode | 0o200)


def test_a_read_only_store_answers_queries_and_refuses_changes(
        run: Run, store: Path, read_only: Callable[[], None]) -> None:
    run("train", str(DATA / "sample.csv"), "--quiet")
    run("export", "-o", str(store.parent / "sample.vec"))
    expected = run("similar", "cat", "--k", "3").stdout
    before, listed = versions(run), listing(store)
    read_only()
    assert run("similar", "cat", "--k", "3").stdout == expected
    assert run("batch", input='{"op": "similar", "item": "cat", "k": 3}\n').exit_code == 0
    assert run("verify", "--all").exit_code == 0
    for args in (("train", str(DATA / "sample.csv"), "--quiet"),
                 ("import", str(store.parent / "sample.vec")),
                 ("tag", "1", "prod"), ("rm", "1"), ("gc",)):
        line = one_line_error(run(*args))
        assert "read-only" in line, (args, line)
    assert versions(run) == before
    assert listing(store) == listed


def test_a_vocabulary_row_deleted_by_hand_is_reported_not_served(run: Run, store: Path) -> None:
    run("train", str(DATA / "sample.csv"), "--quiet")
    neighbour = run("similar", "cat", "--k", "1", "--json").stdout
    first = embedstore.open(store).similar("cat", k=1)[0].item
    assert first in neighbour
    with sqlite3.connect(store / DB_NAME) as connection:
        connection.execute("DELETE FROM items WHERE item = ?", [first])
    line = one_line_error(run("similar", "cat", "--k", "1"))
    assert "version 1 is damaged" in line and "no item for row" in line
    assert "embed verify" in line


def test_a_vector_file_with_a_damaged_header_is_reported(run: Run, store: Path) -> None:
    run("train", str(DATA / "sample.csv"), "--quiet")
    (vectors_file,) = store.glob(f"{VERSIONS_DIR}/*/vectors.npy")
    vectors_file.write_bytes(b"\x93NUMPY garbage" + vectors_file.read_bytes()[14:])
    line = one_line_error(run("similar", "cat"))
    assert "version 1 is damaged" in line and "vectors.npy cannot be read" in line
    verify = run("verify", "--all")
    assert verify.exit_code == 1 and "checksum differs" in verify.stdout


def test_paths_in_the_database_are_never_followed_outside_the_store(run: Run, store: Path,
                                                                     tmp_path: Path) -> None:
    run("train", str(DATA / "sample.csv"), "--quiet")
    outside = tmp_path / "elsewhere"
    shutil.copytree(next((store / VERSIONS_DIR).iterdir()), outside)
    with sqlite3.connect(store / DB_NAME) as connection:
        connection.execute("UPDATE versions SET directory = ?", ["../elsewhere"])
    line = one_line_error(run("similar", "cat"))
    assert "points outside the store" in line
    run("gc")
    assert outside.is_dir() and any(outside.iterdir())
    assert not any((store / TMP_DIR).iterdir())
