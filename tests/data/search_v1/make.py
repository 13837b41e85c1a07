"""Writes this folder: small saved indexes made by sse_demo's search code, kept so later versions prove they load
and search them identically (tests/test_search_saved.py) and still write the same bytes.

First run at commit 0baad54, when int8 and binary codes came from sentence-transformers' ``quantize_embeddings``.
Rerunning it must leave ``git status`` clean.

    PYTHONPATH=. python tests/data/search_v1/make.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sse_demo.search import Index

FOLDER = Path(__file__).parent
DIM = 32
TOP_K = 5
FINGERPRINT = "search-v1-fixture"
# (folder, mode, options, ids): int ids for one index, string ids for the other, so both id types are covered.
INDEXES = (
    ("int8", "int8", {}, None),
    ("binary_int8", "binary", {"rescore": "int8", "rescore_multiplier": 2}, "strings"),
)


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def build_indexes(vectors: np.ndarray, queries: np.ndarray, folder: Path) -> dict[str, np.ndarray]:
    """Save every index of ``INDEXES`` into ``folder``; return their top-``TOP_K`` scores and ids per query."""
    results = {}
    for name, mode, options, ids in INDEXES:
        index = Index(DIM, mode, fingerprint=FINGERPRINT, **options)
        index.add(vectors, ids=[f"doc-{row}" for row in range(len(vectors))] if ids else range(len(vectors)))
        index.save(folder / name)
        results[f"{name}_scores"], results[f"{name}_ids"] = index.search(queries, top_k=TOP_K)
    return results


def main() -> None:
    rng = np.random.default_rng(15)
    vectors, queries = unit_rows(rng, 40), unit_rows(rng, 6)
    np.save(FOLDER / "vectors.npy", vectors)
    np.save(FOLDER / "queries.npy", queries)
    np.savez(FOLDER / "expected.npz", **build_indexes(vectors, queries, FOLDER))


if __name__ == "__main__":
    main()
