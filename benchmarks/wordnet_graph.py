"""Build a tree-shaped pair file from WordNet's noun hierarchy, with a category for every item.

The items are WordNet 3.0's noun synsets, named ``lemma.offset`` (``dog.02084071``); every
hypernym link (``@``) and instance-hypernym link (``@i``) of a synset is one pair
``synset,hypernym``. Almost every synset has exactly one hypernym, so the graph is nearly a
tree (82,115 items, 84,427 pairs: 2,312 more than a spanning tree). The category of a synset
is its lexicographer file (``noun.animal``, ``noun.artifact``, ... 26 of them), which WordNet
records for every synset independently of the links.

The database comes with Debian's ``wordnet-base`` package (``data.noun`` in its
``/usr/share/wordnet``). Usage::

    python benchmarks/wordnet_graph.py --data-noun path/to/data.noun \\
        --pairs work/wordnet/pairs.csv --groups work/wordnet/groups.tsv
"""

from __future__ import annotations

import argparse
from pathlib import Path

LEXICOGRAPHER_FILES = {
    3: "noun.Tops", 4: "noun.act", 5: "noun.animal", 6: "noun.artifact", 7: "noun.attribute",
    8: "noun.body", 9: "noun.cognition", 10: "noun.communication", 11: "noun.event",
    12: "noun.feeling", 13: "noun.food", 14: "noun.group", 15: "noun.location",
    16: "noun.motive", 17: "noun.object", 18: "noun.person", 19: "noun.phenomenon",
    20: "noun.plant", 21: "noun.possession", 22: "noun.process", 23: "noun.quantity",
    24: "noun.relation", 25: "noun.shape", 26: "noun.state", 27: "noun.substance",
    28: "noun.time",
}
"""WordNet's noun lexicographer files by number (the manual page lexnames(5WN))."""
HYPERNYMS = {"@", "@i"}


def parse_synsets(data_noun: Path) -> tuple[dict[str, str], dict[str, str],
                                            list[tuple[str, str]]]:
    """(name of each synset offset, category of each name, hypernym pairs of names)."""
    names: dict[str, str] = {}
    categories: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    for line in data_noun.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # the licence header
            continue
        fields = line.partition(" | ")[0].split()
        offset, lexfile, word_count = fields[0], int(fields[1]), int(fields[3], 16)
        lemma = fields[4].lower()
        names[offset] = f"{lemma}.{offset}"
        categories[names[offset]] = LEXICOGRAPHER_FILES[lexfile]
        at = 4 + 2 * word_count
        for pointer in range(int(fields[at])):
            symbol, target, part = fields[at + 1 + 4 * pointer: at + 4 + 4 * pointer]
            if symbol in HYPERNYMS and part == "n":
                links.append((offset, target))
    return names, categories, [(names[a], names[b]) for a, b in links]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-noun", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--groups", type=Path, required=True)
    args = parser.parse_args()
    names, categories, links = parse_synsets(args.data_noun)
    args.pairs.parent.mkdir(parents=True, exist_ok=True)
    args.pairs.write_text("item_a,item_b\n" + "".join(f"{a},{b}\n" for a, b in links),
                          encoding="utf-8")
    args.groups.write_text("".join(f"{name}\t{group}\n" for name, group in categories.items()),
                           encoding="utf-8")
    print(f"{len(names):,} synsets, {len(links):,} hypernym pairs, "
          f"{len(set(categories.values()))} categories")


if __name__ == "__main__":
    main()
