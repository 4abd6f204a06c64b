"""Shell completion, driven through the environment variables Click's protocol reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

import embedstore
from tests.conftest import DATA


def complete(words: str, store: Path | None, shell: str = "bash") -> list[str]:
    """What ``embed`` offers for the last word of ``words``, through ``shell``'s protocol
    (bash: the index of the word, answers as type,value lines; zsh and fish: the word itself
    for fish, answers as type, value and help lines)."""
    incomplete = "" if words.endswith(" ") else words.split()[-1]
    position = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {"_EMBED_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
           "COMP_CWORD": incomplete if shell == "fish" else str(position)}
    if store is not None:
        env["EMBED_STORE"] = str(store)
    result = CliRunner().invoke(cli, [], env=env, prog_name="embed")
    assert result.exit_code == 0 and result.stderr == ""
    lines = [line for line in result.stdout.splitlines() if line]
    if shell == "bash" or (lines and "," in lines[0]):  # fish: type,value[TAB help] lines
        return [line.split(",", 1)[1].split("\t")[0] for line in lines]  # (Click 8.5 on)
    return lines[1::3]


@pytest.fixture
def stocked(store: Path) -> Path:
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    embedstore.train_pairs(DATA / "sample.csv", store=store, quiet=True)
    embedstore.train_pairs(DATA / "royalty.csv", store=store, model="royalty", quiet=True)
    CliRunner().invoke(cli, ["--store", str(store), "tag", "1", "prod"])
    return store


def test_commands_and_options_complete(stocked: Path) -> None:
    assert "similar" in complete("embed si", stocked)
    assert complete("embed expl", stocked) == ["explain"]
    assert "--minus" in complete("embed similar cat --mi", stocked)


def test_models_versions_and_aliases_complete(stocked: Path) -> None:
    assert complete("embed similar cat --model ", stocked) == ["default", "royalty"]
    assert complete("embed similar cat --model r", stocked) == ["royalty"]
    assert complete("embed similar cat --version ", stocked) == ["2", "1", "prod"]
    assert complete("embed similar cat --model royalty --version ", stocked) == ["1"]
    assert complete("embed rm ", stocked) == ["2", "1", "prod"]
    assert complete("embed train data.csv --from p", stocked) == ["prod"]


def test_items_complete_most_frequent_first(stocked: Path) -> None:
    with embedstore.open(stocked) as vectors:
        expected = vectors.items_with_prefix("k", 50)
    assert complete("embed similar k", stocked) == expected and "king" in expected
    with embedstore.open(stocked) as vectors:
        assert complete("embed analogy king man w", stocked) == vectors.items_with_prefix("w")
    assert complete("embed explain cat kit", stocked) == ["kitten"]
    assert complete("embed similar cat --minus pup", stocked) == ["puppy"]
    assert complete("embed similar --model royalty qu", stocked) == ["queen"]


def test_a_missing_or_broken_store_completes_nothing_and_says_nothing(tmp_path: Path) -> None:
    assert complete("embed similar ca", tmp_path / "missing") == []
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "embedstore.db").write_bytes(b"not a database")
    assert complete("embed similar ca", broken) == []
    assert complete("embed similar cat --model ", broken) == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_each_shells_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0 and "_EMBED_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_the_same_names(stocked: Path, shell: str) -> None:
    assert complete("embed similar cat --model r", stocked, shell) == ["royalty"]
    assert complete("embed explain cat kit", stocked, shell) == ["kitten"]
