"""``embed eval``: standard evaluations of a version, kept with it."""

from __future__ import annotations

from pathlib import Path

import click

from .context import StoreHandle, pass_store
from .options import version_options
from .reports import emit_evaluation


@click.group(name="eval")
def eval_() -> None:
    """Evaluate a version on standard test sets; results are kept with the version.

    \b
    Examples:
      embed eval analogies questions-words.txt --restrict 30000
      embed eval similarity wordsim353.tsv --json
    """


@eval_.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--restrict", type=click.IntRange(min=1),
              help="Only questions whose words are all among the N most frequent items.")
@version_options
@pass_store
def analogies(handle: StoreHandle, file: Path, restrict: int | None, model: str,
              version: int | str | None, as_json: bool) -> None:
    """Accuracy on analogy questions (': section' lines, then 'a b c d' per line).

    \b
    Examples:
      embed eval analogies questions-words.txt --restrict 30000
      embed eval analogies questions-words.txt --model words --version prod --json
    """
    from embedstore.query.evaluate import evaluate_version

    emit_evaluation(evaluate_version("analogies", file, store=handle.open(), model=model,
                                     version=version, restrict=restrict), as_json)


@eval_.command()
@click.argument("file", type=click.Path(path_type=Path))
@version_options
@pass_store
def similarity(handle: StoreHandle, file: Path, model: str, version: int | str | None,
               as_json: bool) -> None:
    """Spearman and Pearson correlation of cosine with human scores ('w1 w2 score' lines).

    \b
    Examples:
      embed eval similarity wordsim353.tsv
      embed eval similarity wordsim353.tsv --model words --version 2 --json
    """
    from embedstore.query.evaluate import evaluate_version

    emit_evaluation(evaluate_version("similarity", file, store=handle.open(), model=model,
                                     version=version), as_json)
