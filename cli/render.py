"""How the CLI prints: tables and JSON on stdout, progress bars on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    from embedstore.plot import DiffMap, ItemMap
    from embedstore.progress import Progress
    from embedstore.query.explain import Explanation
    from embedstore.query.results import Neighbor
    from embedstore.schema import VersionRecord


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


def emit_table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> None:
    """Columns padded to their widest cell; the last column is not padded."""
    all_rows = [list(header)] if header else []
    all_rows += [list(row) for row in rows]
    if not all_rows:
        return
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(all_rows[0]))]
    for row in all_rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def emit_neighbors(
    neighbors: Sequence[Neighbor], *, model: str, version: int, query: dict[str, Any],
    as_json: bool, approximate: bool = False, from_subwords: Sequence[str] = (),
) -> None:
    """A query's answer: the library's JSON shape, or an item / score table; a ``Note:`` on
    stderr names the items built from their n-grams (``from_subwords``)."""
    from embedstore.query.results import answer_json, subword_note, subword_query

    if from_subwords:
        click.echo(f"Note: {subword_note(model, version, from_subwords)}", err=True)
    if as_json:
        emit_json(answer_json(model, version, subword_query(query, from_subwords),
                              results=neighbors, approximate=approximate))
        return
    emit_table([(n.item, f"{n.score:.4f}") for n in neighbors])


def emit_explanation(found: Explanation, as_json: bool) -> None:
    """``embed explain``'s answer: the library's JSON shape, or a cosine line and tables."""
    if as_json:
        emit_json(found.to_json())
        return
    click.echo(f"cosine {found.cosine:.4f} ({found.method}; partners weighed by "
               f"{found.measure})")
    click.echo(f"shared partners of {found.a} and {found.b}: contribution, weight with each")
    emit_table([(p.item, f"{p.contribution:.4f}", f"{p.weight_a:.4g}", f"{p.weight_b:.4g}")
                for p in found.shared] or [("  (none)",)])
    for name, partners in ((found.a, found.only_a), (found.b, found.only_b)):
        other = found.b if name == found.a else found.a
        click.echo(f"partners of {name} that {other} lacks: weight")
        emit_table([(p.item, f"{p.weight:.4g}") for p in partners] or [("  (none)",)])


def emit_version(record: VersionRecord, as_json: bool) -> None:
    """A new version: its full metadata as JSON, or one summary line; its notes on stderr."""
    for note in record.notes:
        click.echo(f"Note: {note}", err=True)
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        click.echo(describe_version(record))


def describe_version(record: VersionRecord) -> str:
    name = f" ({record.name})" if record.name else ""
    if record.origin == "import":
        how = f", imported ({record.import_format})"
    else:
        how = f", {record.settings.method if record.settings else 'trained'}"
        how += f", {record.epochs} epochs" if record.epochs else ""
    loss = f", final loss {record.epoch_losses[-1]:.4f}" if record.epoch_losses else ""
    return (f"{record.model} version {record.version}{name}: {record.n_items} items x "
            f"{record.dim} dims{how}{loss}, {record.duration_seconds:.1f} s")


def describe_picture(picture: ItemMap | DiffMap, output: Path) -> str:
    """One line saying what a picture written by embed plot shows."""
    from embedstore.plot import DiffMap

    if isinstance(picture, DiffMap):
        marked = [point.item for point in picture.points if point.marked]
        moved = f"; moved most: {', '.join(marked)}" if marked else "; nothing moved"
        return (f"wrote {output}: neighbourhood of {picture.around} in {picture.model} "
                f"version {picture.old_version} -> {picture.new_version}, "
                f"{len(picture.points)} items{moved}")
    what = f"{len(picture.points)} items"
    if picture.around is not None:
        what = f"{picture.around} and {len(picture.points) - 1} neighbours"
    return (f"wrote {output}: {what} of {picture.model} version {picture.version}, "
            f"{picture.method.upper()}, {len(picture.groups)} "
            f"{'clusters' if picture.grouping == 'clusters' else 'groups from the labels file'}")


class ProgressBar:
    """Draws one stage at a time on stderr (only on a terminal); a no-op when quiet."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int, loss: float | None) -> None:
        if not sys.stderr.isatty():
            return
        if stage != self.stage:
            self.finish()
            self.stage = stage
            self.bar = click.progressbar(
                length=max(total, 1), label=stage, file=sys.stderr, show_pos=False,
                item_show_func=lambda _: None if self.loss is None else f"loss {self.loss:.4f}",
            )
            self.bar.__enter__()
            self.done = 0
        self.loss = loss
        self.bar.update(max(0, done - self.done), current_item=stage)
        self.done = max(self.done, done)

    loss: float | None = None
    done: int = 0

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Progress | None]:
    """A progress callback drawing on stderr (None when quiet), finished on exit."""
    bar = ProgressBar()
    try:
        yield None if quiet else bar
    finally:
        bar.finish()
