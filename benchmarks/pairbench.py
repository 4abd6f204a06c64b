"""Shared measurement code for the pair-file benchmarks (one script per data set).

Two kinds of measure, because methods trade them differently:

- **group recall@10**: for every item with at least one other item of its group, the share of
  its 10 nearest neighbours (cosine, itself left out) that are of its group, divided by
  ``min(10, group size - 1)``; the mean over those items. For debian-deps the groups are
  source packages (its README's sibling recall@10).
- **held-out links**: a random 10% of the distinct pairs is hidden, the method trains on the
  rest, and each hidden pair ``(a, b)`` ranks ``b`` among all items by cosine to ``a`` (``a``
  left out) and ``a`` likewise; mean reciprocal rank and the share ranked in the top 10.

Every training run is a fresh ``embed train`` process, timed end to end (reading, training,
publishing) with its peak RSS; anchors run in their own processes the same way.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured

import embedstore
from embedstore.inputs.pair_file import read_pairs

K = 10


@dataclass
class Row:
    """One benchmark row: a method, its cost and its scores."""

    name: str
    wall_s: float
    peak_rss_mb: float
    group_recall: float | None = None
    link_mrr: float | None = None
    link_hits10: float | None = None

    def markdown(self) -> str:
        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.4f}"
        return (f"| {self.name} | {self.wall_s:.2f} s | {self.peak_rss_mb:,.0f} MB | "
                f"{fmt(self.group_recall)} | {fmt(self.link_mrr)} | {fmt(self.link_hits10)} |")


HEADER = ("| method | wall, end to end | peak RSS | group recall@10 | held-out MRR | "
          "held-out hits@10 |\n|---|---:|---:|---:|---:|---:|")


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def nearest(vectors: np.ndarray, queries: np.ndarray, k: int = K,
            block: int = 1024) -> np.ndarray:
    """Row ids of the ``k`` nearest rows (cosine) of each query row, the query itself left out."""
    unit = unit_rows(vectors)
    found = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), block):
        rows = queries[start:start + block]
        scores = unit[rows] @ unit.T
        scores[np.arange(len(rows)), rows] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1)
        found[start:start + block] = np.take_along_axis(top, order, 1)
    return found


def group_recall(items: list[str], vectors: np.ndarray, groups: dict[str, str],
                 k: int = K) -> float:
    """Mean group recall@k over the items that share their group with another item."""
    names = {name: index for index, name in enumerate(sorted(set(groups.values())))}
    labels = np.array([names.get(groups.get(item, ""), -1) for item in items])
    labels[labels < 0] = -1 - np.arange((labels < 0).sum())  # ungrouped: a group of one
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    shared = sizes[inverse] - 1
    queries = np.nonzero(shared > 0)[0]
    found = nearest(vectors, queries, k)
    hits = (labels[found] == labels[queries][:, None]).sum(axis=1)
    return float(np.mean(hits / np.minimum(k, shared[queries])))


def link_ranks(items: list[str], vectors: np.ndarray, hidden: list[tuple[str, str]],
               block: int = 1024) -> tuple[float, float]:
    """(mean reciprocal rank, hits@10) of the hidden pairs' partners among all items."""
    index = {item: row for row, item in enumerate(items)}
    pairs = np.array([(index[a], index[b]) for a, b in hidden if a in index and b in index])
    queries = np.concatenate([pairs[:, 0], pairs[:, 1]])
    targets = np.concatenate([pairs[:, 1], pairs[:, 0]])
    unit = unit_rows(vectors)
    ranks = np.empty(len(queries))
    for start in range(0, len(queries), block):
        rows, wanted = queries[start:start + block], targets[start:start + block]
        scores = unit[rows] @ unit.T
        scores[np.arange(len(rows)), rows] = -np.inf
        target_scores = scores[np.arange(len(rows)), wanted]
        ranks[start:start + block] = (scores > target_scores[:, None]).sum(axis=1) + 1
    return float(np.mean(1.0 / ranks)), float(np.mean(ranks <= 10))


def split_pairs(path: Path, workdir: Path, fraction: float = 0.1,
                seed: int = 0) -> tuple[Path, list[tuple[str, str]]]:
    """Write the distinct pairs of ``path`` less a random ``fraction`` (with their summed
    weights) to ``workdir/train-pairs.csv``; return it and the hidden pairs."""
    counts = read_pairs(path)
    rng = np.random.default_rng(seed)
    hide = rng.random(counts.n_pairs) < fraction
    items = counts.items
    train = workdir / "train-pairs.csv"
    weighted = not np.all(counts.weight == counts.weight[0])
    with train.open("w", encoding="utf-8") as handle:
        handle.write("item_a,item_b,weight\n" if weighted else "item_a,item_b\n")
        for left, right, weight in zip(counts.left[~hide], counts.right[~hide],
                                       counts.weight[~hide], strict=True):
            row = f"{_csv(items[left])},{_csv(items[right])}"
            handle.write(f"{row},{weight:.6g}\n" if weighted else row + "\n")
    hidden = [(items[a], items[b]) for a, b in zip(counts.left[hide], counts.right[hide],
                                                   strict=True)]
    return train, hidden


def _csv(item: str) -> str:
    return '"' + item.replace('"', '""') + '"' if any(c in item for c in ',"\n') else item


def train_embed(pairs: Path, store: Path, model: str, args: list[str]) -> tuple[float, float]:
    """``embed train`` in a fresh process: (wall seconds, peak RSS in MB)."""
    command = [sys.executable, "-m", "embedstore_cli", "--store", str(store), "train",
               str(pairs), "--model", model, "--quiet", *args]
    wall, rss, _ = run_measured(command)
    return wall, rss / 2**20


def stored_vectors(store: Path, model: str) -> tuple[list[str], np.ndarray]:
    with embedstore.open(store, model=model) as vectors:
        items = [item for item, _ in vectors.store.items_and_counts(vectors.info)]
        return items, np.array(vectors.row_vectors(list(range(len(items)))))


def run_script(script: str, args: list[str], out: Path) -> tuple[float, float]:
    """An anchor: ``python -c script args`` writing ``out.npy`` and ``out.vocab``."""
    wall, rss, _ = run_measured([sys.executable, "-c", script, *args, str(out)])
    return wall, rss / 2**20


def load_saved(out: Path) -> tuple[list[str], np.ndarray]:
    items = out.with_suffix(".vocab").read_text(encoding="utf-8").split("\n")[:-1]
    return items, np.load(out.with_suffix(".npy"))


def read_groups(path: Path) -> dict[str, str]:
    groups = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        item, _, group = line.partition("\t")
        groups[item] = group
    return groups


def dump(rows: list[Row], path: Path) -> None:
    path.write_text(json.dumps([row.__dict__ for row in rows], indent=1), encoding="utf-8")
    print(HEADER)
    for row in rows:
        print(row.markdown())


PROPAGATION_BASELINE = """
import sys
import numpy as np
from scipy import sparse
from embedstore.inputs.pair_file import read_pairs
# The recipe the method is measured against: random Gaussian vectors, then 8 steps of
# neighbour averaging, self-loop weight 1, neighbour j weighted by degree(j)^-0.75, every
# row re-normalised after each step.
path, out = sys.argv[1], sys.argv[2]
counts = read_pairs(path)
n = counts.n_items
rows = np.concatenate([counts.left, counts.right])
cols = np.concatenate([counts.right, counts.left])
adjacency = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n))
adjacency.data[:] = 1.0
degree = np.asarray(adjacency.sum(axis=1)).ravel()
step = (adjacency @ sparse.diags(np.maximum(degree, 1) ** -0.75)
        + sparse.identity(n, format="csr")).astype(np.float32).tocsr()
vectors = np.random.default_rng(0).standard_normal((n, 100)).astype(np.float32)
for _ in range(8):
    vectors = step @ vectors
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
np.save(out + ".npy", vectors)
open(out + ".vocab", "w", encoding="utf-8").write("".join(item + "\\n" for item in counts.items))
"""

DEEPWALK = """
import sys
import numpy as np
from scipy import sparse
from gensim.models import Word2Vec
from embedstore.inputs.pair_file import read_pairs
# DeepWalk: 10 uniform random walks of 40 steps from every item, then gensim skip-gram
# (dimension 100, window 5, 5 negatives, 1 epoch, no subsampling, 2 threads).
path, out = sys.argv[1], sys.argv[2]
counts = read_pairs(path)
n = counts.n_items
rows = np.concatenate([counts.left, counts.right])
cols = np.concatenate([counts.right, counts.left])
graph = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
degree = np.diff(graph.indptr)
rng = np.random.default_rng(0)
walks = []
for _ in range(10):
    current = rng.permutation(n)
    current = current[degree[current] > 0]
    steps = [current]
    for _ in range(39):
        pick = (rng.random(len(current)) * degree[current]).astype(np.int64)
        current = graph.indices[graph.indptr[current] + pick]
        steps.append(current)
    walks.extend(np.stack(steps, axis=1).tolist())
names = counts.items
sentences = [[names[i] for i in walk] for walk in walks]
model = Word2Vec(sentences, vector_size=100, window=5, negative=5, sg=1, epochs=1, sample=0,
                 min_count=1, workers=2, seed=1)
vectors = np.stack([model.wv[item] if item in model.wv.key_to_index else np.zeros(100)
                    for item in names]).astype(np.float32)
np.save(out + ".npy", vectors)
open(out + ".vocab", "w", encoding="utf-8").write("".join(item + "\\n" for item in names))
"""


ANCHORS = {"propagation baseline": PROPAGATION_BASELINE, "DeepWalk (gensim)": DEEPWALK}


def run_benchmark(pairs: Path, groups: dict[str, str], workdir: Path,
                  methods: dict[str, list[str]], anchors: list[str]) -> list[Row]:
    """Each method (``embed train`` arguments) and anchor on ``pairs``: cost and group recall
    on the whole file, held-out link scores from a run on the file less 10% of its pairs."""
    workdir.mkdir(parents=True, exist_ok=True)
    train_file, hidden = split_pairs(pairs, workdir)
    print(f"held out {len(hidden):,} pairs", file=sys.stderr)
    rows = []
    for index, (name, args) in enumerate(methods.items()):
        store = workdir / "store"
        wall, rss = train_embed(pairs, store, f"m{index}", args)
        items, vectors = stored_vectors(store, f"m{index}")
        row = Row(name, wall, rss, group_recall(items, vectors, groups))
        train_embed(train_file, store, f"m{index}-links", args)
        row.link_mrr, row.link_hits10 = link_ranks(*stored_vectors(store, f"m{index}-links"),
                                                   hidden)
        print(row.markdown(), file=sys.stderr, flush=True)
        rows.append(row)
    for name in anchors:
        out = workdir / f"anchor{len(rows)}"
        wall, rss = run_script(ANCHORS[name], [str(pairs)], out)
        row = Row(name, wall, rss, group_recall(*load_saved(out), groups))
        run_script(ANCHORS[name], [str(train_file)], out)
        row.link_mrr, row.link_hits10 = link_ranks(*load_saved(out), hidden)
        print(row.markdown(), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def parse_methods(given: list[str], defaults: dict[str, list[str]]) -> dict[str, list[str]]:
    """``--method 'name=--method svd --dim 64'`` entries, or the defaults."""
    if not given:
        return defaults
    return {entry.partition("=")[0]: entry.partition("=")[2].split() for entry in given}
