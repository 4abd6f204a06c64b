"""Skip-gram from text, side by side: embedstore's compiled kernel against gensim's Word2Vec.

One run measures, on the same corpus and the same number of threads (dimension 100, window 5,
5 negatives, sample 1e-3, min_count 5):

* the count-based default, ``embed train CORPUS --text`` (PPMI + SVD), end to end;
* gensim's Word2Vec skip-gram, 5 epochs from its random start (its own process);
* the kernel, 5 epochs from word2vec's random start, with negatives shared by a window
  (pWord2Vec) and drawn per pair (word2vec);
* the kernel started from the PPMI + SVD vectors (those of the default run: ``U S^0.25``,
  rescaled to a mean norm of 2.5, or as they are) with zero context vectors, or with the SVD's
  context side ``V S^0.25`` (same factor), for 1, 2, 3 epochs, at two starting rates;
* the whole pipeline for the rescaled start with zero context vectors (count and factorise as
  the default does, within its memory limit; read the text again as ids; skip-gram; publish)
  in its own process, for its wall time and peak memory against the default's.

Training time excludes reading the text (gensim's vocabulary pass, our encoding), which the
table reports apart; words/s per thread counts the corpus's tokens kept by min_count, times
epochs, over training time and threads; words/CPU-s the same words over the CPU time the
training took (all threads; gensim's includes its thread that reads and splits the text), which
other work on the machine disturbs much less than wall time. Every vector set is scored by the
same code (``bench_text.score``: analogies over the 30,000 most frequent words, WordSim-353
Spearman). The 1-minute load average is printed before each run: other work on the machine
slows both.

Usage::

    python benchmarks/bench_word2vec.py path/to/corpus.txt.gz path/to/questions-words.txt \\
        path/to/wordsim353.tsv --workdir work/w2v [--threads 2] [--svd-epochs 1,2,3] \\
        [--svd-alphas 0.025,0.0125] [--pipeline 2:0.025]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured
from bench_text import run_gensim, score

import embedstore
from embedstore.counting.token_ids import TextCorpus, corpus_from_blocks
from embedstore.counting.windows import count_blocks
from embedstore.engines.bounded.budget import default_text_memory_limit
from embedstore.engines.bounded.counts import BoundedCounts
from embedstore.engines.bounded.text_counts import count_text_within
from embedstore.engines.memory import MemoryCounts
from embedstore.inputs.corpus import Vocabulary, build_vocabulary, encode
from embedstore.methods.svd import fit_svd, svd_sides
from embedstore.methods.word2vec import rescaled_start, train_word2vec
from embedstore.schema import SvdSettings

SEED = 1


def load() -> float:
    """The 1-minute load average, printed as each run starts."""
    value = os.getloadavg()[0]
    print(f"load average before the next run: {os.getloadavg()}", file=sys.stderr, flush=True)
    return value


@dataclass
class Bench:
    args: argparse.Namespace
    store: Path
    rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, row: dict[str, object]) -> None:
        self.rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    def scored(self, model: str) -> tuple[float, float]:
        result = score(self.store, model, self.args.questions, self.args.wordsim)
        return float(result["analogy_30k"] or 0), float(result["wordsim_spearman"] or 0)


def svd_default(bench: Bench) -> float:
    """``embed train --text`` (the count-based default) end to end; its peak RSS in MB."""
    embed = str(Path(sys.executable).parent / "embed")
    before = load()
    wall, rss, _ = run_measured([embed, "--store", str(bench.store), "train",
                                 str(bench.args.corpus), "--text", "--model", "svd-default",
                                 "--quiet", "--json"])
    analogy, wordsim = bench.scored("svd-default")
    bench.add({"run": "svd default (embed train --text), end to end", "load": before,
               "train_s": wall, "analogy": analogy, "wordsim": wordsim,
               "peak_rss_mb": rss / 2**20})
    return rss / 2**20


def gensim(bench: Bench, words: int) -> None:
    """gensim sg, 5 epochs, ``threads`` workers, in its own process."""
    args = bench.args
    before = load()
    record = run_gensim(args.gensim_python, args.corpus, args.workdir, bench.store, "sg5", 1, 5,
                        workers=args.threads)
    analogy, wordsim = bench.scored("gensim-sg5")
    bench.add({"run": f"gensim sg, random start, 5 epochs (vocabulary pass "
                      f"{record['vocab_s']:.1f} s apart)", "load": before,
               "train_s": record["kernel_s"],
               "words_s_thread": words * 5 / record["kernel_s"] / args.threads,
               "words_cpu_s": words * 5 / record["kernel_cpu_s"],
               "analogy": analogy, "wordsim": wordsim, "peak_rss_mb": record["peak_rss_mb"]})


def kernel(bench: Bench, name: str, model: str, corpus: TextCorpus, vocabulary: Vocabulary,
           **settings: object) -> None:
    """One run of the kernel from the start in ``settings``, published and scored."""
    before = load()
    cpu = time.process_time()
    vectors, _, stats = train_word2vec(corpus, vocabulary.counts, threads=bench.args.threads,
                                       seed=SEED, **settings)  # type: ignore[arg-type]
    cpu = time.process_time() - cpu - stats.compile_seconds  # compiling runs on one thread
    embedstore.publish_vectors(vocabulary.items, vectors, store=bench.store, model=model,
                               counts=vocabulary.counts.astype(np.float64),
                               import_format="word2vec-kernel")
    analogy, wordsim = bench.scored(model)
    bench.add({"run": name, "load": before, "train_s": stats.seconds,
               "words_s_thread": stats.words_per_second_per_thread,
               "words_cpu_s": stats.words / cpu, "analogy": analogy,
               "wordsim": wordsim, "compile_s": stats.compile_seconds})


def read_text(bench: Bench) -> tuple[Vocabulary, TextCorpus]:
    """The vocabulary and the encoded corpus, as the kernel takes them."""
    start = time.perf_counter()
    vocabulary = build_vocabulary(bench.args.corpus, 5)
    corpus = corpus_from_blocks(encode(bench.args.corpus, vocabulary),
                                int(vocabulary.counts.sum()))
    print(f"read and encoded {corpus.n_tokens} tokens ({len(vocabulary.items)} items) in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return vocabulary, corpus


def both_sides(bench: Bench, vocabulary: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """The default run's vectors ``U S^0.25`` and the SVD's context side ``V S^0.25``, counted
    as the default counts (window 5, sample 1e-3, seed 0)."""
    start = time.perf_counter()
    cooc = count_blocks(encode(bench.args.corpus, vocabulary), vocabulary, window=5,
                        sample=1e-3, seed=0)
    settings = SvdSettings(add_context=False)
    word, context = svd_sides(*MemoryCounts(cooc).ppmi_products(settings), settings)
    print(f"counted and factorised in {time.perf_counter() - start:.1f} s", file=sys.stderr,
          flush=True)
    return word, context


def svd_starts(bench: Bench, corpus: TextCorpus, vocabulary: Vocabulary) -> None:
    """The kernel from the SVD's vectors: both starts, epochs and rates of the arguments, and
    the vectors as they are (not rescaled) for 2 epochs."""
    word, context = both_sides(bench, vocabulary)
    factor = float(np.linalg.norm(rescaled_start(word), axis=1).mean()
                   / np.linalg.norm(word, axis=1).mean())
    grid = [(scaled, start, epochs, alpha) for scaled in (True, False)
            for start in ("zero", "svd") for epochs in bench.args.svd_epochs
            for alpha in bench.args.svd_alphas if scaled or (epochs == 2 and alpha == 0.025)]
    for scaled, start, epochs, alpha in grid:
        gain = np.float32(factor if scaled else 1.0)
        kernel(bench, f"svd {'rescaled' if scaled else 'as is'} + {start} context, "
                      f"{epochs} epoch{'s' if epochs > 1 else ''}, alpha {alpha}",
               f"k-{'r' if scaled else 'u'}{start}-{epochs}-{alpha}", corpus, vocabulary,
               epochs=epochs, alpha=alpha, word_vectors=word * gain,
               context_vectors=None if start == "zero" else context * gain)


def pipeline_worker(args: argparse.Namespace) -> None:
    """The whole pipeline in this process: count and factorise as the default run does
    (within its memory limit), read the text again into ids, skip-gram from the rescaled
    vectors with zero context vectors, publish."""
    epochs, alpha = args.pipeline.split(":")
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    limit = default_text_memory_limit()
    cooc = count_text_within(args.corpus, memory_limit=limit)
    with BoundedCounts(cooc, limit) as counts:
        word = fit_svd(counts, SvdSettings(add_context=False, dim=100), None).vectors
    del cooc
    timings["count_svd_s"] = time.perf_counter() - clock
    vocabulary = build_vocabulary(args.corpus, 5)
    corpus = corpus_from_blocks(encode(args.corpus, vocabulary), int(vocabulary.counts.sum()))
    timings["read_ids_s"] = time.perf_counter() - clock - timings["count_svd_s"]
    vectors, _, stats = train_word2vec(corpus, vocabulary.counts, epochs=int(epochs),
                                       alpha=float(alpha), threads=args.threads, seed=SEED,
                                       word_vectors=rescaled_start(word))
    timings["kernel_s"] = stats.seconds + stats.compile_seconds
    embedstore.publish_vectors(vocabulary.items, vectors, store=args.workdir / "store",
                               model="pipeline", counts=vocabulary.counts.astype(np.float64),
                               import_format="word2vec-kernel")
    timings["total_s"] = time.perf_counter() - clock
    print(json.dumps(timings))


def pipeline(bench: Bench, default_rss_mb: float, n_items: int) -> None:
    """:func:`pipeline_worker` in its own process: wall time and peak RSS against the
    budget (the default's peak plus two n_items x 100 float32 matrices)."""
    args = bench.args
    before = load()
    wall, rss, out = run_measured([sys.executable, __file__, str(args.corpus),
                                   str(args.questions), str(args.wordsim), "--workdir",
                                   str(args.workdir), "--threads", str(args.threads),
                                   "--pipeline", args.pipeline, "--pipeline-worker"])
    timings = json.loads(out)
    analogy, wordsim = bench.scored("pipeline")
    budget = default_rss_mb + 2 * n_items * 100 * 4 / 2**20
    bench.add({"run": f"pipeline, svd rescaled + zero context, {args.pipeline} (epochs:alpha), "
                      "end to end: "
                      + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
                      + f"; memory budget {budget:.0f} MB", "load": before, "train_s": wall,
               "analogy": analogy, "wordsim": wordsim, "peak_rss_mb": rss / 2**20})


def table(rows: list[dict[str, object]]) -> str:
    """The rows as a markdown table."""
    def cell(row: dict[str, object], key: str, form: str) -> str:
        value = row.get(key)
        return "" if value is None else format(value, form)

    lines = ["| run | load before | train s | words/s/thread | words/CPU-s | analogy@30k "
             "| WordSim-353 | peak RSS MB |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['run']} | {cell(row, 'load', '.2f')} | "
                     f"{cell(row, 'train_s', '.1f')} | {cell(row, 'words_s_thread', ',.0f')} | "
                     f"{cell(row, 'words_cpu_s', ',.0f')} | "
                     f"{cell(row, 'analogy', '.4f')} | {cell(row, 'wordsim', '.4f')} | "
                     f"{cell(row, 'peak_rss_mb', '.0f')} |")
    return "\n".join(lines)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("wordsim", type=Path)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gensim-python", default=sys.executable,
                        help="python of an environment with gensim (default: this one)")
    parser.add_argument("--svd-epochs", type=lambda text: [int(v) for v in text.split(",")],
                        default=[1, 2, 3])
    parser.add_argument("--svd-alphas", type=lambda text: [float(v) for v in text.split(",")],
                        default=[0.025, 0.0125])
    parser.add_argument("--pipeline", default="2:0.025",
                        help="epochs and alpha of the pipeline run")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["default", "gensim", "random", "svd", "pipeline"])
    parser.add_argument("--pipeline-worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.pipeline_worker:
        pipeline_worker(args)
        return
    print(f"load average at the start: {os.getloadavg()}; threads {args.threads}",
          file=sys.stderr, flush=True)
    bench = Bench(args, args.workdir / "store")
    default_rss = svd_default(bench) if "default" not in args.skip else 0.0
    vocabulary, corpus = read_text(bench)
    if "gensim" not in args.skip:
        gensim(bench, corpus.n_tokens)
    if "random" not in args.skip:
        for shared in (True, False):
            kernel(bench, f"kernel, random start, 5 epochs, negatives "
                          f"{'shared by a window (pWord2Vec)' if shared else 'per pair'}",
                   f"k-random-{'shared' if shared else 'pairs'}", corpus, vocabulary,
                   epochs=5, shared_negatives=shared)
    if "svd" not in args.skip:
        svd_starts(bench, corpus, vocabulary)
    if "pipeline" not in args.skip:
        del corpus
        pipeline(bench, default_rss, len(vocabulary.items))
    print(f"load average at the end: {os.getloadavg()}", file=sys.stderr)
    print(table(bench.rows))


if __name__ == "__main__":
    main()
