"""Items a version has not seen, answered from their character n-grams: through the CLI,
batch lines, the Python API and HTTP; and what a version without subword vectors says."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from embedstore_cli.main import cli

import embedstore
from embedstore.subwords.ngrams import compose
from tests.conftest import DATA, ServerProcess

TOPICS = [
    ["elephant", "giraffe", "savanna", "zebra", "antelope", "lion"],
    ["keyboard", "monitor", "computer", "software", "printer", "laptop"],
    ["violin", "orchestra", "symphony", "concert", "melody", "piano"],
    ["harvest", "farmer", "tractor", "wheat", "barley", "orchard"],
]
MISSPELT = {"elephnat": "elephant", "kyeboard": "keyboard", "violiin": "violin",
            "symphnoy": "symphony", "girafe": "giraffe", "orcestra": "orchestra"}
"""Letters swapped, one doubled, one dropped: none of them in the corpus. (Words of one topic
have nearly the same vector here, so a misspelling of a word whose topic-mates are closer
than 0.99 to it, such as ``tractor``, may name a topic-mate first.)"""


def small_text() -> str:
    """Sentences of eight words, each drawn from one of four topics (fixed seed)."""
    rng = random.Random(0)
    return "".join(" ".join(rng.choice(words) for _ in range(8)) + "\n"
                   for words in (rng.choice(TOPICS) for _ in range(400)))


def embed(store: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--store", str(store), *args], input=input,
                              catch_exceptions=False)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same small text trained with subword vectors (``words``) and without
    (``plain``)."""
    root = tmp_path_factory.mktemp("subwords")
    corpus = root / "small.txt"
    corpus.write_text(small_text(), encoding="utf-8")
    made = {}
    for name, extra in (("words", ["--subwords", "--subword-buckets", "20000"]),
                        ("plain", [])):
        made[name] = root / name
        result = embed(made[name], "train", str(corpus), "--text", "--method", "svd",
                       "--dim", "8", "--quiet", *extra)
        assert result.exit_code == 0, result.output
    return made


def test_a_misspelling_is_answered_by_the_word_it_misspells(stores: dict[str, Path]) -> None:
    with embedstore.open(stores["words"]) as vectors:
        assert vectors.has_subwords
        for wrong, right in MISSPELT.items():
            assert wrong not in vectors.known_rows([wrong])
            assert vectors.similar(wrong, k=1)[0].item == right


def test_cli_json_says_from_subwords_and_a_note_says_so(stores: dict[str, Path]) -> None:
    result = embed(stores["words"], "similar", "elephnat", "--k", "2", "--json")
    assert result.exit_code == 0
    answer = json.loads(result.stdout)
    assert answer["query"] == {"op": "similar", "item": "elephnat", "k": 2,
                               "from_subwords": True, "subword_items": ["elephnat"]}
    assert answer["results"][0]["item"] == "elephant"
    assert result.stderr == ("Note: 'elephnat' is not in model 'default' version 1: its vector "
                             "was built from its character n-grams\n")
    known = embed(stores["words"], "similar", "elephant", "--k", "2", "--json")
    assert "from_subwords" not in json.loads(known.stdout)["query"] and known.stderr == ""


def test_analogy_with_a_misspelt_item(stores: dict[str, Path]) -> None:
    result = embed(stores["words"], "analogy", "kyeboard", "elephant", "giraffe", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["query"]["subword_items"] == ["kyeboard"]
    assert "'kyeboard' is not in model" in result.stderr


def test_batch_lines_say_from_subwords(stores: dict[str, Path]) -> None:
    lines = [{"op": "vector", "item": "violiin"},
             {"op": "similarity", "a": "violin", "b": "violiin"},
             {"op": "similar", "items": ["elephnat", "zebra"], "minus": ["kyeboard"], "k": 1},
             {"op": "analogy", "a": "kyeboard", "b": "elephant", "c": "giraffe", "k": 1,
              "method": "mul"},
             {"op": "similar", "item": "violin", "k": 1}]
    result = embed(stores["words"], "batch", "-",
                   input="".join(json.dumps(line) + "\n" for line in lines))
    assert result.exit_code == 0
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["query"].get("subword_items") for a in answers] == [
        ["violiin"], ["violiin"], ["elephnat", "kyeboard"], ["kyeboard"], None]
    assert all(a["query"]["from_subwords"] is True for a in answers[:4])
    assert answers[1]["score"] > 0.9
    assert answers[2]["results"][0]["item"] in TOPICS[0]
    assert result.stderr.startswith("Note: 4 line(s) named items the version does not know")


def test_the_api_builds_the_vector_from_the_kept_table(stores: dict[str, Path]) -> None:
    with embedstore.open(stores["words"]) as vectors:
        table = vectors.store.load_subwords(vectors.info)
        assert table is not None and table.shape == (20_000, 8)
        built = vectors.vector("elephnat")
        assert np.array_equal(built, compose(["elephnat"], table)[0])
        found = vectors.inputs(["elephnat", "zebra"])
        assert found.from_subwords == ["elephnat"] and len(found.rows) == 1
        assert vectors.similarity("elephnat", "elephant") > 0.9
        (line,) = vectors.batch([{"op": "vector", "item": "elephnat"}])
        assert line.query == {
            "op": "vector", "item": "elephnat", "from_subwords": True,
            "subword_items": ["elephnat"]}


def test_without_subwords_an_unknown_item_names_close_spellings(
        stores: dict[str, Path]) -> None:
    result = embed(stores["plain"], "similar", "elephnat")
    assert result.exit_code == 1
    assert result.stderr == ("Error: unknown item 'elephnat' in model 'default' version 1; did "
                             "you mean 'elephant'?\n")
    with embedstore.open(stores["plain"]) as vectors:
        assert not vectors.has_subwords and vectors.subword_vectors(["elephnat"]) == {}
        with pytest.raises(embedstore.UnknownItemError, match="did you mean 'elephant'"):
            vectors.vector("elephnat")
    line = embed(stores["plain"], "batch", "-", input='{"op": "vector", "item": "elephnat"}\n')
    assert line.exit_code == 1 and "unknown item 'elephnat'" in json.loads(line.stdout)["error"]


def test_in_vocabulary_vectors_are_those_of_a_version_without(
        stores: dict[str, Path]) -> None:
    with embedstore.open(stores["words"]) as words, embedstore.open(stores["plain"]) as plain:
        assert np.array_equal(words.row_vectors(range(len(words))),
                              plain.row_vectors(range(len(plain))))


def test_export_writes_a_table_and_settings_a_user_can_compose_from(
        stores: dict[str, Path], tmp_path: Path) -> None:
    result = embed(stores["words"], "export", "-o", str(tmp_path / "vectors.txt"),
                   "--subwords", str(tmp_path / "ngrams.npy"), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["subwords"] == str(tmp_path / "ngrams.npy")
    table = np.load(tmp_path / "ngrams.npy")
    settings = json.loads((tmp_path / "ngrams.json").read_text(encoding="utf-8"))
    assert settings == {"buckets": 20_000, "dim": 8, "min_n": 3, "max_n": 6,
                        "hashing": "fnv1a-32", "combine": "mean"}
    fasttext = pytest.importorskip("gensim.models.fasttext")
    rows = fasttext.ft_ngram_hashes("violiin", 3, 6, settings["buckets"])
    with embedstore.open(stores["words"]) as vectors:
        assert np.allclose(table[rows].mean(axis=0), vectors.vector("violiin"), atol=1e-6)


def test_export_of_a_version_without_subwords_fails_and_writes_nothing(
        stores: dict[str, Path], tmp_path: Path) -> None:
    result = embed(stores["plain"], "export", "-o", str(tmp_path / "v.txt"),
                   "--subwords", str(tmp_path / "n.npy"))
    assert result.exit_code == 1
    assert result.stderr == ("Error: model 'default' version 1 keeps no subword vectors: train "
                             "it with --subwords (or extend it with --subwords) to have them\n")
    assert list(tmp_path.iterdir()) == []


def test_bad_subword_options_leave_the_store_unchanged(stores: dict[str, Path],
                                                       tmp_path: Path) -> None:
    before = sorted(p.name for p in (stores["plain"] / "versions").iterdir())
    result = embed(stores["plain"], "train", str(DATA / "sample.csv"), "--subword-buckets", "9")
    assert result.exit_code == 1
    assert result.stderr == ("Error: --subword-buckets sets the buckets of --subwords; add "
                             "--subwords or leave it out\n")
    zero = embed(stores["plain"], "train", str(DATA / "sample.csv"), "--subwords",
                 "--subword-buckets", "0")
    assert zero.exit_code == 2
    assert sorted(p.name for p in (stores["plain"] / "versions").iterdir()) == before
    with embedstore.open(stores["plain"]) as vectors:
        assert vectors.version == 1


def test_verify_checks_the_subword_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True, subwords=True,
                           subword_buckets=1000)
    assert embed(store, "verify").exit_code == 0
    (table,) = (store / "versions").glob("*/subwords.npy")
    data = bytearray(table.read_bytes())
    data[-1] ^= 0xFF
    table.write_bytes(bytes(data))
    result = embed(store, "verify")
    assert result.exit_code == 1 and "subwords.npy checksum differs" in result.output


def test_extend_refits_with_subwords_and_else_keeps_the_parents(tmp_path: Path) -> None:
    store = tmp_path / "store"
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True, subwords=True,
                           subword_buckets=1000)
    new = tmp_path / "new.csv"
    new.write_text("kittens,kitten\nkittens,cat\n", encoding="utf-8")
    kept = embedstore.extend_version(new, store=store, quiet=True)
    refit = embedstore.extend_version(new, store=store, parent=1, quiet=True, subwords=True,
                                      subword_buckets=1000)
    with embedstore.Store.open(store) as opened:
        records = opened.version_records("default")
    assert records[1].files["subwords"].sha256 == records[0].files["subwords"].sha256
    assert records[2].files["subwords"].sha256 != records[0].files["subwords"].sha256
    assert any("kept as they are" in note for note in kept.notes)
    assert any(note.startswith("subwords: 1,000 buckets") for note in refit.notes)
    assert kept.subwords == refit.subwords == records[0].subwords


def test_a_known_item_loads_nothing_of_subwords_and_an_unknown_one_no_solver(
        stores: dict[str, Path]) -> None:
    script = ("import sys, numpy\n"
              "already = set(sys.modules)\n"
              "import embedstore\n"
              "with embedstore.open(sys.argv[1]) as vectors:\n"
              "    vectors.similar(sys.argv[2], k=2)\n"
              "print(' '.join(sorted(set(sys.modules) - already)))")

    def loaded(item: str) -> set[str]:
        return set(subprocess.run([sys.executable, "-c", script, str(stores["words"]), item],
                                  capture_output=True, text=True, check=True).stdout.split())

    assert not {name for name in loaded("elephant") if "subwords" in name or name == "json"}
    unknown = loaded("elephnat")
    assert "embedstore.subwords.ngrams" in unknown
    assert not {name for name in unknown if name.split(".")[0] in ("scipy", "numba",
                                                                   "pydantic")}


@pytest.fixture(scope="module")
def client(start_server: Callable[..., ServerProcess],
           stores: dict[str, Path]) -> Iterator[object]:
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    import httpx

    server = start_server(stores["words"], "--workers", "1")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.mark.parametrize(("path", "subword_items"), [
    ("/v1/models/default/similar?item=elephnat&k=1", ["elephnat"]),
    ("/v1/models/default/analogy?a=kyeboard&b=elephant&c=giraffe&k=1", ["kyeboard"]),
    ("/v1/models/default/vector?item=violiin", ["violiin"]),
    ("/v1/models/default/similarity?a=violin&b=violiin", ["violiin"]),
    ("/v1/models/default/similar?item=elephant&k=1", None),
])
def test_http_answers_say_from_subwords(client: object, path: str,
                                        subword_items: list[str] | None) -> None:
    answer = client.get(path)  # type: ignore[attr-defined]
    assert answer.status_code == 200
    query = answer.json()["query"]
    assert query.get("subword_items") == subword_items
    assert query.get("from_subwords") is (True if subword_items else None)
    if path.endswith("item=elephnat&k=1"):
        assert answer.json()["results"][0]["item"] == "elephant"
