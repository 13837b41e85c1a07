"""A 2-D map of the corpus embeddings (UMAP), the query placed in it, and a passage's nearest neighbours.

UMAP (umap-learn) is imported only here and only when a map is asked for: its first call compiles numba code,
which would otherwise slow the app's start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sse_demo.app.index import top_k


@dataclass
class EmbeddingMap:
    """2-D coordinates of the corpus rows and the fitted reducer (to place new points)."""

    coords: np.ndarray
    reducer: object

    def place(self, vectors: np.ndarray) -> np.ndarray:
        """2-D coordinates of new vectors (e.g. the query) in the same map."""
        return np.asarray(self.reducer.transform(np.atleast_2d(vectors)), dtype=np.float32)


def fit_map(vectors: np.ndarray, *, seed: int = 0, n_neighbors: int = 15) -> EmbeddingMap:
    """Fit UMAP with cosine distance (the similarity search uses) on unit-norm vectors."""
    import umap

    n_neighbors = max(2, min(n_neighbors, len(vectors) - 1))
    reducer = umap.UMAP(n_neighbors=n_neighbors, metric="cosine", random_state=seed, n_jobs=1, init="random")
    coords = reducer.fit_transform(vectors)
    return EmbeddingMap(np.asarray(coords, dtype=np.float32), reducer)


def neighbours(matrix: np.ndarray, row: int, k: int) -> list[tuple[int, float]]:
    """The ``k`` passages closest to passage ``row`` (itself excluded), with their cosine scores."""
    scores = matrix @ matrix[row]
    scores[row] = -np.inf
    return [(int(i), float(scores[i])) for i in top_k(scores, min(k, len(scores) - 1))]
