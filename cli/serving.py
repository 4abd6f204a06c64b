"""``embed serve``: the HTTP service over the store (the ``embedstore_server`` package)."""

from __future__ import annotations

import click

from .context import StoreHandle, pass_store


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes (default: 1, which batches every concurrent query and "
                   "splits each product over every core).")
@click.option("--api-key", envvar="EMBED_API_KEY",
              help="Require 'Authorization: Bearer KEY' on /v1 and the page ($EMBED_API_KEY).")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="URL",
              help="Allow browser requests from this origin (repeatable; default: none).")
@click.option("--batch-wait", type=click.FloatRange(0, 1000), default=None, metavar="MS",
              help="Milliseconds a batch of concurrent similar/analogy queries waits for more "
                   "after its first one; a query alone at an idle worker never waits (default: "
                   "$EMBED_SERVE_BATCH_WAIT_MS, else 0.5).")
@pass_store
def serve(handle: StoreHandle, host: str, port: int, workers: int | None,
          api_key: str | None, cors_origins: tuple[str, ...], batch_wait: float | None) -> None:
    """Answer queries over HTTP: a JSON API (/v1, OpenAPI at /docs) and a web page (/).

    Needs the serve extra: pip install 'embedstore[serve]'. Requests without a version use
    the latest version or the alias's target as of that request, so new versions and moved
    aliases are served at once, without a restart. Nothing is ever written to the store.
    Concurrent similar and analogy queries of one version are answered together by one
    matrix product on every core (the same answers as one by one).

    \b
    Examples:
      embed serve
      embed --store ./my-store serve --port 8080 --workers 2
      embed serve --host 0.0.0.0 --api-key s3cret --cors-origin https://app.example.com
      embed serve --batch-wait 0.2
    """
    try:
        from embedstore_server.serve import check_installed, run_server

        check_installed()
    except ImportError as error:
        raise click.ClickException(
            f"embed serve needs the serve extra ({error.name} is missing); "
            "install it with: pip install 'embedstore[serve]'") from None

    run_server(store=handle.location, host=host, port=port, workers=workers, api_key=api_key,
               cors_origins=list(cors_origins), batch_wait_ms=batch_wait)
