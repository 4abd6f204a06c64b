"""Kill -9 at random moments: committed versions survive, a new one is all there or absent.

Each command runs for real in a subprocess (``python -m embedstore_cli``) and is killed after a
seeded random delay drawn across its measured running time. After every kill the store must
open, ``verify`` must pass for every version, each version that existed before must be intact
and answer a query, and aliases must point at versions that exist. Left-over temporary files
must not disturb readers, and ``embed gc`` must remove them at the end. Index builds and
removals are killed the same way: a version keeps no index or a whole one.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import embedstore
from embedstore.store import INDEXES_DIR, TMP_DIR, VERSIONS_DIR, Store
from embedstore.store.registry import garbage_collect, verify
from embedstore.training.publish import publish_vectors

DATA = Path(__file__).resolve().parents[2] / "data"
KILLS_PER_COMMAND = {"train": 15, "import": 15, "tag": 10, "rm": 10}
SEED = 20261125


@dataclass(frozen=True)
class Snapshot:
    """What a store holds: checksums of every version's files, and its aliases."""

    versions: dict[tuple[str, int], tuple[str, ...]]
    aliases: dict[tuple[str, str], int]


def snapshot(store_path: Path) -> Snapshot:
    with Store.open(store_path) as store:
        versions = {}
        for model in store.models():
            for record in store.version_records(model):
                versions[(model, record.version)] = tuple(
                    sorted(f.sha256 for f in record.files.values()))
        alias_map = {(a.model, a.name): a.version for model in store.models()
                     for a in store.aliases(model)}
    return Snapshot(versions, alias_map)


def check_store(store_path: Path, before: Snapshot, removable: tuple[str, int] | None
                ) -> Snapshot:
    """The invariants after a kill; returns the store's new state."""
    after = snapshot(store_path)
    with Store.open(store_path) as store:
        reports = verify(store)
    assert [r for r in reports if not r.ok] == []
    for key, checksums in before.versions.items():
        if key == removable and key not in after.versions:
            continue
        assert after.versions.get(key) == checksums, f"{key} changed or vanished"
    new = set(after.versions) - set(before.versions)
    assert len(new) <= 1
    for model, version in after.versions:
        with embedstore.open(store_path, model=model, version=version) as vectors:
            first = vectors.store.items_at(vectors.info, [0])[0]
            assert len(vectors.similar(first, k=2)) == 2
    for (model, _name), version in after.aliases.items():
        assert (model, version) in after.versions
    return after


def run_and_kill(args: list[str], delay: float) -> bool:
    """Run ``embed ARGS`` and kill it with SIGKILL after ``delay`` s; True if it was killed."""
    process = subprocess.Popen([sys.executable, "-m", "embedstore_cli", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return True
    return False


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "embedstore_cli", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


@pytest.fixture
def populated(tmp_path: Path) -> tuple[Path, Path]:
    """A store with two models and an alias, and a word2vec file big enough to take a while."""
    store_path = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store_path, quiet=True)
    rng = np.random.default_rng(0)
    items = [f"item{i}" for i in range(20_000)]
    publish_vectors(items, rng.standard_normal((len(items), 64)).astype(np.float32),
                    store=store_path, model="catalog")
    vec = tmp_path / "catalog.vec"
    with vec.open("w", encoding="utf-8") as handle:
        handle.write(f"{len(items)} 64\n")
        for item, row in zip(items, rng.standard_normal((len(items), 64)), strict=True):
            handle.write(item + " " + " ".join(f"{v:.5f}" for v in row) + "\n")
    return store_path, vec


def test_kill_9_at_random_moments_loses_nothing(populated: tuple[Path, Path]) -> None:
    store_path, vec = populated
    rng = random.Random(SEED)
    base = ["--store", str(store_path)]

    def command(kind: str, state: Snapshot) -> tuple[list[str], tuple[str, int] | None]:
        if kind == "train":
            return [*base, "train", str(DATA / "sample.csv"), "--quiet",
                    "--seed", str(rng.randrange(1000))], None
        if kind == "import":
            return [*base, "import", str(vec), "--model", "catalog"], None
        versions = sorted(v for (m, v) in state.versions if m == "default")
        if kind == "tag":
            return [*base, "tag", str(rng.choice(versions)), rng.choice(["prod", "stable"])], None
        aliased = {v for (m, _), v in state.aliases.items() if m == "default"}
        candidates = [v for v in versions if v not in aliased] or versions
        target = rng.choice(candidates)
        return [*base, "rm", str(target), "--force"], ("default", target)

    # Enough versions to remove, and each command's running time to spread the kills over.
    durations = {}
    for kind in ("train", "import", "tag", "train", "rm"):
        args, _ = command(kind, snapshot(store_path))
        durations[kind] = timed(args)
    state = snapshot(store_path)
    kills = dict.fromkeys(KILLS_PER_COMMAND, 0)
    plan = [kind for kind, n in KILLS_PER_COMMAND.items() for _ in range(n)]
    rng.shuffle(plan)
    while plan:
        kind = plan.pop()
        if kind == "rm" and len([1 for (m, _) in state.versions if m == "default"]) < 3:
            plan.insert(0, kind)
            kind = "train"
            args, removable = command(kind, state)
            timed(args)
            state = snapshot(store_path)
            continue
        args, removable = command(kind, state)
        killed = run_and_kill(args, rng.uniform(0.05, 1.05) * durations[kind])
        if killed:
            kills[kind] += 1
        else:
            plan.append(kind)  # it finished first: try that command again
        state = check_store(store_path, state, removable)
    assert kills == KILLS_PER_COMMAND

    with Store.open(store_path) as store:
        garbage_collect(store)
        owned = {info.rsplit("/", 1)[1] for (info,) in store.connection.execute(
            "SELECT directory FROM versions")}
    assert sorted(p.name for p in (store_path / VERSIONS_DIR).iterdir()) == sorted(owned)
    assert list((store_path / TMP_DIR).iterdir()) == []
    check_store(store_path, state, None)


INDEX_KILLS = {"build": 10, "rm": 4}


def index_state(store_path: Path) -> str | None:
    """The checksum of the catalog model's index, None without one; every invariant checked."""
    with Store.open(store_path) as store:
        assert [r for r in verify(store) if not r.ok] == []
        record = store.index_record(store.version_info("catalog"))
    with embedstore.open(store_path, model="catalog") as vectors:
        assert vectors.approximate() == (record is not None)
        assert len(vectors.similar("item0", k=5)) == 5
    return None if record is None else record.sha256


@pytest.mark.parametrize("index_kind", ["ivf", "hnsw"])
def test_kill_9_during_index_builds_leaves_no_index_or_a_whole_one(tmp_path: Path,
                                                                   index_kind: str) -> None:
    pytest.importorskip({"ivf": "faiss", "hnsw": "usearch"}[index_kind],
                        reason="the ann extra is not installed")
    store_path = tmp_path / "store"
    items = [f"item{i}" for i in range(8000)]
    vectors = np.random.default_rng(1).standard_normal((len(items), 48)).astype(np.float32)
    publish_vectors(items, vectors, store=store_path, model="catalog")
    rng = random.Random(SEED + 1)
    base = ["--store", str(store_path)]
    build = [*base, "index", "build", "--model", "catalog", "--kind", index_kind, "--threads",
             "1", "--quiet"]
    remove = [*base, "index", "rm", "1", "--model", "catalog"]
    durations = {"build": timed(build), "rm": timed(remove)}
    timed(build)
    whole = index_state(store_path)  # one thread: every complete build has this checksum
    assert whole is not None
    plan = [kind for kind, n in INDEX_KILLS.items() for _ in range(n)]
    rng.shuffle(plan)
    kills = dict.fromkeys(INDEX_KILLS, 0)
    while plan:
        kind = plan.pop()
        before = index_state(store_path)
        if kind == "rm" and before is None:
            timed(build)
        killed = run_and_kill(build if kind == "build" else remove,
                              rng.uniform(0.05, 1.05) * durations[kind])
        if killed:
            kills[kind] += 1
        else:
            plan.append(kind)
        assert index_state(store_path) in {None, whole}
    assert kills == INDEX_KILLS

    with Store.open(store_path) as store:
        garbage_collect(store)
        owned = {path.rsplit("/", 1)[1] for (path,) in store.connection.execute(
            "SELECT path FROM indexes")}
    assert sorted(p.name for p in (store_path / INDEXES_DIR).iterdir()) == sorted(owned)
    assert list((store_path / TMP_DIR).iterdir()) == []
    index_state(store_path)
