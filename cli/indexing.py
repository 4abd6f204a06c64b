"""``embed index build`` and ``embed index rm``: a version's approximate search index."""

from __future__ import annotations

import click

from .context import StoreHandle, pass_store
from .options import VERSION, json_option, model_option, quiet_option
from .render import emit_json, progress_bar


@click.group()
def index() -> None:
    """Build or remove a version's approximate search index (IVF or HNSW, memory-mapped).

    Queries use a version's index when it has one; --exact (similar, analogy, batch) asks for
    the exact answer. Every JSON answer says "approximate": true or false.

    \b
    Examples:
      embed index build
      embed index build 3 --model royalty --probes 32
      embed index build 3 --kind hnsw --connectivity 32 --expansion-search 128
      embed index rm 3
    """


@index.command()
@click.argument("version", type=VERSION, required=False)
@model_option("Model of the version.")
@click.option("--kind", type=click.Choice(["ivf", "hnsw"]), default="ivf", show_default=True,
              help="ivf: k-means lists (faiss), opens in constant time, builds fast; hnsw: a "
              "graph (usearch).")
@click.option("--lists", type=click.IntRange(min=1), default=None,
              help="ivf: k-means lists [default: about 4 x sqrt(items), a power of two, at "
              "least 39 items per list].")
@click.option("--probes", type=click.IntRange(min=1), default=None,
              help="ivf: lists searched per query (more: better recall, slower queries) "
              "[default: 32].")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="ivf: seed of the k-means sample and start [default: 0].")
@click.option("--connectivity", type=click.IntRange(2, 256), default=None,
              help="hnsw: graph edges per item (more: better recall, larger index, slower "
              "build) [default: 16].")
@click.option("--expansion-add", type=click.IntRange(2, 4096), default=None,
              help="hnsw: breadth of the search while building (more: better graph, slower "
              "build) [default: 128].")
@click.option("--expansion-search", type=click.IntRange(2, 4096), default=None,
              help="hnsw: breadth of the search per query (more: better recall, slower "
              "queries) [default: 64].")
@click.option("--threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="Build threads (0: every core; 1: the same file byte for byte every time).")
@quiet_option
@json_option("Print the index's record as JSON.")
@pass_store
def build(handle: StoreHandle, version: int | str | None, model: str, kind: str,
          quiet: bool, as_json: bool, **settings: int | None) -> None:
    """Build the approximate index of VERSION (default: the latest), replacing any older one.

    \b
    Examples:
      embed index build
      embed index build prod --model royalty --threads 1 --json
      embed index build 3 --lists 32 --probes 8 --seed 7
      embed index build 3 --kind hnsw --connectivity 32 --expansion-add 256
    """
    from embedstore.query.indexing import build_index

    threads = settings.pop("threads") or 0
    with progress_bar(quiet) as progress:
        report = build_index(handle.open(), model, version, kind=kind, threads=threads,
                             progress=progress, **settings)
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(f"{report.model} version {report.version}: {kind} index of "
                   f"{report.n_items} items, {report.index.bytes} bytes ({report.index.path})")


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
    from embedstore.query.indexing import remove_index

    report = remove_index(handle.open(), model, version)
    click.echo(f"{report.model} version {report.version}: index removed "
               f"({report.index.bytes} bytes freed)")
