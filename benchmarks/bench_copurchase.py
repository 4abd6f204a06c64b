"""A generated co-purchase log, side by side with the anchors: count-like pair data.

The log has known groups and skewed popularity: ``--items`` products in ``--groups``
categories of Zipf-distributed sizes, product popularity Zipfian (exponent 1); each basket
picks a category by popularity and 2-12 products, each from that category with probability
0.8 (by popularity within it) or from all products (by popularity) otherwise, and writes every
pair of its distinct products as a row. Rows repeat, so the file reads as counts. The measures
are those of debian-deps: group recall@10 (the category) and held-out links.

Usage::

    python benchmarks/bench_copurchase.py --workdir work/copurchase [--baskets 200000] \\
        [--method 'name=--method svd' ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_debian import DEFAULT_METHODS
from pairbench import dump, parse_methods, read_groups, run_benchmark


def generate(pairs: Path, groups: Path, items: int, categories: int, baskets: int,
             noise: float = 0.2, seed: int = 0) -> int:
    """Write the log (``item_a,item_b`` rows) and its groups (``item<TAB>group``)."""
    rng = np.random.default_rng(seed)
    sizes = rng.zipf(1.6, categories).astype(float)
    sizes = np.maximum(2, sizes / sizes.sum() * items).astype(int)
    group = np.repeat(np.arange(categories), sizes)[:items]
    group = np.concatenate([group, rng.integers(0, categories, items - len(group))])
    rng.shuffle(group)
    popularity = 1.0 / np.arange(1, items + 1)
    rng.shuffle(popularity)
    members = [np.nonzero(group == g)[0] for g in range(categories)]
    category_share = np.array([popularity[m].sum() for m in members])
    within = [popularity[m] / popularity[m].sum() for m in members]
    overall = popularity / popularity.sum()
    names = [f"p{i:06d}" for i in range(items)]
    chosen = rng.choice(categories, baskets, p=category_share / category_share.sum())
    lengths = np.minimum(2 + rng.geometric(0.4, baskets), 12)
    rows = 0
    with pairs.open("w", encoding="utf-8") as handle:
        handle.write("item_a,item_b\n")
        for category, length in zip(chosen, lengths, strict=True):
            in_category = int((rng.random(length) >= noise).sum())
            basket = np.unique(np.concatenate([
                rng.choice(members[category], in_category, p=within[category]),
                rng.choice(items, length - in_category, p=overall)]))
            left, right = np.triu_indices(len(basket), 1)
            handle.writelines(f"{names[basket[a]]},{names[basket[b]]}\n"
                              for a, b in zip(left, right, strict=True))
            rows += len(left)
    groups.write_text("".join(f"{names[i]}\tg{group[i]}\n" for i in range(items)),
                      encoding="utf-8")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--groups", type=int, default=400)
    parser.add_argument("--baskets", type=int, default=200000)
    parser.add_argument("--deepwalk", action="store_true", help="also run DeepWalk (minutes)")
    parser.add_argument("--method", action="append", default=[])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    pairs, groups = args.workdir / "copurchase.csv", args.workdir / "groups.tsv"
    if not pairs.exists():
        rows = generate(pairs, groups, args.items, args.groups, args.baskets)
        print(f"generated {rows:,} rows", file=sys.stderr)
    anchors = ["propagation baseline"] + (["DeepWalk (gensim)"] if args.deepwalk else [])
    rows = run_benchmark(pairs, read_groups(groups), args.workdir,
                         parse_methods(args.method, DEFAULT_METHODS), anchors)
    dump(rows, args.workdir / "results.json")


if __name__ == "__main__":
    main()
