"""Training from raw text, side by side: embedstore against gensim's Word2Vec.

Each tool runs in its own process on the same corpus with matching settings (dimension 100,
window 5, min_count 5, sample 1e-3, 5 negatives, 2 worker threads for gensim), timed from
raw text to stored vectors, with its peak RSS. Both tools' vectors are then scored by the
same code (embedstore's evaluation, which follows gensim's ``evaluate_word_analogies`` with
``restrict_vocab=30000`` and ``evaluate_word_pairs``).

Usage::

    python benchmarks/bench_text.py --corpus path/to/corpus.txt.gz \\
        --questions path/to/questions-words.txt --wordsim path/to/wordsim353.tsv \\
        --gensim-python path/to/gensim-venv/bin/python --workdir work/textbench \\
        --gensim sg5 [--gensim sg10 --gensim cbow5] [--embed-arg=--power-iterations=6 ...]

gensim runs in its own environment (``pip install gensim==4.4.0``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured

import embedstore
from embedstore.query.evaluate import evaluate_analogies, evaluate_similarity

GENSIM_TRAIN = """
import json, sys, time
import numpy as np
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
corpus, out, sg, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
workers = int(sys.argv[5]) if len(sys.argv) > 5 else 2
start = time.perf_counter()
model = Word2Vec(sg=sg, negative=5, window=5, vector_size=100, min_count=5, sample=1e-3,
                 workers=workers, seed=1, epochs=epochs)
model.build_vocab(LineSentence(corpus))
counted, cpu = time.perf_counter(), time.process_time()
model.train(LineSentence(corpus), total_examples=model.corpus_count, epochs=epochs)
trained, cpu = time.perf_counter() - start, time.process_time() - cpu
np.save(out + ".npy", model.wv.vectors)
with open(out + ".vocab", "w", encoding="utf-8") as handle:
    for word in model.wv.index_to_key:
        handle.write(f"{word}\\t{model.wv.get_vecattr(word, 'count')}\\n")
print(json.dumps({"train_s": trained, "vocab_s": counted - start,
                  "kernel_s": trained - (counted - start), "kernel_cpu_s": cpu}))
"""
"""gensim's run: ``train_s`` from the start to trained vectors, of which ``vocab_s`` is the
vocabulary pass and ``kernel_s`` the training passes (``Word2Vec(sentences)`` does both), which
took ``kernel_cpu_s`` of CPU time (all of the process's threads)."""

GENSIM_RUNS = {"sg5": (1, 5), "sg10": (1, 10), "cbow5": (0, 5)}


def score(store: Path, model: str, questions: Path, wordsim: Path) -> dict[str, float | None]:
    with embedstore.open(store, model=model) as vectors:
        analogies = evaluate_analogies(vectors, questions, restrict=30000)
        similarity = evaluate_similarity(vectors, wordsim)
    return {"analogy_30k": analogies.accuracy, "analogy_scored": analogies.scored,
            "wordsim_spearman": similarity.spearman, "wordsim_pairs": similarity.pairs}


def run_gensim(python: str, corpus: Path, workdir: Path, store: Path, name: str, sg: int,
               epochs: int, workers: int) -> dict[str, float]:
    """Train gensim's Word2Vec in its own process (:data:`GENSIM_TRAIN`) and publish its
    vectors to ``store`` as model ``gensim-NAME``: wall time, peak RSS and gensim's timings."""
    prefix = workdir / f"gensim-{name}"
    wall, rss, out = run_measured([python, "-c", GENSIM_TRAIN, str(corpus), str(prefix),
                                   str(sg), str(epochs), str(workers)])
    vocab = [line.split("\t") for line in
             prefix.with_suffix(".vocab").read_text(encoding="utf-8").splitlines()]
    embedstore.publish_vectors(
        [item for item, _ in vocab], np.load(prefix.with_suffix(".npy")), store=store,
        model=f"gensim-{name}", counts=np.array([float(c) for _, c in vocab]),
        import_format="gensim")
    return {"wall_s": wall, "peak_rss_mb": rss / 2**20, **json.loads(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--wordsim", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--gensim-python", help="python of an environment with gensim")
    parser.add_argument("--gensim", action="append", choices=sorted(GENSIM_RUNS), default=[],
                        help="gensim runs to make (repeatable); default sg5")
    parser.add_argument("--embed-arg", action="append", default=[],
                        help="extra argument for embed train (repeatable)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store = args.workdir / "store"
    embed = str(Path(sys.executable).parent / "embed")
    rows: dict[str, dict[str, object]] = {}

    command = [embed, "--store", str(store), "train", str(args.corpus), "--text", "--model",
               "embedstore", "--quiet", "--json", *args.embed_arg]
    wall, rss, out = run_measured(command)
    record = json.loads(out)
    rows["embedstore " + " ".join(["train --text", *args.embed_arg])] = {
        "wall_s": wall, "peak_rss_mb": rss / 2**20, "version": record["version"],
        **score(store, "embedstore", args.questions, args.wordsim)}
    print(json.dumps(rows, indent=1), file=sys.stderr)

    if args.gensim_python:
        for name in args.gensim or ["sg5"]:
            sg, epochs = GENSIM_RUNS[name]
            rows[f"gensim Word2Vec {name}"] = {
                **run_gensim(args.gensim_python, args.corpus, args.workdir, store, name, sg,
                             epochs, workers=2),
                **score(store, f"gensim-{name}", args.questions, args.wordsim)}
            print(json.dumps(rows, indent=1), file=sys.stderr)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
