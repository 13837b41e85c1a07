"""Quantized search: int8 (faiss scalar quantizer) and binary (faiss Hamming) with rescoring of candidates."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.search.backend import IndexMode, TrainedBackend, import_faiss
from sse_demo.search.rescore import Rescore, RescoreStore, make_store, rescore

# Candidates per wanted result. sentence-transformers defaults to 2 and its examples use 4; on the labelled sets
# 10 kept 99% of exact NDCG@10 where 4 kept 97%, for under 1 ms more per query at 1M vectors (docs/search.md).
DEFAULT_RESCORE_MULTIPLIER = 10


class QuantizedBackend(TrainedBackend):
    """A faiss first stage over compact codes, optionally followed by rescoring against a finer store."""

    allowed_rescore: tuple[Rescore, ...]
    default_rescore: Rescore
    index_file: str

    def __init__(self, dim: int, rescore: Rescore | str | None = None, rescore_multiplier: int | None = None) -> None:
        super().__init__(dim)
        self.faiss = import_faiss(f"index mode {self.mode.value!r}")
        self.rescore = self.default_rescore if rescore is None else Rescore(rescore)
        if self.rescore not in self.allowed_rescore:
            allowed = ", ".join(repr(kind.value) for kind in self.allowed_rescore)
            raise ValueError(
                f"Index mode {self.mode.value!r} cannot rescore with {self.rescore.value!r}; use {allowed}."
            )
        self.rescore_multiplier = check_multiplier(
            DEFAULT_RESCORE_MULTIPLIER if rescore_multiplier is None else rescore_multiplier
        )
        self.store: RescoreStore | None = make_store(self.rescore, dim)
        self.index: Any = None  # the faiss index, made when training

    def options(self) -> dict[str, Any]:
        return {"rescore": self.rescore.value, "rescore_multiplier": self.rescore_multiplier}

    @property
    def nbytes(self) -> int:
        return self._codes_nbytes() + (0 if self.store is None else self.store.nbytes)

    def _codes_nbytes(self) -> int:
        return 0 if self.index is None else self.index.ntotal * self.index.code_size

    def _trained_count(self) -> int:
        return 0 if self.index is None else self.index.ntotal

    def _train(self, sample: np.ndarray) -> None:
        self.index = self._make_index()
        if not self.index.is_trained:
            self.index.train(sample)
        if self.store is not None:
            self.store.train(sample)

    def _add_trained(self, vectors: np.ndarray) -> None:
        self.index.add(self._encode(vectors))
        if self.store is not None:
            self.store.add(vectors)

    def search(self, queries: np.ndarray, k: int, rescore_multiplier: int | None) -> tuple[np.ndarray, np.ndarray]:
        if self.rescore is Rescore.NONE:
            scores, rows = self.index.search(self._encode(queries), k)
            return self._first_stage_scores(scores), rows
        multiplier = check_multiplier(self.rescore_multiplier if rescore_multiplier is None else rescore_multiplier)
        _, candidates = self.index.search(self._encode(queries), min(k * multiplier, self.index.ntotal))
        return rescore(queries, candidates, self._gather(candidates), k)

    def _first_stage_scores(self, scores: np.ndarray) -> np.ndarray:
        """faiss' scores as similarities (higher is better)."""
        return scores

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        assert self.store is not None
        return self.store.gather(rows)

    def _encode(self, vectors: np.ndarray) -> np.ndarray:
        """What the faiss index takes for these float vectors."""
        return vectors

    @abstractmethod
    def _make_index(self) -> Any:
        """A new, empty faiss index for this mode."""

    def save(self, folder: Path) -> list[str]:
        files = [self._write_index(folder / self.index_file)]
        if self.store is not None:
            files += self.store.save(folder)
        return files

    @classmethod
    def load(cls, folder: Path, dim: int, options: dict[str, Any], mmap: bool) -> QuantizedBackend:
        backend = cls(dim, rescore=options["rescore"], rescore_multiplier=options["rescore_multiplier"])
        backend.index = backend._read_index(folder / cls.index_file)
        backend._trained = True
        if backend.store is not None:
            backend.store.load(folder, mmap)
        return backend

    def _write_index(self, path: Path) -> str:
        self.faiss.write_index(self.index, str(path))
        return path.name

    def _read_index(self, path: Path) -> Any:
        return self.faiss.read_index(str(path))


class Int8Backend(QuantizedBackend):
    """One byte per dimension (faiss ``IndexScalarQuantizer``, ``QT_8bit``, ranges = per-dimension min/max).

    faiss scores the float query against each dequantised code (asymmetric search). That is the score
    sentence-transformers' int8 rescoring computes for its candidates, here applied to the whole corpus, so no
    rescoring pass is needed by default; ``rescore="float32"`` rescores with the original vectors.
    """

    mode = IndexMode.INT8
    allowed_rescore = (Rescore.NONE, Rescore.FLOAT32)
    default_rescore = Rescore.NONE
    index_file = "int8.faiss"

    def _make_index(self) -> Any:
        faiss = self.faiss
        return faiss.IndexScalarQuantizer(self.dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)


class BinaryBackend(QuantizedBackend):
    """One bit per dimension (sign), searched by Hamming distance with faiss ``IndexBinaryFlat``.

    Codes are ``binary_codes`` (sentence-transformers' "ubinary" codes). The Hamming search
    returns ``top_k * rescore_multiplier`` candidates, rescored against the float query with int8 copies by
    default (32x smaller than float32 for the search, plus 1 byte per dimension for rescoring).
    """

    mode = IndexMode.BINARY
    allowed_rescore = (Rescore.NONE, Rescore.BITS, Rescore.INT8, Rescore.FLOAT32)
    default_rescore = Rescore.INT8
    index_file = "binary.faiss"

    def __init__(self, dim: int, rescore: Rescore | str | None = None, rescore_multiplier: int | None = None) -> None:
        if dim % 8:
            raise ValueError(f"Index mode 'binary' packs 8 dimensions per byte; dim {dim} is not a multiple of 8.")
        super().__init__(dim, rescore, rescore_multiplier)

    def _make_index(self) -> Any:
        return self.faiss.IndexBinaryFlat(self.dim)

    def _encode(self, vectors: np.ndarray) -> np.ndarray:
        return binary_codes(vectors)

    def _first_stage_scores(self, scores: np.ndarray) -> np.ndarray:
        # Hamming distance d over `dim` bits -> similarity in [-1, 1], higher is better, like the other modes.
        return (1 - 2 * scores.astype(np.float32) / self.dim).astype(np.float32)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        if self.rescore is not Rescore.BITS:
            return super()._gather(rows)
        # sentence-transformers rescoring of "ubinary": the float query against the candidates' 0/1 bits.
        codes = self.faiss.rev_swig_ptr(self.index.xb.data(), self.index.ntotal * self.index.code_size)
        codes = codes.reshape(self.index.ntotal, self.index.code_size)
        return np.unpackbits(codes[rows], axis=-1).astype(np.float32)

    def _write_index(self, path: Path) -> str:
        self.faiss.write_index_binary(self.index, str(path))
        return path.name

    def _read_index(self, path: Path) -> Any:
        return self.faiss.read_index_binary(str(path))


def binary_codes(vectors: np.ndarray) -> np.ndarray:
    """Sign bits (value > 0) packed 8 per byte, first dimension in the high bit: ``(n, dim / 8)`` uint8.

    Bit for bit sentence-transformers' ``quantize_embeddings(vectors, precision="ubinary")`` (tests compare them).
    """
    return np.packbits(vectors > 0, axis=-1)


def check_multiplier(multiplier: int) -> int:
    """Reject a rescore multiplier below 1 (it would search fewer candidates than asked for)."""
    if int(multiplier) != multiplier or multiplier < 1:
        raise ValueError(f"rescore_multiplier must be a whole number >= 1, got {multiplier!r}.")
    return int(multiplier)
