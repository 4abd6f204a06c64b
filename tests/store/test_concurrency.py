"""Readers while a writer publishes, tags and removes; two writers at once.

Every process is real (subprocesses sharing one store directory), as in production.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import embedstore
from embedstore.store import DB_NAME, Store
from embedstore.store.registry import verify
from embedstore.transfer import export_version

DATA = Path(__file__).resolve().parents[2] / "data"

READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import embedstore
    store, stop = sys.argv[1], Path(sys.argv[2])
    seen, queries = set(), 0
    while not stop.exists():
        for version in (None, "prod"):
            with embedstore.open(store, version=version) as vectors:
                (count,) = vectors.store.connection.execute(
                    "SELECT COUNT(*) FROM items WHERE version_id = ?", [vectors.info.id]
                ).fetchone()
                assert count == len(vectors), "partial version"
                vectors.row_vectors([len(vectors) - 1])  # the last row is mapped
                neighbors = vectors.similar("cat", k=3)
                assert len(neighbors) == 3, neighbors
                answers = list(vectors.batch([
                    {"op": "similar", "item": "dog", "k": 2},
                    {"op": "analogy", "a": "king", "b": "man", "c": "woman"},
                    {"op": "similarity", "a": "cat", "b": "car"}]))
                assert all(a.ok for a in answers), [a.error for a in answers]
                seen.add(vectors.version)
                queries += 4
    print(json.dumps({"queries": queries, "versions": sorted(seen)}))
""")

CLI_READER = textwrap.dedent("""
    import json, subprocess, sys
    from pathlib import Path
    store, stop = sys.argv[1], Path(sys.argv[2])
    embed = [sys.executable, "-m", "embedstore_cli", "--store", store]
    batch = "\\n".join(json.dumps({"op": "similar", "item": item, "k": 2})
                      for item in ("cat", "dog", "car", "queen")) + "\\n"
    runs = 0
    while not stop.exists():
        subprocess.run([*embed, "similar", "cat", "--k", "3", "--version", "prod"],
                       check=True, capture_output=True)
        done = subprocess.run([*embed, "batch", "-"], input=batch, text=True, check=True,
                              capture_output=True)
        assert len(done.stdout.splitlines()) == 4, done.stdout
        runs += 2
    print(json.dumps({"queries": runs}))
""")

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import embedstore
    from embedstore.transfer import import_file
    from embedstore.schema import SgnsSettings
    from embedstore.store.registry import remove_version
    from embedstore.store import Store
    store, data, exported, rounds = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    for round in range(rounds):
        embedstore.train_pairs(data, store=store, quiet=True, settings=SgnsSettings(seed=round))
        record = import_file(exported, store=store)
        with Store.open(store) as opened:
            opened.set_alias("default", record.version, "prod")
            versions = [r.version for r in opened.version_records("default")]
            for old in versions[:-1]:  # remove what readers may be reading right now
                remove_version(opened, "default", old)
""")

TRAINER = textwrap.dedent("""
    import sys
    import embedstore
    from embedstore.schema import SgnsSettings
    store, data, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for run in range(4):
        embedstore.train_pairs(data, store=store, model="race", quiet=True,
                               settings=SgnsSettings(seed=seed + run))
""")


def start(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    return out


def test_queries_never_fail_while_a_writer_publishes_tags_and_removes(tmp_path: Path) -> None:
    store = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    exported = tmp_path / "sample.vec"
    export_version(exported, format="word2vec", store=store)
    with Store.open(store) as opened:
        opened.set_alias("default", 1, "prod")
    stop = tmp_path / "stop"
    readers = [start(READER, store, stop), start(READER, store, stop),
               start(CLI_READER, store, stop)]
    writer = start(WRITER, store, DATA / "sample.csv", exported, 5)
    finish(writer)
    stop.touch()
    reports = [json.loads(finish(reader)) for reader in readers]

    print("concurrent readers:", reports)
    assert all(report["queries"] > 0 for report in reports)
    assert all(len(report["versions"]) >= 2 for report in reports[:2])  # they saw changes
    with Store.open(store) as opened:
        numbers = [r.version for r in opened.version_records("default")]
        assert numbers == [11]  # 1 + 5 rounds x (train, import); the older ones removed
        assert all(report.ok for report in verify(opened))


def test_two_writers_at_once_both_succeed_with_distinct_numbers(tmp_path: Path) -> None:
    store = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    writers = [start(TRAINER, store, DATA / "sample.csv", seed) for seed in (0, 100)]
    for writer in writers:
        finish(writer)
    with Store.open(store) as opened:
        records = opened.version_records("race")
        assert [r.version for r in records] == list(range(1, 9))
        assert sorted(r.settings.seed for r in records) == [0, 1, 2, 3, 100, 101, 102, 103]
        assert all(report.ok for report in verify(opened))


def test_wal_mode_and_a_bounded_busy_timeout(tmp_path: Path) -> None:
    store = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    with Store.open(store) as opened:
        (mode,) = opened.connection.execute("PRAGMA journal_mode").fetchone()
        (timeout_ms,) = opened.connection.execute("PRAGMA busy_timeout").fetchone()
    assert mode == "wal"
    assert 0 < timeout_ms <= 60_000


def test_a_writer_blocked_past_the_timeout_gets_a_clear_error(tmp_path: Path, monkeypatch
                                                               ) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    monkeypatch.setattr("embedstore.store.connection.BUSY_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(store / DB_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with Store.open(store) as opened:
            try:
                opened.set_alias("default", 1, "prod")
            except embedstore.StoreError as error:
                message = str(error)
            else:
                raise AssertionError("the alias was set although the database was locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "database is locked" in message and "\n" not in message
    with Store.open(store) as opened:
        assert opened.connection.execute("SELECT COUNT(*) FROM aliases").fetchone() == (0,)
