"""``embed plot``: a 2-D map of a version, or of how a neighbourhood moved between two."""

from __future__ import annotations

from pathlib import Path

import click

from embedstore.errors import EmbedstoreError

from .completion import complete_item
from .context import StoreHandle, pass_store
from .options import VERSION, json_option, model_option
from .render import describe_picture, emit_json


def _picture_format(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    from embedstore.plot.output import format_of

    try:
        format_of(value)
    except EmbedstoreError as error:
        raise click.BadParameter(str(error)) from None
    return value


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              callback=_picture_format, help="Picture to write: .png, .svg or .html.")
@model_option()
@click.option("--version", "version", type=VERSION,
              help="Version number or alias (default: the latest).")
@click.option("--items", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Map the N most frequent items.")
@click.option("--around", shell_complete=complete_item,
              help="Map this item and its --k nearest neighbours instead.")
@click.option("--k", "k", type=click.IntRange(1, 10_000), default=50, show_default=True,
              help="Neighbours shown with --around.")
@click.option("--labels", type=click.Path(path_type=Path),
              help="File of item,group lines that colour the map (default: clusters).")
@click.option("--method", type=click.Choice(["pca", "tsne"]), default="pca",
              show_default=True, help="Projection to 2-D.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of t-SNE and clustering; the same seed gives the same picture.")
@click.option("--diff", nargs=2, type=VERSION, metavar="OLD NEW",
              help="Show how the neighbourhood of --around moved from version OLD to NEW.")
@json_option("Print the map's points as JSON.")
@pass_store
def plot(handle: StoreHandle, output: Path, model: str, version: int | str | None, items: int,
         around: str | None, k: int, labels: Path | None, method: str, seed: int,
         diff: tuple[int | str, int | str] | None, as_json: bool) -> None:
    """Draw a 2-D map of a version: its most frequent items or one item's neighbourhood,
    coloured by groups; or with --diff, how a neighbourhood moved between two versions.

    \b
    Examples:
      embed plot -o map.png
      embed plot -o cat.svg --around cat --k 20
      embed plot -o words.html --model words --items 1000 --method tsne --seed 3
      embed plot -o groups.png --labels groups.csv --version prod
      embed plot -o moved.png --diff 1 2 --around cat
    """
    from embedstore.plot import write_plot

    if diff and (version is not None or labels is not None or around is None):
        raise click.UsageError("--diff needs --around ITEM and takes neither --version nor "
                               "--labels")
    picture = write_plot(output, handle.open(), model, version, items=items, around=around, k=k,
                         labels=labels, method=method, seed=seed, diff=diff or None)
    if as_json:
        emit_json({"output": str(output), **picture.to_json()})
    else:
        click.echo(describe_picture(picture, output))
