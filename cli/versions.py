"""Commands that list, name, check, compare and remove versions."""

from __future__ import annotations

import click

from .context import StoreHandle, pass_store
from .options import VERSION, json_option, model_option, version_options
from .reports import (
    emit_aliases,
    emit_diff,
    emit_garbage,
    emit_info,
    emit_verification,
    emit_versions,
)


@click.command()
@model_option("Model to list.")
@json_option("Print JSON (a list of records).")
@pass_store
def versions(handle: StoreHandle, model: str, as_json: bool) -> None:
    """List the versions of a model, oldest first.

    \b
    Examples:
      embed versions
      embed versions --model royalty --json
    """
    from embedstore.inventory import list_versions

    emit_versions(list_versions(handle.open(), model), as_json)


@click.command()
@version_options
@pass_store
def info(handle: StoreHandle, model: str, version: int | str | None, as_json: bool) -> None:
    """Show which store is used and everything recorded about one version.

    \b
    Examples:
      embed info
      embed info --model royalty --version 1 --json
    """
    from embedstore.inventory import describe_store

    emit_info(describe_store(handle.location, model, version), as_json)


@click.command()
@click.argument("version", type=VERSION)
@click.argument("name")
@model_option("Model of the version.")
@pass_store
def tag(handle: StoreHandle, version: int | str, name: str, model: str) -> None:
    """Point alias NAME at VERSION (moving it if it exists); usable wherever a version is.

    \b
    Examples:
      embed tag 3 prod
      embed tag 4 prod --model royalty
      embed similar cat --version prod
    """
    change = handle.open().set_alias(model, version, name)
    moved = f" (was version {change.previous})" if change.previous else ""
    click.echo(f"{change.model}: {change.name} -> version {change.version}{moved}")


@click.command()
@model_option("Model whose aliases to list.")
@click.option("--history", is_flag=True, help="Every move of every alias, oldest first.")
@json_option()
@pass_store
def aliases(handle: StoreHandle, model: str, history: bool, as_json: bool) -> None:
    """List a model's aliases, or with --history every move of them (when, from, to).

    \b
    Examples:
      embed aliases
      embed aliases --model royalty --history --json
    """
    store = handle.open()
    rows = store.alias_history(model) if history else store.aliases(model)
    emit_aliases(rows, history, as_json)


@click.command()
@click.argument("version", type=VERSION)
@model_option("Model of the version.")
@click.option("--force", is_flag=True, help="Remove it even if aliases point at it (and them).")
@pass_store
def rm(handle: StoreHandle, version: int | str, model: str, force: bool) -> None:
    """Remove a version and its files (refused while an alias points at it).

    \b
    Examples:
      embed rm 2
      embed rm old --model royalty --force
    """
    from embedstore.store.registry import remove_version

    info = remove_version(handle.open(), model, version, force=force)
    click.echo(f"removed {info.model} version {info.version}")


@click.command()
@json_option()
@pass_store
def gc(handle: StoreHandle, as_json: bool) -> None:
    """Remove files no version owns (left by a crash or an interrupted write).

    \b
    Examples:
      embed gc
      embed gc --json
    """
    from embedstore.store.registry import garbage_collect

    emit_garbage(garbage_collect(handle.open()), as_json)


@click.command()
@click.argument("version", type=VERSION, required=False)
@model_option("Model of the version.")
@click.option("--all", "all_versions", is_flag=True, help="Check every version of every model.")
@json_option()
@pass_store
@click.pass_context
def verify(ctx: click.Context, handle: StoreHandle, version: int | str | None, model: str,
           all_versions: bool, as_json: bool) -> None:
    """Recompute checksums and check shapes and vocabularies against the metadata.

    Without VERSION checks every version of --model; --all checks the whole store. Exits
    with 1 and names what is wrong when anything is.

    \b
    Examples:
      embed verify
      embed verify 3 --model royalty
      embed verify --all --json
    """
    from embedstore.store.registry import verify as check

    reports = check(handle.open(), None if all_versions else model,
                    None if all_versions else version)
    emit_verification(reports, as_json)
    if not all(report.ok for report in reports):
        ctx.exit(1)


@click.command()
@click.argument("old", type=VERSION)
@click.argument("new", type=VERSION)
@model_option("Model of both versions.")
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Neighbours compared per item.")
@click.option("--sample-size", "--sample", "sample", type=click.IntRange(min=1), default=1000,
              show_default=True,
              help="How many shared items have their neighbourhoods compared (--sample: the "
                   "older spelling).")
@json_option()
@pass_store
def diff(handle: StoreHandle, old: int | str, new: int | str, model: str, k: int, sample: int,
         as_json: bool) -> None:
    """What changed from version OLD to NEW: items added and removed, and how much the
    nearest neighbours of shared items moved.

    \b
    Examples:
      embed diff 1 2
      embed diff prod 5 --model royalty --k 5 --sample-size 200 --json
    """
    from embedstore.query.diff import diff_versions

    emit_diff(diff_versions(handle.open(), model, old, new, k=k, sample=sample), as_json)
