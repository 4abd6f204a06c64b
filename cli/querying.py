"""``embed similar``, ``embed analogy`` and ``embed batch``: questions to one or many versions."""

from __future__ import annotations

from typing import IO

import click

from .completion import complete_item
from .context import StoreHandle, pass_store
from .options import VERSION, exact_option, k_option, restrict_option, version_options
from .render import emit_neighbors
from .reports import emit_batch_line


@click.command()
@click.argument("items", metavar="ITEM...", nargs=-1, required=True,
                shell_complete=complete_item)
@click.option("--minus", multiple=True, metavar="ITEM", shell_complete=complete_item,
              help="An item to steer away from (repeatable); subtracted from the query.")
@k_option
@restrict_option
@exact_option
@version_options
@pass_store
def similar(handle: StoreHandle, items: tuple[str, ...], minus: tuple[str, ...], k: int,
            restrict: int | None, exact: bool, model: str, version: int | str | None,
            as_json: bool) -> None:
    """The K items most similar to ITEM by cosine, best first, inputs left out.

    Several items (and --minus) ask for the mean of their unit vectors, minus those of
    the --minus items, as gensim's most_similar(positive, negative) does. An item the
    version does not know is answered from its spelling if the version was trained with
    --subwords (a Note: line says so), else it is an error naming close spellings.

    \b
    Examples:
      embed similar cat --k 3
      embed similar cat --model default --version 1 --json
      embed similar cat dog --minus kitten --k 3
      embed similar cat --exact --json
      embed similar kittten --model words --json
    """
    from embedstore.query.embeddings import open_embeddings
    from embedstore.query.results import similar_query

    with open_embeddings(handle.open(), model, version) as vectors:
        question = vectors.similar_question(*items, k=k, restrict=restrict, minus=minus,
                                            exact=exact)
        (neighbors,) = vectors.neighbors(question.ask())
        approximate = vectors.approximate(exact)
    emit_neighbors(neighbors, model=vectors.model, version=vectors.version,
                   query=similar_query(items, minus, k), as_json=as_json,
                   approximate=approximate, from_subwords=question.from_subwords)


@click.command()
@click.argument("a", shell_complete=complete_item)
@click.argument("b", shell_complete=complete_item)
@click.argument("c", shell_complete=complete_item)
@k_option
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="add: 3CosAdd (word2vec); mul: 3CosMul (Levy and Goldberg).")
@restrict_option
@exact_option
@version_options
@pass_store
def analogy(handle: StoreHandle, a: str, b: str, c: str, k: int, method: str,
            restrict: int | None, exact: bool, model: str, version: int | str | None,
            as_json: bool) -> None:
    """Items nearest to A - B + C (king - man + woman -> queen), inputs left out.

    \b
    Examples:
      embed analogy king man woman --model royalty
      embed analogy king man woman --model royalty --method mul --k 3 --json
      embed analogy king man woman --model royalty --exact
      embed analogy kingg man woman --model words
    """
    from embedstore.query.embeddings import open_embeddings

    with open_embeddings(handle.open(), model, version) as vectors:
        question = vectors.analogy_question(a, b, c, k=k, method=method, restrict=restrict,
                                            exact=exact)
        (neighbors,) = vectors.neighbors(question.ask())
        approximate = vectors.approximate(exact or method == "mul")
    emit_neighbors(neighbors, model=vectors.model, version=vectors.version,
                   query={"op": "analogy", "a": a, "b": b, "c": c, "k": k, "method": method},
                   as_json=as_json, approximate=approximate,
                   from_subwords=question.from_subwords)


@click.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--restrict", type=click.IntRange(min=1),
              help="Default for queries without their own: only the N most frequent items.")
@click.option("--version", "version", type=VERSION,
              help="Default version (number or alias) for queries without their own.")
@click.option("--model", default="default", show_default=True,
              help="Default model for queries without their own.")
@click.option("--exact", is_flag=True,
              help="Default for queries without their own: exact answers, without the index.")
@pass_store
@click.pass_context
def batch(ctx: click.Context, handle: StoreHandle, file: IO[bytes], restrict: int | None,
          version: int | str | None, model: str, exact: bool) -> None:
    """Answer many queries: JSON lines in (FILE or - for stdin), one JSON line out each.

    Ops: similar (item, or items and minus; k), analogy (a, b, c, k, method), vector (item),
    similarity (a, b); any line may add "id", "model", "version", "restrict" and "exact". A
    line that fails prints {"id": ..., "error": "..."} and the run goes on; the exit code is 1
    if any line failed. Answers from an index say "approximate": true, answers for items
    built from their n-grams (a version trained with --subwords) "from_subwords": true.

    \b
    Examples:
      embed batch queries.jsonl
      echo '{"op": "similar", "item": "cat", "k": 3, "id": 1}' | embed batch -
      embed batch queries.jsonl --model royalty --version 1 --restrict 10000
      embed batch queries.jsonl --exact
    """
    from embedstore.query.embeddings import run_batch

    failed = built = 0
    for result in run_batch(handle.open(), file, model=model, version=version,
                            restrict=restrict, exact=exact):
        emit_batch_line(result.to_json())
        failed += not result.ok
        built += bool(result.query and result.query.get("from_subwords"))
    if built:
        click.echo(f"Note: {built} line(s) named items the version does not know, answered "
                   "from their character n-grams (\"from_subwords\": true)", err=True)
    if failed:
        click.echo(f"{failed} line(s) failed", err=True)
        ctx.exit(1)
