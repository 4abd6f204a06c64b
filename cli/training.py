"""``embed train`` and ``embed pairs``: from files to counts and versions.

Options left out arrive as None and the library fills in its defaults (``show_default``
repeats them for --help; tests/cli/test_docs.py keeps the two equal).
"""

from __future__ import annotations

from pathlib import Path

import click

from embedstore.engines import ENGINES

from .context import StoreHandle, pass_store
from .options import (
    TRAINING_METHODS,
    VERSION,
    index_option,
    json_option,
    memory_limit_option,
    quiet_option,
    subword_options,
    text_options,
)
from .render import emit_version, progress_bar


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--text", is_flag=True,
              help="FILE is a text corpus (one sentence or paragraph per line), not pairs.")
@click.option("--method", type=click.Choice(TRAINING_METHODS), default="auto", show_default=True,
              help="auto: svd for --text and dense counts, propagate for other pair files "
                   "(with settings of its own for a tree-like graph); see How training works.")
@click.option("--model", default="default", show_default=True, help="Model to add a version to.")
@click.option("--name", help="Free-text name for the new version.")
@click.option("--dim", type=click.IntRange(1, 4096),
              help="Vector dimension (default: 100, or the parent's with --from).")
@click.option("--min-count", type=click.FloatRange(min=0),
              help="Drop items seen less often (default: 1 for pairs, 5 for --text).")
@text_options
@click.option("--steps", type=click.IntRange(1, 200),
              show_default="16; 32 on a tree-like graph",
              help="Propagate: smoothing steps over the pair graph.")
@click.option("--average-from", type=click.IntRange(1, 200),
              show_default="8; 16 on a tree-like graph",
              help="Propagate: the vectors are the mean of the steps from this one on.")
@click.option("--self-weight", type=click.FloatRange(0, 100), show_default="0.5",
              help="Propagate: weight of an item's own vector in each step.")
@click.option("--degree-exponent", type=click.FloatRange(0, 2),
              show_default="0.75; 0.25 on a tree-like graph",
              help="Propagate: a neighbour j counts degree(j)^-this.")
@click.option("--negative-weight", type=click.FloatRange(0, 100), show_default="1.0",
              help="Propagate: how hard explicit negative pairs push apart.")
@click.option("--epochs", type=click.IntRange(min=1),
              help="SGNS: passes over the pairs (default: chosen from the data's size); "
                   "svd+sgns: skip-gram passes over the text (default: 2).")
@click.option("--negative", type=click.IntRange(0, 100), show_default="5",
              help="SGNS: sampled negatives per positive pair.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True, max=10), show_default="0.05",
              help="SGNS: initial learning rate (decays linearly); svd+sgns: 0.025 by "
                   "default.")
@click.option("--batch-size", type=click.IntRange(min=1), show_default="4096",
              help="SGNS: pair visits per vectorised update.")
@click.option("--ns-exponent", type=click.FloatRange(0, 2), show_default="0.75",
              help="SGNS: negatives are drawn from item counts raised to this power.")
@click.option("--threads", type=click.IntRange(1, 256),
              help="svd+sgns: skip-gram threads (default: every core; with 1, a seed gives "
                   "the same vectors every run).")
@click.option("--power-iterations", type=click.IntRange(0, 50), show_default="3",
              help="SVD: power iterations of the randomised SVD.")
@click.option("--eigen-weight", type=click.FloatRange(0, 1), show_default="0.25",
              help="SVD: singular values are raised to this power in the vectors.")
@click.option("--context-vectors/--no-context-vectors", "context_vectors", default=None,
              help="SVD: add the context side (U S^p + V S^p). Default: added for pair "
                   "files, left out for text (--text).")
@click.option("--seed", type=click.IntRange(min=0), show_default="0",
              help="Random seed; the same file, settings and seed give the same vectors.")
@click.option("--header/--no-header", default=None,
              help="Pair files: whether the first row is a header (default: detected).")
@memory_limit_option
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="local: this machine; dask: svd or propagate of pair data on the Dask "
                   "cluster at --scheduler (FILE may be a glob or a shard directory the "
                   "workers can read; the vocabulary and the vectors must fit here).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Address of the Dask scheduler, e.g. tcp://HOST:8786 (with --engine dask).")
@click.option("--from", "parent", type=VERSION,
              help="Warm start from this version (number or alias): SGNS continues from its "
                   "vectors, other methods are rotated onto them.")
@subword_options
@index_option
@quiet_option
@json_option("Print the new version's metadata as JSON.")
@pass_store
def train(handle: StoreHandle, file: Path, text: bool, method: str, model: str,
          name: str | None, min_count: float | None, header: bool | None, window: int | None,
          sample: float | None, seed: int | None, context_vectors: bool | None,
          parent: int | str | None, memory_limit: int | None, engine: str,
          scheduler: str | None, subwords: bool, subword_buckets: int | None, index: bool,
          quiet: bool, as_json: bool, **settings: object) -> None:
    """Train a new version of a model from a pair file, or with --text from a text corpus.

    FILE holds rows item_a,item_b[,weight] (CSV or TSV, optional header, optionally
    gzipped), or is Parquet with those columns (a file, or a directory of shards as embed
    pairs -o DIRECTORY/ writes). A missing weight means 1, repeated rows add up, weight 0
    marks a negative pair. With --text, FILE holds one sentence or paragraph per line
    (optionally gzipped).

    \b
    Examples:
      embed train data/animals.csv
      embed train counts.parquet
      embed train counts/
      embed train clicks.csv.gz --memory-limit 256MB
      embed train data/royalty.csv --model royalty --name first --seed 7
      embed train clicks.tsv.gz --method sgns --dim 64 --epochs 10 --min-count 5 --quiet
      embed train new-week.csv --from prod --name retrained
      embed train corpus.txt.gz --text --model words --window 5 --sample 1e-3
      embed train corpus.txt.gz --text --method svd --power-iterations 6 --eigen-weight 0
      embed train corpus.txt.gz --text --memory-limit 256MB
      embed train corpus.txt.gz --text --method svd+sgns --epochs 2 --threads 1
      embed train data/animals.csv --method svd --no-context-vectors
      embed train deps.csv --method propagate --steps 12 --self-weight 1
      embed train clicks.tsv.gz --index
      embed train corpus.txt.gz --text --subwords
      embed train names.csv --subwords --subword-buckets 50000
      embed train counts/ --engine dask --scheduler tcp://HOST:8786 --method svd
    """
    from embedstore.training.pipeline import train_file
    from embedstore.training.settings import choose_reading

    given = {"seed": seed, "add_context": context_vectors, **settings}
    reading = choose_reading(text, min_count=min_count, header=header, window=window,
                             sample=sample, seed=seed)
    with progress_bar(quiet) as progress:
        record = train_file(file, text=text, store=handle.location, model=model, name=name,
                            method=method, given=given, reading=reading, progress=progress,
                            parent=parent, memory_limit=memory_limit, index=index,
                            engine=engine, scheduler=scheduler, subwords=subwords,
                            subword_buckets=subword_buckets)
    emit_version(record, as_json)


@click.command()
@click.argument("inputs", metavar="INPUT")
@click.option("-o", "--output", type=click.Path(), required=True,
              help="Pair file to write: CSV (item_a,item_b,weight with a header), or Parquet "
                   "for a .parquet name (one file) or a directory (shards; end it with /).")
@click.option("--pair-input", is_flag=True,
              help="INPUT is pair data (CSV/TSV or Parquet) to aggregate, not a text corpus.")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="local: this machine; dask: the Dask cluster at --scheduler (INPUT may be a "
                   "glob the workers can read; -o a directory they can write).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Address of the Dask scheduler, e.g. tcp://HOST:8786 (with --engine dask).")
@click.option("--min-count", type=click.IntRange(min=1), show_default="5",
              help="Drop tokens seen less often.")
@text_options
@click.option("--seed", type=click.IntRange(min=0), show_default="0",
              help="Seed of the subsampling draws.")
@memory_limit_option
@quiet_option
def pairs(inputs: str, output: str, pair_input: bool, engine: str, scheduler: str | None,
          min_count: int | None, window: int | None, sample: float | None, seed: int | None,
          memory_limit: int | None, quiet: bool) -> None:
    """Count a text corpus's co-occurrences (or aggregate pair data) into pair data that embed
    train reads, on this machine or on an existing Dask cluster.

    \b
    Examples:
      embed pairs corpus.txt.gz -o pairs.csv
      embed pairs corpus.txt -o pairs.csv --window 10 --min-count 2 --sample 0
      embed pairs corpus.txt.gz -o counts.parquet
      embed pairs corpus.txt.gz -o counts/
      embed pairs corpus.txt.gz -o pairs.csv --memory-limit 256MB
      embed pairs clicks.csv.gz --pair-input -o counts/ --memory-limit 256MB
      embed pairs 'logs/*.csv.gz' --pair-input --engine dask --scheduler tcp://HOST:8786 -o counts/
      embed pairs corpus.txt.gz --engine dask --scheduler tcp://HOST:8786 -o counts/
    """
    from embedstore.training.pair_data import make_pair_data

    with progress_bar(quiet) as progress:
        written = make_pair_data(inputs, output, pair_input=pair_input, engine=engine,
                                 scheduler=scheduler, memory_limit=memory_limit,
                                 min_count=min_count, window=window, sample=sample, seed=seed,
                                 progress=progress)
    items = "" if written.n_items is None else f" of {written.n_items} items"
    click.echo(f"wrote {written.n_pairs} pairs{items} to {written.output}")
