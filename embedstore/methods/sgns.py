"""Skip-gram with negative sampling over aggregated pairs, vectorised with numpy.

Each positive pair pulls its two items together (the sigmoid of the item vector of one and the
context vector of the other goes towards 1); for every positive, ``negative`` items drawn from
the item counts raised to ``ns_exponent`` are pushed apart, and explicit negative pairs are
pushed apart too. As in word2vec there are separate item and context matrices; the item
matrix is the result.

Pairs are symmetric, so each distinct pair trains in both directions. An epoch visits every
directed pair about as often as its share of the total weight says: a pair's expected number
of visits is ``n_directed * weight / total_weight``, realised by stratified rounding, so a file
whose rows all weigh 1 visits each pair exactly once per epoch, and a pair repeated a thousand
times costs one row, not a thousand.

Updates are applied in minibatches: the rows a batch touches are gathered, their gradients are
computed in bulk and scattered back with ``np.add.at``. Per-row AdaGrad scales each row's step,
so that an item present many times in one batch does not take a step many times too long; the
learning rate also decays linearly to ``lr * min_lr_fraction`` over the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..counting.cooccurrence import Cooccurrence, both_directions
from ..errors import TrainingError
from ..progress import Progress
from ..schema import SgnsSettings
from .fitted import Fitted, WarmStart
from .registry import DEFAULT_DIM

if TYPE_CHECKING:
    from ..engines import Counts

MIN_TRAINING_STEPS = 100_000
"""With ``epochs=None`` the run lasts at least this many directed-pair visits (at most
:data:`MAX_AUTO_EPOCHS` epochs, at least :data:`MIN_AUTO_EPOCHS`)."""
MIN_AUTO_EPOCHS = 5
MAX_AUTO_EPOCHS = 2000
CONTEXT = "context"
"""The key (and file name) of the context vectors a version keeps."""


@dataclass(frozen=True)
class SgnsResult:
    """The trained item vectors and what the run did."""

    vectors: np.ndarray
    epochs: int
    epoch_losses: list[float]
    context: np.ndarray | None = None
    """The context vectors (a version keeps them, for new items to be folded in against)."""


def auto_epochs(n_directed_pairs: int) -> int:
    """Epochs chosen from the data's size when none are given.

    ``ceil(MIN_TRAINING_STEPS / n_directed_pairs)`` clamped to [5, 2000]: a file of a
    handful of pairs trains for hundreds of epochs (a fraction of a second), a file of
    millions of pairs for 5.

    >>> auto_epochs(24), auto_epochs(10_000_000)
    (2000, 5)
    """
    wanted = math.ceil(MIN_TRAINING_STEPS / max(1, n_directed_pairs))
    return max(MIN_AUTO_EPOCHS, min(MAX_AUTO_EPOCHS, wanted))


def _directed(cooc: Cooccurrence) -> tuple[np.ndarray, ...]:
    return both_directions(cooc.left, cooc.right, cooc.weight)


def _epoch_visits(weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    with np.errstate(over="ignore"):
        scale = len(weight) / weight.sum()
    # Weights so small (subnormal) that the scale overflows are divided by their sum first.
    expected = weight * scale if math.isfinite(scale) else weight / weight.sum() * len(weight)
    whole = np.floor(expected)
    visits = whole + (rng.random(len(weight)) < (expected - whole))
    order = np.repeat(np.arange(len(weight)), visits.astype(np.int64))
    rng.shuffle(order)
    return order


def _epoch_stream(
    center: np.ndarray,
    context: np.ndarray,
    weight: np.ndarray,
    neg_center: np.ndarray,
    neg_context: np.ndarray,
    epoch: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One epoch's visits in random order: (center, context, label, epoch number)."""
    order = _epoch_visits(weight, rng)
    all_center = np.concatenate([center[order], neg_center])
    all_context = np.concatenate([context[order], neg_context])
    label = np.concatenate([np.ones(len(order), np.float32), np.zeros(len(neg_center), np.float32)])
    shuffle = rng.permutation(len(all_center))
    epoch_of = np.full(len(all_center), epoch, dtype=np.int64)
    return all_center[shuffle], all_context[shuffle], label[shuffle], epoch_of


def _log(probability: np.ndarray) -> np.ndarray:
    """Natural log, with probabilities floored at 1e-7 so a saturated sigmoid costs 16 at most."""
    return np.log(np.maximum(probability, 1e-7))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fit_sgns(counts: Counts, settings: SgnsSettings, progress: Progress | None,
             warm: WarmStart | None = None) -> Fitted:
    """Skip-gram over the engine's pairs in memory, continuing from ``warm`` if given."""
    result = train_sgns(counts.pairs(), settings, progress=progress,
                        initial=(warm.vectors, warm.known) if warm is not None else None)
    return Fitted(result.vectors, settings.model_copy(update={"epochs": result.epochs}),
                  result.epochs, result.epoch_losses,
                  kept={} if result.context is None else {CONTEXT: result.context})


def train_sgns(
    cooc: Cooccurrence,
    settings: SgnsSettings,
    progress: Progress | None = None,
    initial: tuple[np.ndarray, np.ndarray] | None = None,
) -> SgnsResult:
    """Train item vectors on ``cooc`` with skip-gram negative sampling.

    Parameters
    ----------
    cooc:
        Distinct items and pairs, as read by :func:`embedstore.inputs.pair_file.read_pairs`.
    settings:
        Dimension, epochs (``None``: :func:`auto_epochs`), negatives, learning rate, batch size,
        negative-sampling exponent and seed. The same data and settings give the same vectors.
    progress:
        Called after each batch as ``progress("training", per-mille done, 1000, running mean
        loss of the current epoch)``.
    initial:
        Warm start: ``(vectors, known)``, an ``n_items x dim`` matrix and a boolean mask of the
        rows whose item vectors start from it; the other rows start at random.

    Returns
    -------
    SgnsResult
        ``float32`` item vectors in the row order of ``cooc.items`` and the mean loss per
        pair visit of every epoch.
    """
    if cooc.n_pairs == 0:
        raise TrainingError("no positive pairs to train on; add pairs with a weight above 0")
    rng = np.random.default_rng(settings.seed)
    k = settings.negative
    item_vectors, context_vectors = _start_vectors(cooc.n_items, settings, rng, initial)
    item_sq = np.zeros(cooc.n_items, dtype=np.float32)
    context_sq = np.zeros(cooc.n_items, dtype=np.float32)
    noise_cdf = _noise_cdf(cooc.item_counts, settings.ns_exponent)

    center, context, weight = _directed(cooc)
    neg_center = np.concatenate([cooc.negative_left, cooc.negative_right])
    neg_context = np.concatenate([cooc.negative_right, cooc.negative_left])
    epochs = settings.epochs if settings.epochs is not None else auto_epochs(len(center))
    visits_per_epoch = len(center) + len(neg_center)
    total_visits = epochs * visits_per_epoch
    # Small data: several epochs share one batch, so a tiny file costs few numpy calls.
    epochs_per_group = max(1, settings.batch_size // max(1, visits_per_epoch))
    loss_sums = np.zeros(epochs + 1, dtype=np.float64)
    visit_counts = np.zeros(epochs + 1, dtype=np.float64)
    done = 0
    for first_epoch in range(1, epochs + 1, epochs_per_group):
        group = range(first_epoch, min(epochs, first_epoch + epochs_per_group - 1) + 1)
        stream = [_epoch_stream(center, context, weight, neg_center, neg_context, epoch, rng)
                  for epoch in group]
        batch_center, batch_context, label, epoch_of = (
            np.concatenate([part[i] for part in stream]) for i in range(4)
        )
        for start in range(0, len(batch_center), settings.batch_size):
            stop = min(start + settings.batch_size, len(batch_center))
            lr = settings.lr * max(settings.min_lr_fraction, 1.0 - done / total_visits)
            visit_loss = _step(
                item_vectors, context_vectors, item_sq, context_sq,
                batch_center[start:stop], batch_context[start:stop], label[start:stop],
                noise_cdf, k, lr, rng,
            )
            loss_sums += np.bincount(epoch_of[start:stop], weights=visit_loss,
                                     minlength=epochs + 1)
            visit_counts += np.bincount(epoch_of[start:stop], minlength=epochs + 1)
            done += stop - start
            if progress is not None:
                current = int(epoch_of[stop - 1])
                progress("training", int(1000 * done / total_visits), 1000,
                         float(loss_sums[current] / max(1.0, visit_counts[current])))
        last = group[-1]
        if not np.isfinite(loss_sums[last]) or not np.isfinite(item_vectors).all():
            raise TrainingError(f"training diverged in epoch {last}; lower --lr")
    losses = (loss_sums[1:] / np.maximum(visit_counts[1:], 1.0)).tolist()
    return SgnsResult(vectors=item_vectors, epochs=epochs, epoch_losses=losses,
                      context=context_vectors)


def _start_vectors(n_items: int, settings: SgnsSettings, rng: np.random.Generator,
                   initial: tuple[np.ndarray, np.ndarray] | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Item vectors uniform in ``[-0.5, 0.5) / dim`` (rows a warm start knows taken from
    it), and context vectors at zero, as word2vec starts them."""
    dim = settings.dim or DEFAULT_DIM
    item_vectors = ((rng.random((n_items, dim)) - 0.5) / dim).astype(np.float32)
    if initial is not None:
        start_vectors, known = initial
        item_vectors[known] = start_vectors[known]
    return item_vectors, np.zeros((n_items, dim), dtype=np.float32)


def _noise_cdf(item_counts: np.ndarray, exponent: float) -> np.ndarray:
    """The cumulative distribution negatives are drawn from: counts ** ``exponent``."""
    noise = item_counts.astype(np.float64) ** exponent
    noise_cdf = np.cumsum(noise / noise.sum())
    noise_cdf[-1] = 1.0
    return noise_cdf


def _step(
    item_vectors: np.ndarray,
    context_vectors: np.ndarray,
    item_sq: np.ndarray,
    context_sq: np.ndarray,
    center: np.ndarray,
    context: np.ndarray,
    label: np.ndarray,
    noise_cdf: np.ndarray,
    k: int,
    lr: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """One minibatch: returns the loss of each of its visits."""
    size = len(center)
    positive = label > 0
    negatives = np.searchsorted(noise_cdf, rng.random((size, k)), side="right")
    negatives[~positive] = -1  # explicit negative pairs draw no sampled negatives
    targets = np.concatenate([context[:, None], negatives], axis=1)  # (size, 1 + k)
    labels = np.zeros((size, 1 + k), dtype=np.float32)
    labels[:, 0] = label
    valid = targets >= 0
    targets = np.where(valid, targets, 0)

    w = item_vectors[center]  # (size, dim)
    c = context_vectors[targets]  # (size, 1 + k, dim)
    scores = np.einsum("nd,nkd->nk", w, c)
    probability = _sigmoid(scores)
    # d loss / d score = sigmoid(score) - label, zero for padding
    gradient = (probability - labels) * valid
    loss = -(_log(np.where(labels > 0, probability, 1 - probability)) * valid).sum(axis=1)

    grad_w = np.einsum("nk,nkd->nd", gradient, c)
    grad_c = gradient[:, :, None] * w[:, None, :]
    flat_targets = targets.reshape(-1)
    flat_grad_c = grad_c.reshape(-1, grad_c.shape[-1])

    _adagrad_rows(item_vectors, item_sq, center, grad_w, lr)
    _adagrad_rows(context_vectors, context_sq, flat_targets, flat_grad_c, lr)
    return loss


def _adagrad_rows(
    matrix: np.ndarray, sq: np.ndarray, rows: np.ndarray, grads: np.ndarray, lr: float
) -> None:
    """Row-wise AdaGrad: sum the gradients per row, then step by lr / sqrt(accumulated)."""
    unique, summed = sum_by_row(rows, grads)
    sq[unique] += (summed * summed).mean(axis=1)
    matrix[unique] -= (lr / np.sqrt(sq[unique] + 1e-8))[:, None] * summed


def sum_by_row(rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the rows of ``values`` that share a row id: (distinct ids, their sums).

    A sort and ``np.add.reduceat``: several times faster than ``np.add.at`` for wide rows.

    >>> ids, sums = sum_by_row(np.array([2, 0, 2]), np.array([[1.0], [2.0], [3.0]]))
    >>> ids.tolist(), sums.tolist()
    ([0, 2], [[2.0], [4.0]])
    """
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    return sorted_rows[starts], np.add.reduceat(values[order], starts, axis=0)
