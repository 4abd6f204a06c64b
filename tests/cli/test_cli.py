from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import DATA

Run = Callable[..., Result]
Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def trained(run: Run) -> Run:
    result = run("train", str(DATA / "sample.csv"), "--quiet")
    assert result.exit_code == 0, result.output
    return run


def store_snapshot(store: Path) -> dict[str, bytes]:
    if not store.exists():
        return {}
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_classic_example_similar_cat_is_dog_kitten_puppy(run: Run) -> None:
    assert run("train", str(DATA / "animals.csv"), "--quiet").exit_code == 0
    result = run("similar", "cat", "--k", "3", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["model"] == "default" and payload["version"] == 1
    assert payload["query"] == {"op": "similar", "item": "cat", "k": 3}
    assert {r["item"] for r in payload["results"]} == {"dog", "kitten", "puppy"}
    scores = [r["score"] for r in payload["results"]]
    assert scores == sorted(scores, reverse=True)


def test_train_prints_a_summary_and_json_metadata(run: Run) -> None:
    result = run("train", str(DATA / "animals.csv"), "--quiet", "--name", "v-one", "--seed", "3")
    assert result.exit_code == 0
    assert result.stdout.startswith("default version 1 (v-one): 8 items x 100 dims, propagate")
    assert result.stderr.startswith("Note: auto: propagate, as items have 3.0 distinct partners")
    result = run("train", str(DATA / "animals.csv"), "--quiet", "--method", "sgns")
    assert result.stdout.startswith("default version 2: 8 items x 100 dims, sgns, 2000 epochs")
    result = run("train", str(DATA / "animals.csv"), "--quiet", "--json", "--dim", "16",
                 "--epochs", "5", "--model", "small")
    assert result.exit_code == 1 and result.stderr == (
        "Error: --epochs is not a setting of --method propagate; leave it out or choose the "
        "method it belongs to (see embed train --help)\n")
    result = run("train", str(DATA / "animals.csv"), "--quiet", "--json", "--dim", "16",
                 "--epochs", "5", "--model", "small", "--method", "sgns")
    record = json.loads(result.stdout)
    assert (record["model"], record["version"], record["dim"], record["epochs"]) == (
        "small", 1, 16, 5)
    assert record["settings"]["seed"] == 0
    assert len(record["epoch_losses"]) == 5


def test_similar_table_output(trained: Run) -> None:
    lines = trained("similar", "cat", "--k", "3").stdout.splitlines()
    assert all(len(line.split()) == 2 for line in lines)
    items = [line.split()[0] for line in lines]
    scores = [float(line.split()[1]) for line in lines]
    assert set(items) == {"dog", "kitten", "puppy"}
    assert scores == sorted(scores, reverse=True)  # best first
    expected = json.loads(trained("similar", "cat", "--k", "3", "--json").stdout)["results"]
    assert items == [r["item"] for r in expected]
    assert scores == [round(r["score"], 4) for r in expected]


def test_analogy_king_man_woman_is_queen(trained: Run) -> None:
    for method in ("add", "mul"):
        result = trained("analogy", "king", "man", "woman", "--k", "3", "--json",
                         "--method", method)
        payload = json.loads(result.stdout)
        assert payload["results"][0]["item"] == "queen"
        assert payload["query"] == {"op": "analogy", "a": "king", "b": "man", "c": "woman",
                                    "k": 3, "method": method}
        assert not {"king", "man", "woman"} & {r["item"] for r in payload["results"]}


def test_unknown_item_names_model_version_and_close_spellings(trained: Run) -> None:
    result = trained("similar", "kitte")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "Error: unknown item 'kitte' in model 'default' version 1; did you mean 'kitten'?")
    result = trained("analogy", "king", "mann", "woman")
    assert result.exit_code == 1
    assert "unknown item 'mann'" in result.stderr and "'man'" in result.stderr


def test_an_item_that_is_not_utf8_is_refused_in_one_line(trained: Run) -> None:
    """A shell passes the bytes ``kitt\\xffen``; Python keeps the stray byte as a lone
    surrogate, which no store lookup can encode."""
    for command in (["similar", "kitt\udcffen"], ["analogy", "king", "kitt\udcffen", "cat"],
                    ["explain", "cat", "kitt\udcffen"]):
        result = trained(*command)
        assert result.exit_code == 1, command
        assert result.stderr.strip() == (
            "Error: the item 'kitt\\udcffen' is not UTF-8 text (a byte or an escape that is "
            "no character); write items in UTF-8"), command


def test_usage_errors_exit_2(trained: Run) -> None:
    assert trained("similar", "cat", "--k", "0").exit_code == 2
    assert trained("train", str(DATA / "animals.csv"), "--dim", "0").exit_code == 2
    assert trained("analogy", "king", "man").exit_code == 2


def test_version_selection_and_listing(trained: Run) -> None:
    trained("train", str(DATA / "animals.csv"), "--quiet", "--name", "animals only")
    assert json.loads(trained("similar", "cat", "--json").stdout)["version"] == 2
    assert json.loads(trained("similar", "cat", "--version", "1", "--json").stdout)["version"] == 1
    result = trained("similar", "cat", "--version", "9")
    assert result.exit_code == 1
    assert "has no version 9; its versions are 1, 2" in result.stderr
    listing = trained("versions").stdout.splitlines()
    assert listing[0].split() == ["version", "aliases", "name", "created", "(UTC)", "items", "dim",
                                 "source"]
    assert len(listing) == 3 and "animals only" in listing[2]
    records = json.loads(trained("versions", "--json").stdout)
    assert [r["version"] for r in records] == [1, 2]


def test_info_names_the_store_and_the_version(trained: Run, store: Path) -> None:
    text = trained("info").stdout
    assert text.splitlines()[0] == f"store: {store}"
    assert "seed=0" in text and "sha256=" in text
    report = json.loads(trained("info", "--json").stdout)
    assert report["store"] == str(store)
    assert report["version"]["version"] == 1
    assert report["version"]["source"]["path"].endswith("sample.csv")


def test_info_on_an_empty_store_location(run: Run, store: Path) -> None:
    result = run("info")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"store: {store}", "models: none yet"]
    assert not store.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("cat,dog\ncat,dog,x\n", "bad.csv, line 2: weight 'x' is not a finite number >= 0"),
        ("cat,dog\ncat\n", "bad.csv, line 2: expected 2 or 3 columns"),
        (b"cat,dog\n\xc3\x28,x\n", "bad.csv, line 2: not valid UTF-8"),
        ("", "bad.csv, line 1: empty file"),
    ],
)
def test_bad_input_one_line_exit_1_store_unchanged(trained: Run, store: Path, write: Write,
                                                   content: str | bytes, message: str) -> None:
    before = store_snapshot(store)
    result = trained("train", str(write("bad.csv", content)), "--quiet")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.output
    assert store_snapshot(store) == before


def test_missing_file_and_too_few_items(run: Run, store: Path, write: Write) -> None:
    result = run("train", "no-such-file.csv")
    assert result.exit_code == 1 and "no-such-file.csv: file not found" in result.stderr
    result = run("train", str(write("p.csv", "a,b\n")), "--min-count", "3")
    assert result.exit_code == 1 and "fewer than two items" in result.stderr
    assert not store.exists()


def test_queries_on_a_missing_store_explain_how_to_start(run: Run) -> None:
    result = run("similar", "cat")
    assert result.exit_code == 1
    assert "no store at" in result.stderr and "embed train FILE" in result.stderr


def test_store_from_environment_variable(tmp_path: Path) -> None:
    env_store = tmp_path / "from-env"
    command = [sys.executable, "-m", "embedstore_cli", "train", str(DATA / "animals.csv"),
               "--quiet", "--method", "sgns", "--epochs", "3"]
    result = subprocess.run(command, capture_output=True, text=True,
                            env={"EMBED_STORE": str(env_store), "PATH": ""}, check=False)
    assert result.returncode == 0, result.stderr
    assert (env_store / "embedstore.db").exists()
    info = subprocess.run([sys.executable, "-m", "embedstore_cli", "info"], capture_output=True,
                          text=True, env={"EMBED_STORE": str(env_store)}, check=False)
    assert info.stdout.splitlines()[0] == f"store: {env_store}"


def test_the_quickstarts_answers_carry_information(trained: Run) -> None:
    """The sample's counts differ (data/README.md), and so do the scores: cat pairs with dog
    47 times, with kitten 5 and with puppy once (3 times through dog); none is 1.0000."""
    lines = trained("similar", "cat", "--k", "3").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["dog", "kitten", "puppy"]
    scores = [float(line.split()[1]) for line in lines]
    assert scores == [0.9995, 0.8697, 0.8607]
    results = json.loads(trained("analogy", "king", "man", "woman", "--k", "3",
                                 "--json").stdout)["results"]
    assert results[0]["item"] == "queen"
    assert results[0]["score"] < 0.95 and results[0]["score"] - results[1]["score"] > 0.1
