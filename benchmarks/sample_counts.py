"""Re-weight the sample's pairs by how often the two words occur near each other in a corpus.

``data/sample.csv`` lists pairs of words (the animals and vehicles of ``animals.csv``, the
people and their words of ``royalty.csv``). Its weights are counts from the benchmark corpus
(``benchmarks/RESULTS.md``, "Training from text"): the number of times the two words occur
within 5 tokens of each other in one line, plus one, so that every pair the sample lists stays
in it (some never meet in the corpus: ``hers`` and ``woman``). Pairs of weight 0 (explicit
negatives: animals and vehicles apart) are kept as they are. Usage::

    python benchmarks/sample_counts.py --sample data/sample.csv \\
        --corpus path/to/corpus.txt.gz --output data/sample.csv
"""

from __future__ import annotations

import argparse
import csv
import gzip
from pathlib import Path

WINDOW = 5


def count_pairs(corpus: Path, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How often each of ``pairs`` occurs within :data:`WINDOW` tokens of each other."""
    words = {word for pair in pairs for word in pair}
    counts = dict.fromkeys(pairs, 0)
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            found = [(at, token) for at, token in enumerate(line.split()) if token in words]
            for index, (at, token) in enumerate(found):
                for other_at, other in found[index + 1:]:
                    if other_at - at > WINDOW:
                        break
                    for pair in ((token, other), (other, token)):
                        if pair in counts:
                            counts[pair] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    with args.sample.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    positive = {(a, b) for a, b, weight in rows if float(weight) > 0}
    counts = count_pairs(args.corpus, positive)
    with args.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for a, b, weight in rows:
            writer.writerow([a, b, counts[(a, b)] + 1 if (a, b) in counts else weight])


if __name__ == "__main__":
    main()
