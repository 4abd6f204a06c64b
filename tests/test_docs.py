"""Every command and option is documented, with an example, in --help and in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"embed {name}" in result.output.split("Examples:")[1]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    assert f"### `embed {name}" in README, f"README lacks a section for embed {name}"
    section = README.split(f"### `embed {name}")[1].split("\n### ")[0]
    assert re.search(rf"^embed {name}\b", section, re.M), f"no example of embed {name}"
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            for flag in param.opts:
                assert flag in section, f"README section of embed {name} lacks {flag}"


def test_ci_runs_the_readme_quickstart() -> None:
    block = README.split("## Quickstart")[1].split("```")[1]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && embed train")
    assert "pytest" in commands[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci_lines if line in commands] == commands  # both, in order
