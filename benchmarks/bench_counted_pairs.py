"""Counted text pairs: `embed pairs` on the benchmark corpus, then `embed train` on the file.

The pair file that `embed pairs` writes is count-like data at its densest (every word pairs
with hundreds of others). This measures what the default `embed train pairs.csv` makes of it
(analogy accuracy over the 30,000 most frequent words and WordSim-353 Spearman, as in
bench_text.py), beside the other pair methods, with each command's wall time and peak RSS.

Usage::

    python benchmarks/bench_counted_pairs.py --corpus path/to/corpus.txt.gz \\
        --questions path/to/questions-words.txt --wordsim path/to/wordsim353.tsv \\
        --workdir work/counted [--method 'name=--method propagate' ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured
from bench_text import score
from pairbench import parse_methods

DEFAULT_METHODS = {
    "`embed train pairs.csv` default (auto)": [],
    "`--method propagate`": ["--method", "propagate"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--wordsim", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--method", action="append", default=[])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    embed = str(Path(sys.executable).parent / "embed")
    pairs, store = args.workdir / "pairs.csv", args.workdir / "store"
    wall, rss, _ = run_measured([embed, "pairs", str(args.corpus), "-o", str(pairs), "--quiet"])
    rows: dict[str, dict[str, object]] = {
        "`embed pairs` (counting)": {"wall_s": wall, "peak_rss_mb": rss / 2**20}}
    for index, (name, extra) in enumerate(parse_methods(args.method, DEFAULT_METHODS).items()):
        wall, rss, out = run_measured([embed, "--store", str(store), "train", str(pairs),
                                       "--model", f"m{index}", "--quiet", "--json", *extra])
        record = json.loads(out)
        rows[name] = {"wall_s": wall, "peak_rss_mb": rss / 2**20,
                      "train_s": record["duration_seconds"], "notes": record["notes"],
                      **score(store, f"m{index}", args.questions, args.wordsim)}
        print(json.dumps(rows[name]), file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
