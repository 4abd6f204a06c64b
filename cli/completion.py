"""Shell completion: ``embed completion SHELL`` prints the script, and the callbacks that
complete model names, versions and aliases, and items from the store."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

SHELLS = ("bash", "zsh", "fish")


def _store(ctx: click.Context) -> Any:
    return ctx.find_root().params.get("store_path")


def complete_model(ctx: click.Context, param: click.Parameter,
                   incomplete: str) -> list[CompletionItem]:
    from embedstore.query.completion import complete_models

    return [CompletionItem(name) for name in complete_models(_store(ctx), incomplete)]


def complete_version(ctx: click.Context, param: click.Parameter | None,
                     incomplete: str) -> list[CompletionItem]:
    from embedstore.query.completion import complete_versions

    model = ctx.params.get("model") or "default"
    return [CompletionItem(name) for name in complete_versions(_store(ctx), model, incomplete)]


def complete_item(ctx: click.Context, param: click.Parameter,
                  incomplete: str) -> list[CompletionItem]:
    from embedstore.query.completion import complete_items

    model = ctx.params.get("model") or "default"
    found = complete_items(_store(ctx), model, ctx.params.get("version"), incomplete)
    return [CompletionItem(item) for item in found]


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the script that lets SHELL complete embed's commands, options, model names,
    versions and aliases, and item names (from the store, most frequent first).

    \b
    Examples:
      embed completion bash > ~/.local/share/bash-completion/completions/embed
      eval "$(embed completion zsh)"
      embed completion fish > ~/.config/fish/completions/embed.fish
    """
    from .main import cli

    script = get_completion_class(shell)(cli, {}, "embed", "_EMBED_COMPLETE")
    click.echo(script.source())  # type: ignore[misc]
