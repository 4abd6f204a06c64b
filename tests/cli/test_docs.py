"""Every command and option is documented, with an example, in --help and in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def walk(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command and command group, by its full name ("eval analogies")."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        found[prefix + name] = command
        if isinstance(command, click.Group):
            found |= walk(command, f"{prefix}{name} ")
    return found


ALL = walk(cli)
COMMANDS = sorted(ALL)


def test_the_walk_reaches_into_groups() -> None:
    assert {"train", "eval", "eval analogies", "eval similarity"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"embed {name}" in result.output.split("Examples:")[1]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    assert f"### `embed {name}" in README or f"`embed {name}" in README, \
        f"README lacks a section for embed {name}"
    heading = next(line for line in README.splitlines()
                   if line.startswith("### `embed ") and f"`embed {name}" in line)
    section = README.split(heading)[1].split("\n### ")[0]
    assert re.search(rf"^embed {name}\b", section, re.M), f"no example of embed {name}"
    for param in ALL[name].params:
        if isinstance(param, click.Option) and param.name != "help":
            for flag in param.opts + param.secondary_opts:
                assert flag in section, f"README section of embed {name} lacks {flag}"


LIBRARY_DEFAULTS = {
    # option of embed train / embed pairs: where the library keeps its default
    "negative": ("settings", "sgns"), "lr": ("settings", "sgns"),
    "batch_size": ("settings", "sgns"), "ns_exponent": ("settings", "sgns"),
    "seed": ("settings", "sgns"), "power_iterations": ("settings", "svd"),
    "eigen_weight": ("settings", "svd"), "steps": ("settings", "propagate"),
    "average_from": ("settings", "propagate"), "self_weight": ("settings", "propagate"),
    "degree_exponent": ("settings", "propagate"),
    "negative_weight": ("settings", "propagate"), "window": ("reading", True),
    "sample": ("reading", True), "min_count": ("reading", True),
}


@pytest.mark.parametrize("name", ["train", "pairs"])
def test_defaults_shown_in_help_are_the_librarys(name: str) -> None:
    from embedstore.training.settings import choose_reading, choose_settings

    shown = {p.name: p.show_default for p in ALL[name].params
             if isinstance(p, click.Option) and isinstance(p.show_default, str)}
    assert shown, "the train and pairs options show the library's defaults"
    for option, text in shown.items():
        if option == "memory_limit":
            from embedstore.engines.bounded.budget import memory_limit_default_text

            assert text == memory_limit_default_text()
            continue
        where, argument = LIBRARY_DEFAULTS[option]
        record = choose_settings(False, argument) if where == "settings" else \
            choose_reading(argument)
        plain, _, tree = text.partition("; ")
        assert plain == str(getattr(record, option)), option
        if tree:  # propagation's settings on a tree-like graph
            from embedstore.training.settings import TREE_PROPAGATION

            assert tree == f"{TREE_PROPAGATION[option]} on a tree-like graph", option
    arguments = {"train": ["pairs.csv"], "pairs": ["corpus.txt", "-o", "pairs.csv"]}[name]
    parsed = ALL[name].make_context(name, arguments).params
    assert {option: parsed[option] for option in shown} == dict.fromkeys(shown)  # left to the
    # library, which fills in the defaults shown above


def test_the_cli_offers_the_librarys_training_methods() -> None:
    import click
    from embedstore_cli.main import cli

    from embedstore.engines import ENGINES
    from embedstore.training.settings import METHOD_CHOICES

    def choices(command: str, option: str) -> tuple[str, ...]:
        found = cli.commands[command]
        (param,) = [p for p in found.params if p.name == option]
        assert isinstance(param.type, click.Choice)
        return tuple(param.type.choices)

    assert choices("train", "method") == METHOD_CHOICES == (
        "auto", "propagate", "sgns", "svd", "svd+sgns")
    assert choices("train", "engine") == choices("pairs", "engine") == ENGINES


def test_ci_runs_the_readme_quickstart() -> None:
    block = README.split("## Quickstart")[1].split("```")[1]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    # PEP 668: a distribution's Python refuses pip outside a virtual environment, so the first
    # line makes one and the second (perhaps in a new shell) activates it again
    assert commands[0].startswith(
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && embed train")
    assert commands[1].startswith(". .venv/bin/activate && pip install -e '.[test]' && ")
    assert "pytest" in commands[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci_lines if line in commands] == commands  # both, in order
