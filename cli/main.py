"""The ``embed`` command: a group that builds the store handle once, and its commands.

Each command (in :mod:`.training`, :mod:`.extending`, :mod:`.querying`, :mod:`.evaluation`,
:mod:`.transfer`, :mod:`.versions`, :mod:`.indexing`, :mod:`.plotting`, :mod:`.serving`) parses
its arguments,
makes one library call and renders the result (:mod:`.render`, :mod:`.reports`). Every
:class:`embedstore.EmbedstoreError` becomes one line on stderr and exit code 1; usage mistakes
exit 2 (Click's convention). Library modules are imported inside the commands so that
``embed --help`` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from embedstore import EmbedstoreError, __version__

from .completion import completion
from .context import StoreHandle
from .evaluation import eval_
from .explaining import explain
from .extending import extend
from .indexing import index
from .plotting import plot
from .querying import analogy, batch, similar
from .serving import serve
from .training import pairs, train
from .transfer import export, import_
from .versions import aliases, diff, gc, info, rm, tag, verify, versions


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
    ctx.obj = StoreHandle(store_path)
    ctx.call_on_close(ctx.obj.close)


for command in (train, extend, pairs, eval_, similar, analogy, explain, batch, versions, info,
                import_, export, tag, aliases, rm, gc, verify, diff, index, plot, serve,
                completion):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="embed")
