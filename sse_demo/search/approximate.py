"""Approximate search for large corpora: faiss inverted file (IVF) over float32 vectors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.search.backend import IndexMode, TrainedBackend, import_faiss

DEFAULT_NPROBE = 32


class IVFBackend(TrainedBackend):
    """faiss ``IndexIVFFlat`` (inner product): k-means cells, and a search that scans only ``nprobe`` of them.

    ``nlist`` (the number of cells) defaults to ``min(4 * sqrt(n), n / 39)`` of the training sample (faiss wants
    about 39 points per centroid), capped at 4096. Results can miss true neighbours that sit in unscanned cells;
    raise ``nprobe`` to trade speed for recall. A query may get fewer than ``k`` rows (marked -1) when the scanned
    cells hold fewer vectors.
    """

    mode = IndexMode.IVF
    train_rows = 65_536

    def __init__(self, dim: int, nlist: int | None = None, nprobe: int | None = None) -> None:
        super().__init__(dim)
        self.faiss = import_faiss("index mode 'ivf'")
        if nlist is not None and nlist < 1:
            raise ValueError(f"nlist must be >= 1, got {nlist}.")
        self.nlist = nlist
        self.nprobe = DEFAULT_NPROBE if nprobe is None else nprobe
        if self.nprobe < 1:
            raise ValueError(f"nprobe must be >= 1, got {self.nprobe}.")
        self.index: Any = None

    def options(self) -> dict[str, Any]:
        return {"nlist": self.nlist, "nprobe": self.nprobe}

    @property
    def nbytes(self) -> int:
        if self.index is None:
            return 0
        # Inverted lists hold each vector plus its int64 id; the coarse quantizer holds the centroids.
        return self.index.ntotal * (self.dim * 4 + 8) + self.index.nlist * self.dim * 4

    def _trained_count(self) -> int:
        return 0 if self.index is None else self.index.ntotal

    def _train(self, sample: np.ndarray) -> None:
        faiss = self.faiss
        if self.nlist is None:
            self.nlist = max(1, min(4096, int(4 * math.sqrt(len(sample))), len(sample) // 39))
        quantizer = faiss.IndexFlatIP(self.dim)
        self.index = faiss.IndexIVFFlat(quantizer, self.dim, self.nlist, faiss.METRIC_INNER_PRODUCT)
        self.index.cp.spherical = True  # centroids on the unit sphere, matching normalised embeddings
        self.index.train(sample)

    def _add_trained(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)

    def search(self, queries: np.ndarray, k: int, rescore_multiplier: int | None) -> tuple[np.ndarray, np.ndarray]:
        self.index.nprobe = min(self.nprobe, self.index.nlist)
        scores, rows = self.index.search(queries, k)
        scores[rows < 0] = -np.inf
        return scores, rows

    def save(self, folder: Path) -> list[str]:
        self.faiss.write_index(self.index, str(folder / "ivf.faiss"))
        return ["ivf.faiss"]

    @classmethod
    def load(cls, folder: Path, dim: int, options: dict[str, Any], mmap: bool) -> IVFBackend:
        backend = cls(dim, nlist=options["nlist"], nprobe=options["nprobe"])
        backend.index = backend.faiss.read_index(str(folder / "ivf.faiss"))
        backend._trained = True
        return backend
