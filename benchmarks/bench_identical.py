"""Bit for bit: the vectors a reference revision trains against the ones this checkout trains.

A restructuring of the training code must not change a single bit of what a user gets. This
script checks out ``--reference`` (any git revision) into a temporary worktree, trains the
same inputs with the same settings through the library of each revision (each in its own
process, with only that revision's ``embedstore`` on the path) and compares the vectors, the
items and their order, and the wall time of each run.

Usage::

    python benchmarks/bench_identical.py --reference 241021d --workdir work/identical \\
        --pairs data/sample.csv --pairs path/to/debian-deps/pairs.csv \\
        --text path/to/corpus.txt.gz
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAIR_RUNS = {
    "default (auto)": {},
    "svd": {"method": "svd"},
    "svd, --memory-limit 64MB": {"method": "svd", "memory_limit": 64 * 10**6},
    "sgns": {"method": "sgns"},
}
TEXT_RUNS = {"svd (the default before svd+sgns)": {"method": "svd"}}
TRAIN = """
import json, sys, numpy as np, embedstore
path, store, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
assert embedstore.__file__.startswith(sys.argv[4]), embedstore.__file__
record = embedstore.train_file(path, store=store, quiet=True, **options)
with embedstore.open(store) as vectors:
    np.save(sys.argv[5], np.asarray(vectors._vectors))
    json.dump(vectors.items_at(range(len(vectors))), open(sys.argv[5] + ".json", "w"))
"""


def train(checkout: Path, path: Path, options: dict[str, object], out: Path) -> float:
    """Train ``path`` with ``checkout``'s library; the wall time in seconds."""
    store = out.with_suffix(".store")
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", TRAIN, str(path), str(store), json.dumps(options),
                    str(checkout), str(out)], check=True, env=environment, cwd=out.parent)
    return time.perf_counter() - started


def compare(reference: Path, current: Path) -> str:
    same_items = (json.loads(reference.with_suffix(".npy.json").read_text())
                  == json.loads(current.with_suffix(".npy.json").read_text()))
    old, new = np.load(reference), np.load(current)
    if same_items and old.shape == new.shape and np.array_equal(old, new):
        return "identical"
    if not same_items or old.shape != new.shape:
        return "DIFFERENT items or shape"
    return f"DIFFERENT (max |difference| {float(np.abs(old - new).max()):.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="git revision to compare with")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, action="append", default=[])
    parser.add_argument("--text", type=Path, action="append", default=[])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    worktree = args.workdir / "reference"
    if not worktree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree),
                        args.reference], check=True)
    print(f"load average before the runs: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print("| input | run | result | reference s | this checkout s |\n|---|---|---|---:|---:|")
    jobs = [(path, name, {"text": False, **options}) for path in args.pairs
            for name, options in PAIR_RUNS.items()]
    jobs += [(path, name, {"text": True, **options}) for path in args.text
             for name, options in TEXT_RUNS.items()]
    for number, (path, name, options) in enumerate(jobs):
        old, new = args.workdir / f"{number}-ref.npy", args.workdir / f"{number}-new.npy"
        old_time = train(worktree.resolve(), path.resolve(), options, old)
        new_time = train(ROOT, path.resolve(), options, new)
        print(f"| {path.name} | {name} | {compare(old, new)} | {old_time:.1f} | "
              f"{new_time:.1f} |", flush=True)


if __name__ == "__main__":
    main()
