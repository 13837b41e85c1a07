"""Benchmark of sse_demo.search: memory, build time, latency and retained quality per index mode and dim.

Three parts, all in one run so ratios are side by side:

1. scale: synthetic corpora (e.g. 100,000 and 1,000,000 vectors) with clustered, anisotropic structure; per mode and
   dim: index memory, build time, query latency (median, p99) at batch 1 and 64, and quality against exact float32
   (NDCG@10 of the document each query was generated from, and overlap of the top 10 with exact's top 10).
   Latencies are taken round-robin over the indexes of a group, so load from other processes hits all alike.
2. dims: exact float32 at 1024, 512 and 256 dims on the same corpus (the "2x faster than 1024-dim peers" claim
   is about this: the cost of exact search over 512- vs 1024-dim vectors; model encode time is not part of it).
3. labelled: NDCG@10 of every mode against exact on the BEIR sets in ../shared/eval (or SSE_EVAL_DIR), with the
   model from --model, or with a random-table SSE over --smoke-tokenizer (a smoke run only: its absolute scores
   mean little, but quantized-vs-exact retention is still measured on real text).

Example (the command behind docs/search.md):
    nice -n 10 python bench/search_bench.py --sizes 100000 1000000 --smoke-tokenizer TOKENIZER.json \
        --json /work/artifacts/search/bench.json
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.evaluation.beir import default_eval_dir
from sse_demo.model.module import normalize_numpy
from sse_demo.search import Index

FULL_DIM = 1024
CHUNK_ROWS = 65_536
TOP_K = 10


@dataclass(frozen=True)
class Config:
    """One index to build: a mode at a dim with its options."""

    mode: str
    dim: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Mode and options, without the dim."""
        extra = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return self.mode + (f" ({extra})" if extra else "")

    @property
    def label(self) -> str:
        return self.name.replace(self.mode, f"{self.mode}@{self.dim}", 1)


# Group "dims" compares exact search across Matryoshka dims; group "modes" compares modes at 512 dims.
GROUPS: dict[str, list[Config]] = {
    "dims": [
        Config("exact", 1024),
        Config("exact", 512),
        Config("exact", 256),
        Config("binary", 256, {"rescore": "int8"}),
    ],
    "modes": [
        Config("exact", 512),
        Config("int8", 512),
        Config("binary", 512, {"rescore": "int8"}),
        Config("binary", 512, {"rescore": "int8", "rescore_multiplier": 4}),
        Config("binary", 512, {"rescore": "float32"}),
        Config("binary", 512, {"rescore": "bits"}),
        Config("binary", 512, {"rescore": "none"}),
        Config("ivf", 512, {"nprobe": 32}),
    ],
}


# ---------------------------------------------------------------------------------------------------------------
# Synthetic corpus


class SyntheticCorpus:
    """Embeddings with the structure of real ones, generated chunk by chunk from a seed (never held whole).

    - a three-level topic hierarchy (broad topics > subtopics > leaves of ~50 documents), so neighbours form a
      continuum of similarity rather than one tight cluster;
    - a shared mean offset (real embedding spaces are anisotropic, which matters for sign-bit quantization);
    - per-dimension scale decaying as (1 + d/64)^-0.5, so leading dims carry more information (as a
      Matryoshka-trained model's do) and truncation is meaningful;
    - queries are noisy copies of random documents, and that document is the query's one relevant answer.
    Rows are L2-normalised after truncation to the requested dim, as ``model.encode(..., dim=d)`` does.
    """

    def __init__(self, size: int, seed: int = 0, query_count: int = 200, query_noise: float = 2.5) -> None:
        self.size, self.seed = size, seed
        rng = np.random.default_rng(seed)
        self.scale = ((1 + np.arange(FULL_DIM) / 64) ** -0.5).astype(np.float32)
        self.mean = 0.3 * rng.standard_normal(FULL_DIM, dtype=np.float32) * self.scale
        parent = None
        for count, spread in ((max(1, size // 20_000), 1.0), (max(1, size // 1_000), 0.8), (max(1, size // 50), 0.6)):
            centres = spread * rng.standard_normal((count, FULL_DIM), dtype=np.float32) * self.scale
            if parent is not None:
                centres += parent[rng.integers(0, len(parent), count)]
            parent = centres
        self.leaves = parent
        self.targets = np.sort(rng.choice(size, query_count, replace=False))
        raw = self._rows_at(self.targets)
        self._raw_queries = raw + query_noise * rng.standard_normal(raw.shape, dtype=np.float32) * self.scale

    def _chunk(self, number: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, number])
        rows = min(CHUNK_ROWS, self.size - number * CHUNK_ROWS)
        x = self.leaves[rng.integers(0, len(self.leaves), rows)] + self.mean
        x += 0.5 * rng.standard_normal((rows, FULL_DIM), dtype=np.float32) * self.scale
        return x

    def _rows_at(self, positions: np.ndarray) -> np.ndarray:
        chunks = positions // CHUNK_ROWS
        return np.concatenate([self._chunk(c)[positions[chunks == c] % CHUNK_ROWS] for c in np.unique(chunks)])

    def chunks(self, dim: int) -> Iterator[np.ndarray]:
        for number in range(-(-self.size // CHUNK_ROWS)):
            yield truncate_normalize(self._chunk(number), dim)

    def queries(self, dim: int) -> np.ndarray:
        return truncate_normalize(self._raw_queries, dim)


def truncate_normalize(x: np.ndarray, dim: int) -> np.ndarray:
    """The Matryoshka view: first ``dim`` coordinates, then unit norm (the core's normalisation)."""
    return normalize_numpy(np.ascontiguousarray(x[:, :dim], dtype=np.float32))


# ---------------------------------------------------------------------------------------------------------------
# Timing


def time_searches(indexes: list[Index], queries: list[np.ndarray], runs: int, batch: int) -> list[list[float]]:
    """Milliseconds of ``runs`` searches of ``batch`` queries per index, round-robin (one warm-up each)."""
    for index in indexes:
        index.search(queries[index.dim][:batch], TOP_K)
    times: list[list[float]] = [[] for _ in indexes]
    for run in range(runs):
        for position in range(len(indexes)):
            slot = (position + run) % len(indexes)  # rotate the order so no index always follows the same one
            index = indexes[slot]
            pool = queries[index.dim]
            start = (run * batch) % len(pool)
            batch_queries = np.take(pool, np.arange(start, start + batch) % len(pool), axis=0)
            began = time.perf_counter()
            index.search(batch_queries, TOP_K)
            times[slot].append((time.perf_counter() - began) * 1000)
    return times


def ndcg_single(ids: np.ndarray, targets: np.ndarray) -> float:
    """Mean NDCG@10 when each query has exactly one relevant document (binary gain, as ST computes it)."""
    gains = [
        1 / np.log2(np.flatnonzero(row == t)[0] + 2) if t in row else 0.0 for row, t in zip(ids, targets, strict=True)
    ]
    return float(np.mean(gains))


def overlap(ids: np.ndarray, exact_ids: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(ids, exact_ids, strict=True)]))


def run_scale(size: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    corpus = SyntheticCorpus(size, seed=args.seed, query_count=args.queries)
    rows: list[dict[str, Any]] = []
    runs1 = args.runs_batch1 if size > 200_000 else 3 * args.runs_batch1
    runs64 = args.runs_batch64 if size > 200_000 else 3 * args.runs_batch64
    for group in args.groups:
        configs = GROUPS[group]
        indexes = [Index(c.dim, c.mode, **c.options) for c in configs]
        build_s = [0.0] * len(indexes)
        for dim in sorted({c.dim for c in configs}):
            for chunk in corpus.chunks(dim):
                for i, (config, index) in enumerate(zip(configs, indexes, strict=True)):
                    if config.dim == dim:
                        began = time.perf_counter()
                        index.add(chunk)
                        build_s[i] += time.perf_counter() - began
        for i, index in enumerate(indexes):
            began = time.perf_counter()
            index.backend.finalize()
            build_s[i] += time.perf_counter() - began
        queries = {dim: corpus.queries(dim) for dim in {c.dim for c in configs}}
        exact_ids = {
            c.dim: index.search(queries[c.dim], TOP_K)[1]
            for c, index in zip(configs, indexes, strict=True)
            if c.mode == "exact"
        }
        batch1 = time_searches(indexes, queries, runs1, 1)
        batch64 = time_searches(indexes, queries, runs64, 64)
        for config, index, seconds, t1, t64 in zip(configs, indexes, build_s, batch1, batch64, strict=True):
            ids = index.search(queries[config.dim], TOP_K)[1]
            row = {
                "size": size,
                "group": group,
                "index": config.label,
                "memory_mb": index.nbytes / 2**20,
                "build_s": seconds,
                "batch1_median_ms": float(np.median(t1)),
                "batch1_p99_ms": float(np.percentile(t1, 99)),
                "batch64_median_ms": float(np.median(t64)),
                "batch64_p99_ms": float(np.percentile(t64, 99)),
                "runs_batch1": runs1,
                "runs_batch64": runs64,
                "ndcg10_target": ndcg_single(ids, corpus.targets),
                "ndcg10_target_exact": ndcg_single(exact_ids[config.dim], corpus.targets),
                "overlap10_exact": overlap(ids, exact_ids[config.dim]),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
        del indexes
        gc.collect()
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Labelled sets


# (mode, options) measured against exact on the labelled sets at each dim.
LABELLED_MODES: list[tuple[str, dict[str, Any]]] = [
    ("int8", {}),
    ("binary", {"rescore": "int8"}),
    ("binary", {"rescore": "int8", "rescore_multiplier": 4}),
    ("binary", {"rescore": "float32"}),
    ("binary", {"rescore": "bits"}),
    ("binary", {"rescore": "none"}),
    ("ivf", {"nprobe": 32}),
]


def load_encoder(args: argparse.Namespace) -> tuple[Any, str]:
    """The model to measure with, and a description of it for the report."""
    import sse_demo

    if args.model:
        return sse_demo.load_model(args.model), f"model {args.model}"
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(args.smoke_tokenizer))
    table = np.random.default_rng(args.seed).standard_normal((tokenizer.get_vocab_size(), 512), dtype=np.float32)
    model = sse_demo.SSEModel.from_arrays(tokenizer, table, device="cpu")
    return model, f"random-table SSE (smoke run) over tokenizer {Path(args.smoke_tokenizer).name}"


def labelled_ndcg(
    config: Config, docs: np.ndarray, queries: np.ndarray, doc_ids: list[str], relevant: list[set[str]]
) -> float:
    """NDCG@10 (sentence-transformers' definition) of searching ``docs`` with ``queries`` through one index."""
    from sse_demo.evaluation.metrics import retrieval_metrics

    index = Index(config.dim, config.mode, **config.options)
    index.add(docs, ids=doc_ids)
    return retrieval_metrics(index.search(queries, TOP_K)[1].tolist(), relevant)["ndcg@10"]


def run_labelled(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    from sse_demo.evaluation.beir import load_beir
    from sse_demo.evaluation.report import beir_folders

    model, description = load_encoder(args)
    rows = []
    for folder in beir_folders([args.eval_dir]):
        data = load_beir(folder)
        doc_ids = list(data.corpus)
        relevant = [data.relevant[q] for q in data.queries]
        for dim in args.labelled_dims:
            docs = model.encode(list(data.corpus.values()), dim=dim)
            queries = model.encode(list(data.queries.values()), dim=dim)

            exact = labelled_ndcg(Config("exact", dim), docs, queries, doc_ids, relevant)
            row = {"set": folder.name, "dim": dim, "docs": len(doc_ids), "queries": len(relevant), "exact": exact}
            for mode, options in LABELLED_MODES:
                config = Config(mode, dim, options)
                row[config.name] = labelled_ndcg(config, docs, queries, doc_ids, relevant)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows, description


# ---------------------------------------------------------------------------------------------------------------
# Streaming a large corpus through encode_corpus


def run_encode(args: argparse.Namespace) -> dict[str, Any]:
    """Encode ``--encode-passages`` synthetic passages into an index with ``encode_corpus``: time and peak memory.

    Passages are 40 random words from the tokenizer's vocabulary, generated lazily, so the texts are never held
    whole; the process's peak resident memory shows what indexing that many passages needs.
    """
    import resource

    from sse_demo.search import encode_corpus

    model, description = load_encoder(args)
    vocab = [token.strip("▁") for token in model.tokenizer.get_vocab() if token.strip("▁").isalpha()]
    words = np.array(sorted(vocab))
    rng = np.random.default_rng(args.seed)

    def passages() -> Iterator[str]:
        for _ in range(args.encode_passages):
            yield " ".join(words[rng.integers(0, len(words), 40)])

    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    began = time.perf_counter()
    index = encode_corpus(
        model, passages(), mode=args.encode_mode, total=args.encode_passages, chunk_size=10_000, show_progress=False
    )
    row = {
        "encoder": description,
        "passages": len(index),
        "index": repr(index),
        "index_mb": index.nbytes / 2**20,
        "seconds": time.perf_counter() - began,
        "peak_rss_gb_before": peak_before,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }
    print(json.dumps(row), flush=True)
    return row


# ---------------------------------------------------------------------------------------------------------------


def render_markdown(results: dict[str, Any]) -> str:
    """The report tables of docs/search.md, from the results of one run."""
    out: list[str] = []
    scale = results["scale"]
    for size in sorted({r["size"] for r in scale}):
        for group in GROUPS:
            rows = [r for r in scale if r["size"] == size and r["group"] == group]
            if not rows:
                continue
            base = next(r for r in rows if r["index"].startswith("exact@512"))
            out += [
                f"\n**{size:,} vectors, group `{group}`** (batch-1 runs: {base['runs_batch1']}, "
                f"batch-64 runs: {base['runs_batch64']})\n",
                "| index | memory MiB | build s | batch 1 median ms | batch 1 p99 ms | batch 64 median ms "
                "| batch 64 p99 ms | batch-1 speed-up vs exact@512 | NDCG@10 (retained) | top-10 overlap with exact |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for r in rows:
                retained = r["ndcg10_target"] / r["ndcg10_target_exact"]
                out.append(
                    f"| {r['index']} | {r['memory_mb']:.1f} | {r['build_s']:.2f} | {r['batch1_median_ms']:.2f} "
                    f"| {r['batch1_p99_ms']:.2f} | {r['batch64_median_ms']:.1f} | {r['batch64_p99_ms']:.1f} "
                    f"| {base['batch1_median_ms'] / r['batch1_median_ms']:.1f}x "
                    f"| {r['ndcg10_target']:.3f} ({retained:.1%}) | {r['overlap10_exact']:.3f} |"
                )
    if "encode" in results:
        r = results["encode"]
        out.append(
            f"\n**encode_corpus**: {r['passages']:,} passages ({r['encoder']}) into `{r['index']}`: "
            f"{r['seconds']:.0f} s, index {r['index_mb']:.0f} MiB, peak resident memory of the process "
            f"{r['peak_rss_gb']:.2f} GB (after loading the model: {r['peak_rss_gb_before']:.2f} GB).\n"
        )
    labelled = results["labelled"]
    if labelled:
        names = [k for k in labelled[0] if k not in ("set", "dim", "docs", "queries", "exact")]
        out += [
            f"\n**Labelled sets, NDCG@10 of exact and % of it retained per mode** ({results['encoder']})\n",
            "| set | dim | exact | " + " | ".join(names) + " |",
            "|---|---|---|" + "---|" * len(names),
        ]
        for r in labelled:
            cells = [f"{r[n] / r['exact']:.1%}" if r["exact"] else "n/a" for n in names]
            out.append(f"| {r['set']} | {r['dim']} | {r['exact']:.4f} | " + " | ".join(cells) + " |")
        for dim in sorted({r["dim"] for r in labelled}, reverse=True):
            rows = [r for r in labelled if r["dim"] == dim]
            exact = sum(r["exact"] for r in rows)
            cells = [f"{sum(r[n] for r in rows) / exact:.1%}" for n in names]
            out.append(
                f"| **all sets (sum of NDCG)** | {dim} | {exact / len(rows):.4f} (mean) | " + " | ".join(cells) + " |"
            )
    return "\n".join(out) + "\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000], help="synthetic corpus sizes")
    parser.add_argument("--queries", type=int, default=200, help="synthetic queries per corpus")
    parser.add_argument("--runs-batch1", type=int, default=100, help="timed single-query searches per index (1M)")
    parser.add_argument("--runs-batch64", type=int, default=10, help="timed 64-query searches per index (1M)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS, torch and faiss threads")
    parser.add_argument("--groups", nargs="*", choices=list(GROUPS), default=list(GROUPS), help="scale groups to run")
    parser.add_argument("--seed", type=int, default=0)
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", help="SSE checkpoint folder for the labelled-set quality part")
    model.add_argument("--smoke-tokenizer", type=Path, help="tokenizer.json for a random-table SSE (smoke run)")
    parser.add_argument("--labelled-dims", type=int, nargs="*", default=[512, 256])
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=default_eval_dir(),
    )
    parser.add_argument("--encode-passages", type=int, default=0, help="stream this many passages via encode_corpus")
    parser.add_argument("--encode-mode", default="exact", help="index mode for --encode-passages")
    parser.add_argument("--json", type=Path, help="write all results to this JSON file")
    parser.add_argument("--markdown", type=Path, help="write the report tables to this markdown file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    threadpool_limits(args.threads)  # NumPy's BLAS (exact search on CPU)
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "scale": [], "labelled": []}
    if (args.model or args.smoke_tokenizer) and not args.encode_passages:
        if args.eval_dir.is_dir():
            results["labelled"], results["encoder"] = run_labelled(args)
        else:
            print(f"labelled sets not found at {args.eval_dir} (set SSE_EVAL_DIR or --eval-dir); skipping that part")
    if args.encode_passages:
        results["encode"] = run_encode(args)
    for size in args.sizes:
        results["scale"].extend(run_scale(size, args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    report = render_markdown(results)
    print(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report)


if __name__ == "__main__":
    main()
