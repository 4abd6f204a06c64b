"""embed extend against a full retrain: quality over the new items, wall time, and the cost of
extending a version of a million items.

Protocol (debian-deps): a random 10% of the items is hidden with all their pairs, and a random
10% of the hidden items' pairs is held out of every run. The method (the default unless
``--method`` says otherwise) trains a parent version on the rest; ``embed extend`` then adds
the hidden items from their (remaining) pairs, and ``embed train`` retrains on all the
(remaining) pairs. Over the hidden items (and held-out pairs) that both versions hold:
sibling recall@10 (debian-deps' README: the share of an item's 10 nearest neighbours that come
from its source package) and held-out hits@10 (each held-out pair ranks each item's partner
among all items; the share in the top 10). Wall times are fresh processes end to end, the
median of ``--runs`` runs of each, retrain and extend taking turns so that they share the
machine's load; the library's own time is the same calls made in this process once its
imports are done.

``--sweep`` also folds the hidden items in with other weights of propagate's sharpening and
with the obvious fold-in (four averaging steps over the parent's final vectors), in process.

The million-item case trains (``embed train``, the default method) a generated graph of
``--big-items`` items in groups of 50, each item paired with 4 others of its group on average,
then extends it with ``--big-new`` new items, each paired with 5 known items of one group and
one other new item.

Usage::

    python benchmarks/bench_extend.py --pairs path/to/debian-deps/pairs.csv \\
        --sources path/to/debian-deps/sources.tsv --workdir work/extend [--runs 3] \\
        [--method '--method svd'] [--sweep]
    python benchmarks/bench_extend.py --workdir work/extend --big-items 1000000 [--big-new 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured
from pairbench import _csv, link_ranks, nearest, read_groups, unit_rows

import embedstore
from embedstore.inputs.pair_file import read_pairs
from embedstore.training.extend import extend_version

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


def embed(store: Path, *args: str) -> tuple[float, float, str]:
    """``embed ARGS`` in a fresh process: wall seconds, CPU seconds (user and system; other
    work on the machine inflates them far less than the wall), stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, _, out = run_measured([sys.executable, "-m", "embedstore_cli", "--store", str(store),
                                 *args])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, out


def version_vectors(store: Path, model: str, version: int
                    ) -> tuple[list[str], np.ndarray, embedstore.Store]:
    handle = embedstore.Store.open(store)
    info, vectors, _ = handle.open_version(model, version)
    return [item for item, _ in handle.items_and_counts(info)], np.array(vectors), handle


class Scores:
    """Sibling recall@10 and held-out hits@10 over the hidden items, as table rows."""

    def __init__(self, groups: dict[str, str], hidden: set[str],
                 held: list[tuple[str, str]]) -> None:
        self.groups, self.hidden, self.held = groups, hidden, held
        self.base: tuple[float, float] | None = None

    def row(self, name: str, items: list[str], vectors: np.ndarray, wall: str = "") -> str:
        recall = sibling_recall(items, vectors, self.groups, self.hidden)
        hits = link_ranks(items, vectors, self.held)[1]
        self.base = self.base or (recall, hits)
        return (f"| {name} | {wall} | {recall:.4f} ({recall / self.base[0]:.3f}x) | "
                f"{hits:.4f} ({hits / self.base[1]:.3f}x) |")


def debian(args: argparse.Namespace) -> None:
    workdir, store = args.workdir, args.workdir / "store"
    files, hidden, held = split(args.pairs, workdir, args.seed)
    method = args.method.split()
    embed(store, "train", str(files["rest"]), "--model", "parent", "--quiet", *method)
    loads = [os.getloadavg()[0]]
    walls: dict[str, list[float]] = {"retrain": [], "extend": []}
    cpus: dict[str, list[float]] = {"retrain": [], "extend": []}
    for run in range(args.runs):
        for key, command in (("retrain", ["train", str(files["all"]), "--model",
                                          f"retrain{run}", "--quiet", *method]),
                             ("extend", ["extend", str(files["new"]), "--model", "parent",
                                         "--from", "1", "--quiet", "--json"])):
            wall, cpu, out = embed(store, *command)
            walls[key].append(wall)
            cpus[key].append(cpu)
        extended = json.loads(out)
        loads.append(os.getloadavg()[0])
    inside = library_times(store, files, method)
    both = (set(version_vectors(store, "retrain0", 1)[0])
            & set(version_vectors(store, "parent", extended["version"])[0]))
    held = [(a, b) for a, b in held if a in both and b in both]
    scores = Scores(read_groups(args.sources), hidden & both, held)
    parent_items = len(version_vectors(store, "parent", 1)[0])
    print(f"hidden items {len(hidden & both):,} (of {len(hidden):,}: those in both versions), "
          f"held-out pairs {len(held):,}, parent items "
          f"{parent_items:,}, new items folded in {extended['n_items'] - parent_items:,}")
    print("| run | end to end: wall, CPU (medians) | the library's own: wall, CPU | "
          "sibling recall@10 | held-out hits@10 |\n|---|---:|---:|---:|---:|")
    for name, key, model, version in (("retrain (`embed train`, all pairs)", "retrain",
                                       "retrain0", 1),
                                      ("`embed extend` of the parent", "extend", "parent",
                                       extended["version"])):
        cost = [statistics.median(walls[key]), statistics.median(cpus[key]), *inside[key]]
        base = [statistics.median(walls["retrain"]), statistics.median(cpus["retrain"]),
                *inside["retrain"]]
        shown = [f"{value:.2f} s ({value / first:.2f}x)" for value, first in
                 zip(cost, base, strict=True)]
        items, vectors, _ = version_vectors(store, model, version)
        print(scores.row(name, items, vectors, f"{shown[0]}, {shown[1]} | {shown[2]}, "
                                               f"{shown[3]}"))
    print(f"load average (1 min) before and after each pair of runs: "
          f"{', '.join(f'{load:.2f}' for load in loads)}; walls {walls}; CPU {cpus}; notes: "
          f"{extended['notes']}")
    if args.sweep:
        sweep(store, files["new"], extended["version"], scores)


def library_times(store: Path, files: dict[str, Path], method: list[str]
                  ) -> dict[str, tuple[float, float]]:
    """Retrain and extend called in this process (imports done): the library's own wall and
    CPU seconds."""
    from embedstore.training.pipeline import train_file
    from embedstore.training.settings import choose_settings

    settings = choose_settings(False, method[1] if method else "propagate")
    wall, cpu = time.perf_counter(), time.process_time()
    train_file(files["all"], store=store, model="retrain-inside", settings=settings, quiet=True)
    found = {"retrain": (time.perf_counter() - wall, time.process_time() - cpu)}
    wall, cpu = time.perf_counter(), time.process_time()
    extend_version(files["new"], store=store, model="parent", parent=1, quiet=True)
    return found | {"extend": (time.perf_counter() - wall, time.process_time() - cpu)}


def sweep(store: Path, new: Path, extended: int, scores: Scores) -> None:
    """Other sharpening weights, and the obvious fold-in, over the same parent."""
    from embedstore.methods import propagate

    chosen = propagate.SHARPEN
    for weight in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0):
        propagate.SHARPEN = weight
        record = extend_version(new, store=store, model="parent", parent=1, quiet=True)
        items, vectors, _ = version_vectors(store, "parent", record.version)
        print(scores.row(f"propagate fold-in, own part weighed {1 + weight:g}x", items,
                         vectors))
    propagate.SHARPEN = chosen
    items, vectors, handle = version_vectors(store, "parent", extended)
    n_old = handle.version_info("parent", 1).n_items
    record = handle.version_record(handle.version_info("parent", extended))
    pairs = np.load(handle.inside_store(record.files["pairs"].path))
    for exponent in (0.0, 0.75):
        print(scores.row(f"four averaging steps over the parent's vectors, partner j weighed "
                         f"degree(j)^-{exponent:g}", items,
                         averaged(vectors[:n_old], pairs, len(items), exponent)))


def averaged(parent: np.ndarray, pairs: np.ndarray, n_items: int, exponent: float,
             steps: int = 4) -> np.ndarray:
    """The obvious fold-in: each new row the weighted mean of its partners' vectors (new
    partners at their previous step), ``steps`` times."""
    from scipy import sparse

    n_old = len(parent)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    degree = np.bincount(rows, minlength=n_items).astype(np.float64)
    new = rows >= n_old
    mean = sparse.csr_matrix((np.maximum(degree[cols[new]], 1) ** -exponent,
                              (rows[new] - n_old, cols[new])), shape=(n_items - n_old, n_items))
    vectors = np.vstack([parent, np.zeros((n_items - n_old, parent.shape[1]), np.float32)])
    for _ in range(steps):
        vectors[n_old:] = unit_rows(np.asarray(mean @ vectors))
    return vectors


def big(args: argparse.Namespace) -> None:
    """Train a generated graph of ``--big-items`` items and time extending it."""
    workdir, store = args.workdir / "big", args.workdir / "big" / "store"
    workdir.mkdir(parents=True, exist_ok=True)
    n, new = args.big_items, args.big_new
    rng = np.random.default_rng(args.seed)
    names = [f"i{i}" for i in range(n)] + [f"new{i}" for i in range(new)]
    left = np.repeat(np.arange(n), 2)
    right = (left // 50) * 50 + rng.integers(0, 50, len(left))
    parent = write_pairs(workdir / "parent.csv", names, left[left != right],
                         right[left != right])
    targets = rng.integers(0, n // 50, new) * 50
    new_left = np.concatenate([np.repeat(np.arange(n, n + new), 5), np.arange(n, n + new - 1)])
    new_right = np.concatenate([np.repeat(targets, 5) + rng.integers(0, 50, 5 * new),
                                np.arange(n + 1, n + new)])
    extra = write_pairs(workdir / "new.csv", names, new_left, new_right)
    if not (store / "embedstore.db").exists():
        wall, cpu, _ = embed(store, "train", str(parent), "--quiet")
        print(f"trained the {n:,}-item parent in {wall:.1f} s ({cpu:.1f} s CPU)",
              file=sys.stderr)
    load, runs = os.getloadavg()[0], []
    for _ in range(args.runs):
        runs.append(embed(store, "extend", str(extra), "--from", "1", "--quiet")[:2])
    wall, cpu = time.perf_counter(), time.process_time()
    extend_version(extra, store=store, parent=1, quiet=True)
    inside = (time.perf_counter() - wall, time.process_time() - cpu)
    walls, cpus = zip(*runs, strict=True)
    print(f"| extend a {n:,}-item parent by {new:,} items ({len(new_left):,} pairs) | "
          f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU end to "
          f"end (runs: {', '.join(f'{w:.2f}/{c:.2f}' for w, c in runs)}) | {inside[0]:.2f} s "
          f"wall, {inside[1]:.2f} s CPU in the library | load {load:.2f} -> "
          f"{os.getloadavg()[0]:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, help="debian-deps' pairs.csv")
    parser.add_argument("--sources", type=Path, help="debian-deps' sources.tsv")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", default="", help="embed train options of the parent and "
                        "the retrain (default: none, the default method)")
    parser.add_argument("--sweep", action="store_true", help="propagate: other weights")
    parser.add_argument("--big-items", type=int, default=0)
    parser.add_argument("--big-new", type=int, default=1000)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.pairs and args.sources:
        debian(args)
    if args.big_items:
        big(args)


if __name__ == "__main__":
    main()
