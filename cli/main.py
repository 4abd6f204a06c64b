"""The ``embed`` command: parse, make one library call, render.

Every command turns an :class:`embedstore.EmbedstoreError` into one line on stderr and exit
code 1; usage mistakes exit 2 (Click's convention). Library modules are imported inside the
commands so that ``embed --help`` starts fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from embedstore import EmbedstoreError, __version__

from .render import (
    ProgressBar,
    describe_picture,
    describe_version,
    emit_json,
    emit_neighbors,
    emit_table,
)

F = TypeVar("F", bound=Callable[..., Any])


class VersionRef(click.ParamType):
    """A version number (1, 2, ...) or an alias name (letters first, e.g. prod)."""

    name = "VERSION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            if len(text.lstrip("0")) > 19 or int(text) > 2**63 - 1:
                self.fail(f"{value!r} is too large to be a version number", param, ctx)
            if int(text) >= 1:
                return str(int(text))
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9._-]{0,63}", text):
            return text
        self.fail(f"{value!r} is neither a version number (1, 2, ...) nor an alias name",
                  param, ctx)


VERSION = VersionRef()


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
    f = click.option("--version", "version", type=VERSION,
                     help="Version number or alias (default: the latest).")(f)
    f = click.option("--model", default="default", show_default=True,
                     help="Model to use.")(f)
    return f


def k_option(f: F) -> F:
    return click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True,
                        help="How many results.")(f)


def text_options(f: F) -> F:
    """--window, --sample and --min-count of text counting, shared by pairs and train."""
    f = click.option("--sample", type=click.FloatRange(0, 1), default=1e-3, show_default=True,
                     help="Text: word2vec's frequent-word subsampling threshold (0: off).")(f)
    f = click.option("--window", type=click.IntRange(1, 100), default=5, show_default=True,
                     help="Text: tokens up to this far apart co-occur.")(f)
    return f


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--text", is_flag=True,
              help="FILE is a text corpus (one sentence or paragraph per line), not pairs.")
@click.option("--method", type=click.Choice(["auto", "sgns", "svd"]), default="auto",
              show_default=True,
              help="auto: svd for --text, sgns for pair files; see How training works.")
@click.option("--model", default="default", show_default=True, help="Model to add a version to.")
@click.option("--name", help="Free-text name for the new version.")
@click.option("--dim", type=click.IntRange(1, 4096),
              help="Vector dimension (default: 100, or the parent's with --from).")
@click.option("--min-count", type=click.FloatRange(min=0),
              help="Drop items seen less often (default: 1 for pairs, 5 for --text).")
@text_options
@click.option("--epochs", type=click.IntRange(min=1),
              help="SGNS: passes over the pairs (default: chosen from the data's size).")
@click.option("--negative", type=click.IntRange(0, 100), default=5, show_default=True,
              help="SGNS: sampled negatives per positive pair.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True, max=10), default=0.05,
              show_default=True, help="SGNS: initial learning rate (decays linearly).")
@click.option("--batch-size", type=click.IntRange(min=1), default=4096, show_default=True,
              help="SGNS: pair visits per vectorised update.")
@click.option("--ns-exponent", type=click.FloatRange(0, 2), default=0.75, show_default=True,
              help="SGNS: negatives are drawn from item counts raised to this power.")
@click.option("--power-iterations", type=click.IntRange(0, 50), default=3, show_default=True,
              help="SVD: power iterations of the randomised SVD.")
@click.option("--eigen-weight", type=click.FloatRange(0, 1), default=0.25, show_default=True,
              help="SVD: singular values are raised to this power in the vectors.")
@click.option("--context-vectors/--no-context-vectors", "context_vectors", default=None,
              help="SVD: add the context side (U S^p + V S^p). Default: added for pair "
                   "files, left out for text (--text).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed; the same file, settings and seed give the same vectors.")
@click.option("--header/--no-header", default=None,
              help="Pair files: whether the first row is a header (default: detected).")
@click.option("--from", "parent", type=VERSION,
              help="SGNS: warm-start from this version (number or alias) of the model.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version's metadata as JSON.")
@store_option
def train(
    store_path: Path | None, file: Path, text: bool, method: str, model: str,
    name: str | None, dim: int | None, min_count: float | None, window: int, sample: float,
    epochs: int | None, negative: int, lr: float, batch_size: int, ns_exponent: float,
    power_iterations: int, eigen_weight: float, context_vectors: bool | None, seed: int,
    header: bool | None,
    parent: str | None, quiet: bool, as_json: bool,
) -> None:
    """Train a new version of a model from a pair file, or with --text from a text corpus.

    FILE holds rows item_a,item_b[,weight] (CSV or TSV, optional header, optionally
    gzipped). A missing weight means 1, repeated rows add up, weight 0 marks a negative pair.
    With --text, FILE holds one sentence or paragraph per line (optionally gzipped).

    \b
    Examples:
      embed train data/animals.csv
      embed train data/royalty.csv --model royalty --name first --seed 7
      embed train clicks.tsv.gz --dim 64 --epochs 10 --min-count 5 --quiet
      embed train new-week.csv --from prod --name retrained
      embed train corpus.txt.gz --text --model words --window 5 --sample 1e-3
      embed train corpus.txt.gz --text --method svd --power-iterations 6 --eigen-weight 0
      embed train data/animals.csv --method svd --no-context-vectors
    """
    from embedstore.schema import PairFileOptions, SgnsSettings, SvdSettings, TextOptions
    from embedstore.training import default_method, train_file

    if method == "auto":
        method = default_method(text)
    settings: SgnsSettings | SvdSettings
    if method == "svd":
        settings = SvdSettings(dim=dim, power_iterations=power_iterations,
                               eigen_weight=eigen_weight, seed=seed,
                               add_context=(not text) if context_vectors is None
                               else context_vectors)
    else:
        settings = SgnsSettings(dim=dim, epochs=epochs, negative=negative, lr=lr,
                                batch_size=batch_size, ns_exponent=ns_exponent, seed=seed)
    reading: PairFileOptions | TextOptions
    if text:
        reading = TextOptions(window=window, sample=sample, seed=seed,
                              min_count=int(min_count) if min_count is not None else 5)
    else:
        reading = PairFileOptions(min_count=min_count if min_count is not None else 1,
                                  header=header)
    bar = ProgressBar()
    try:
        record = train_file(file, text=text, store=store_path, model=model, name=name,
                            settings=settings, reading=reading,
                            progress=None if quiet else bar, parent=parent)
    finally:
        bar.finish()
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        click.echo(describe_version(record))


@cli.command()
@click.argument("corpus", type=click.Path(path_type=Path, dir_okay=True))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Pair file to write (item_a,item_b,weight with a header).")
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Drop tokens seen less often.")
@text_options
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the subsampling draws.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def pairs(corpus: Path, output: Path, min_count: int, window: int, sample: float, seed: int,
          quiet: bool) -> None:
    """Count a text corpus's co-occurrences into a pair file that embed train reads.

    \b
    Examples:
      embed pairs corpus.txt.gz -o pairs.csv
      embed pairs corpus.txt -o pairs.csv --window 10 --min-count 2 --sample 0
    """
    from embedstore.textpairs import count_text, write_pair_file

    bar = ProgressBar()
    try:
        cooc = count_text(corpus, window=window, min_count=min_count, sample=sample, seed=seed,
                          progress=None if quiet else
                          (lambda stage, done, total: bar(stage, done, total, None)))
    finally:
        bar.finish()
    write_pair_file(cooc, output)
    click.echo(f"wrote {cooc.n_pairs} pairs of {cooc.n_items} items to {output}")


@cli.group(name="eval")
def eval_() -> None:
    """Evaluate a version on standard test sets; results are kept with the version.

    \b
    Examples:
      embed eval analogies questions-words.txt --restrict 30000
      embed eval similarity wordsim353.tsv --json
    """


@eval_.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--restrict", type=click.IntRange(min=1),
              help="Only questions whose words are all among the N most frequent items.")
@version_options
@store_option
def analogies(store_path: Path | None, file: Path, restrict: int | None, model: str,
              version: str | None, as_json: bool) -> None:
    """Accuracy on analogy questions (': section' lines, then 'a b c d' per line).

    \b
    Examples:
      embed eval analogies questions-words.txt --restrict 30000
      embed eval analogies questions-words.txt --model words --version prod --json
    """
    from dataclasses import asdict

    from embedstore.embeddings import open_embeddings
    from embedstore.evaluate import evaluate_analogies

    with open_embeddings(store_path, model, version) as vectors:
        report = evaluate_analogies(vectors, file, restrict)
        result = {**asdict(report), "accuracy": report.accuracy}
        vectors.store.record_evaluation(vectors.info, "analogies", result)
        header = {"model": vectors.model, "version": vectors.version}
    if as_json:
        emit_json({**header, **result})
        return
    emit_table([(s.section, f"{s.correct}/{s.scored}",
                 "-" if s.accuracy is None else f"{s.accuracy:.3f}") for s in report.sections],
               header=("section", "correct", "accuracy"))
    overall = "-" if report.accuracy is None else f"{report.accuracy:.4f}"
    click.echo(f"overall: {report.correct}/{report.scored} correct, accuracy {overall}, "
               f"{report.skipped} questions skipped")


@eval_.command()
@click.argument("file", type=click.Path(path_type=Path))
@version_options
@store_option
def similarity(store_path: Path | None, file: Path, model: str, version: str | None,
               as_json: bool) -> None:
    """Spearman and Pearson correlation of cosine with human scores ('w1 w2 score' lines).

    \b
    Examples:
      embed eval similarity wordsim353.tsv
      embed eval similarity wordsim353.tsv --model words --version 2 --json
    """
    from dataclasses import asdict

    from embedstore.embeddings import open_embeddings
    from embedstore.evaluate import evaluate_similarity

    with open_embeddings(store_path, model, version) as vectors:
        report = evaluate_similarity(vectors, file)
        result = asdict(report)
        vectors.store.record_evaluation(vectors.info, "similarity", result)
        header = {"model": vectors.model, "version": vectors.version}
    if as_json:
        emit_json({**header, **result})
        return
    spearman = "-" if report.spearman is None else f"{report.spearman:.4f}"
    pearson = "-" if report.pearson is None else f"{report.pearson:.4f}"
    click.echo(f"spearman {spearman}, pearson {pearson}, {report.pairs} pairs used, "
               f"{report.skipped} skipped")


@cli.command()
@click.argument("item")
@k_option
@click.option("--restrict", type=click.IntRange(min=1),
              help="Only consider the N most frequent items as results.")
@version_options
@store_option
def similar(store_path: Path | None, item: str, k: int, restrict: int | None, model: str,
            version: str | None, as_json: bool) -> None:
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
            restrict: int | None, model: str, version: str | None, as_json: bool) -> None:
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
@click.option("--version", "version", type=VERSION,
              help="Default version (number or alias) for queries without their own.")
@click.option("--model", default="default", show_default=True,
              help="Default model for queries without their own.")
@store_option
@click.pass_context
def batch(ctx: click.Context, store_path: Path | None, file: Any, restrict: int | None,
          version: str | None, model: str) -> None:
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
            line = json.dumps(result.to_json(), ensure_ascii=False)
            if not line.isascii():
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError:  # an id with a lone surrogate: escape it
                    line = json.dumps(result.to_json())
            click.echo(line)
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
    from embedstore.registry import aliases as list_aliases
    from embedstore.store import Store

    with Store.open(store_path) as store:
        records = store.version_records(model)
        if not records:
            store.version_info(model)  # raises the "no such model" error
        names: dict[int, list[str]] = {}
        for alias in list_aliases(store, model):
            names.setdefault(alias.version, []).append(alias.name)
    if as_json:
        emit_json([{**record.model_dump(mode="json"), "aliases": names.get(record.version, [])}
                   for record in records])
        return
    emit_table(
        [(str(r.version), ",".join(names.get(r.version, [])) or "-", r.name or "-",
          r.created.strftime("%Y-%m-%d %H:%M:%S"), str(r.n_items), str(r.dim),
          Path(r.source.path).name if r.source else "-") for r in records],
        header=("version", "aliases", "name", "created (UTC)", "items", "dim", "source"),
    )


@cli.command()
@version_options
@store_option
def info(store_path: Path | None, model: str, version: str | None, as_json: bool) -> None:
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


FORMAT_CHOICE = click.Choice(["word2vec", "word2vec-binary", "glove", "npy"])


@cli.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "format_", type=FORMAT_CHOICE, help="File format (default: detected).")
@click.option("--vocab", "vocab_path", type=click.Path(path_type=Path),
              help="Vocabulary file: 'item count' lines (word2vec), or the .npy's items.")
@click.option("--model", default="default", show_default=True, help="Model to add a version to.")
@click.option("--name", help="Free-text name for the new version.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version's metadata as JSON.")
@store_option
def import_(store_path: Path | None, file: Path, format_: str | None, vocab_path: Path | None,
            model: str, name: str | None, as_json: bool) -> None:
    """Add a version made of existing vectors (word2vec, word2vec-binary, GloVe, .npy).

    \b
    Examples:
      embed import vectors.txt --model glove --name 6B-100d
      embed import GoogleNews.bin --format word2vec-binary --model news
      embed import matrix.npy --vocab matrix.vocab --model items
      embed import model.vec --vocab counts.txt
    """
    from embedstore.importing import import_file

    record = import_file(file, format=format_, vocab_path=vocab_path, store=store_path,
                         model=model, name=name)
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        click.echo(describe_version(record))


@cli.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="File to write (replaced atomically).")
@click.option("--format", "format_", type=FORMAT_CHOICE, default="word2vec", show_default=True,
              help="File format.")
@click.option("--vocab", "vocab_path", type=click.Path(path_type=Path),
              help="Also write counts here ('item count' lines; for npy the item list).")
@version_options
@store_option
def export(store_path: Path | None, output: Path, format_: str, vocab_path: Path | None,
           model: str, version: str | None, as_json: bool) -> None:
    """Write a version's vectors in a format other tools read (gensim reads them bit for bit).

    \b
    Examples:
      embed export -o vectors.txt
      embed export --format word2vec-binary -o vectors.bin --vocab counts.txt --version prod
      embed export --format npy -o vectors.npy --model royalty --json
    """
    from embedstore.importing import export_version

    count = export_version(output, format=format_, vocab_path=vocab_path, store=store_path,
                           model=model, version=version)
    if as_json:
        emit_json({"output": str(output), "format": format_, "items": count})
    else:
        click.echo(f"wrote {count} vectors to {output} ({format_})")


@cli.command()
@click.argument("version", type=VERSION)
@click.argument("name")
@click.option("--model", default="default", show_default=True, help="Model of the version.")
@store_option
def tag(store_path: Path | None, version: str, name: str, model: str) -> None:
    """Point alias NAME at VERSION (moving it if it exists); usable wherever a version is.

    \b
    Examples:
      embed tag 3 prod
      embed tag 4 prod --model royalty
      embed similar cat --version prod
    """
    from embedstore.registry import set_alias
    from embedstore.store import Store

    with Store.open(store_path) as store:
        change = set_alias(store, model, version, name)
    moved = f" (was version {change.previous})" if change.previous else ""
    click.echo(f"{change.model}: {change.name} -> version {change.version}{moved}")


@cli.command()
@click.option("--model", default="default", show_default=True, help="Model whose aliases to list.")
@click.option("--history", is_flag=True, help="Every move of every alias, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
def aliases(store_path: Path | None, model: str, history: bool, as_json: bool) -> None:
    """List a model's aliases, or with --history every move of them (when, from, to).

    \b
    Examples:
      embed aliases
      embed aliases --model royalty --history --json
    """
    from dataclasses import asdict

    from embedstore.registry import alias_history
    from embedstore.registry import aliases as list_aliases
    from embedstore.store import Store

    with Store.open(store_path) as store:
        rows = alias_history(store, model) if history else list_aliases(store, model)
    if as_json:
        emit_json([asdict(row) for row in rows])
    elif history:
        emit_table([(c.changed[:19].replace("T", " "), c.name, _or_dash(c.previous),
                     _or_dash(c.version)) for c in rows],  # type: ignore[union-attr]
                   header=("changed (UTC)", "alias", "from", "to"))
    else:
        emit_table([(a.name, str(a.version), a.updated[:19].replace("T", " "))  # type: ignore[union-attr]
                    for a in rows], header=("alias", "version", "updated (UTC)"))


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


@cli.command()
@click.argument("version", type=VERSION)
@click.option("--model", default="default", show_default=True, help="Model of the version.")
@click.option("--force", is_flag=True, help="Remove it even if aliases point at it (and them).")
@store_option
def rm(store_path: Path | None, version: str, model: str, force: bool) -> None:
    """Remove a version and its files (refused while an alias points at it).

    \b
    Examples:
      embed rm 2
      embed rm old --model royalty --force
    """
    from embedstore.registry import remove_version
    from embedstore.store import Store

    with Store.open(store_path) as store:
        info = remove_version(store, model, version, force=force)
    click.echo(f"removed {info.model} version {info.version}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
def gc(store_path: Path | None, as_json: bool) -> None:
    """Remove files no version owns (left by a crash or an interrupted write).

    \b
    Examples:
      embed gc
      embed gc --json
    """
    from embedstore.registry import garbage_collect
    from embedstore.store import Store

    with Store.open(store_path) as store:
        collected = garbage_collect(store)
    if as_json:
        emit_json({"removed": collected.paths, "bytes": collected.bytes})
        return
    for path in collected.paths:
        click.echo(f"removed {path}")
    click.echo(f"freed {collected.bytes} bytes in {len(collected.paths)} path(s)")


@cli.command()
@click.argument("version", type=VERSION, required=False)
@click.option("--model", default="default", show_default=True, help="Model of the version.")
@click.option("--all", "all_versions", is_flag=True, help="Check every version of every model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
@click.pass_context
def verify(ctx: click.Context, store_path: Path | None, version: str | None, model: str,
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
    from dataclasses import asdict

    from embedstore.registry import verify as check
    from embedstore.store import Store

    with Store.open(store_path) as store:
        reports = check(store, None if all_versions else model,
                        None if all_versions else version)
    if as_json:
        emit_json([{**asdict(r), "ok": r.ok} for r in reports])
    else:
        for report in reports:
            state = "ok" if report.ok else "DAMAGED: " + "; ".join(report.problems)
            click.echo(f"{report.model} version {report.version}: {state}")
    if not all(report.ok for report in reports):
        ctx.exit(1)


@cli.command()
@click.argument("old", type=VERSION)
@click.argument("new", type=VERSION)
@click.option("--model", default="default", show_default=True, help="Model of both versions.")
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Neighbours compared per item.")
@click.option("--sample", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Shared items whose neighbourhoods are compared.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
def diff(store_path: Path | None, old: str, new: str, model: str, k: int, sample: int,
         as_json: bool) -> None:
    """What changed from version OLD to NEW: items added and removed, and how much the
    nearest neighbours of shared items moved.

    \b
    Examples:
      embed diff 1 2
      embed diff prod 5 --model royalty --k 5 --sample 200 --json
    """
    from dataclasses import asdict

    from embedstore.diff import diff_versions
    from embedstore.store import Store

    with Store.open(store_path) as store:
        report = diff_versions(store, model, old, new, k=k, sample=sample)
    if as_json:
        emit_json(asdict(report))
        return
    click.echo(f"{report.model}: version {report.old} -> {report.new}")
    click.echo(f"items: {report.shared} shared, {report.added} added, {report.removed} removed")
    if report.added_examples:
        click.echo(f"added: {', '.join(report.added_examples)}")
    if report.removed_examples:
        click.echo(f"removed: {', '.join(report.removed_examples)}")
    if report.mean_overlap is not None:
        click.echo(f"top-{report.k} neighbour overlap over {report.sampled} shared items: "
                   f"mean {report.mean_overlap:.3f}")
        click.echo("moved most:")
        emit_table([(shift.item, f"{shift.overlap:.2f}") for shift in report.moved_most])


def _picture_format(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    from embedstore.plot.output import format_of

    try:
        format_of(value)
    except EmbedstoreError as error:
        raise click.BadParameter(str(error)) from None
    return value


@cli.command()
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              callback=_picture_format, help="Picture to write: .png, .svg or .html.")
@click.option("--model", default="default", show_default=True, help="Model to use.")
@click.option("--version", "version", type=VERSION,
              help="Version number or alias (default: the latest).")
@click.option("--items", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Map the N most frequent items.")
@click.option("--around", help="Map this item and its --k nearest neighbours instead.")
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
@click.option("--json", "as_json", is_flag=True, help="Print the map's points as JSON.")
@store_option
def plot(store_path: Path | None, output: Path, model: str, version: str | None, items: int,
         around: str | None, k: int, labels: Path | None, method: str, seed: int,
         diff: tuple[str, str] | None, as_json: bool) -> None:
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
    picture = write_plot(output, store_path, model, version, items=items, around=around, k=k,
                         labels=labels, method=method, seed=seed, diff=diff or None)
    if as_json:
        emit_json({"output": str(output), **picture.to_json()})
    else:
        click.echo(describe_picture(picture, output))


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
