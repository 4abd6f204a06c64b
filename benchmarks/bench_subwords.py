"""Subword vectors, side by side: ``embed train --text --subwords`` against gensim's FastText.

One run, on the same corpus and dimension (100; window 5, min_count 5, sample 1e-3):

* ``embed train CORPUS --text --threads 1`` and the same with ``--subwords`` (one thread, so a
  seed gives the same vectors in both runs): wall time of each, the subword fit's own time
  (the record's note), and the in-vocabulary scores of both (analogies over the 30,000 most
  frequent words, WordSim-353 Spearman), which must be identical, as must the vectors;
* gensim's FastText, skip-gram, 5 epochs, n-grams 3 to 6, its default 2,000,000 buckets, 2
  workers, in its own process: its training time (vocabulary pass included);
* a misspelling set: every word of ``questions-words.txt`` and ``wordsim353.tsv`` in the
  vocabulary, with one inner letter dropped, swapped with the next or doubled (drawn with a
  fixed seed, the others tried in turn when the first gives a word of the vocabulary);
  only strings that are not in the vocabulary are kept, one per word;
* hits@10 of each tool on it: the share of misspellings whose original word is among the 10
  nearest neighbours of the vector built from its n-grams, and for ours also on the
  misspellings that are not among the typos the fit saw (:func:`embedstore.subwords.fitting.typos`);
* the levers: the same fit, on the vectors of the run without ``--subwords``, with other
  settings (``--sweep``), scored the same way.

The 1-minute load average is printed before each run: other work on the machine slows both.

Usage::

    python benchmarks/bench_subwords.py path/to/corpus.txt.gz path/to/questions-words.txt \\
        path/to/wordsim353.tsv --workdir work/subwords [--gensim-python PYTHON] \\
        [--embed-arg=--subword-buckets=500000 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import run_measured
from bench_text import score

import embedstore
from embedstore.subwords.fitting import fit_subwords, typos
from embedstore.subwords.ngrams import compose

SWEEP = {"buckets 500,000": {"buckets": 500_000}, "no typos": {"typo_copies": 0},
         "no typos, 2,000,000 buckets": {"typo_copies": 0, "buckets": 2_000_000},
         "no typos, flat weights": {"typo_copies": 0, "flat": True}}
"""Settings of :func:`fit_subwords` tried beside the default (``flat``: no count weights)."""

SEED = 1
MIN_MISSPELLINGS = 1000
FASTTEXT_TRAIN = """
import json, sys, time
from gensim.models import FastText
from gensim.models.word2vec import LineSentence
corpus, misspelt = sys.argv[1], sys.argv[2]
start, cpu = time.perf_counter(), time.process_time()
model = FastText(sg=1, epochs=5, min_n=3, max_n=6, vector_size=100, window=5, min_count=5,
                 sample=1e-3, negative=5, workers=2, seed=1)
model.build_vocab(LineSentence(corpus))
model.train(LineSentence(corpus), total_examples=model.corpus_count, epochs=model.epochs)
trained, cpu = time.perf_counter() - start, time.process_time() - cpu
pairs = json.load(open(misspelt, encoding="utf-8"))
hits = sum(word in {found for found, _ in model.wv.most_similar(wrong, topn=10)}
           for wrong, word in pairs)
print(json.dumps({"train_s": trained, "train_cpu_s": cpu, "vocabulary": len(model.wv),
                  "buckets": model.wv.bucket, "hits_at_10": hits / len(pairs),
                  "misspellings_in_its_vocabulary": sum(w in model.wv.key_to_index
                                                        for w, _ in pairs)}))
"""
"""gensim's run: training time from the start (vocabulary pass included) and its hits@10."""


def load() -> float:
    value = os.getloadavg()[0]
    print(f"load average before the next run: {os.getloadavg()}", file=sys.stderr, flush=True)
    return value


def evaluation_words(questions: Path, wordsim: Path) -> set[str]:
    """The words of the analogy questions and of WordSim-353, lowercased."""
    words: set[str] = set()
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(":"):
            words.update(line.lower().split())
    for line in wordsim.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            words.update(part.lower() for part in line.split("\t")[:2])
    return words


def misspell(word: str, kind: str, rng: random.Random) -> str | None:
    """``word`` with one inner letter dropped, swapped with the next inner one, or doubled."""
    if kind == "swap":
        if len(word) < 4:
            return None
        at = rng.randrange(1, len(word) - 2)
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if len(word) < 3:
        return None
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1:] if kind == "drop" else word[:at] + word[at] + word[at:]


def misspellings(words: set[str], vocabulary: set[str], seed: int = SEED,
                 least: int = MIN_MISSPELLINGS) -> list[list[str]]:
    """One ``[misspelling, word]`` per word of ``words`` in the vocabulary, not itself in the
    vocabulary nor made twice (sorted words, fixed seed)."""
    rng = random.Random(seed)
    made: list[list[str]] = []
    seen: set[str] = set()
    for word in sorted(words & vocabulary):
        if not re.fullmatch(r"[a-z]+", word):
            continue
        kinds = ["drop", "swap", "double"]
        rng.shuffle(kinds)
        for kind in kinds:
            wrong = misspell(word, kind, rng)
            if wrong is not None and wrong not in vocabulary and wrong not in seen:
                seen.add(wrong)
                made.append([wrong, word])
                break
    if len(made) < least:
        raise SystemExit(f"only {len(made)} misspellings; the target asks for {least}")
    return made


def our_hits(store: Path, model: str, pairs: list[list[str]]) -> dict[str, float]:
    """hits@10 of the version's subword vectors on ``pairs``, through batch queries."""
    queries = [{"op": "similar", "item": wrong, "k": 10} for wrong, _ in pairs]
    with embedstore.open(store, model=model) as vectors:
        answers = list(vectors.batch(queries))
    hits = sum(answer.ok and word in {n.item for n in answer.results or []}
               for answer, (_, word) in zip(answers, pairs, strict=True))
    built = sum(bool(answer.query and answer.query.get("from_subwords")) for answer in answers)
    return {"hits_at_10": hits / len(pairs), "answered_from_subwords": built}


def unseen(pairs: list[list[str]], vocabulary: list[str]) -> list[list[str]]:
    """The misspellings that are not among the typos the default fit saw."""
    seen = set(typos(vocabulary)[0])
    return [pair for pair in pairs if pair[0] not in seen]


def sweep(store: Path, pairs: list[list[str]]) -> dict[str, dict[str, float]]:
    """hits@10 of fits with the :data:`SWEEP` settings, to the vectors of model ``plain``."""
    with embedstore.open(store, model="plain") as vectors:
        items = vectors.items_at(range(len(vectors)))
        matrix = vectors.row_vectors(range(len(vectors)))
        counts = np.array([count for _, count in vectors.store.items_and_counts(vectors.info)])
        rows = {item: row for row, item in enumerate(items)}
        found: dict[str, dict[str, float]] = {}
        for name, settings in SWEEP.items():
            load()
            options = {key: value for key, value in settings.items() if key != "flat"}
            fitted = fit_subwords(items, matrix, None if settings.get("flat") else counts,
                                  **options)
            answers = vectors.nearest(compose([wrong for wrong, _ in pairs], fitted.table), 10,
                                      [[] for _ in pairs], exact=True)
            hits = sum(rows[word] in {rows[n.item] for n in answer}
                       for answer, (_, word) in zip(answers, pairs, strict=True))
            found[name] = {"hits_at_10": hits / len(pairs), "fit_s": fitted.seconds}
            print(name, json.dumps(found[name]), file=sys.stderr, flush=True)
    return found


def train(embed: str, store: Path, corpus: Path, model: str, extra: list[str]
          ) -> dict[str, object]:
    load()
    wall, rss, out = run_measured([embed, "--store", str(store), "train", str(corpus), "--text",
                                   "--threads", "1", "--model", model, "--quiet", "--json",
                                   *extra])
    record = json.loads(out)
    fit = next((float(match.group(1)) for note in record["notes"]
                if (match := re.search(r"fitted in ([0-9.]+) s", note))), None)
    return {"wall_s": wall, "peak_rss_mb": rss / 2**20, "subword_fit_s": fit,
            "notes": record["notes"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("wordsim", type=Path)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--gensim-python", default=sys.executable,
                        help="python of an environment with gensim (default: this one)")
    parser.add_argument("--embed-arg", action="append", default=[],
                        help="extra argument for the --subwords run (repeatable)")
    parser.add_argument("--skip-fasttext", action="store_true")
    parser.add_argument("--no-sweep", action="store_true", help="leave out the levers")
    parser.add_argument("--min-misspellings", type=int, default=MIN_MISSPELLINGS,
                        help="fewer stops the run (a smaller corpus: to try the script)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store = args.workdir / "store"
    embed = str(Path(sys.executable).parent / "embed")
    rows: dict[str, dict[str, object]] = {}
    for model, extra in (("plain", []), ("subwords", ["--subwords", *args.embed_arg])):
        rows[model] = {**train(embed, store, args.corpus, model, extra),
                       **score(store, model, args.questions, args.wordsim)}
        print(json.dumps(rows[model]), file=sys.stderr, flush=True)
    with embedstore.open(store, model="plain") as plain, \
            embedstore.open(store, model="subwords") as words:
        ordered = plain.items_at(range(len(plain)))
        vocabulary = set(ordered)
        rows["subwords"]["vectors_identical"] = bool(np.array_equal(
            plain.row_vectors(range(len(plain))), words.row_vectors(range(len(words)))))
    pairs = misspellings(evaluation_words(args.questions, args.wordsim), vocabulary,
                         least=args.min_misspellings)
    (args.workdir / "misspellings.json").write_text(json.dumps(pairs), encoding="utf-8")
    rows["misspellings"] = {"count": len(pairs), "examples": pairs[:5]}
    rows["subwords"] |= our_hits(store, "subwords", pairs)
    fresh = unseen(pairs, ordered)
    rows["subwords"]["unseen_misspellings"] = len(fresh)
    rows["subwords"]["hits_at_10_unseen"] = our_hits(store, "subwords", fresh)["hits_at_10"]
    print(json.dumps(rows, indent=1), file=sys.stderr, flush=True)
    if not args.skip_fasttext:
        load()
        wall, rss, out = run_measured([args.gensim_python, "-c", FASTTEXT_TRAIN,
                                       str(args.corpus), str(args.workdir / "misspellings.json")])
        rows["gensim FastText sg5"] = {"wall_s": wall, "peak_rss_mb": rss / 2**20,
                                       **json.loads(out)}
        fit = rows["subwords"]["subword_fit_s"]
        rows["ratios"] = {
            "hits_ours_over_fasttext": rows["subwords"]["hits_at_10"]  # type: ignore[operator]
            / rows["gensim FastText sg5"]["hits_at_10"],
            "subword_fit_over_fasttext_train": fit / rows["gensim FastText sg5"]["train_s"],
            "added_wall_over_fasttext_train": (rows["subwords"]["wall_s"]  # type: ignore[operator]
                                               - rows["plain"]["wall_s"])
            / rows["gensim FastText sg5"]["train_s"]}
    if not args.no_sweep:
        rows["levers"] = sweep(store, pairs)  # type: ignore[assignment]
    load()
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
