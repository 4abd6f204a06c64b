"""Bigger than memory: aggregating a large generated pair file, three ways.

Generates a pair file (CSV, ``item_a,item_b,weight``; Zipf-distributed items over a large
vocabulary, so most pairs are distinct) and measures the wall time and peak RSS of:

- today's in-memory reader (``read_pair_data(..., spill=False)``),
- the out-of-core path under ``--memory-limit`` (``read_pair_data(..., spill=True)``), which
  also checks that its counts equal the in-memory reader's,
- DuckDB's own GROUP BY of the same file under the same limit (the unordered pair sums written
  to Parquet): the floor for any DuckDB-based path.

With ``--corpus``, it instead counts a text corpus with ``embed pairs`` here and with
``embed pairs --engine dask`` on a ``LocalCluster`` of two one-thread workers (the corpus
decompressed first, so the workers can split it), both with ``--sample 0``, and checks that
the two give the same counts.

Usage::

    python benchmarks/bench_scale.py --workdir work/scale --rows 20000000 \\
        --items 2000000 --memory-limit 256MB
    python benchmarks/bench_scale.py --workdir work/scale --corpus path/to/corpus.txt.gz
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured

READ = """
import sys, time, numpy as np
from embedstore.training.sources import read_pair_data
from embedstore.engines.bounded.budget import parse_memory_limit
start = time.perf_counter()
cooc = read_pair_data(sys.argv[1], spill=sys.argv[2] == "spill",
                      memory_limit=parse_memory_limit(sys.argv[3]))
seconds = time.perf_counter() - start
np.savez(sys.argv[4], counts=cooc.item_counts, left=cooc.left, right=cooc.right,
         weight=cooc.weight)
with open(sys.argv[4] + ".items", "w", encoding="utf-8") as handle:
    handle.write("\\n".join(cooc.items))
print(cooc.n_items, cooc.n_pairs, seconds)
"""

DUCKDB = """
import sys, tempfile, duckdb
from embedstore.engines.bounded.budget import parse_memory_limit
with tempfile.TemporaryDirectory() as scratch:
    con = duckdb.connect(scratch + "/db.duckdb")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{parse_memory_limit(sys.argv[2])}B'")
    con.execute(f"SET temp_directory = '{scratch}/spill'")
    con.execute(f"COPY (SELECT least(a, b) AS a, greatest(a, b) AS b, sum(w) AS w FROM "
                f"read_csv('{sys.argv[1]}', header=true, columns={{'a': 'VARCHAR', "
                f"'b': 'VARCHAR', 'w': 'DOUBLE'}}) GROUP BY ALL) TO '{sys.argv[3]}' "
                "(FORMAT parquet)")
    print(con.execute(f"SELECT count(*) FROM '{sys.argv[3]}'").fetchone()[0])
"""


def generate(path: Path, rows: int, items: int, seed: int = 0) -> None:
    """``rows`` rows of Zipf(1.1)-distributed items (ids folded into ``items``), weights 1-3."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    names = np.array([f"item{i}" for i in range(items)], dtype=object)
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with pacsv.CSVWriter(str(path), pa.schema([("item_a", pa.string()),
                                               ("item_b", pa.string()),
                                               ("weight", pa.int64())]),
                         write_options=options) as writer:
        for start in range(0, rows, 1 << 21):
            n = min(1 << 21, rows - start)
            a = (rng.zipf(1.1, n) - 1) % items
            b = (rng.zipf(1.1, n) - 1 + rng.integers(0, items, n)) % items
            writer.write_table(pa.table({"item_a": names[a].tolist(),
                                         "item_b": names[b].tolist(),
                                         "weight": rng.integers(1, 4, n)}))


def same(one: Path, other: Path) -> bool:
    first, second = np.load(one), np.load(other)
    arrays = all(np.array_equal(first[name], second[name]) for name in first.files)
    items = Path(f"{one}.items").read_text() == Path(f"{other}.items").read_text()
    return arrays and items


CLUSTER = """
import subprocess, sys, time
from distributed import LocalCluster
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        start = time.perf_counter()
        subprocess.run([sys.argv[1], "pairs", sys.argv[2], "-o", sys.argv[3], "--engine",
                        "dask", "--scheduler", cluster.scheduler_address, "--sample", "0",
                        "--quiet"], check=True)
        print(time.perf_counter() - start)
"""


def compare(local: Path, cluster: Path) -> dict[str, object]:
    """Items, distinct pairs and weights of the two counts, by name (row order differs)."""
    from embedstore.training.sources import read_pair_data

    def named(path: Path) -> tuple[dict[str, float], dict[frozenset[str], float]]:
        cooc = read_pair_data(path)
        items = cooc.items
        return (dict(zip(items, cooc.item_counts.tolist(), strict=True)),
                {frozenset((items[a], items[b])): w for a, b, w in
                 zip(cooc.left.tolist(), cooc.right.tolist(), cooc.weight.tolist(),
                     strict=True)})

    (counts, pairs), (other_counts, other_pairs) = named(local), named(cluster)
    same_pairs = pairs.keys() == other_pairs.keys()
    relative = np.array([abs(w - other_pairs[k]) / w for k, w in pairs.items()]) \
        if same_pairs else np.array([np.inf])
    return {"same_items": counts.keys() == other_counts.keys(), "same_pairs": same_pairs,
            "pairs": len(pairs), "identical_weights": int((relative == 0).sum()),
            "max_relative_weight_difference": float(relative.max())}


def cluster_counting(corpus: Path, workdir: Path) -> dict[str, dict[str, object]]:
    import gzip
    import shutil

    plain = workdir / "corpus.txt"
    if not plain.exists():
        with gzip.open(corpus, "rb") as source, plain.open("wb") as target:
            shutil.copyfileobj(source, target)
    embed = str(Path(sys.executable).parent / "embed")
    local, shards = workdir / "local.parquet", workdir / "cluster"
    for old in (local, shards):
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
    results: dict[str, dict[str, object]] = {}
    wall, rss, _ = run_measured([embed, "pairs", str(plain), "-o", str(local), "--sample", "0",
                                 "--quiet"])
    results["embed pairs (local)"] = {"wall_s": round(wall, 1), "peak_rss_mb": round(rss / 2**20)}
    wall, rss, out = run_measured([sys.executable, "-c", CLUSTER, embed, str(plain),
                                   f"{shards}/"])
    results["embed pairs --engine dask (LocalCluster, 2 workers)"] = {
        "wall_s": round(float(out.split()[-1]), 1),
        "largest_process_rss_mb": round(rss / 2**20),
        **compare(local, shards)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--items", type=int, default=2_000_000)
    parser.add_argument("--memory-limit", default="256MB")
    parser.add_argument("--corpus", type=Path)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.corpus is not None:
        print(json.dumps(cluster_counting(args.corpus, args.workdir), indent=1))
        return
    pairs = args.workdir / f"pairs-{args.rows}.csv"
    if not pairs.exists():
        generate(pairs, args.rows, args.items)
    python = sys.executable
    results: dict[str, dict[str, object]] = {"file": {"rows": args.rows,
                                                      "mb": pairs.stat().st_size / 1e6}}
    for name, mode in [("in-memory reader", "memory"), ("out of core (DuckDB)", "spill")]:
        wall, rss, out = run_measured([python, "-c", READ, str(pairs), mode, args.memory_limit,
                                       str(args.workdir / f"{mode}.npz")])
        n_items, n_pairs, seconds = out.split()
        results[name] = {"wall_s": round(wall, 1), "read_s": round(float(seconds), 1),
                         "peak_rss_mb": round(rss / 2**20), "items": int(n_items),
                         "pairs": int(n_pairs)}
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    results["out of core (DuckDB)"]["same_counts"] = same(args.workdir / "memory.npz",
                                                          args.workdir / "spill.npz")
    wall, rss, out = run_measured([python, "-c", DUCKDB, str(pairs), args.memory_limit,
                                   str(args.workdir / "duckdb.parquet")])
    results["DuckDB's own GROUP BY"] = {"wall_s": round(wall, 1),
                                        "peak_rss_mb": round(rss / 2**20),
                                        "pairs": int(out.split()[0])}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
