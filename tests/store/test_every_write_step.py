"""Every step of every write of the store, failed in turn: the store stays whole.

For each write (publishing a trained version, moving an alias, removing a version, garbage
collection, building an index, adding items with ``embed extend``, to a version without and
with an index), the write is first run with every fallible step counted
(:mod:`tests.store.faultpoints`); then, for each step n, a fresh copy of the same store runs
the write with step n failing (a disk error or a database error), or with the process ended
at step n (a crash). Afterwards the store must verify, hold exactly the state before the write
or the state after it (never a half-made version, a dangling alias or a changed version), the
CLI must have said one line (no traceback), and the next write must succeed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

from embedstore.store import Store
from embedstore.store.registry import verify
from tests.conftest import DATA
from tests.store.faultpoints import FaultPoints, injected

ROOT = Path(__file__).resolve().parents[2]
NEW_PAIRS = str(ROOT / "tests" / "fixtures" / "new-pairs.csv")
WRITES = {
    "publish": ["train", str(DATA / "sample.csv"), "--quiet"],
    "publish with subwords": ["train", str(DATA / "sample.csv"), "--quiet", "--subwords",
                              "--subword-buckets", "500"],
    "tag": ["tag", "1", "prod"],
    "rm": ["rm", "1"],
    "gc": ["gc"],
    "index build": ["index", "build", "1", "--kind", "hnsw"],
    "extend": ["extend", NEW_PAIRS, "--from", "1", "--quiet"],
    "extend, indexed": ["extend", NEW_PAIRS, "--from", "2", "--quiet"],
}
"""Each write, as the CLI runs it on the baseline store (version 2 has an index)."""
CRASHED = ("publish", "tag", "rm")
"""The writes also ended by a crash at each step (each crash costs a process start; the steps
of ``embed extend`` are those of a publish, after its own reading and fitting)."""
MIN_STEPS = {"publish": 10, "publish with subwords": 11, "tag": 2, "rm": 3, "gc": 2,
             "index build": 4, "extend": 10, "extend, indexed": 12}


@dataclass(frozen=True)
class State:
    versions: dict[str, tuple[str, ...]]
    aliases: dict[str, int]
    indexes: dict[str, str]


def state(store_path: Path) -> State:
    """What a user can see of the store: versions and their files, aliases, indexes."""
    with Store.open(store_path) as store:
        versions, aliases, indexes = {}, {}, {}
        for model in store.models():
            for info in store.version_infos(model):
                record = store.version_record(info)
                versions[f"{model}/{info.version}"] = tuple(
                    sorted(f"{key}:{f.sha256}" for key, f in record.files.items()))
                index = store.index_record(info)
                if index is not None:
                    indexes[f"{model}/{info.version}"] = index.sha256
            aliases |= {f"{model}/{a.name}": a.version for a in store.aliases(model)}
        problems = [r for r in verify(store) if not r.ok]
    assert problems == [], problems
    return State(versions, aliases, indexes)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two versions of ``default``, alias ``prod`` on version 2, and leftovers for gc."""
    store = tmp_path_factory.mktemp("baseline") / "store"
    for _ in range(2):
        embed(store, "train", str(DATA / "sample.csv"), "--quiet")
    embed(store, "tag", "2", "prod")
    embed(store, "index", "build", "2", "--kind", "hnsw", "--threads", "1")  # extended
    # with one thread too, so an extension gives the same bytes every time
    (store / "tmp" / "left-by-a-crash").mkdir(parents=True)
    (store / "tmp" / "left-by-a-crash" / "vectors.npy").write_bytes(b"half")
    (store / "versions" / ("0" * 32)).mkdir()
    return store


def embed(store: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--store", str(store), *args])
    return result.exit_code, result.stderr


def fresh(baseline: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(baseline, copy)
    return copy


def without_new_indexes(before: State, after: State) -> State:
    """``after`` less the indexes ``before`` lacks: what ``embed extend`` leaves when the
    new version is published but its index fails (it says so, and how to build it)."""
    return State(after.versions, after.aliases,
                 {key: digest for key, digest in after.indexes.items() if key in before.indexes})


def check_after_fault(store: Path, before: State, after: State, exit_code: int,
                      stderr: str, where: str) -> None:
    if exit_code != 0:
        lines = stderr.strip().splitlines()
        assert exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), \
            f"{where}: {stderr!r}"
    now = state(store)
    if where.startswith("extend, indexed") and now == without_new_indexes(before, after):
        assert "its index was not extended" in stderr, f"{where}: {stderr!r}"
    else:
        assert now in (before, after), f"{where}: the store is neither as before nor as after"
    code, message = embed(store, "train", str(DATA / "sample.csv"), "--quiet")
    assert code == 0, f"{where}: the next write failed: {message}"


def counted_steps(baseline: Path, tmp_path: Path, write: str,
                  monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], State, State]:
    store = fresh(baseline, tmp_path, "counted")
    before = state(store)
    with injected(FaultPoints(), monkeypatch) as points:
        code, message = embed(store, *WRITES[write])
    assert code == 0, message
    return points.steps, before, state(store)


@pytest.mark.parametrize("write", WRITES)
def test_a_failure_at_any_step_leaves_the_store_before_or_after(
        baseline: Path, tmp_path: Path, write: str, monkeypatch: pytest.MonkeyPatch) -> None:
    steps, before, after = counted_steps(baseline, tmp_path, write, monkeypatch)
    assert len(steps) >= MIN_STEPS[write], steps  # the harness sees the write's steps
    assert before != after or write == "gc"
    for number, name in enumerate(steps, start=1):
        store = fresh(baseline, tmp_path, f"fail-{number}")
        with injected(FaultPoints(fail_at=number), monkeypatch):
            code, message = embed(store, *WRITES[write])
        check_after_fault(store, before, after, code, message,
                          f"{write}, step {number} of {len(steps)} ({name})")
        shutil.rmtree(store)


CRASH_RUNNER = """
import sys
from pytest import MonkeyPatch
from tests.store.faultpoints import FaultPoints, injected
from embedstore_cli.main import cli
with injected(FaultPoints(fail_at=int(sys.argv[1]), crash=True), MonkeyPatch()):
    cli.main(sys.argv[2:], prog_name="embed")
"""


@pytest.mark.parametrize("write", CRASHED)
def test_a_crash_at_any_step_leaves_the_store_before_or_after(
        baseline: Path, tmp_path: Path, write: str, monkeypatch: pytest.MonkeyPatch) -> None:
    steps, before, after = counted_steps(baseline, tmp_path, write, monkeypatch)
    for number, name in enumerate(steps, start=1):
        store = fresh(baseline, tmp_path, f"crash-{number}")
        ended = subprocess.run([sys.executable, "-c", CRASH_RUNNER, str(number), "--store",
                                str(store), *WRITES[write]], cwd=ROOT, capture_output=True,
                               text=True, check=False)
        assert ended.returncode == 137, f"step {number} ({name}) never came: {ended.stderr}"
        now = state(store)
        assert now in (before, after), f"{write}, crash at step {number} ({name})"
        code, message = embed(store, "gc")
        assert code == 0 and state(store) == now, message
        shutil.rmtree(store)


def test_the_counts_of_steps_are_reported(baseline: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {write: len(counted_steps(baseline, tmp_path / write.replace(" ", "-"), write,
                                       monkeypatch)[0]) for write in WRITES}
    print(json.dumps(counts))
    assert all(counts[write] >= MIN_STEPS[write] for write in WRITES)
