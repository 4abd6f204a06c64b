"""How long ``embed plot`` takes on a large version: 1,000,000 x 300 random vectors.

Builds (or reuses) a store with two versions of a model of random vectors, then runs each
``embed plot`` command in a fresh process ``--runs`` times (after one unmeasured run, so the
files are in the page cache) and prints the median wall time and the peak RSS (of which the
memory-mapped vector pages a full scan touches are a part).

Usage::

    python benchmarks/bench_plot.py --workdir work/plotbench --items 1000000 --dim 300
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

import embedstore
from benchmarks.bench_queries import build_store, run_measured
from embedstore.store import Store

MODEL = "bench"


def second_version(store: Path, items: int, dim: int) -> None:
    """A second version of the model (other random vectors, same items), unless it exists."""
    with Store.open(store) as opened:
        if opened.version_info(MODEL).version >= 2:
            return
        names = [item for item, _ in opened.items_and_counts(opened.version_info(MODEL, 1))]
    vectors = np.random.default_rng(1).standard_normal((items, dim), dtype=np.float32)
    embedstore.publish_vectors(names, vectors, store=store, model=MODEL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store = build_store(args.workdir, args.items, args.dim, MODEL)
    second_version(store, args.items, args.dim)
    embed = str(Path(sys.executable).parent / "embed")
    out = args.workdir
    middle, early = f"item{args.items // 2:08d}", "item00000007"
    cases = {
        "500 most frequent, PCA, PNG": ["-o", str(out / "top.png")],
        "500 most frequent, PCA, HTML": ["-o", str(out / "top.html")],
        "500 most frequent, t-SNE, PNG": ["-o", str(out / "tsne.png"), "--method", "tsne"],
        "10,000 most frequent, PCA, PNG": ["-o", str(out / "top10k.png"), "--items", "10000"],
        "--around ITEM --k 50, PNG": ["-o", str(out / "around.png"), "--around", middle],
        "--diff 1 2 --around ITEM --k 50, PNG": ["-o", str(out / "diff.png"), "--diff", "1",
                                                 "2", "--around", early],
    }
    results = {}
    for name, options in cases.items():
        command = [embed, "--store", str(store), "plot", "--model", MODEL, *options]
        run_measured(command)
        runs = [run_measured(command) for _ in range(args.runs)]
        results[name] = {"wall_s": round(statistics.median(r[0] for r in runs), 2),
                         "peak_rss_mb": round(max(r[1] for r in runs) / 2**20)}
        print(f"{name}: {results[name]}", file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
