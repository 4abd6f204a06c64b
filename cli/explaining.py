"""``embed explain``: why two items are neighbours."""

from __future__ import annotations

import click

from .completion import complete_item
from .context import StoreHandle, pass_store
from .options import k_option, version_options
from .render import emit_explanation


@click.command()
@click.argument("a", shell_complete=complete_item)
@click.argument("b", shell_complete=complete_item)
@k_option
@version_options
@pass_store
def explain(handle: StoreHandle, a: str, b: str, k: int, model: str,
            version: int | str | None, as_json: bool) -> None:
    """Why A and B are (or are not) neighbours: their cosine, the K partners they share that
    add most to it, weighed as the version's method weighs them, and the K strongest
    partners each has that the other lacks. Needs the counts a trained version keeps.

    \b
    Examples:
      embed explain cat kitten
      embed explain cat kitten --k 3 --json
      embed explain python3-numpy python3-scipy --model deps --version 2
    """
    from embedstore.query.embeddings import open_embeddings
    from embedstore.query.explain import explain as explain_pair

    with open_embeddings(handle.open(), model, version) as vectors:
        found = explain_pair(vectors, a, b, k=k)
    emit_explanation(found, as_json)
