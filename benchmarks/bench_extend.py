"""embed extend against a full retrain: quality over the new items, wall time, and the cost of
extending a version of a million items.

Protocol (debian-deps): a random 10% of the items is hidden with all their pairs, and a random
10% of the hidden items' pairs is held out of every run. The default method trains a parent
version on the rest; ``embed extend`` then adds the hidden items from their (remaining) pairs,
and ``embed train`` retrains the default on all the (remaining) pairs. Over the hidden items
only: sibling recall@10 (debian-deps' README: the share of an item's 10 nearest neighbours
that come from its source package) and held-out hits@10 (each held-out pair ranks each item's
partner among all items; the share in the top 10). Wall times are fresh processes end to end,
the median of ``--runs`` runs of each, retrain and extend taking turns so that they share the
machine's load.

The million-item case trains (``embed train``, the default method) a generated graph of
``--big-items`` items in groups of 50, each item paired with 4 others of its group on average,
then extends it with ``--big-new`` new items, each paired with 5 known items of one group and
one other new item.

Usage::

    python benchmarks/bench_extend.py --pairs path/to/debian-deps/pairs.csv \\
        --sources path/to/debian-deps/sources.tsv --workdir work/extend [--runs 3] \\
        [--method '--method svd']
    python benchmarks/bench_extend.py --workdir work/extend --big-items 1000000 [--big-new 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured
from pairbench import _csv, link_ranks, nearest, read_groups, stored_vectors

from embedstore.inputs.pair_file import read_pairs

K = 10


def write_pairs(path: Path, items: list[str], left: np.ndarray, right: np.ndarray) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("item_a,item_b\n")
        handle.writelines(f"{_csv(items[a])},{_csv(items[b])}\n"
                          for a, b in zip(left.tolist(), right.tolist(), strict=True))
    return path


def split(pairs: Path, workdir: Path, seed: int) -> tuple[dict[str, Path], set[str],
                                                          list[tuple[str, str]]]:
    """The protocol's files: ``rest`` (the parent's pairs), ``all`` (the retrain's) and
    ``new`` (what extend reads); the hidden items and the held-out pairs."""
    counts = read_pairs(pairs)
    rng = np.random.default_rng(seed)
    hidden = rng.random(counts.n_items) < 0.1
    touching = hidden[counts.left] | hidden[counts.right]
    held = touching & (rng.random(counts.n_pairs) < 0.1)
    files = {}
    for name, chosen in (("rest", ~touching), ("all", ~held), ("new", touching & ~held)):
        files[name] = write_pairs(workdir / f"{name}.csv", counts.items, counts.left[chosen],
                                  counts.right[chosen])
    held_pairs = [(counts.items[a], counts.items[b])
                  for a, b in zip(counts.left[held], counts.right[held], strict=True)]
    return files, {counts.items[i] for i in np.flatnonzero(hidden)}, held_pairs


def sibling_recall(items: list[str], vectors: np.ndarray, groups: dict[str, str],
                   only: set[str]) -> float:
    """Sibling recall@10 over the items of ``only`` that have a sibling in ``items``."""
    names = {name: index for index, name in enumerate(sorted(set(groups.values())))}
    labels = np.array([names.get(groups.get(item, ""), -1) for item in items])
    labels[labels < 0] = -1 - np.arange((labels < 0).sum())
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    shared = sizes[inverse] - 1
    queries = np.array([row for row, item in enumerate(items)
                        if item in only and shared[row] > 0])
    found = nearest(vectors, queries, K)
    hits = (labels[found] == labels[queries][:, None]).sum(axis=1)
    return float(np.mean(hits / np.minimum(K, shared[queries])))


def embed(store: Path, *args: str) -> tuple[float, str]:
    wall, _, out = run_measured([sys.executable, "-m", "embedstore_cli", "--store", str(store),
                                 *args])
    return wall, out


def debian(args: argparse.Namespace) -> None:
    workdir, store = args.workdir, args.workdir / "store"
    files, hidden, held = split(args.pairs, workdir, args.seed)
    groups = read_groups(args.sources)
    method = args.method.split()
    embed(store, "train", str(files["rest"]), "--model", "parent", "--quiet", *method)
    loads, retrain_walls, extend_walls = [os.getloadavg()[0]], [], []
    for run in range(args.runs):
        wall, _ = embed(store, "train", str(files["all"]), "--model", f"retrain{run}", "--quiet",
                        *method)
        retrain_walls.append(wall)
        wall, out = embed(store, "extend", str(files["new"]), "--model", "parent", "--from",
                          "1", "--quiet", "--json")
        extend_walls.append(wall)
        extended = json.loads(out)
        loads.append(os.getloadavg()[0])
    rows = {}
    for name, model, version, walls in (("retrain (`embed train`, all pairs)", "retrain0", None,
                                         retrain_walls),
                                        ("`embed extend` of the parent", "parent",
                                         extended["version"], extend_walls)):
        items, vectors = stored_vectors_of(store, model, version)
        rows[name] = (statistics.median(walls), sibling_recall(items, vectors, groups, hidden),
                      link_ranks(items, vectors, held)[1])
    parent_items = len(stored_vectors_of(store, "parent", 1)[0])
    print(f"hidden items: {len(hidden):,}; held-out pairs: {len(held):,}; parent items: "
          f"{parent_items:,}; new items folded in: {extended['n_items'] - parent_items:,}")
    print("| run | wall, end to end (median) | sibling recall@10 | held-out hits@10 |")
    print("|---|---:|---:|---:|")
    for name, (wall, recall, hits) in rows.items():
        print(f"| {name} | {wall:.2f} s | {recall:.4f} | {hits:.4f} |")
    (base_wall, base_recall, base_hits), (wall, recall, hits) = rows.values()
    print(f"| extend / retrain | {wall / base_wall:.3f}x | {recall / base_recall:.3f}x | "
          f"{hits / base_hits:.3f}x |")
    print(f"load average (1 min) before and after each pair of runs: "
          f"{', '.join(f'{load:.2f}' for load in loads)}; walls retrain "
          f"{', '.join(f'{w:.2f}' for w in retrain_walls)} s, extend "
          f"{', '.join(f'{w:.2f}' for w in extend_walls)} s; notes: {extended['notes']}")


def stored_vectors_of(store: Path, model: str, version: int | None
                      ) -> tuple[list[str], np.ndarray]:
    import embedstore

    if version is None:
        return stored_vectors(store, model)
    with embedstore.open(store, model=model, version=version) as vectors:
        items = [item for item, _ in vectors.store.items_and_counts(vectors.info)]
        return items, np.array(vectors.row_vectors(list(range(len(items)))))


def big(args: argparse.Namespace) -> None:
    """Train a generated graph of ``--big-items`` items and time extending it."""
    workdir, store = args.workdir / "big", args.workdir / "big" / "store"
    workdir.mkdir(parents=True, exist_ok=True)
    n, new = args.big_items, args.big_new
    rng = np.random.default_rng(args.seed)
    names = [f"i{i}" for i in range(n)] + [f"new{i}" for i in range(new)]
    group = 50
    left = np.repeat(np.arange(n), 2)
    right = (left // group) * group + rng.integers(0, group, len(left))
    keep = left != right
    parent = write_pairs(workdir / "parent.csv", names, left[keep], right[keep])
    targets = rng.integers(0, n // group, new) * group
    new_left = np.concatenate([np.repeat(np.arange(n, n + new), 5),
                               np.arange(n, n + new - 1)])
    new_right = np.concatenate([np.repeat(targets, 5) + rng.integers(0, group, 5 * new),
                                np.arange(n + 1, n + new)])
    extra = write_pairs(workdir / "new.csv", names, new_left, new_right)
    if not (store / "embedstore.db").exists():
        wall, _ = embed(store, "train", str(parent), "--quiet")
        print(f"trained the {n:,}-item parent in {wall:.1f} s", file=sys.stderr)
    load = os.getloadavg()[0]
    walls, durations = [], []
    for _ in range(args.runs):
        wall, out = embed(store, "extend", str(extra), "--from", "1", "--quiet", "--json")
        walls.append(wall)
        durations.append(json.loads(out)["duration_seconds"])
    print(f"| extend a {n:,}-item parent by {new:,} items ({len(new_left):,} pairs) | "
          f"{statistics.median(walls):.2f} s end to end (runs: "
          f"{', '.join(f'{w:.2f}' for w in walls)}) | {statistics.median(durations):.2f} s "
          f"inside (read, fold in, publish) | load {load:.2f} -> {os.getloadavg()[0]:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, help="debian-deps' pairs.csv")
    parser.add_argument("--sources", type=Path, help="debian-deps' sources.tsv")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--big-items", type=int, default=0)
    parser.add_argument("--big-new", type=int, default=1000)
    parser.add_argument("--method", default="", help="embed train options of the parent and "
                        "the retrain (default: none, the default method)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.pairs and args.sources:
        debian(args)
    if args.big_items:
        big(args)


if __name__ == "__main__":
    main()
