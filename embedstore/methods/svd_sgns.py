"""Two stages from text: the count-based vectors (PPMI + truncated SVD), then word2vec's
skip-gram over the corpus started from them.

The SVD finds in seconds what skip-gram needs several passes over the text to learn; a couple
of skip-gram epochs from that start then add what counting misses (``benchmarks/RESULTS.md``
has the figures). The start is the SVD's item side ``U S^p`` rescaled so that its rows' mean
length is ``start_norm`` (skip-gram's own vectors are about that long; the SVD's are much
shorter, and an epoch from them as they are loses most of what they knew), with zero context
vectors (``context_start="zero"``, as word2vec starts them) or the SVD's context side
``V S^p`` rescaled alike. The kernel is :mod:`embedstore.methods.word2vec` (numba, Hogwild
over ``threads``): with one thread a seed gives the same vectors bit for bit; with more, they
vary from run to run in the last digits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..errors import TrainingError
from ..progress import Progress
from ..schema import SvdSettings, SvdSgnsSettings
from .fitted import Fitted, WarmStart
from .registry import DEFAULT_DIM
from .svd import svd_sides, svd_vectors

if TYPE_CHECKING:
    from ..engines import Counts


def svd_stage(settings: SvdSgnsSettings) -> SvdSettings:
    """The first stage's settings: the SVD's item side alone, as text's default svd run."""
    return SvdSettings(dim=settings.dim or DEFAULT_DIM,
                       context_smoothing=settings.context_smoothing,
                       eigen_weight=settings.eigen_weight, add_context=False,
                       power_iterations=settings.power_iterations,
                       oversample=settings.oversample, seed=settings.seed)


def fit_svd_sgns(counts: Counts, settings: SvdSgnsSettings, progress: Progress | None,
                 warm: WarmStart | None = None) -> Fitted:
    """Item vectors by the two stages; the threads' count is recorded in the settings."""
    corpus = counts.corpus()
    if corpus is None:
        raise TrainingError("--method svd+sgns trains from a text corpus (--text); for pair "
                            "files choose svd or sgns")
    try:
        from .word2vec import rescaled_start, train_word2vec
    except ImportError:  # pragma: no cover - the kernel extra is part of the test extra
        raise TrainingError("--method svd+sgns needs the kernel extra: pip install "
                            "'embedstore[kernel]'") from None
    first = svd_stage(settings)
    word, context = starts(counts, settings, first, progress, rescaled_start)
    threads = settings.threads or max(1, os.cpu_count() or 1)
    vectors, _, _ = train_word2vec(
        corpus, counts.item_counts.astype("int64"), dim=first.dim or DEFAULT_DIM,
        epochs=settings.epochs, window=settings.window, negative=settings.negative,
        sample=settings.sample, alpha=settings.lr, min_alpha=settings.min_lr,
        ns_exponent=settings.ns_exponent, threads=threads, seed=settings.seed,
        word_vectors=word, context_vectors=context, progress=progress)
    used = settings.model_copy(update={"dim": first.dim, "threads": threads})
    return Fitted(vectors, used, epochs=settings.epochs)


def starts(counts: Counts, settings: SvdSgnsSettings, first: SvdSettings,
           progress: Progress | None,
           rescaled: Callable[[np.ndarray, float], np.ndarray]
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """Skip-gram's start: the SVD stage's item side, and its context side with
    ``context_start="svd"`` (None: zeros), both rescaled. Only the rescaled copies outlive
    this call, and the context side is not computed when it is not wanted (with the dense
    matrices where the engine keeps them, as for svd)."""
    products = counts.ppmi_products(first)
    dense = counts.svd_matrices(first)
    if settings.context_start == "zero":  # the item side alone is svd's vectors, same bits
        word, context = svd_vectors(*products, first, progress, dense), None
    else:
        word, context = svd_sides(*products, first, progress=progress, dense=dense)
    del products, dense
    word = rescaled(word, settings.start_norm)
    return word, None if context is None else rescaled(context, settings.start_norm)
