"""Every example a user is shown runs: each `embed ...` line of every command's --help and of
every page of the documentation site exits 0 against a small store holding the models,
versions, aliases and indexes the examples name, in a folder holding the files they name.

Each example runs on its own copy of that world, so an example that removes or moves
something cannot change what the next one sees. The few that cannot run here are listed in
:data:`ELSEWHERE`, each with the reason.
"""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

from tests.cli.test_docs import COMMANDS, SHOWN, logical_lines, shell_commands
from tests.conftest import DATA

ELSEWHERE: dict[str, Callable[[list[str]], bool]] = {
    "starts a server that answers until it is stopped (tests/server/ start embed serve on a "
    "free port and ask it)": lambda args: "serve" in args,
    "needs a Dask scheduler at an address of the reader's own (tests/engines/test_cluster.py "
    "runs the same commands on a local cluster)":
        lambda args: any(arg.startswith("tcp://") for arg in args),
}
"""Why an example does not run here, and which examples that is."""
PIPED = re.compile(r"^\s*(?:echo\s+'(?P<echo>[^']*)'|cat\s+(?P<cat>\S+))\s*\|")


@dataclass(frozen=True)
class Example:
    where: str
    line: str
    args: tuple[str, ...]
    stdin: str | None


def help_examples() -> list[tuple[str, str]]:
    """(where, line) of every line of the Examples of ``embed --help`` and of every command's
    --help."""
    found = []
    for name in ["", *COMMANDS]:
        text = CliRunner().invoke(cli, [*name.split(), "--help"]).output
        section = text.split("Examples:", 1)[1].split("\n\n", 1)[0]
        found += [(" ".join(["embed", *name.split(), "--help"]), line.strip())
                  for line in logical_lines(tuple(section.splitlines())) if line.strip()]
    return found


def examples() -> list[Example]:
    shown = [(where, line) for where, line in help_examples()]
    shown += [(page, line) for page, line, _ in SHOWN]
    found: dict[tuple[tuple[str, ...], str | None], Example] = {}
    for where, line in shown:
        piped = PIPED.match(line)
        stdin = None
        if piped and piped.group("echo") is not None:
            stdin = piped.group("echo") + "\n"
        elif piped:
            stdin = f"@{piped.group('cat')}"
        for args in shell_commands(line):
            found.setdefault((tuple(args), stdin), Example(where, line, tuple(args), stdin))
    return list(found.values())


EXAMPLES = examples()
RUNNABLE = [e for e in EXAMPLES if not any(skip(list(e.args)) for skip in ELSEWHERE.values())]


def test_the_examples_are_many_and_few_are_left_to_elsewhere() -> None:
    assert len(EXAMPLES) > 150
    left = [e for e in EXAMPLES if e not in RUNNABLE]
    assert 0 < len(left) <= 15, [e.line for e in left]
    assert {"similar", "train", "extend", "batch", "pairs"} <= {e.args[0] for e in RUNNABLE}


@pytest.mark.parametrize("example", RUNNABLE, ids=[f"{e.where}: {e.line[:70]}" for e in RUNNABLE])
def test_every_example_runs(example: Example, world: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    place = tmp_path / "world"
    shutil.copytree(world, place, symlinks=True)
    monkeypatch.chdir(place)
    monkeypatch.setenv("EMBED_STORE", str(place / "store"))
    monkeypatch.setenv("HOME", str(place))
    if example.args[0] == "pairs":  # a folder of shards is written anew: the world has one
        shutil.rmtree(place / example.args[example.args.index("-o") + 1], ignore_errors=True)
    stdin = example.stdin
    if stdin is not None and stdin.startswith("@"):
        stdin = (place / stdin[1:]).read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, list(example.args), input=stdin)
    assert result.exit_code == 0, (
        f"{example.where}: `{example.line}` exited {result.exit_code}:\n{result.output}"
        f"{result.exception!r}")


# The world the examples are written for --------------------------------------------------

DEPS = ["python3-numpy", "python3-scipy", "python3-pandas", "python3-pytest", "python3-six"]
PACKAGES = ["numpy", "scipy", "pandas", "pytest", "six", "requests", "urllib3", "idna",
            "certifi", "matplotlib", "pillow", "cycler", "pyparsing", "packaging", "attrs",
            "pluggy", "iniconfig", "tomli", "jinja2", "markupsafe", "click", "flask",
            "werkzeug", "itsdangerous", "blinker", "sqlalchemy", "greenlet"]
SHOP = ["laptop", "mouse", "keyboard", "monitor", "cable", "charger", "headset", "webcam",
        "desk", "chair", "lamp", "notebook"]


def chain(items: list[str], weight: int, extra: int = 2) -> list[str]:
    """Rows joining each item to the next ``extra`` ones: one connected graph."""
    return [f"{a},{items[(i + step) % len(items)]},{weight + step}"
            for i, a in enumerate(items) for step in range(1, extra + 1)]


def pair_file(path: Path, rows: list[str], header: bool = True, delimiter: str = ",") -> None:
    text = ("item_a,item_b,weight\n" if header else "") + "".join(r + "\n" for r in rows)
    text = text.replace(",", delimiter)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            stream.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def corpus() -> str:
    sentences = ["the king and the queen rule the castle", "a man and a woman are married",
                 "the prince is the son of the king", "the princess is the daughter of the queen",
                 "he is a man and she is a woman", "the cat and the dog play at home",
                 "a kitten is a young cat and a puppy is a young dog",
                 "the car and the truck are on the road"]
    return "\n".join(sentences * 40) + "\n"


def write_inputs(place: Path) -> None:
    """The files the examples read, by the names they give."""
    (place / "data").symlink_to(DATA, target_is_directory=True)
    sample = (DATA / "sample.csv").read_text(encoding="utf-8")
    linked = [*chain(DEPS, 5), "python3-numpy,cat,1", "python3-six,king,1"]
    (place / "default.csv").write_text(sample + "".join(r + "\n" for r in linked))
    for name in ("pairs.csv", "new-week.csv"):
        (place / name).write_text(sample, encoding="utf-8")
    pair_file(place / "deps.csv", chain(DEPS + PACKAGES[:5], 5))
    pair_file(place / "packages.csv", chain(PACKAGES, 5, extra=3))
    for name, delimiter in (("clicks.csv.gz", ","), ("clicks.tsv.gz", "\t")):
        pair_file(place / name, chain(SHOP, 6, extra=3), delimiter=delimiter)
    new = ["lion,cat,3", "lion,kitten,2", "tiger,lion,2"]
    pair_file(place / "new.csv", new, header=False)
    for name in ("new-packages.csv", "new-items.csv"):
        pair_file(place / name, new)
    pair_file(place / "new-words.csv", ["kitty,cat,3", "kitty,kitten,2", "puppies,puppy,2"])
    pair_file(place / "names.csv", chain(["anna", "annie", "hannah", "anne", "ann", "nina",
                                          "nino", "dina"], 3))
    pair_file(place / "today.csv.gz", ["tablet,laptop,4", "stylus,tablet,2"])
    (place / "corpus.txt").write_text(corpus(), encoding="utf-8")
    with gzip.open(place / "corpus.txt.gz", "wt", encoding="utf-8") as stream:
        stream.write(corpus())
    (place / "queries.jsonl").write_text(
        '{"op": "similar", "item": "king", "k": 3, "id": 1}\n'
        '{"op": "analogy", "a": "man", "b": "king", "c": "woman", "k": 3}\n')
    (place / "questions-words.txt").write_text(
        ": family\nman woman king queen\nhe she his her\nboy girl son daughter\n")
    (place / "wordsim353.tsv").write_text(
        "# word pairs\nking\tqueen\t8.6\nman\twoman\t8.3\ncat\tdog\t7.4\ncar\ttruck\t6.9\n"
        "king\tcat\t1.2\n")
    (place / "groups.csv").write_text("item,group\ncat,animal\ndog,animal\nking,royal\n"
                                      "queen,royal\ncar,vehicle\n")


def build_world(place: Path) -> None:
    write_inputs(place)
    runner = CliRunner()

    def embed(*args: str) -> None:
        result = runner.invoke(cli, ["--store", str(place / "store"), *args])
        assert result.exit_code == 0, f"embed {' '.join(args)}: {result.output}"

    for _ in range(5):
        embed("train", "default.csv", "--quiet")
        embed("train", "data/royalty.csv", "--model", "royalty", "--quiet")
    for _ in range(2):
        embed("train", "deps.csv", "--model", "deps", "--quiet")
    embed("train", "data/sample.csv", "--model", "words", "--quiet")
    for model in ("words", "spelled"):  # words the versions have not seen, from n-grams
        embed("train", "data/sample.csv", "--model", model, "--subwords",
              "--subword-buckets", "500", "--quiet")
    embed("train", "clicks.csv.gz", "--model", "shop", "--quiet")
    embed("train", "packages.csv", "--model", "packages", "--quiet")
    for model, version, alias in (("default", "3", "prod"), ("royalty", "1", "prod"),
                                  ("royalty", "2", "old"), ("words", "1", "prod"),
                                  ("shop", "1", "prod")):
        embed("tag", version, alias, "--model", model)
    for version, model in (("1", "default"), ("3", "default"), ("1", "royalty")):
        embed("index", "build", version, "--model", model, "--kind", "hnsw", "--quiet")
    embed("export", "-o", "vectors.txt", "--format", "glove")
    embed("export", "-o", "model.vec", "--vocab", "counts.txt")
    embed("export", "-o", "sample.txt", "--vocab", "sample.counts")
    embed("import", "sample.txt", "--vocab", "sample.counts", "--model", "imported")
    embed("export", "--format", "word2vec-binary", "-o", "GoogleNews.bin")
    embed("export", "--format", "npy", "-o", "matrix.npy", "--vocab", "matrix.vocab")
    embed("pairs", "corpus.txt.gz", "-o", "counts.parquet")
    embed("pairs", "corpus.txt.gz", "-o", "counts/")
    embed("pairs", "clicks.csv.gz", "--pair-input", "-o", "clicks.parquet")
    (place / "my-store").symlink_to("store", target_is_directory=True)  # embed --store ./my-store


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    place = tmp_path_factory.mktemp("examples")
    import os

    cwd = os.getcwd()
    os.chdir(place)
    try:
        build_world(place)
    finally:
        os.chdir(cwd)
    return place
