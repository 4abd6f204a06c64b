"""Options and parameter types shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from embedstore.methods.registry import METHODS

F = TypeVar("F", bound=Callable[..., Any])


class VersionRef(click.ParamType):
    """A version number (1, 2, ...) or an alias name (letters first, e.g. prod), read by the
    library's one parser of version references."""

    name = "VERSION"

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[CompletionItem]:
        """The model's version numbers (newest first) and aliases."""
        from .completion import complete_version

        return complete_version(ctx, param, incomplete)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int | str:
        from embedstore.errors import QueryError
        from embedstore.names import parse_version

        try:
            reference = parse_version(value)
        except QueryError as error:
            self.fail(str(error), param, ctx)
        assert reference is not None
        return reference


VERSION = VersionRef()


class MemoryLimit(click.ParamType):
    """A size such as 256MB, 4GB or 2GiB, read by the library's parser, as bytes."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        from embedstore.engines.bounded.budget import parse_memory_limit
        from embedstore.errors import InputError

        if isinstance(value, int):
            return value
        try:
            return parse_memory_limit(str(value))
        except InputError as error:
            self.fail(str(error), param, ctx)


def memory_limit_option(f: F) -> F:
    """--memory-limit: what reading, counting and factorising may use before they spill."""
    return click.option(
        "--memory-limit", type=MemoryLimit(),
        show_default="25% of the machine's memory; for a corpus at most 1GB",
        help="Pair data bigger than half this is aggregated out of core by DuckDB; a corpus's "
             "pairs that outgrow it are summed there, and an SVD whose PPMI matrix would not "
             "fit streams over blocks on disk (same counts and vectors).")(f)


TRAINING_METHODS = ("auto", *METHODS)
"""``embed train --method`` choices, from the library's one record per method."""


def model_option(help: str = "Model to use.") -> Callable[[F], F]:
    from .completion import complete_model

    return click.option("--model", default="default", show_default=True, help=help,
                        shell_complete=complete_model)


def json_option(help: str = "Print JSON.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def version_options(f: F) -> F:
    """--model, --version and --json, shared by every command that reads one version."""
    f = json_option("Print JSON instead of a table.")(f)
    f = click.option("--version", "version", type=VERSION,
                     help="Version number or alias (default: the latest).")(f)
    return model_option()(f)


def k_option(f: F) -> F:
    return click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True,
                        help="How many results.")(f)


def restrict_option(f: F) -> F:
    return click.option("--restrict", type=click.IntRange(min=1),
                        help="Only consider the N most frequent items as results.")(f)


def exact_option(f: F) -> F:
    return click.option("--exact", is_flag=True,
                        help="Exact answer, without the version's approximate index.")(f)


def index_option(f: F) -> F:
    return click.option("--index", is_flag=True,
                        help="Build the version's approximate index right after publishing it "
                             "(as embed index build does with its defaults).")(f)


def text_options(f: F) -> F:
    """--window and --sample of text counting, shared by pairs and train (the defaults shown
    are the library's: tests/cli/test_docs.py keeps them equal)."""
    f = click.option("--sample", type=click.FloatRange(0, 1), show_default="0.001",
                     help="Text: word2vec's frequent-word subsampling threshold (0: off).")(f)
    f = click.option("--window", type=click.IntRange(1, 100), show_default="5",
                     help="Text: tokens up to this far apart co-occur.")(f)
    return f


def quiet_option(f: F) -> F:
    return click.option("--quiet", is_flag=True, help="No progress bar.")(f)


def subword_options(f: F) -> F:
    """``--subwords`` and ``--subword-buckets``, of ``embed train`` and ``embed extend``."""
    f = click.option("--subword-buckets", type=click.IntRange(1, 1 << 24),
                     show_default="200000",
                     help="With --subwords: hash buckets of the n-gram vectors (each one a "
                          "vector of the version's dimension).")(f)
    return click.option("--subwords", is_flag=True,
                        help="Also fit vectors of character n-grams (3 to 6 characters, "
                             "hashed) to the vectors, so that queries answer words the "
                             "version has not seen (misspellings, rare forms) from their "
                             "spelling.")(f)
