"""The "about 2x faster retrieval than 1024-dim static peers" claim, end to end: encode queries, then search.

One run measures, side by side and round-robin (so load from other processes hits all alike), medians of
``--rounds`` rounds:

- encode: 10,000 short queries (random spans of the bundled demo corpus, English and Japanese) with
  * SSE at 512 dims (the bundled model),
  * a 1024-dim SSE of the same vocabulary (``SSEModel.from_arrays``, synthetic N(0, 1) table): the same code at
    twice the width, so its ratio to SSE@512 is the cost of the dims alone,
  * a 1024-dim sentence-transformers ``StaticEmbedding`` peer over the same tokenizer (synthetic table, saved and
    loaded through ``sse_demo.load_peer``): the code path of the seed's published peers;
- search: ``sse_demo.search.Index`` over synthetic L2-normalised passage vectors (100k and 1M) at 512 and 1024 dims,
  exact float32 and binary + int8 rescoring (the project's default rescoring), top 10, with the first
  ``--search-queries`` encoded queries (search cost does not depend on the vectors' content: exact is one matrix
  product over every vector, binary a full Hamming scan plus a fixed number of rescored candidates).

Reported per 1,000 queries: encode, search, and their sum, with ratios against SSE@512. Peak memory is the two
indexes of one (size, mode) at once: about 6 GB at 1M exact (2 GB at 512 dims + 4 GB at 1024).

    nice -n 10 python bench/peer_speed.py --sizes 100000 1000000 --markdown OUT.md
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

import sse_demo
from sse_demo.app.corpus import load_demo_corpus
from sse_demo.model.hub import BUNDLED_FP32
from sse_demo.model.module import normalize_numpy
from sse_demo.search import Index

SSE_DIM, PEER_DIM = 512, 1024
MODES = ("exact", "binary")  # binary: the Index default, int8 rescoring of top_k x 10 candidates
TOP_K = 10
CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class Encoder:
    label: str
    dim: int
    encode: Callable[[list[str]], np.ndarray]


def make_queries(count: int, seed: int = 0) -> list[str]:
    """Query-length texts: random spans (8 to 60 characters) of the demo corpus's passages."""
    texts = load_demo_corpus().texts
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        text = rng.choice(texts)
        length = rng.randint(8, 60)
        start = rng.randint(0, max(0, len(text) - length))
        queries.append(text[start : start + length])
    return queries


def synthetic_peer(tokenizer_file: Path, dim: int, folder: Path, seed: int = 1) -> sse_demo.model.peers.PeerModel:
    """A sentence-transformers StaticEmbedding over SSE's tokenizer with a random table, saved and loaded back."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    table = np.random.default_rng(seed).standard_normal((tokenizer.get_vocab_size(), dim), dtype=np.float32)
    SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=table)], device="cpu").save(str(folder))
    return sse_demo.load_peer(folder, device="cpu")


def encoders(workdir: Path) -> list[Encoder]:
    """SSE@512, the same code at 1024 dims, and a 1024-dim sentence-transformers peer, all on SSE's vocabulary."""
    sse = sse_demo.load_model(device="cpu")
    tokenizer_file = BUNDLED_FP32 / "tokenizer.json"
    wide_table = np.random.default_rng(2).standard_normal((sse.vocab_size, PEER_DIM), dtype=np.float32)
    wide = sse_demo.SSEModel.from_arrays(Tokenizer.from_file(str(tokenizer_file)), wide_table, device="cpu")
    peer = synthetic_peer(tokenizer_file, PEER_DIM, workdir / "peer")
    return [
        Encoder(f"SSE@{SSE_DIM} (bundled)", SSE_DIM, sse.encode),
        Encoder(f"SSE code @{PEER_DIM} (synthetic table)", PEER_DIM, wide.encode),
        Encoder(f"sentence-transformers StaticEmbedding @{PEER_DIM} (synthetic, load_peer)", PEER_DIM, peer.encode),
    ]


def synthetic_index(mode: str, dim: int, count: int, seed: int) -> Index:
    """An index of ``count`` random unit vectors, added in chunks so only one chunk is held besides the index."""
    rng = np.random.default_rng(seed)
    index = Index(dim=dim, mode=mode)
    index.reserve(count)
    for start in range(0, count, CHUNK_ROWS):
        rows = rng.standard_normal((min(CHUNK_ROWS, count - start), dim), dtype=np.float32)
        index.add(normalize_numpy(rows, out=rows))
    index.search(rows[:1], top_k=TOP_K)  # trains / finalises the index outside the timed rounds
    return index


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(args: argparse.Namespace) -> dict:
    queries = make_queries(args.queries)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as workdir:
        models = encoders(Path(workdir))
        embeddings = {m.label: m.encode(queries) for m in models}  # warm-up, and the vectors searched below
        encode_s: dict[str, list[float]] = {m.label: [] for m in models}
        for _ in range(args.rounds):
            for model in models:
                encode_s[model.label].append(timed(lambda model=model: model.encode(queries)))
    query_vectors = {dim: next(embeddings[m.label] for m in models if m.dim == dim) for dim in (SSE_DIM, PEER_DIM)}
    search = []
    for size in args.sizes:
        for mode in MODES:
            indexes = {dim: synthetic_index(mode, dim, size, seed=dim) for dim in (SSE_DIM, PEER_DIM)}
            seconds: dict[int, list[float]] = {dim: [] for dim in indexes}
            for _ in range(args.rounds):
                for dim, index in indexes.items():
                    batch = query_vectors[dim][: args.search_queries]
                    seconds[dim].append(timed(lambda index=index, batch=batch: index.search(batch, top_k=TOP_K)))
            for dim, index in indexes.items():
                search.append(
                    {
                        "size": size,
                        "mode": mode,
                        "dim": dim,
                        "index_mib": index.nbytes / 2**20,
                        "ms_per_1000": 1000 * statistics.median(seconds[dim]) / args.search_queries * 1000,
                    }
                )
            del indexes
            gc.collect()
    return {
        "queries": args.queries,
        "search_queries": args.search_queries,
        "rounds": args.rounds,
        "threads": args.threads,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "encoders": [
            {
                "label": m.label,
                "dim": m.dim,
                "encode_ms_per_1000": 1000 * statistics.median(encode_s[m.label]) / args.queries * 1000,
            }
            for m in models
        ],
        "search": search,
    }


def markdown(result: dict) -> str:
    """Tables: encode per model; then per corpus size and mode, encode + search per 1,000 queries and ratios."""
    base = result["encoders"][0]
    lines = [
        f"Encode: {result['queries']:,} queries, median of {result['rounds']} rounds; search: the first "
        f"{result['search_queries']:,} of them, top {TOP_K}, median of {result['rounds']} rounds; "
        f"{result['threads']} BLAS/torch/faiss thread(s); load average before "
        f"{' / '.join(f'{x:.1f}' for x in result['load_average_before'])}, after "
        f"{' / '.join(f'{x:.1f}' for x in result['load_average_after'])} (1 / 5 / 15 min).",
        "",
        "| model | dim | encode ms / 1,000 queries | x SSE@512 |",
        "|---|---|---|---|",
    ]
    for encoder in result["encoders"]:
        ratio = encoder["encode_ms_per_1000"] / base["encode_ms_per_1000"]
        lines.append(f"| {encoder['label']} | {encoder['dim']} | {encoder['encode_ms_per_1000']:.1f} | {ratio:.2f}x |")
    for size in sorted({row["size"] for row in result["search"]}):
        for mode in MODES:
            rows = {r["dim"]: r for r in result["search"] if r["size"] == size and r["mode"] == mode}
            mode_label = "exact float32" if mode == "exact" else "binary + int8 rescoring (top 10 x 10)"
            lines += [
                "",
                f"**{size:,} passages, {mode_label}** (index memory: {rows[SSE_DIM]['index_mib']:.0f} MiB at 512 dims, "
                f"{rows[PEER_DIM]['index_mib']:.0f} MiB at 1024)",
                "",
                "| model | search ms / 1,000 | encode + search ms / 1,000 | search x SSE@512 | end to end x SSE@512 |",
                "|---|---|---|---|---|",
            ]
            base_total = base["encode_ms_per_1000"] + rows[SSE_DIM]["ms_per_1000"]
            for encoder in result["encoders"]:
                search_ms = rows[encoder["dim"]]["ms_per_1000"]
                total = encoder["encode_ms_per_1000"] + search_ms
                lines.append(
                    f"| {encoder['label']} | {search_ms:.1f} | {total:.1f} | "
                    f"{search_ms / rows[SSE_DIM]['ms_per_1000']:.2f}x | {total / base_total:.2f}x |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="passages per index")
    parser.add_argument("--queries", type=int, default=10_000, help="queries encoded per round")
    parser.add_argument("--search-queries", type=int, default=500, help="of those, how many are searched per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS, torch and faiss threads (SSE encode: its own)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    if not 1 <= args.search_queries <= args.queries:
        parser.error("--search-queries must be from 1 to --queries")

    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        result = measure(args)
    report = markdown(result)
    print(report)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.markdown:
        args.markdown.write_text(report)


if __name__ == "__main__":
    main()
