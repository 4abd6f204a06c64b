"""Counting a corpus and training on it within a memory limit, measured with /usr/bin/time -v.

``--corpus PATH``: runs ``embed pairs`` and ``embed train --text`` on the corpus without a
limit and with ``--memory-limit`` (default 256MB), and reports each run's wall time and peak
RSS, the time ratio, and whether the pair files are byte-identical and the vectors bit-identical;
then ``embed pairs -o X.parquet`` under the limit, and whether the Parquet file holds the CSV
file's rows, in order.

``--synthetic``: generates (once) a corpus of ``--tokens`` tokens (default 147M, ten times the
benchmark corpus) with a realistic vocabulary: Zipf-distributed words over ``--types``
possible types (at least a million of them occur), sentences of 5-40 tokens, each about one of
1,000 topics, and half of a sentence's words beyond the 1,000 most frequent drawn from its
topic's share of every frequency band (so words of one topic co-occur). Written gzipped with
numpy doing the drawing. Then ``embed train --text`` runs on it with the default memory limit
(and, with ``--baseline PATH``, on PATH too, for the time ratio; with ``--reference-limit``,
on the synthetic corpus again under that limit, one big enough for the SVD's dense matrices to
stay in memory, and the two runs' vectors are compared).

``--method NAME`` trains every run with that method (``svd`` compares bit for bit; ``svd+sgns``
on several threads varies from run to run).

Vectors are compared bit for bit, and where they differ by the largest difference of an entry
and by the top-10 neighbours (cosine, over all items) of 1,000 items drawn with seed 0.

Usage::

    python benchmarks/bench_text_memory.py --workdir work/textmem --corpus path/to/corpus.txt.gz
    python benchmarks/bench_text_memory.py --workdir work/textmem --synthetic \\
        --baseline path/to/corpus.txt.gz --reference-limit 8GB
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TOPICS = 1000
GENERAL = 1000
"""The most frequent words are never topical."""
BAND = 256
"""Topical words are moved within bands of this many consecutive frequency ranks."""


TRAIN_OPTIONS: list[str] = []
"""Options given to every ``embed train`` run (``--method``)."""


def timed(command: list[str]) -> dict[str, float]:
    """Wall seconds and peak RSS (MB) of ``command`` from /usr/bin/time -v."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True,
                            check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)",
                      result.stderr)[1]
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    return {"wall_s": round(seconds, 1), "peak_rss_mb": round(rss / 1024)}


def vectors(store: Path) -> np.ndarray:
    import embedstore

    with embedstore.open(store) as opened:
        return opened.row_vectors(list(range(len(opened))))


def vector_difference(one: Path, other: Path, queries: int = 1000) -> dict[str, object]:
    """How the vectors of two stores (the same items) differ: bits, the largest difference of
    an entry, and the top-10 neighbours of ``queries`` items drawn with seed 0."""
    import embedstore

    with embedstore.open(one) as first, embedstore.open(other) as second:
        assert first.items_at(range(len(first))) == second.items_at(range(len(second)))
    a, b = vectors(one), vectors(other)
    found: dict[str, object] = {"identical_vectors": a.tobytes() == b.tobytes(),
                                "max_abs_difference": float(np.abs(a - b).max()),
                                "largest_entry": float(np.abs(a).max()),
                                "entries_differing": int((a != b).sum())}
    chosen = np.random.default_rng(0).choice(len(a), min(queries, len(a)), replace=False)

    def neighbours(matrix: np.ndarray) -> np.ndarray:
        unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-30)
        tops = []
        for start in range(0, len(chosen), 100):
            rows = chosen[start:start + 100]
            scores = unit[rows] @ unit.T
            scores[np.arange(len(rows)), rows] = -np.inf
            tops.append(np.argsort(-scores, axis=1, kind="stable")[:, :10])
        return np.vstack(tops)

    same = (neighbours(a) == neighbours(b)).all(axis=1)
    found["top10_unchanged"] = f"{int(same.sum())} of {len(chosen)}"
    return found


def embed() -> str:
    return str(Path(sys.executable).parent / "embed")


def compare_runs(corpus: Path, workdir: Path, limit: str, unbounded: str
                 ) -> dict[str, object]:
    """embed pairs and embed train --text in memory (a limit of ``unbounded``, more than
    they need: nothing spills) and with ``--memory-limit limit``."""
    results: dict[str, object] = {}
    runs: dict[str, dict[str, float]] = {}
    for label, extra in (("unbounded", ["--memory-limit", unbounded]),
                         (limit, ["--memory-limit", limit])):
        output = workdir / f"pairs-{label}.csv"
        runs[f"pairs {label}"] = timed([embed(), "pairs", str(corpus), "-o", str(output),
                                        "--quiet", *extra])
        store = workdir / f"store-{label}"
        shutil.rmtree(store, ignore_errors=True)
        runs[f"train --text {label}"] = timed([embed(), "--store", str(store), "train",
                                               str(corpus), "--text", "--quiet", *extra,
                                               *TRAIN_OPTIONS])
        print(json.dumps(runs), file=sys.stderr, flush=True)
    for step in ("pairs", "train --text"):
        free, bounded = runs[f"{step} unbounded"], runs[f"{step} {limit}"]
        results[step] = {"unbounded": free, limit: bounded,
                         "time_ratio": round(bounded["wall_s"] / max(free["wall_s"], 1e-9), 2)}
    same_pairs = (workdir / "pairs-unbounded.csv").read_bytes() == \
        (workdir / f"pairs-{limit}.csv").read_bytes()
    results["pairs"]["identical_pair_files"] = same_pairs  # type: ignore[index]
    parquet = workdir / f"pairs-{limit}.parquet"
    results["pairs"]["parquet"] = timed(  # type: ignore[index]
        [embed(), "pairs", str(corpus), "-o", str(parquet), "--quiet", "--memory-limit", limit])
    results["pairs"]["parquet"]["same_rows_as_csv"] = same_rows(  # type: ignore[index]
        workdir / f"pairs-{limit}.csv", parquet)
    results["train --text"].update(  # type: ignore[attr-defined]
        vector_difference(workdir / "store-unbounded", workdir / f"store-{limit}"))
    return results


def same_rows(csv_path: Path, parquet_path: Path) -> bool:
    """Whether a pair file and a Parquet file hold the same rows in the same order."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet

    types = {"item_a": pa.string(), "item_b": pa.string(), "weight": pa.float64()}
    written = pyarrow.csv.read_csv(csv_path, convert_options=pyarrow.csv.ConvertOptions(
        column_types=types))
    return bool(written.equals(pyarrow.parquet.read_table(parquet_path)))


def generate(path: Path, tokens: int, types: int, seed: int = 0) -> dict[str, int]:
    """Write the synthetic corpus (gzipped); returns its token and type counts."""
    rng = np.random.default_rng(seed)
    words = np.array([f"{chr(97 + i % 26)}{np.base_repr(i, 36).lower()}".encode()
                      for i in range(types)], dtype=object)
    seen = np.zeros(types, dtype=np.int64)
    written = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        while written < tokens:
            sentences = min(200_000, (tokens - written) // 22 + 1)
            lengths = rng.integers(5, 41, sentences)
            n = int(lengths.sum())
            ids = (rng.zipf(1.22, n) - 1) % types
            topic = np.repeat(rng.integers(0, TOPICS, len(lengths)), lengths)
            topical = (ids >= GENERAL) & (rng.random(n) < 0.5)
            band = ids[topical] // BAND * BAND
            shifted = band + (ids[topical] - band + topic[topical] * 37) % BAND
            ids[topical] = np.minimum(shifted, types - 1)
            seen += np.bincount(ids, minlength=types)
            ends = np.cumsum(lengths)
            tokens_text = words[ids].tolist()
            lines = [b" ".join(tokens_text[a:b]) for a, b in zip(ends - lengths, ends,
                                                                   strict=True)]
            out.write(b"\n".join(lines) + b"\n")
            written += n
    return {"tokens": written, "types": int((seen > 0).sum()),
            "types_seen_5_times": int((seen >= 5).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, help="compare unbounded and bounded runs on it")
    parser.add_argument("--memory-limit", default="256MB")
    parser.add_argument("--unbounded-limit", default="64GB",
                        help="the limit of the in-memory runs compared with (nothing spills)")
    parser.add_argument("--synthetic", action="store_true",
                        help="generate the 10x corpus and train on it with the default limit")
    parser.add_argument("--tokens", type=int, default=147_000_000)
    parser.add_argument("--types", type=int, default=2_000_000)
    parser.add_argument("--baseline", type=Path,
                        help="with --synthetic: the 1x corpus, trained too for the time ratio")
    parser.add_argument("--method", help="embed train's --method (default: its own)")
    parser.add_argument("--reference-limit",
                        help="with --synthetic: train it again under this limit (the SVD's "
                             "dense matrices in memory) and compare the vectors")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    TRAIN_OPTIONS.extend(["--method", args.method] if args.method else [])
    results: dict[str, object] = {}
    if args.corpus is not None:
        results["memory limit"] = compare_runs(args.corpus, args.workdir, args.memory_limit,
                                                 args.unbounded_limit)
    if args.synthetic:
        corpus = args.workdir / f"synthetic-{args.tokens}.txt.gz"
        if not corpus.exists():
            started = time.perf_counter()
            made = generate(corpus, args.tokens, args.types)
            made["generation_s"] = round(time.perf_counter() - started)
            (args.workdir / f"{corpus.name}.json").write_text(json.dumps(made))
        synthetic: dict[str, object] = json.loads(
            (args.workdir / f"{corpus.name}.json").read_text())
        for name, path, extra in (("1x", args.baseline, []), ("synthetic", corpus, []),
                                  ("synthetic", corpus if args.reference_limit else None,
                                   ["--memory-limit", str(args.reference_limit)])):
            if path is None:
                continue
            limit = extra[-1] if extra else "default limit"
            store = args.workdir / f"store-{limit}-{name}".replace(" ", "-")
            shutil.rmtree(store, ignore_errors=True)
            synthetic[f"train --text {name} ({limit})"] = timed(
                [embed(), "--store", str(store), "train", str(path), "--text", "--quiet",
                 *extra, *TRAIN_OPTIONS])
            print(json.dumps(synthetic), file=sys.stderr, flush=True)
        if args.reference_limit:
            synthetic["vectors against the reference"] = vector_difference(
                args.workdir / f"store-{args.reference_limit}-synthetic",
                args.workdir / "store-default-limit-synthetic")
        if args.baseline is not None:
            synthetic["time_ratio"] = round(
                synthetic["train --text synthetic (default limit)"]["wall_s"]  # type: ignore[index]
                / synthetic["train --text 1x (default limit)"]["wall_s"], 2)  # type: ignore[index]
        results["synthetic 10x"] = synthetic
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
