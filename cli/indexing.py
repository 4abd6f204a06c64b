"""``embed index build`` and ``embed index rm``: a version's approximate search index."""

from __future__ import annotations

import click

from .context import StoreHandle, pass_store
from .options import VERSION, json_option, model_option, quiet_option
from .render import emit_json, progress_bar


@click.group()
def index() -> None:
    """Build or remove a version's approximate search index (HNSW, memory-mapped).

    Queries use a version's index when it has one; --exact (similar, analogy, batch) asks for
    the exact answer. Every JSON answer says "approximate": true or false.

    \b
    Examples:
      embed index build
      embed index build 3 --model royalty --connectivity 32 --expansion-search 128
      embed index rm 3
    """


@index.command()
@click.argument("version", type=VERSION, required=False)
@model_option("Model of the version.")
@click.option("--connectivity", type=click.IntRange(2, 256), default=16, show_default=True,
              help="Graph edges per item (more: better recall, larger index, slower build).")
@click.option("--expansion-add", type=click.IntRange(2, 4096), default=128, show_default=True,
              help="Breadth of the search while building (more: better graph, slower build).")
@click.option("--expansion-search", type=click.IntRange(2, 4096), default=64,
              show_default=True, help="Breadth of the search per query (more: better recall, "
              "slower queries).")
@click.option("--threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="Build threads (0: every core; 1: the same file byte for byte every time).")
@quiet_option
@json_option("Print the index's record as JSON.")
@pass_store
def build(handle: StoreHandle, version: int | str | None, model: str, connectivity: int,
          expansion_add: int, expansion_search: int, threads: int, quiet: bool,
          as_json: bool) -> None:
    """Build the approximate index of VERSION (default: the latest), replacing any older one.

    \b
    Examples:
      embed index build
      embed index build prod --model royalty --threads 1 --json
      embed index build 3 --connectivity 32 --expansion-add 256 --expansion-search 128
    """
    from embedstore.indexing import build_index

    with progress_bar(quiet) as progress:
        report = build_index(handle.open(), model, version, connectivity=connectivity,
                             expansion_add=expansion_add, expansion_search=expansion_search,
                             threads=threads, progress=progress)
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(f"{report.model} version {report.version}: index of {report.n_items} items, "
                   f"{report.index.bytes} bytes ({report.index.path})")


@index.command(name="rm")
@click.argument("version", type=VERSION)
@model_option("Model of the version.")
@pass_store
def rm_index(handle: StoreHandle, version: int | str, model: str) -> None:
    """Remove the approximate index of VERSION; the version stays and answers exactly.

    \b
    Examples:
      embed index rm 3
      embed index rm prod --model royalty
    """
    from embedstore.indexing import remove_index

    report = remove_index(handle.open(), model, version)
    click.echo(f"{report.model} version {report.version}: index removed "
               f"({report.index.bytes} bytes freed)")
