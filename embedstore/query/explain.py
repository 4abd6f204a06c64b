"""Why two items are neighbours: the partners they share, weighed as the version's method
weighs them, and the strongest partners each has that the other lacks.

It reads the counts a version keeps (:mod:`embedstore.counting.kept`). An item's weight with
a partner ``j`` is what the method multiplies: for propagate the entry of its step operator
(the pair's weight over the median, times ``degree(j) ** -degree_exponent``), for svd the
PPMI entry, for sgns (and imported vectors' methods) the pair's summed weight. A shared
partner's contribution is the product of the two items' weights with it, as a share of the
sum over all shared partners: the term it adds to the inner product of the two items' rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..counting.kept import PAIRS, WEIGHTS, KeptCounts, read_kept_counts
from ..errors import QueryError

if TYPE_CHECKING:
    from ..schema import VersionRecord
    from .embeddings import Embeddings

MEASURES = {
    "propagate": "the step operator's weights (pair weight over the median, times "
                 "degree ** -degree_exponent)",
    "svd": "PPMI",
    "sgns": "co-occurrence weight",
}


@dataclass(frozen=True)
class SharedPartner:
    item: str
    contribution: float
    weight_a: float
    weight_b: float


@dataclass(frozen=True)
class OwnPartner:
    item: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` found for items ``a`` and ``b`` of one version."""

    model: str
    version: int
    a: str
    b: str
    cosine: float
    method: str
    measure: str
    shared: list[SharedPartner]
    only_a: list[OwnPartner]
    only_b: list[OwnPartner]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def kept_counts(embeddings: Embeddings, record: VersionRecord) -> KeptCounts:
    """The counts ``record``'s version keeps, or a :class:`QueryError` saying why not."""
    if PAIRS not in record.files or WEIGHTS not in record.files:
        why = ("it was imported from a vector file" if record.origin == "import" else
               "it was trained on a Dask cluster or before versions kept their counts")
        raise QueryError(f"model {record.model!r} version {record.version} keeps no counts "
                         f"({why}), so its neighbours cannot be explained; train it here "
                         "again to explain them")
    store = embeddings.store
    return read_kept_counts(store.inside_store(record.files[PAIRS].path),
                            store.inside_store(record.files[WEIGHTS].path))


def partner_weights(counts: KeptCounts, rows: list[int], record: VersionRecord,
                    n_items: int) -> list[dict[int, float]]:
    """For each of ``rows``, its partners and their weights as the version's method weighs
    them (explicit negative pairs left out)."""
    found = []
    for row in rows:
        partners, weights = counts.partners(row)
        keep = weights > 0
        found.append((partners[keep], weights[keep]))
    method = getattr(record.settings, "method", "sgns")
    if method == "propagate":
        return _step_weights(counts, found, record.settings, n_items)
    if method == "svd":
        return _ppmi_weights(counts, rows, found, record.settings, n_items)
    return [dict(zip(partners.tolist(), weights.tolist(), strict=True))
            for partners, weights in found]


def _symmetric_sums(counts: KeptCounts, values: np.ndarray, positive: np.ndarray,
                    n_items: int) -> np.ndarray:
    """Row sums of ``values`` over the positive pairs, both directions."""
    left, right = counts.left[positive], counts.right[positive]
    off = left != right
    return (np.bincount(left, weights=values, minlength=n_items)
            + np.bincount(right[off], weights=values[off], minlength=n_items))


def _step_weights(counts: KeptCounts, found: list[tuple[np.ndarray, np.ndarray]],
                  settings: Any, n_items: int) -> list[dict[int, float]]:
    from ..methods.propagate import hub_scale, relative_weights

    positive = counts.weight > 0
    weight = counts.weight[positive]
    median = float(np.median(weight)) if weight.size else 1.0
    degree = _symmetric_sums(counts, relative_weights(weight, median), positive, n_items)
    scale = hub_scale(degree, settings)
    return [dict(zip(partners.tolist(),
                     (relative_weights(weights, median) * scale[partners]).tolist(),
                     strict=True)) for partners, weights in found]


def _ppmi_weights(counts: KeptCounts, rows: list[int],
                  found: list[tuple[np.ndarray, np.ndarray]], settings: Any,
                  n_items: int) -> list[dict[int, float]]:
    from ..methods.ppmi import context_weights, pmi_values

    positive = counts.weight > 0
    sums = _symmetric_sums(counts, counts.weight[positive], positive, n_items)
    context = context_weights(sums, settings)
    log_total = float(np.log(context.sum()))
    weighed = []
    for row, (partners, weights) in zip(rows, found, strict=True):
        pmi = pmi_values(weights, np.full(len(partners), sums[row]), context[partners],
                         log_total, settings.shift)
        weighed.append({int(j): float(v) for j, v in zip(partners, pmi, strict=True) if v > 0})
    return weighed


def explain(embeddings: Embeddings, a: str, b: str, k: int = 10) -> Explanation:
    """Why ``a`` and ``b`` are (or are not) neighbours in ``embeddings``' version: their
    cosine, the ``k`` shared partners that add most to it, and the ``k`` strongest partners
    of each that the other lacks.

    >>> import embedstore, tempfile
    >>> store = tempfile.mkdtemp()
    >>> _ = embedstore.train_pairs("data/animals.csv", store=store, quiet=True)
    >>> with embedstore.open(store) as vectors:
    ...     found = explain(vectors, "cat", "kitten", k=2)
    >>> found.method, [partner.item for partner in found.shared][:1]
    ('propagate', ['dog'])
    """
    if k < 1:
        raise QueryError("k must be at least 1")
    row_a, row_b = embeddings.rows([a, b])
    record = embeddings.store.version_record(embeddings.info)
    counts = kept_counts(embeddings, record)
    weights_a, weights_b = partner_weights(counts, [row_a, row_b], record, len(embeddings))
    products = {j: weights_a[j] * weights_b[j] for j in weights_a.keys() & weights_b.keys()
                if j not in (row_a, row_b)}
    total = sum(products.values()) or 1.0
    shared = sorted(products, key=lambda j: (-products[j], j))[:k]
    only_a = _strongest(weights_a, weights_b, (row_a, row_b), k)
    only_b = _strongest(weights_b, weights_a, (row_a, row_b), k)
    wanted = [*shared, *only_a, *only_b]
    name_of = dict(zip(wanted, embeddings.items_at(wanted), strict=True))
    method = getattr(record.settings, "method", "sgns")
    return Explanation(
        model=embeddings.model, version=embeddings.version, a=a, b=b,
        cosine=embeddings.similarity(a, b), method=method, measure=MEASURES[method],
        shared=[SharedPartner(name_of[j], products[j] / total, weights_a[j], weights_b[j])
                for j in shared],
        only_a=[OwnPartner(name_of[j], weights_a[j]) for j in only_a],
        only_b=[OwnPartner(name_of[j], weights_b[j]) for j in only_b])


def _strongest(own: dict[int, float], other: dict[int, float], inputs: tuple[int, int],
               k: int) -> list[int]:
    """The ``k`` partners in ``own`` with the highest weight that ``other`` lacks."""
    lacking = [j for j in own if j not in other and j not in inputs]
    return sorted(lacking, key=lambda j: (-own[j], j))[:k]
