"""Counting and training on a Dask cluster against the same on this machine.

Counts the corpus with `embed pairs --sample 0` here and with `--engine dask`, checks that the
two give the same items and pair weights, then trains the cluster's shards with `embed train
--method svd` here and with `--engine dask`, and reports each command's wall time and peak RSS
(of the command on this machine; the workers' memory is not counted) and the largest
difference between the two sets of vectors. Without --scheduler, a LocalCluster of --workers
single-threaded worker processes is started for the run.

Usage::

    python benchmarks/bench_dask_train.py --corpus path/to/corpus.txt.gz \\
        --workdir work/dask [--scheduler tcp://HOST:8786 | --workers 2] [--dim 100]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured

import embedstore
from embedstore.inputs.parquet import read_parquet_pairs


@contextlib.contextmanager
def cluster(scheduler: str | None, workers: int) -> Iterator[str]:
    if scheduler:
        yield scheduler
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        yield local.scheduler_address


def named_counts(path: Path) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    cooc = read_parquet_pairs(path, min_count=0)
    items = cooc.items
    pairs = {tuple(sorted((items[a], items[b]))): w for a, b, w in zip(
        cooc.left.tolist(), cooc.right.tolist(), cooc.weight.tolist(), strict=True)}
    return dict(zip(items, cooc.item_counts.tolist(), strict=True)), pairs


def same_counts(work: Path) -> str:
    """Whether both runs counted the same items and pairs, and how far the sums differ."""
    (items, pairs), (cluster_items, cluster_pairs) = (named_counts(work / "local.parquet"),
                                                      named_counts(work / "counts"))
    if items.keys() != cluster_items.keys() or pairs.keys() != cluster_pairs.keys():
        return "False (different items or pairs)"
    keys = list(pairs)
    here = np.array([pairs[k] for k in keys])
    there = np.array([cluster_pairs[k] for k in keys])
    gap = float(np.max(np.abs(here - there) / here))
    return f"{gap <= 1e-12} ({len(items)} items, {len(keys)} pairs, largest relative gap {gap:.1e})"


def report(label: str, command: list[str]) -> None:
    wall, rss, _ = run_measured(command)
    print(f"{label}: {wall:.1f} s, peak RSS {rss / 2**20:.0f} MiB", flush=True)


def latest(store: Path) -> tuple[list[str], np.ndarray]:
    with embedstore.open(store) as vectors:
        rows = list(range(len(vectors)))
        return vectors.items_at(rows), vectors.row_vectors(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--scheduler", help="an existing cluster (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dim", type=int, default=100)
    args = parser.parse_args()
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    embed = [sys.executable, "-m", "embedstore_cli"]
    with cluster(args.scheduler, args.workers) as address:
        dask = ["--engine", "dask", "--scheduler", address]
        report("embed pairs (here)", [*embed, "pairs", str(args.corpus), "--sample", "0",
                                      "-o", str(work / "local.parquet"), "--quiet"])
        report("embed pairs --engine dask", [*embed, "pairs", str(args.corpus), "--sample", "0",
                                             "-o", f"{work}/counts/", "--quiet", *dask])
        print(f"cluster counts equal to local counts: {same_counts(work)}", flush=True)
        train = ["train", f"{work}/counts/", "--method", "svd", "--dim", str(args.dim),
                 "--quiet"]
        report("embed train --method svd (here)", [*embed, "--store", str(work / "here"),
                                                   *train])
        report("embed train --method svd --engine dask", [*embed, "--store",
                                                          str(work / "there"), *train, *dask])
    items, here = latest(work / "here")
    cluster_items, there = latest(work / "there")
    print(f"same items in the same order: {items == cluster_items}")
    print(f"largest |difference| between the vectors: {float(np.abs(here - there).max()):.2e} "
          f"(largest |entry| {float(np.abs(here).max()):.2e})")


if __name__ == "__main__":
    main()
