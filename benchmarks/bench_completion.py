"""Shell completion of an item prefix on a big version: the whole ``embed`` process, as the
shell runs it on a tab press, and the library call alone.

Publishes a version of ``--items`` items (random 8-dimensional vectors; completion reads only
the item index) unless the store already holds one, then times completing prefixes of
various lengths.

Usage::

    python benchmarks/bench_completion.py --store work/completion --items 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def build(store: Path, n_items: int) -> None:
    import embedstore

    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    items = ["".join(rng.choice(letters, 8)) + f"{i}" for i in range(n_items)]
    started = time.perf_counter()
    embedstore.publish_vectors(items, rng.standard_normal((n_items, 8), dtype=np.float32),
                               store=store)
    print(f"published {n_items:,} items in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not (args.store / "embedstore.db").exists():
        build(args.store, args.items)
    from embedstore.query.completion import complete_items

    print(f"load average before the runs: {os.getloadavg()[0]:.2f}")
    print("| prefix | completions | library median ms | `embed` process median ms |")
    print("|---|---:|---:|---:|")
    env = {**os.environ, "EMBED_STORE": str(args.store), "_EMBED_COMPLETE": "bash_complete",
           "COMP_CWORD": "2"}
    for prefix in ("", "a", "ab", "abc", "zzzz"):
        found, library = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            found = complete_items(args.store, "default", None, prefix)
            library.append(time.perf_counter() - started)
        process = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(["embed"], env={**env, "COMP_WORDS": f"embed similar {prefix}"},
                           check=True, capture_output=True)
            process.append(time.perf_counter() - started)
        print(f"| `{prefix}` | {len(found)} | {1000 * statistics.median(library):.1f} | "
              f"{1000 * statistics.median(process):.1f} |")


if __name__ == "__main__":
    main()
