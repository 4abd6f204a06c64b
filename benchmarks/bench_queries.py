"""Query speed and memory: embedstore against bare numpy floors and gensim KeyedVectors.

Builds (or reuses) a store with a synthetic table of random vectors, saves the same vectors as
gensim KeyedVectors, and measures side by side in one run:

- cold start: a fresh process that opens the store and answers one ``similar`` (the ``embed``
  CLI and the Python API), against ``python -c "import numpy"`` and gensim's
  ``KeyedVectors.load(mmap="r")`` + ``most_similar``; wall time (median of runs) and peak RSS;
- warm single-query latency (median, p90) against a bare numpy matrix-vector product over the
  same memory-mapped matrix, and gensim's ``most_similar``;
- batch throughput for ``--queries`` ``similar`` queries (k=10) against the bare numpy floor
  (matrix-matrix product plus ``argpartition``, best chunk size of a sweep) and gensim answering
  them one by one.

Usage::

    python benchmarks/bench_queries.py --workdir work/qbench \\
        --gensim-python path/to/gensim-venv/bin/python --items 1000000 --dim 300

gensim runs in its own environment (``pip install gensim==4.4.0``); without
``--gensim-python`` its columns are left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import embedstore
from embedstore.store import Store

GENSIM_SAVE = """
import sys, numpy as np
from gensim.models import KeyedVectors
vectors = np.load(sys.argv[1], mmap_mode="r")
items = open(sys.argv[2], encoding="utf-8").read().split("\\n")
kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
kv.add_vectors(items, np.asarray(vectors, dtype=np.float32))
assert kv.vectors.dtype == np.float32 and kv.vectors.shape == vectors.shape
kv.save(sys.argv[3])
"""

GENSIM_COLD = """
import sys
from gensim.models import KeyedVectors
kv = KeyedVectors.load(sys.argv[1], mmap="r")
kv.most_similar(sys.argv[2], topn=10)
"""

GENSIM_WARM = """
import json, sys, time
from gensim.models import KeyedVectors
kv = KeyedVectors.load(sys.argv[1], mmap="r")
items = json.loads(sys.argv[2])
kv.most_similar(items[0], topn=10)
times = []
for item in items:
    start = time.perf_counter()
    kv.most_similar(item, topn=10)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
sys.stderr.write(f"\\nMAXRSS {usage.ru_maxrss} {status} {wall}\\n")
"""


def run_measured(command: list[str]) -> tuple[float, int, str]:
    """Wall time, the command's own peak RSS in bytes, and its stdout.

    A small launcher process forks the command and times it: a child forked (or spawned)
    straight from this benchmark would report this process's peak RSS as its own.
    """
    result = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *command],
                            capture_output=True, text=True, check=False)
    marker = result.stderr.rsplit("MAXRSS ", 1)
    fields = marker[1].split()
    maxrss, status, wall = int(fields[0]), int(fields[1]), float(fields[2])
    if result.returncode or status:
        raise SystemExit(f"{command} failed: {marker[0]}")
    return wall, maxrss * 1024, result.stdout


def build_store(workdir: Path, items: int, dim: int, model: str) -> Path:
    store = workdir / "store"
    try:
        with Store.open(store) as opened:
            info = opened.version_info(model)
            if (info.n_items, info.dim) == (items, dim):
                return store
    except embedstore.EmbedstoreError:
        pass
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((items, dim), dtype=np.float32)
    names = [f"item{i:08d}" for i in range(items)]
    start = time.perf_counter()
    embedstore.publish_vectors(names, vectors, store=store, model=model, import_format="random")
    print(f"built {items} x {dim} store in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return store


def vectors_path(store: Path, model: str) -> Path:
    with Store.open(store) as opened:
        info = opened.version_info(model)
    return store / info.directory / "vectors.npy"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--store", type=Path, help="use this existing store instead of building")
    parser.add_argument("--model", default="bench")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--warm-queries", type=int, default=200)
    parser.add_argument("--gensim-python", help="python of an environment with gensim installed")
    parser.add_argument("--gensim-batch-queries", type=int, default=300,
                        help="queries gensim answers one by one (its rate is extrapolated)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store = args.store or build_store(args.workdir, args.items, args.dim, args.model)
    matrix_file = vectors_path(store, args.model)
    results: dict[str, object] = {"store": str(store), "model": args.model,
                                  "vector_file_bytes": matrix_file.stat().st_size}
    with embedstore.open(store, model=args.model) as vectors:
        n_items = len(vectors)
        rng = np.random.default_rng(1)
        rows = rng.integers(0, n_items, size=max(args.queries, args.warm_queries))
        query_items = vectors.store.items_at(vectors.info, rows)
    results["shape"] = [n_items, int(np.load(matrix_file, mmap_mode="r").shape[1])]

    kv_path = args.workdir / f"gensim-{args.model}.kv"
    if args.gensim_python and not kv_path.exists():
        items_file = args.workdir / f"items-{args.model}.txt"
        with Store.open(store) as opened:
            info = opened.version_info(args.model)
            names = [item for item, _ in opened.items_and_counts(info)]
        items_file.write_text("\n".join(names), encoding="utf-8")
        subprocess.run([args.gensim_python, "-c", GENSIM_SAVE, str(matrix_file), str(items_file),
                        str(kv_path)], check=True)

    # -- cold start -------------------------------------------------------------------------
    embed = str(Path(sys.executable).parent / "embed")
    cold_commands = {
        "numpy import (floor)": [sys.executable, "-c", "import numpy"],
        "embed similar (CLI)": [embed, "--store", str(store), "similar", query_items[0],
                                "--model", args.model, "--k", "10"],
        "embedstore.open + similar (API)": [
            sys.executable, "-c",
            "import embedstore, sys; v = embedstore.open(sys.argv[1], model=sys.argv[2]); "
            "v.similar(sys.argv[3], k=10)", str(store), args.model, query_items[0]],
    }
    if args.gensim_python:
        cold_commands["gensim load(mmap) + most_similar"] = [
            args.gensim_python, "-c", GENSIM_COLD, str(kv_path), query_items[0]]
    for command in cold_commands.values():  # one unmeasured run each: files in page cache
        run_measured(command)
    cold: dict[str, dict[str, float]] = {}
    for name, command in cold_commands.items():
        runs = [run_measured(command) for _ in range(args.cold_runs)]
        cold[name] = {"wall_s": statistics.median(r[0] for r in runs),
                      "peak_rss_mb": max(r[1] for r in runs) / 2**20}
    results["cold"] = cold

    # -- warm single queries ----------------------------------------------------------------
    warm_items = query_items[: args.warm_queries]
    with embedstore.open(store, model=args.model) as vectors:
        matrix = np.load(matrix_file, mmap_mode="r")
        for item in warm_items[:10]:
            vectors.similar(item, k=10)
        ours = []
        for item in warm_items:
            start = time.perf_counter()
            vectors.similar(item, k=10)
            ours.append(time.perf_counter() - start)
        floor = []
        for row in rows[: args.warm_queries]:
            q = np.asarray(matrix[row])
            start = time.perf_counter()
            matrix @ q
            floor.append(time.perf_counter() - start)
    warm = {
        "matrix-vector product (floor)": floor,
        "embedstore similar": ours,
    }
    if args.gensim_python:
        _, _, out = run_measured([args.gensim_python, "-c", GENSIM_WARM, str(kv_path),
                                  json.dumps(warm_items)])
        warm["gensim most_similar"] = json.loads(out)
    results["warm_ms"] = {name: {"median": 1000 * statistics.median(t),
                                 "p90": 1000 * percentile(t, 90)} for name, t in warm.items()}

    # -- batch throughput -------------------------------------------------------------------
    batch_rows = rows[: args.queries]
    batch_items = query_items[: args.queries]
    matrix = np.load(matrix_file, mmap_mode="r")
    sweep_rows = batch_rows[: min(len(batch_rows), 2048)]
    sweep = {}
    for chunk in (64, 128, 256, 512, 1024, 2048):
        if chunk * n_items * 4 > 4 * 2**30:
            continue
        start = time.perf_counter()
        for first in range(0, len(sweep_rows), chunk):
            scores = np.asarray(matrix[sweep_rows[first : first + chunk]]) @ matrix.T
            np.argpartition(scores, n_items - 10, axis=1)
        sweep[chunk] = len(sweep_rows) / (time.perf_counter() - start)
    best_chunk = max(sweep, key=lambda c: sweep[c])
    start = time.perf_counter()
    for first in range(0, len(batch_rows), best_chunk):
        scores = np.asarray(matrix[batch_rows[first : first + best_chunk]]) @ matrix.T
        np.argpartition(scores, n_items - 10, axis=1)
    floor_rate = len(batch_rows) / (time.perf_counter() - start)

    queries = [{"op": "similar", "item": item, "k": 10} for item in batch_items]
    with embedstore.open(store, model=args.model) as vectors:
        start = time.perf_counter()
        for _ in vectors.batch(queries):
            pass
        api_rate = len(queries) / (time.perf_counter() - start)
    query_file = args.workdir / f"queries-{args.model}.jsonl"
    query_file.write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    start = time.perf_counter()
    subprocess.run([embed, "--store", str(store), "batch", str(query_file), "--model",
                    args.model], stdout=subprocess.DEVNULL, check=True)
    cli_rate = len(queries) / (time.perf_counter() - start)
    batch = {
        f"numpy matmul + argpartition, chunk {best_chunk} (floor)": floor_rate,
        "embedstore Embeddings.batch (API)": api_rate,
        "embed batch FILE > /dev/null (CLI, JSON out)": cli_rate,
    }
    if args.gensim_python:
        subset = batch_items[: args.gensim_batch_queries]
        _, _, out = run_measured([args.gensim_python, "-c", GENSIM_WARM, str(kv_path),
                                  json.dumps(subset)])
        batch["gensim most_similar one by one"] = len(subset) / sum(json.loads(out))
    results["batch_queries_per_s"] = batch
    results["floor_chunk_sweep_queries_per_s"] = sweep
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
