"""The ``embed`` command: parse, make one library call, render.

Every command turns an :class:`embedstore.EmbedstoreError` into one line on stderr and exit
code 1; usage mistakes exit 2 (Click's convention). Library modules are imported inside the
commands so that ``embed --help`` starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from embedstore import EmbedstoreError, __version__

from .render import ProgressBar, describe_version, emit_json, emit_neighbors, emit_table

F = TypeVar("F", bound=Callable[..., Any])


class EmbedGroup(click.Group):
    """Maps library errors to one clear line and a non-zero exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EmbedstoreError as error:
            raise click.ClickException(str(error)) from None
        except BrokenPipeError:
            ctx.exit(1)


@click.group(cls=EmbedGroup)
@click.version_option(__version__, prog_name="embed")
@click.option(
    "--store", "store_path", type=click.Path(path_type=Path), envvar="EMBED_STORE",
    help="Store directory. Default: $EMBED_STORE, else ~/.local/share/embedstore.",
)
@click.pass_context
def cli(ctx: click.Context, store_path: Path | None) -> None:
    """Learn embeddings from co-occurrence pairs, keep every model as a version,
    and query them.

    \b
    Examples:
      embed train data/animals.csv
      embed similar cat --k 3
      embed analogy king man woman --model royalty
      embed --store ./my-store versions
    """
    ctx.obj = store_path


def store_option(f: F) -> F:
    return click.pass_obj(f)  # type: ignore[return-value]


def version_options(f: F) -> F:
    """--model, --version and --json, shared by every command that reads one version."""
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)
    f = click.option("--version", "version", type=click.IntRange(min=1),
                     help="Version number (default: the latest).")(f)
    f = click.option("--model", default="default", show_default=True,
                     help="Model to use.")(f)
    return f


def k_option(f: F) -> F:
    return click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True,
                        help="How many results.")(f)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--model", default="default", show_default=True, help="Model to add a version to.")
@click.option("--name", help="Free-text name for the new version.")
@click.option("--dim", type=click.IntRange(1, 4096), default=100, show_default=True,
              help="Vector dimension.")
@click.option("--epochs", type=click.IntRange(min=1),
              help="Passes over the pairs (default: chosen from the data's size).")
@click.option("--negative", type=click.IntRange(0, 100), default=5, show_default=True,
              help="Sampled negatives per positive pair.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True, max=10), default=0.05,
              show_default=True, help="Initial learning rate (decays linearly).")
@click.option("--batch-size", type=click.IntRange(min=1), default=4096, show_default=True,
              help="Pair visits per vectorised update.")
@click.option("--min-count", type=click.FloatRange(min=0), default=1, show_default=True,
              help="Drop items whose summed positive weight is below this.")
@click.option("--ns-exponent", type=click.FloatRange(0, 2), default=0.75, show_default=True,
              help="Negatives are drawn from item counts raised to this power.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed; the same file and seed give the same vectors.")
@click.option("--header/--no-header", default=None,
              help="Whether the first row is a header (default: detected).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version's metadata as JSON.")
@store_option
def train(
    store_path: Path | None, file: Path, model: str, name: str | None, dim: int,
    epochs: int | None, negative: int, lr: float, batch_size: int, min_count: float,
    ns_exponent: float, seed: int, header: bool | None, quiet: bool, as_json: bool,
) -> None:
    """Train a new version of a model from a pair file.

    FILE holds rows item_a,item_b[,weight] (CSV or TSV, optional header, optionally
    gzipped). A missing weight means 1, repeated rows add up, weight 0 marks a negative pair.

    \b
    Examples:
      embed train data/animals.csv
      embed train data/royalty.csv --model royalty --name first --seed 7
      embed train clicks.tsv.gz --dim 64 --epochs 10 --min-count 5 --quiet
    """
    from embedstore.schema import PairFileOptions, SgnsSettings
    from embedstore.training import train_pairs

    settings = SgnsSettings(dim=dim, epochs=epochs, negative=negative, lr=lr,
                            batch_size=batch_size, ns_exponent=ns_exponent, seed=seed)
    reading = PairFileOptions(min_count=min_count, header=header)
    bar = ProgressBar()
    try:
        record = train_pairs(file, store=store_path, model=model, name=name, settings=settings,
                             reading=reading, progress=None if quiet else bar)
    finally:
        bar.finish()
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        click.echo(describe_version(record))


@cli.command()
@click.argument("item")
@k_option
@click.option("--restrict", type=click.IntRange(min=1),
              help="Only consider the N most frequent items as results.")
@version_options
@store_option
def similar(store_path: Path | None, item: str, k: int, restrict: int | None, model: str,
            version: int | None, as_json: bool) -> None:
    """The K items most similar to ITEM by cosine, best first.

    \b
    Examples:
      embed similar cat --k 3
      embed similar cat --model default --version 1 --json
    """
    from embedstore.embeddings import open_embeddings

    with open_embeddings(store_path, model, version) as vectors:
        neighbors = vectors.similar(item, k=k, restrict=restrict)
        emit_neighbors(neighbors, model=vectors.model, version=vectors.version,
                       query={"op": "similar", "item": item, "k": k}, as_json=as_json)


@cli.command()
@click.argument("a")
@click.argument("b")
@click.argument("c")
@k_option
@click.option("--method", type=click.Choice(["add", "mul"]), default="add", show_default=True,
              help="add: 3CosAdd (word2vec); mul: 3CosMul (Levy and Goldberg).")
@click.option("--restrict", type=click.IntRange(min=1),
              help="Only consider the N most frequent items as results.")
@version_options
@store_option
def analogy(store_path: Path | None, a: str, b: str, c: str, k: int, method: str,
            restrict: int | None, model: str, version: int | None, as_json: bool) -> None:
    """Items nearest to A - B + C (king - man + woman -> queen), inputs left out.

    \b
    Examples:
      embed analogy king man woman --model royalty
      embed analogy king man woman --model royalty --method mul --k 3 --json
    """
    from embedstore.embeddings import open_embeddings

    with open_embeddings(store_path, model, version) as vectors:
        neighbors = vectors.analogy(a, b, c, k=k, method=method, restrict=restrict)
        emit_neighbors(neighbors, model=vectors.model, version=vectors.version,
                       query={"op": "analogy", "a": a, "b": b, "c": c, "k": k,
                              "method": method}, as_json=as_json)


@cli.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--restrict", type=click.IntRange(min=1),
              help="Default for queries without their own: only the N most frequent items.")
@click.option("--version", "version", type=click.IntRange(min=1),
              help="Default version for queries without their own (default: the latest).")
@click.option("--model", default="default", show_default=True,
              help="Default model for queries without their own.")
@store_option
@click.pass_context
def batch(ctx: click.Context, store_path: Path | None, file: Any, restrict: int | None,
          version: int | None, model: str) -> None:
    """Answer many queries: JSON lines in (FILE or - for stdin), one JSON line out each.

    Ops: similar (item, k), analogy (a, b, c, k, method), vector (item), similarity (a, b);
    any line may add "id", "model", "version" and "restrict". A line that fails prints
    {"id": ..., "error": "..."} and the run goes on; the exit code is 1 if any line failed.

    \b
    Examples:
      embed batch queries.jsonl
      echo '{"op": "similar", "item": "cat", "k": 3, "id": 1}' | embed batch -
      embed batch queries.jsonl --model royalty --version 1 --restrict 10000
    """
    import json

    from embedstore.batch import run_batch
    from embedstore.store import Store

    failed = 0
    with Store.open(store_path) as store:
        for result in run_batch(store, file, model=model, version=version, restrict=restrict):
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
            failed += not result.ok
    if failed:
        click.echo(f"{failed} line(s) failed", err=True)
        ctx.exit(1)


@cli.command()
@click.option("--model", default="default", show_default=True, help="Model to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of records).")
@store_option
def versions(store_path: Path | None, model: str, as_json: bool) -> None:
    """List the versions of a model, oldest first.

    \b
    Examples:
      embed versions
      embed versions --model royalty --json
    """
    from embedstore.store import Store

    with Store.open(store_path) as store:
        records = store.version_records(model)
        if not records:
            store.version_info(model)  # raises the "no such model" error
    if as_json:
        emit_json([record.model_dump(mode="json") for record in records])
        return
    emit_table(
        [(str(r.version), r.name or "", r.created.strftime("%Y-%m-%d %H:%M:%S"), str(r.n_items),
          str(r.dim), Path(r.source.path).name if r.source else "") for r in records],
        header=("version", "name", "created (UTC)", "items", "dim", "source"),
    )


@cli.command()
@version_options
@store_option
def info(store_path: Path | None, model: str, version: int | None, as_json: bool) -> None:
    """Show which store is used and everything recorded about one version.

    \b
    Examples:
      embed info
      embed info --model royalty --version 1 --json
    """
    from embedstore.inventory import describe_store

    report = describe_store(store_path, model, version)
    if as_json:
        emit_json(report)
        return
    click.echo(f"store: {report['store']}")
    if report["version"] is None:
        click.echo(f"models: {', '.join(report['models']) or 'none yet'}")
        return
    record = report["version"]
    emit_table([(key, _flat(value)) for key, value in record.items()])


def _flat(value: Any) -> str:
    if isinstance(value, list) and len(value) > 6:
        head = " ".join(_flat(v) for v in value[:3])
        return f"{head} ... {_flat(value[-1])} ({len(value)} values)"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(_flat(v) for v in value)
    return str(value)


def main() -> None:
    cli(prog_name="embed")
