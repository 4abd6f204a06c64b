"""The read stage of training: a pair file or a text corpus, as co-occurrence counts.

A pair file is read and reduced in one pass (:mod:`embedstore.pairs`). A text corpus is read
by :mod:`embedstore.corpus` (a vocabulary pass, then token-id blocks) and the blocks are
counted by :mod:`embedstore.counting`, which never sees the file. Either way the result is a
:class:`Cooccurrence`, the one input of every training method.
"""

from __future__ import annotations

from pathlib import Path

from .cooccurrence import Cooccurrence
from .corpus import build_vocabulary, encode
from .counting import count_blocks, write_pair_file
from .pairs import read_pairs
from .progress import Progress
from .schema import PairFileOptions, TextOptions


def count_text(
    path: str | Path, *, window: int = 5, min_count: int = 5, sample: float = 1e-3,
    seed: int = 0, progress: Progress | None = None,
) -> Cooccurrence:
    """Read a corpus (one sentence or paragraph per line) and count its co-occurrences.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = path.write_text("a b c\\nb a\\n")
    >>> data = count_text(path, window=2, min_count=1, sample=0)
    >>> data.items, data.item_counts.tolist()
    (['a', 'b', 'c'], [2.0, 2.0, 1.0])
    """
    path = Path(path)
    vocabulary = build_vocabulary(path, min_count, progress)
    return count_blocks(encode(path, vocabulary, progress), vocabulary, window=window,
                        sample=sample, seed=seed)


def text_reading(*, min_count: float | None = None, window: int | None = None,
                 sample: float | None = None, seed: int | None = None) -> TextOptions:
    """:class:`TextOptions` with the values given (not None) over the library defaults."""
    given = {"min_count": None if min_count is None else int(min_count), "window": window,
             "sample": sample, "seed": seed}
    return TextOptions(**{name: value for name, value in given.items() if value is not None})


def choose_reading(text: bool, *, min_count: float | None = None, header: bool | None = None,
                   window: int | None = None, sample: float | None = None,
                   seed: int | None = None) -> PairFileOptions | TextOptions:
    """How to read the file: :func:`text_reading` for a corpus, else :class:`PairFileOptions`,
    with the values given (not None) over the library defaults."""
    if text:
        return text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
    given = {"min_count": min_count, "header": header}
    return PairFileOptions(**{name: value for name, value in given.items() if value is not None})


def read_source(path: Path, reading: PairFileOptions | TextOptions,
                progress: Progress | None = None) -> Cooccurrence:
    """The counts of a pair file (:class:`PairFileOptions`) or a corpus (:class:`TextOptions`)."""
    if isinstance(reading, TextOptions):
        return count_text(path, window=reading.window, min_count=reading.min_count,
                          sample=reading.sample, seed=reading.seed, progress=progress)
    return read_pairs(path, min_count=reading.min_count, header=reading.header,
                      progress=progress)


def text_to_pair_file(corpus: str | Path, output: str | Path, *, min_count: int | None = None,
                      window: int | None = None, sample: float | None = None,
                      seed: int | None = None, progress: Progress | None = None) -> Cooccurrence:
    """Count a corpus (:func:`count_text`; None: the :class:`TextOptions` default) and write
    its pairs to ``output`` as a pair file that training reads back to the same counts."""
    reading = text_reading(min_count=min_count, window=window, sample=sample, seed=seed)
    cooc = count_text(corpus, window=reading.window, min_count=reading.min_count,
                      sample=reading.sample, seed=reading.seed, progress=progress)
    write_pair_file(cooc, output)
    return cooc
