"""From many dimensions to two: PCA (numpy), t-SNE (scikit-learn), and Procrustes alignment.

Every function takes and returns plain arrays and is deterministic for its inputs and seed.
"""

from __future__ import annotations

import numpy as np

from ..errors import EmbedstoreError, QueryError
from ..geometry import unit_rows

METHODS = ("pca", "tsne")
TSNE_PERPLEXITY = 30.0
TSNE_FEWEST_ITEMS = 5


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components of ``vectors``' rows, with a fixed sign.

    Each component is flipped so that its largest loading is positive, so the same input
    always gives the same picture (an SVD may return either sign).

    >>> points = pca_2d(np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [2.0, 2.0, 1.0]]))
    >>> np.round(points[:, 0], 3).tolist()
    [-1.414, 0.0, 1.414]
    """
    matrix = np.asarray(vectors, dtype=np.float64)
    centred = matrix - matrix.mean(axis=0)
    if len(centred) < 2:
        return np.zeros((len(centred), 2))
    components = _principal_axes(centred)
    signs = np.sign(components[np.arange(len(components)),
                               np.argmax(np.abs(components), axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    points = centred @ components.T
    if points.shape[1] < 2:
        points = np.hstack([points, np.zeros((len(points), 2 - points.shape[1]))])
    return points


def _principal_axes(centred: np.ndarray) -> np.ndarray:
    """The two leading principal axes (rows), from the eigenvectors of the smaller of the
    covariance (d x d) and Gram (n x n) matrices: quicker than an SVD of a tall matrix."""
    n, d = centred.shape
    if n >= d:
        _, vectors = np.linalg.eigh(centred.T @ centred)
        return vectors[:, ::-1][:, :2].T
    _, vectors = np.linalg.eigh(centred @ centred.T)
    axes = (centred.T @ vectors[:, ::-1][:, :2]).T
    lengths = np.linalg.norm(axes, axis=1, keepdims=True)
    return np.divide(axes, lengths, out=np.zeros_like(axes), where=lengths > 0)


def tsne_2d(vectors: np.ndarray, seed: int) -> np.ndarray:
    """t-SNE of ``vectors``' rows by cosine distance (scikit-learn, PCA start, fixed seed)."""
    if len(vectors) < TSNE_FEWEST_ITEMS:
        raise QueryError(f"t-SNE needs at least {TSNE_FEWEST_ITEMS} items, not "
                         f"{len(vectors)}; use --method pca")
    try:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise EmbedstoreError("t-SNE needs scikit-learn: pip install 'embedstore[plot]'"
                              ) from None
    perplexity = min(TSNE_PERPLEXITY, (len(vectors) - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine",
                learning_rate="auto", random_state=seed)
    # One thread: the Barnes-Hut gradient's sums then run in a fixed order (the same seed
    # gives the same picture on any machine), and OpenMP threads spinning on a busy machine
    # cost far more than they gain on maps of this size (measured: 500 items, 26 s -> 1.4 s).
    with threadpool_limits(limits=1):
        unit = unit_rows(np.asarray(vectors, dtype=np.float64))
        points = tsne.fit_transform(unit.astype(np.float32))
    return np.asarray(points, dtype=np.float64)


def project(vectors: np.ndarray, method: str, seed: int) -> np.ndarray:
    """Two coordinates per row of ``vectors`` by ``method`` (``pca`` or ``tsne``), fitted to
    the square [-1, 1] x [-1, 1] with the aspect ratio kept."""
    if method not in METHODS:
        raise QueryError(f"unknown projection method {method!r}; use one of {METHODS}")
    unit = unit_rows(np.asarray(vectors, dtype=np.float64))
    points = pca_2d(unit) if method == "pca" else tsne_2d(unit, seed)
    return fit_square(points)


def fit_square(points: np.ndarray) -> np.ndarray:
    """Centre the points' bounding box on 0 and scale its longer side to [-1, 1].

    >>> fit_square(np.array([[0.0, 0.0], [4.0, 2.0]])).tolist()
    [[-1.0, -0.5], [1.0, 0.5]]
    """
    if len(points) == 0:
        return np.zeros((0, 2))
    low, high = points.min(axis=0), points.max(axis=0)
    half = float((high - low).max()) / 2
    centred = points - (low + high) / 2
    return centred / half if half > 0 else centred
