"""debian-deps: the dependency graph of Debian's packages, side by side with the anchors.

Measures every method behind ``embed train --method`` and two anchors on the real pair file
(sibling recall@10 as its README defines it, held-out links, wall time end to end, peak RSS).

Usage::

    python benchmarks/bench_debian.py --pairs path/to/debian-deps/pairs.csv \\
        --sources path/to/debian-deps/sources.tsv --workdir work/debian [--deepwalk] \\
        [--method 'name=--method propagate --steps 12' ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pairbench import dump, parse_methods, read_groups, run_benchmark

DEFAULT_METHODS = {
    "`embed train` default (auto)": [],
    "`--method propagate`": ["--method", "propagate"],
    "`--method svd`": ["--method", "svd"],
    "`--method sgns`": ["--method", "sgns"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--deepwalk", action="store_true", help="also run DeepWalk (minutes)")
    parser.add_argument("--method", action="append", default=[])
    args = parser.parse_args()
    anchors = ["propagation baseline"] + (["DeepWalk (gensim)"] if args.deepwalk else [])
    rows = run_benchmark(args.pairs, read_groups(args.sources), args.workdir,
                         parse_methods(args.method, DEFAULT_METHODS), anchors)
    dump(rows, args.workdir / "results.json")


if __name__ == "__main__":
    main()
