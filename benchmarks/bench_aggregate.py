"""Out-of-core aggregation of a big pair file: ``embed pairs --pair-input`` against DuckDB's
own GROUP BY on the same file, memory limit and threads.

Generates (once, kept in ``--workdir``) a pair file of ``--rows`` rows over ``--items``
items, both Zipf-distributed (rank ``r`` drawn with probability about ``1/r``, ranks scattered
over the item names), with integer weights 1-3: Parquet written by DuckDB, or gzipped CSV with
``--format csv.gz``. Then, each under ``/usr/bin/time -v``:

- DuckDB alone: ``COPY (SELECT item_a, item_b, sum(weight) FROM read_parquet(...) GROUP BY
  ALL) TO 'own.parquet'`` (read_csv for CSV) under ``SET memory_limit``;
- ours: ``embed pairs FILE --pair-input -o ours.parquet --memory-limit LIMIT --quiet`` (items
  trimmed and in NFC, each pair's items in string order, bad rows checked), which DuckDB
  writes out of core without the pairs coming into Python.

Prints one JSON object: the file, each run's wall time, peak RSS and distinct pairs, and the
ratios ours / DuckDB's. ``--train`` also times the aggregation ``embed train`` does under
the limit (``read_pair_data(..., spill=True)``, the pairs back in memory as numpy arrays).

Usage::

    python benchmarks/bench_aggregate.py --workdir work/agg --rows 3000000 \\
        --memory-limit 200MB --train
    python benchmarks/bench_aggregate.py --workdir work/agg --rows 1000000000 \\
        --items 10000000 --memory-limit 2GB
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

OWN = """
import sys, tempfile, duckdb
source, limit, output = sys.argv[1:4]
reader = (f"read_parquet('{source}')" if source.endswith(".parquet") else
          f"read_csv('{source}', header=true, columns={{'item_a': 'VARCHAR', "
          "'item_b': 'VARCHAR', 'weight': 'DOUBLE'})")
with tempfile.TemporaryDirectory() as scratch:
    con = duckdb.connect(scratch + "/own.duckdb")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{limit}'")
    con.execute(f"SET temp_directory = '{scratch}/spill'")
    con.execute("SET preserve_insertion_order = false")  # DuckDB's advice for big GROUP BYs
    print(con.execute(f"COPY (SELECT item_a, item_b, sum(weight) AS weight FROM {reader} "
                      f"GROUP BY ALL) TO '{output}' (FORMAT parquet)").fetchone()[0])
"""

TRAIN = """
import sys
from embedstore.training.sources import read_pair_data
from embedstore.engines.bounded.budget import parse_memory_limit
cooc = read_pair_data(sys.argv[1], spill=True, memory_limit=parse_memory_limit(sys.argv[2]))
print(cooc.n_pairs + cooc.n_negative_pairs)
"""


def generate(path: Path, rows: int, items: int) -> float:
    """Write the pair file with DuckDB (all cores); the seconds it took."""
    import duckdb

    def uniform(salt: int) -> str:  # a deterministic uniform draw in [0, 1) per row
        return f"((hash(i * 2 + {salt}) >> 11)::DOUBLE / 9007199254740992.0)"

    def item(salt: int) -> str:  # Zipf(1) rank, scattered over the names by a multiplier
        rank = f"(floor(pow({items}, {uniform(salt)}))::BIGINT - 1)"
        return f"'item' || (({rank} * 2654435761) % {items})::VARCHAR"

    output = ("(FORMAT parquet)" if path.suffix == ".parquet" else
              "(FORMAT csv, HEADER true, COMPRESSION gzip)")
    start = time.perf_counter()
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    partial = path.with_name(path.name + ".partial")
    connection.execute(f"COPY (SELECT {item(0)} AS item_a, {item(1)} AS item_b, "
                       f"(1 + hash(i) % 3)::BIGINT AS weight FROM range({rows}) t(i)) "
                       f"TO '{partial}' {output}")
    partial.rename(path)
    return time.perf_counter() - start


def measured(command: list[str]) -> dict[str, object]:
    """Wall time, peak RSS and last stdout line of ``command`` under ``/usr/bin/time -v``."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                            check=False)
    if result.returncode:
        raise SystemExit(f"{command} failed:\n{result.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    assert wall is not None and rss is not None, result.stderr
    seconds = sum(float(part) * 60 ** power for power, part in
                  enumerate(reversed(wall.group(1).strip().split(":"))))
    numbers = re.findall(r"\d+", result.stdout)
    return {"wall_s": round(seconds, 1), "peak_rss_mb": round(int(rss.group(1)) / 1024),
            "pairs": int(numbers[0]) if numbers else None, "stdout": result.stdout.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--format", choices=["parquet", "csv.gz"], default="parquet")
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--train", action="store_true",
                        help="also time the aggregation embed train does (pairs into memory)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    pairs = args.workdir / f"pairs-{args.rows}-{args.items}.{args.format}"
    results: dict[str, object] = {"file": {"path": pairs.name, "rows": args.rows,
                                           "items": args.items}}
    if not pairs.exists():
        results["file"]["generate_s"] = round(generate(pairs, args.rows, args.items), 1)  # type: ignore[index]
    results["file"]["mb"] = round(pairs.stat().st_size / 1e6)  # type: ignore[index]
    own, ours = args.workdir / "own.parquet", args.workdir / "ours.parquet"
    for old in (own, ours):
        old.unlink(missing_ok=True)
    python, embed = sys.executable, str(Path(sys.executable).parent / "embed")
    results["duckdb_group_by"] = measured([python, "-c", OWN, str(pairs), args.memory_limit,
                                           str(own)])
    results["duckdb_group_by"].pop("stdout")  # type: ignore[attr-defined]
    print(json.dumps(results["duckdb_group_by"]), file=sys.stderr, flush=True)
    results["embed_pairs"] = run = measured([embed, "pairs", str(pairs), "--pair-input", "-o",
                                       str(ours), "--memory-limit", args.memory_limit, "--quiet"])
    # Out of core only when the file is over half the limit (four times its size for Parquet
    # or gzip); the in-memory path also reports the items ("of M items").
    run["out_of_core"] = "items" not in str(run.pop("stdout"))
    if args.train:
        results["train_aggregation"] = measured([python, "-c", TRAIN, str(pairs),
                                                 args.memory_limit])
        results["train_aggregation"].pop("stdout")  # type: ignore[attr-defined]
    own_run, our_run = results["duckdb_group_by"], results["embed_pairs"]
    results["ratio"] = {key: round(our_run[key] / max(own_run[key], 1e-9), 2)  # type: ignore[index, operator]
                        for key in ("wall_s", "peak_rss_mb")}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
