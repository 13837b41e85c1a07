"""The choices an index is built with, as str-Enums so they round-trip through JSON manifests and CLI flags."""

from __future__ import annotations

from enum import StrEnum


class IndexMode(StrEnum):
    """How an index stores vectors and finds the top-k.

    - ``exact``: float32 matrix product over every vector (torch; on the GPU when one is present).
    - ``int8``: one byte per dimension (faiss scalar quantizer); the float query is scored against every
      dequantised vector, which is what sentence-transformers' int8 rescoring computes.
    - ``binary``: one bit per dimension, Hamming search (faiss ``IndexBinaryFlat``) for
      ``top_k * rescore_multiplier`` candidates, then rescoring against the float query.
    - ``ivf``: approximate inverted-file search over float32 vectors (faiss ``IndexIVFFlat``) for large corpora.
    """

    EXACT = "exact"
    INT8 = "int8"
    BINARY = "binary"
    IVF = "ivf"


class Rescore(StrEnum):
    """What the candidates of a quantized search are rescored against the float query with.

    - ``none``: keep the first-stage scores.
    - ``bits``: the candidates' own sign bits as 0/1 vectors (sentence-transformers' default for binary; no extra
      memory).
    - ``int8``: int8 copies of the vectors (sentence-transformers' ``quantize_embeddings``; 1 byte per dimension).
    - ``float32``: the original vectors (4 bytes per dimension; can stay on disk with ``Index.load(..., mmap=True)``).
    """

    NONE = "none"
    BITS = "bits"
    INT8 = "int8"
    FLOAT32 = "float32"
