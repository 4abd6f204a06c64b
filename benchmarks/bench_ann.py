"""The approximate index against exact search, on a synthetic clustered matrix.

Builds a store holding one version of ``--items`` x ``--dim`` vectors drawn from a Gaussian
mixture of ``--centres`` centres (uniform random vectors have no neighbours to find), builds its
index of ``--kind`` (ivf or hnsw; ``--lists`` and ``--probes`` are passed on for ivf) with
``embed index build`` under ``/usr/bin/time -v`` (wall time, peak memory), and measures in one
run (the same fields for either kind):

- recall@k of the index against exact search over ``--queries`` items of the version;
- single-query latency (median, p90) of ``similar`` with the index and with ``exact=True``;
- batch throughput of the same queries through ``Embeddings.batch``, with and without the index;
- index size against the bytes of the vectors;
- cold ``embed similar`` with the index (a fresh process, median of ``--cold-runs``) against
  ``python -c "import numpy"``.

Run it with one BLAS thread (``OPENBLAS_NUM_THREADS=1``) to compare both searches on one core;
the index searches on one thread. Prints one JSON object.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_ann.py --workdir work/ann-1m \\
        --items 1000000 --dim 100 --centres 10000 --queries 1000 --build-threads 2 --kind ivf
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import embedstore
from embedstore.store import Store

CHUNK = 262144


def mixture(items: int, dim: int, centres: int, spread: float, seed: int) -> np.ndarray:
    """``items`` points, each a random centre plus Gaussian noise of ``spread`` per axis."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((centres, dim)).astype(np.float32)
    vectors = np.empty((items, dim), dtype=np.float32)
    for start in range(0, items, CHUNK):
        n = min(CHUNK, items - start)
        vectors[start : start + n] = means[rng.integers(0, centres, n)] + spread * \
            rng.standard_normal((n, dim), dtype=np.float32)
    return vectors


def timed_command(args: list[str]) -> dict[str, float]:
    """Run a command under ``/usr/bin/time -v``: its wall seconds and peak RSS (MiB)."""
    result = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True,
                            check=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    assert wall and rss, result.stderr
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    return {"wall_seconds": round(hours * 3600 + minutes * 60 + seconds, 2),
            "peak_rss_mib": round(int(rss.group(1)) / 1024, 1)}


def median_run(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def latencies(call: object, items: list[str]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median_ms": round(1000 * statistics.median(ordered), 3),
            "p90_ms": round(1000 * ordered[int(0.9 * (len(ordered) - 1))], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--centres", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=0.5,
                        help="Noise per axis around a centre (the centres are N(0, 1)).")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--build-threads", type=int, default=0)
    parser.add_argument("--kind", choices=["ivf", "hnsw"], default="ivf")
    parser.add_argument("--lists", type=int, help="ivf: lists (default: from the items).")
    parser.add_argument("--probes", type=int, help="ivf: lists searched per query.")
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="Keep the store afterwards.")
    args = parser.parse_args()

    store = args.workdir / "store"
    if store.exists():
        shutil.rmtree(store)
    args.workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"items": args.items, "dim": args.dim, "centres": args.centres,
                                 "spread": args.spread, "queries": args.queries, "k": args.k,
                                 "kind": args.kind, "build_threads": args.build_threads,
                                 "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    started = time.perf_counter()
    vectors = mixture(args.items, args.dim, args.centres, args.spread, args.seed)
    items = [f"i{row}" for row in range(args.items)]
    embedstore.publish_vectors(items, vectors, store=store)
    report["publish_seconds"] = round(time.perf_counter() - started, 1)
    vector_bytes = vectors.nbytes
    del vectors

    embed = [sys.executable, "-m", "embedstore_cli", "--store", str(store)]
    settings = [f"--{name}={value}" for name, value in (("lists", args.lists),
                                                        ("probes", args.probes))
                if value is not None]
    if settings and args.kind != "ivf":
        parser.error("--lists and --probes are settings of --kind ivf")
    report["build"] = timed_command([*embed, "index", "build", "--quiet", "--kind", args.kind,
                                     *settings, "--threads", str(args.build_threads)])
    with Store.open(store) as handle:
        index = handle.index_record(handle.version_info("default"))
    assert index is not None
    report["index_bytes"] = index.bytes
    report["vector_bytes"] = vector_bytes
    report["index_to_vectors"] = round(index.bytes / vector_bytes, 3)
    report["settings"] = index.settings

    rng = np.random.default_rng(args.seed + 1)
    queries = [items[row] for row in rng.choice(args.items, args.queries, replace=False)]
    k = args.k
    with embedstore.open(store) as opened:
        opened.similar(queries[0], k=k)  # touch the mapped files once
        truth = {item: [n.item for n in opened.similar(item, k=k, exact=True)]
                 for item in queries}
        found = {item: [n.item for n in opened.similar(item, k=k)] for item in queries}
        report["recall_at_k"] = round(statistics.mean(
            len(set(found[item]) & set(truth[item])) / k for item in queries), 4)
        exact_times = latencies(lambda item: opened.similar(item, k=k, exact=True), queries)
        index_times = latencies(lambda item: opened.similar(item, k=k), queries)
        report["single_exact"] = summary(exact_times)
        report["single_index"] = summary(index_times)
        report["single_speedup"] = round(statistics.median(exact_times)
                                         / statistics.median(index_times), 1)
        throughput = {}
        for name, exact in (("exact", True), ("index", False)):
            lines = [{"op": "similar", "item": item, "k": k, "exact": exact}
                     for item in queries]
            began = time.perf_counter()
            answered = list(opened.batch(lines))
            throughput[name] = round(len(answered) / (time.perf_counter() - began), 1)
            assert all(result.ok for result in answered)
        report["batch_queries_per_second"] = throughput
        report["batch_speedup"] = round(throughput["index"] / throughput["exact"], 1)

    numpy_cold = median_run([sys.executable, "-c", "import numpy"], args.cold_runs)
    similar_cold = median_run([*embed, "similar", queries[0], "--k", str(k)], args.cold_runs)
    report["cold"] = {"import_numpy_seconds": round(numpy_cold, 3),
                      "embed_similar_index_seconds": round(similar_cold, 3),
                      "ratio": round(similar_cold / numpy_cold, 2)}
    if not args.keep:
        shutil.rmtree(store)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
