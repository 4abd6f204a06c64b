"""Sweep the count-based trainer's settings on one corpus, counting it only once.

Usage::

    python benchmarks/sweep_svd.py --corpus path/to/corpus.txt.gz \\
        --questions path/to/questions-words.txt --wordsim path/to/wordsim353.tsv \\
        --workdir work/sweep --grid "eigen_weight=0,0.5" --grid "power_iterations=2,4"

Prints one JSON line per setting: training seconds, analogy accuracy (restrict 30000) and
WordSim-353 Spearman, scored by embedstore's evaluation.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import embedstore
from embedstore.query.evaluate import evaluate_analogies, evaluate_similarity
from embedstore.schema import SvdSettings
from embedstore.training.fitting import train_in_memory as train_svd
from embedstore.training.sources import count_text


def parse_grid(specs: list[str]) -> list[dict[str, object]]:
    axes = []
    for spec in specs:
        name, values = spec.split("=", 1)
        axes.append([(name, json.loads(value)) for value in values.split(",")])
    return [dict(combination) for combination in itertools.product(*axes)] or [{}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--wordsim", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--grid", action="append", default=[],
                        help='a setting and its values, e.g. "eigen_weight=0,0.5"')
    parser.add_argument("--setting", action="append", default=[],
                        help='one setting as JSON, e.g. \'{"eigen_weight": 0.5}\'')
    args = parser.parse_args()
    start = time.perf_counter()
    cooc = count_text(args.corpus, window=args.window)
    counted = time.perf_counter() - start
    print(json.dumps({"counting_s": round(counted, 1), "items": cooc.n_items,
                      "pairs": cooc.n_pairs}), flush=True)
    store = args.workdir / "sweep-store"
    settings_list = [json.loads(text) for text in args.setting] if args.setting else \
        parse_grid(args.grid)
    for overrides in settings_list:
        settings = SvdSettings(dim=100, **overrides)  # type: ignore[arg-type]
        start = time.perf_counter()
        vectors = train_svd(cooc, settings)
        trained = time.perf_counter() - start
        record = embedstore.publish_vectors(cooc.items, vectors, store=store, model="sweep",
                                            counts=cooc.item_counts)
        with embedstore.open(store, model="sweep", version=record.version) as opened:
            analogies = evaluate_analogies(opened, args.questions, restrict=30000)
            similarity = evaluate_similarity(opened, args.wordsim)
        print(json.dumps({**overrides, "train_s": round(trained, 1),
                          "analogy_30k": round(analogies.accuracy or 0, 4),
                          "wordsim": round(similarity.spearman or 0, 4)}), flush=True)


if __name__ == "__main__":
    main()
