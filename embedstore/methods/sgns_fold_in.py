"""Folding new items into a skip-gram version (``embed extend``): passes over the new items'
pairs with every known item and context vector frozen.

The new items' item vectors start as :mod:`embedstore.methods.sgns` starts them (uniform in
``[-0.5, 0.5) / dim``, context vectors at zero) and train on their pairs in both directions,
with ``negative`` sampled negatives per positive drawn from every item's count raised to
``ns_exponent``, the learning rate decaying as in training; gradients that reach a known row
are dropped, so the parent's vectors and context vectors stay as they are. Passes: as
training chooses epochs from the data's size (:func:`~embedstore.methods.sgns.auto_epochs`),
from the new pairs alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..counting.cooccurrence import both_directions
from ..errors import TrainingError
from ..progress import Progress
from ..schema import SgnsSettings
from .fitted import Extension, Folded
from .sgns import (
    CONTEXT,
    _adagrad_rows,
    _epoch_stream,
    _log,
    _noise_cdf,
    _sigmoid,
    auto_epochs,
)


@dataclass
class Tables:
    """Item and context vectors of every row: the known ones frozen, the new ones (rows
    ``n_old`` on) trained, with their AdaGrad sums."""

    n_old: int
    old_items: np.ndarray
    old_context: np.ndarray
    items: np.ndarray
    context: np.ndarray
    items_sq: np.ndarray
    context_sq: np.ndarray

    def gather(self, old: np.ndarray, new: np.ndarray, rows: np.ndarray) -> np.ndarray:
        found = np.empty((len(rows), new.shape[1]), dtype=np.float32)
        known = rows < self.n_old
        found[known] = old[rows[known]]
        found[~known] = new[rows[~known] - self.n_old]
        return found


def fold_in_sgns(extension: Extension, settings: SgnsSettings,
                 progress: Progress | None = None) -> Folded:
    """Item vectors for the new rows of ``extension`` (and their context vectors, which the
    new version keeps after the parent's)."""
    if extension.left.size == 0:
        raise TrainingError("no positive pairs with a new item to train on; add pairs with a "
                            "weight above 0")
    notes = []
    old_context = extension.kept.get(CONTEXT)
    if old_context is None:
        old_context = extension.vectors
        notes.append(f"version {extension.parent} keeps no context vectors (trained before "
                     "versions kept them): its item vectors stood in for them")
    dim, n_new = extension.vectors.shape[1], extension.n_new
    rng = np.random.default_rng(settings.seed)
    tables = Tables(extension.n_old, extension.vectors, old_context,
                    ((rng.random((n_new, dim)) - 0.5) / dim).astype(np.float32),
                    np.zeros((n_new, dim), dtype=np.float32),
                    np.zeros(n_new, dtype=np.float32), np.zeros(n_new, dtype=np.float32))
    center, context, weight = both_directions(extension.left, extension.right,
                                              extension.weight)
    negatives = (np.concatenate([extension.negative_left, extension.negative_right]),
                 np.concatenate([extension.negative_right, extension.negative_left]))
    epochs = auto_epochs(len(center))
    noise_cdf = _noise_cdf(_all_counts(extension), settings.ns_exponent)
    total = epochs * (len(center) + len(negatives[0]))
    done, losses = 0, []
    for epoch in range(1, epochs + 1):
        stream = _epoch_stream(center, context, weight, *negatives, epoch, rng)
        loss = 0.0
        for start in range(0, len(stream[0]), settings.batch_size):
            batch = slice(start, start + settings.batch_size)
            lr = settings.lr * max(settings.min_lr_fraction, 1.0 - done / total)
            loss += float(_fold_step(tables, stream[0][batch], stream[1][batch],
                                     stream[2][batch], noise_cdf, settings.negative, lr,
                                     rng).sum())
            done += len(stream[0][batch])
        losses.append(loss / max(1, len(stream[0])))
        if progress is not None:
            progress("folding in", epoch, epochs, losses[-1])
    if not np.isfinite(tables.items).all():
        raise TrainingError("folding in diverged; train a new version with a lower --lr")
    notes.append(f"sgns trained the new items for {epochs} passes over their pairs")
    return Folded(tables.items, kept_rows={CONTEXT: tables.context} if CONTEXT in
                  extension.kept else {}, epoch_losses=losses, notes=notes)


def _all_counts(extension: Extension) -> np.ndarray:
    """Every item's summed positive weight (the parent's kept counts plus the new pairs):
    what negatives are drawn from."""
    counts, total = extension.counts, extension.n_old + extension.n_new
    positive = counts.weight > 0
    found = np.zeros(total)
    for left, right, weight in ((counts.left[positive], counts.right[positive],
                                 counts.weight[positive]),
                                (extension.left, extension.right, extension.weight)):
        found += np.bincount(left, weights=weight, minlength=total)
        found += np.bincount(right, weights=weight, minlength=total)
    return found


def _fold_step(tables: Tables, center: np.ndarray, context: np.ndarray, label: np.ndarray,
               noise_cdf: np.ndarray, k: int, lr: float, rng: np.random.Generator
               ) -> np.ndarray:
    """One minibatch, as :func:`embedstore.methods.sgns._step` takes it, updating only the
    new rows; returns the loss of each visit."""
    size = len(center)
    negatives = np.searchsorted(noise_cdf, rng.random((size, k)), side="right")
    negatives[label <= 0] = -1  # explicit negative pairs draw no sampled negatives
    targets = np.concatenate([context[:, None], negatives], axis=1)
    labels = np.zeros((size, 1 + k), dtype=np.float32)
    labels[:, 0] = label
    valid = targets >= 0
    targets = np.where(valid, targets, 0)
    flat_targets = targets.reshape(-1)
    w = tables.gather(tables.old_items, tables.items, center)
    c = tables.gather(tables.old_context, tables.context, flat_targets).reshape(
        size, 1 + k, -1)
    probability = _sigmoid(np.einsum("nd,nkd->nk", w, c))
    gradient = (probability - labels) * valid
    loss = -(_log(np.where(labels > 0, probability, 1 - probability)) * valid).sum(axis=1)
    new_center = center >= tables.n_old
    if new_center.any():
        grad_w = np.einsum("nk,nkd->nd", gradient[new_center], c[new_center])
        _adagrad_rows(tables.items, tables.items_sq, center[new_center] - tables.n_old,
                      grad_w, lr)
    new_target = flat_targets >= tables.n_old
    if new_target.any():
        grad_c = (gradient[:, :, None] * w[:, None, :]).reshape(-1, w.shape[1])
        _adagrad_rows(tables.context, tables.context_sq,
                      flat_targets[new_target] - tables.n_old, grad_c[new_target], lr)
    return loss
