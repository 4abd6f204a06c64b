"""Graphs of every shape side by side: debian-deps, the co-purchase log and WordNet's nouns.

The three pair files differ in shape: a dependency graph (8.5 distinct partners per item,
hubs such as libc6 that pair with everything), a count-like co-purchase log (71.1 partners)
and a hierarchy that is nearly a tree (WordNet's noun hypernyms, 2.1 partners; built by
``wordnet_graph.py``). Each method runs on each file with the measures of ``pairbench.py``:
group recall@10 (siblings, categories, lexicographer files) and held-out links (a random 10% of
the distinct pairs hidden). The anchor ``propagate 0.7 + svd 0.3`` is the mix measured in the
issue that asked for this: the unit-length vectors of today's propagation (weight 0.7) and of
``--method svd`` (weight 0.3), concatenated (200 dimensions).

Usage::

    python benchmarks/bench_shapes.py --workdir work/shapes \\
        --debian path/to/debian-deps/pairs.csv path/to/debian-deps/sources.tsv \\
        --wordnet work/wordnet/pairs.csv work/wordnet/groups.tsv \\
        [--copurchase] [--mix] [--method 'name=--method propagate --steps 32' ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pairbench
from bench_copurchase import generate
from pairbench import parse_methods, read_groups, run_benchmark

TODAY = ["--method", "propagate", "--degree-exponent", "0.75", "--steps", "16",
         "--average-from", "8"]
"""The default before graphs of other shapes were measured, spelled out."""
METHODS = {
    "`embed train` default (auto)": [],
    "propagate as before (exponent 0.75, 16 steps)": TODAY,
    "`--method svd`": ["--method", "svd"],
}

MIX = """
import sys
import numpy as np
from embedstore.engines.memory import MemoryCounts
from embedstore.geometry import unit_rows
from embedstore.inputs.pair_file import read_pairs
from embedstore.methods.propagate import fit_propagate
from embedstore.methods.svd import fit_svd
from embedstore.schema import PropagateSettings, SvdSettings
# The issue's mix: unit-length propagation vectors (weight 0.7, the settings before this
# benchmark) and unit-length svd vectors (weight 0.3, the pair-file settings), concatenated.
path, out = sys.argv[1], sys.argv[2]
counts = read_pairs(path)
spread = fit_propagate(MemoryCounts(counts), PropagateSettings(), None).vectors
factored = fit_svd(MemoryCounts(counts), SvdSettings(add_context=True), None).vectors
vectors = np.hstack([0.7 * unit_rows(spread), 0.3 * unit_rows(factored)]).astype(np.float32)
np.save(out + ".npy", vectors)
open(out + ".vocab", "w", encoding="utf-8").write("".join(item + "\\n" for item in counts.items))
"""
pairbench.ANCHORS["propagate 0.7 + svd 0.3 (concatenated)"] = MIX


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--debian", type=Path, nargs=2, metavar=("PAIRS", "SOURCES"))
    parser.add_argument("--wordnet", type=Path, nargs=2, metavar=("PAIRS", "GROUPS"))
    parser.add_argument("--copurchase", action="store_true", help="generate and run the log")
    parser.add_argument("--mix", action="store_true", help="also run the propagate+svd mix")
    parser.add_argument("--method", action="append", default=[])
    args = parser.parse_args()
    data: dict[str, tuple[Path, Path]] = {}
    if args.wordnet:
        data["wordnet"] = (args.wordnet[0], args.wordnet[1])
    if args.debian:
        data["debian-deps"] = (args.debian[0], args.debian[1])
    if args.copurchase:
        folder = args.workdir / "copurchase"
        folder.mkdir(parents=True, exist_ok=True)
        data["co-purchase"] = (folder / "copurchase.csv", folder / "groups.tsv")
        if not data["co-purchase"][0].exists():
            generate(*data["co-purchase"], items=20000, categories=400, baskets=200000)
    anchors = ["propagate 0.7 + svd 0.3 (concatenated)"] if args.mix else []
    results = {}
    for name, (pairs, groups) in data.items():
        print(f"## {name}", file=sys.stderr, flush=True)
        rows = run_benchmark(pairs, read_groups(groups), args.workdir / name,
                             parse_methods(args.method, METHODS), anchors)
        results[name] = [row.__dict__ for row in rows]
        print(f"\n### {name}\n\n{pairbench.HEADER}")
        print("\n".join(row.markdown() for row in rows), flush=True)
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
