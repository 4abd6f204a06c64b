"""``embed extend``: new items folded into a version, its vectors kept as they are."""

from __future__ import annotations

from pathlib import Path

import click

from .context import StoreHandle, pass_store
from .options import VERSION, json_option, model_option, quiet_option, subword_options
from .render import emit_version, progress_bar


@click.command()
@click.argument("pairs", metavar="PAIRS", type=click.Path(path_type=Path, dir_okay=True))
@model_option("Model to add the version to.")
@click.option("--from", "parent", type=VERSION,
              help="The version to extend (number or alias; default: the latest).")
@click.option("--name", help="Free-text name for the new version.")
@click.option("--header/--no-header", default=None,
              help="Whether the first row of PAIRS is a header (default: detected).")
@subword_options
@quiet_option
@json_option("Print the new version's metadata as JSON.")
@pass_store
def extend(handle: StoreHandle, pairs: Path, model: str, parent: int | str | None,
           name: str | None, header: bool | None, subwords: bool,
           subword_buckets: int | None, quiet: bool, as_json: bool) -> None:
    """Add the items of PAIRS that a version lacks, as a new version holding every vector
    of that version unchanged, bit for bit, plus vectors for the new items computed from
    their pairs by the version's own method.

    PAIRS is a pair file or Parquet pair data, as embed train reads. A new item with no path
    of pairs to a known item is left out, and pairs between two known items are ignored
    (their vectors do not move: train a new version to take them in); Note: lines count
    both. If the version has an approximate index, the new version's is that index with the
    new items added. With --subwords the new version's subword vectors are fitted to all of
    its vectors; without, the version extended keeps those of its parent, if it had any.

    \b
    Examples:
      embed extend new-packages.csv
      embed extend today.csv.gz --model shop --from prod --name 2026-12-07
      embed extend new.csv --from 3 --quiet --json
      embed extend new-words.csv --subwords
    """
    from embedstore.training.extend import extend_version

    with progress_bar(quiet) as progress:
        record = extend_version(pairs, store=handle.location, model=model, parent=parent,
                                name=name, header=header, progress=progress,
                                subwords=subwords, subword_buckets=subword_buckets)
    emit_version(record, as_json)
