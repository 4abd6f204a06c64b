"""embedstore: learn item embeddings from co-occurrence pairs, keep every model as an
immutable version, and answer nearest-neighbour and analogy queries.

>>> import embedstore, tempfile
>>> store = tempfile.mkdtemp()
>>> record = embedstore.train_pairs("data/animals.csv", store=store, quiet=True)
>>> record.model, record.version, record.n_items
('default', 1, 8)
>>> with embedstore.open(store) as vectors:
...     [n.item for n in vectors.analogy("kitten", "cat", "dog", k=1)]
['puppy']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    EmbedstoreError,
    InputError,
    NotFoundError,
    QueryError,
    StoreError,
    TrainingError,
    UnknownItemError,
)

__all__ = [
    "BatchResult",
    "Embeddings",
    "EmbedstoreError",
    "ExactSearcher",
    "InputError",
    "Neighbor",
    "NotFoundError",
    "QueryError",
    "Searcher",
    "Store",
    "StoreError",
    "TrainingError",
    "UnknownItemError",
    "__version__",
    "extend_version",
    "open",
    "publish_vectors",
    "train_file",
    "train_pairs",
]

if TYPE_CHECKING:
    from .query.batch import BatchResult
    from .query.embeddings import Embeddings
    from .query.embeddings import open_embeddings as open
    from .query.results import Neighbor
    from .query.search import ExactSearcher, Searcher
    from .store import Store
    from .training.extend import extend_version
    from .training.pipeline import train_file, train_pairs
    from .training.publish import publish_vectors

_LAZY = {
    "BatchResult": ("query.batch", "BatchResult"),
    "Embeddings": ("query.embeddings", "Embeddings"),
    "ExactSearcher": ("query.search", "ExactSearcher"),
    "Neighbor": ("query.results", "Neighbor"),
    "Searcher": ("query.search", "Searcher"),
    "open": ("query.embeddings", "open_embeddings"),
    "Store": ("store", "Store"),
    "extend_version": ("training.extend", "extend_version"),
    "publish_vectors": ("training.publish", "publish_vectors"),
    "train_file": ("training.pipeline", "train_file"),
    "train_pairs": ("training.pipeline", "train_pairs"),
}


def __getattr__(name: str) -> Any:
    """Import the heavier parts (numpy, training) only when they are first used."""
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'embedstore' has no attribute {name!r}")
