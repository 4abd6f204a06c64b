"""``embed import`` and ``embed export``: vectors from and to other tools' file formats."""

from __future__ import annotations

from pathlib import Path

import click

from .context import StoreHandle, pass_store
from .options import index_option, json_option, model_option, version_options
from .render import emit_json, emit_version

FORMAT_CHOICE = click.Choice(["word2vec", "word2vec-binary", "glove", "npy"])


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "format_", type=FORMAT_CHOICE, help="File format (default: detected).")
@click.option("--vocab", "vocab_path", type=click.Path(path_type=Path),
              help="Vocabulary file: 'item count' lines (word2vec), or the .npy's items.")
@model_option("Model to add a version to.")
@click.option("--name", help="Free-text name for the new version.")
@index_option
@json_option("Print the new version's metadata as JSON.")
@pass_store
def import_(handle: StoreHandle, file: Path, format_: str | None, vocab_path: Path | None,
            model: str, name: str | None, index: bool, as_json: bool) -> None:
    """Add a version made of existing vectors (word2vec, word2vec-binary, GloVe, .npy).

    \b
    Examples:
      embed import vectors.txt --model glove --name 6B-100d
      embed import GoogleNews.bin --format word2vec-binary --model news
      embed import matrix.npy --vocab matrix.vocab --model items
      embed import model.vec --vocab counts.txt
      embed import GoogleNews.bin --model news --index
    """
    from embedstore.transfer import import_file

    emit_version(import_file(file, format=format_, vocab_path=vocab_path, store=handle.location,
                             model=model, name=name, index=index), as_json)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="File to write (replaced atomically).")
@click.option("--format", "format_", type=FORMAT_CHOICE, default="word2vec", show_default=True,
              help="File format.")
@click.option("--vocab", "vocab_path", type=click.Path(path_type=Path),
              help="Also write counts here ('item count' lines; for npy the item list).")
@click.option("--subwords", "subwords_path", type=click.Path(path_type=Path),
              help="Also write the version's n-gram vectors here (.npy, one row per hash "
                   "bucket) and their hashing settings beside it (same name, .json).")
@version_options
@pass_store
def export(handle: StoreHandle, output: Path, format_: str, vocab_path: Path | None,
           subwords_path: Path | None, model: str, version: int | str | None,
           as_json: bool) -> None:
    """Write a version's vectors in a format other tools read (gensim reads them bit for bit).

    \b
    Examples:
      embed export -o vectors.txt
      embed export --format word2vec-binary -o vectors.bin --vocab counts.txt --version prod
      embed export --format npy -o vectors.npy --model royalty --json
      embed export -o vectors.txt --model words --subwords ngrams.npy
    """
    from embedstore.transfer import export_version

    count = export_version(output, format=format_, vocab_path=vocab_path, store=handle.open(),
                           model=model, version=version, subwords_path=subwords_path)
    written = {"output": str(output), "format": format_, "items": count}
    if subwords_path is not None:
        written["subwords"] = str(subwords_path)
    if as_json:
        emit_json(written)
    else:
        click.echo(f"wrote {count} vectors to {output} ({format_})" + (
            f" and the n-gram vectors to {subwords_path}" if subwords_path else ""))
