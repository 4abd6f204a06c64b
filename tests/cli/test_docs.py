"""Every command and option is documented, with an example, in --help and on the documentation
site's task pages; every `embed` command line the pages show parses against the real CLI, and
the examples marked runnable run against the sample. The README keeps CI's Quickstart."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from embedstore_cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
TASK_PAGES = sorted(path for path in DOCS.rglob("*.md") if "reference" not in path.parts)
RUNNABLE = "<!-- runnable -->"
SHELL = {"", "sh", "bash", "shell", "console"}
COMMAND_LINE = re.compile(r"(^|[|&;]|\$\()\s*embed\s")


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


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page: its language, its lines, and whether it is runnable."""

    page: str
    language: str
    lines: tuple[str, ...]
    runnable: bool


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    language, body, runnable, previous = None, [], False, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```") and language is None:
            language, body, runnable = line[3:].strip(), [], previous.strip() == RUNNABLE
        elif line.startswith("```"):
            page = str(path.relative_to(DOCS)) if DOCS in path.parents else path.name
            found.append(Block(page, language or "", tuple(body), runnable))
            language = None
        elif language is not None:
            body.append(line)
        previous = line
    return found


ALL_BLOCKS = [block for page in TASK_PAGES for block in blocks(page)]


def shell_commands(line: str) -> list[list[str]]:
    """The `embed` commands of one shell line, as argument lists without the `embed`: in a
    pipe, after `&&`, inside `$(...)`; redirections and comments left out."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    found: list[list[str]] = []
    segment: list[str] = []
    tokens = list(lexer)
    skip = False
    for token in [*tokens, ";"]:
        if skip:
            skip = False
        elif token in {">", ">>", "<", "2>"}:
            skip = True
        elif token in {"|", "&&", "||", ";", "&"}:
            if segment[:1] == ["embed"]:
                found.append(segment[1:])
            segment = []
        else:
            segment.append(token)
            for inner in re.findall(r"\$\((embed [^)]*)\)", token):
                found += [shlex.split(inner)[1:]]
    return found


def logical_lines(lines: tuple[str, ...]) -> list[str]:
    """Shell lines with their continuations (a line ending in a backslash) joined."""
    joined, current = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
        else:
            joined.append(current + line)
            current = ""
    return joined


def shown_commands() -> list[tuple[str, str, list[str]]]:
    """(page, line, arguments) of every `embed` command line in the shell blocks of the task
    pages and the README."""
    found = []
    for block in [*ALL_BLOCKS, *blocks(ROOT / "README.md")]:
        if block.language in SHELL:
            for line in logical_lines(block.lines):
                if COMMAND_LINE.search(line):
                    found += [(block.page, line, args) for args in shell_commands(line)]
    return found


SHOWN = shown_commands()


def parse(args: list[str]) -> click.Context:
    """Parse ``embed ARGS`` as the real CLI would, down to the last subcommand, running
    nothing."""
    command: click.Command = cli
    name, rest, parent = "embed", list(args), None
    while True:
        context = command.make_context(name, rest, parent=parent)
        if not isinstance(command, click.Group):
            return context
        found, command, rest = command.resolve_command(
            context, [*context._protected_args, *context.args])
        assert command is not None and found is not None
        name, parent = found, context


def test_the_pages_show_many_command_lines_and_the_parser_refuses_a_wrong_one() -> None:
    assert len(SHOWN) > 100
    assert parse(["similar", "cat", "--k", "3"]).params["k"] == 3
    with pytest.raises(click.UsageError):
        parse(["similar", "cat", "--kk", "3"])
    assert shell_commands("eval \"$(embed completion zsh)\"   # in ~/.zshrc") == [
        ["completion", "zsh"]]
    assert shell_commands("echo '{}' | embed batch - > out.jsonl") == [["batch", "-"]]


@pytest.mark.parametrize(("page", "line", "args"), SHOWN,
                         ids=[f"{page}:{line[:60]}" for page, line, _ in SHOWN])
def test_every_command_line_on_a_page_parses(page: str, line: str, args: list[str],
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(5):
        try:
            parse(args)
        except click.exceptions.Exit as done:  # --help, --version
            assert done.exit_code == 0
        except click.BadParameter as error:
            # an input file that Click opens while parsing (embed batch FILE): make it, again
            missing = re.search(r"'([^']+)': No such file or directory", error.format_message())
            if not (missing and isinstance(getattr(error.param, "type", None), click.File)):
                pytest.fail(f"{page}: `{line}` does not parse: {error.format_message()}")
            (tmp_path / missing.group(1)).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / missing.group(1)).touch()
            continue
        except click.ClickException as error:
            pytest.fail(f"{page}: `{line}` does not parse: {error.format_message()}")
        return
    pytest.fail(f"{page}: `{line}` names too many missing files")


def test_the_walk_reaches_into_groups() -> None:
    assert {"train", "eval", "eval analogies", "eval similarity"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"embed {name}" in result.output.split("Examples:")[1]


def command_section(name: str) -> tuple[str, str]:
    """(page, text) of the first task-page section whose heading names ``embed NAME``: from
    that heading to the next heading of the same or a higher level."""
    for path in TASK_PAGES:
        lines, fenced = path.read_text(encoding="utf-8").splitlines(), False
        start, level = None, 0
        for number, line in enumerate(lines):
            fenced = fenced != line.startswith("```")
            heading = re.match(r"(#+) ", line) if not fenced else None
            if heading and start is not None and len(heading.group(1)) <= level:
                return str(path.relative_to(DOCS)), "\n".join(lines[start:number])
            if heading and start is None and f"`embed {name}" in line:
                start, level = number, len(heading.group(1))
        if start is not None:
            return str(path.relative_to(DOCS)), "\n".join(lines[start:])
    raise AssertionError(f"no task page has a section for embed {name}")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_has_a_section_with_an_example(name: str) -> None:
    page, section = command_section(name)
    assert re.search(rf"^embed {name}\b", section, re.M), f"{page}: no example of embed {name}"
    for param in ALL[name].params:
        if isinstance(param, click.Option) and param.name != "help":
            for flag in param.opts + param.secondary_opts:
                assert flag in section, f"{page}: the section of embed {name} lacks {flag}"


RUNNABLE_PAGES = sorted({block.page for block in ALL_BLOCKS if block.runnable})


def test_runnable_examples_are_marked_on_the_pages_that_teach_a_task() -> None:
    assert {"getting-started.md", "querying.md", "registry.md", "maps.md",
            "import-export.md", "approximate-index.md"} <= set(RUNNABLE_PAGES)


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_the_runnable_examples_run_against_the_sample(page: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page's runnable blocks, in order, in a fresh folder that holds the sample data and
    a fresh store: shell blocks line by line through the real CLI, Python blocks as a script."""
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBED_STORE", str(tmp_path / "store"))
    runner = CliRunner()
    for block in [block for block in ALL_BLOCKS if block.page == page and block.runnable]:
        if block.language == "python":
            exec(compile("\n".join(block.lines), page, "exec"), {"__name__": "__main__"})
            continue
        assert block.language in SHELL, f"{page}: a runnable block in {block.language}"
        for line in block.lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            (args,) = shell_commands(line)
            result = runner.invoke(cli, args, catch_exceptions=False)
            assert result.exit_code == 0, f"{page}: `{line}` failed:\n{result.output}"


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
        if option == "subword_buckets":
            from embedstore.subwords.fitting import DEFAULT_BUCKETS

            assert text == str(DEFAULT_BUCKETS)
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


def quickstart(text: str) -> list[str]:
    block = text.split("## Quickstart")[1].split("```")[1]
    return [line for line in block.strip().splitlines() if line.strip()]


def test_ci_runs_the_readme_quickstart() -> None:
    commands = quickstart(README)
    assert len(commands) == 2
    # PEP 668: a distribution's Python refuses pip outside a virtual environment, so the first
    # line makes one and the second (perhaps in a new shell) activates it again
    assert commands[0].startswith(
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && embed train")
    assert commands[1].startswith(". .venv/bin/activate && pip install -e '.[test]' && ")
    assert "pytest" in commands[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci_lines if line in commands] == commands  # both, in order
    getting_started = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert quickstart(getting_started) == commands  # the site tells the same
