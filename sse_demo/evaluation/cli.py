"""``python -m sse_demo eval``: retrieval metrics of a model on BEIR folders (offline) or NanoBEIR (hub)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sse_demo.evaluation.beir import BeirFormatError, default_eval_dir, load_beir
from sse_demo.evaluation.nanobeir import NanoBEIRLanguage

METRIC_COLUMNS = ("ndcg@10", "mrr@10", "map@100", "recall@10", "recall@100")


def beir_folders(paths: Iterable[str | Path]) -> list[Path]:
    """Each path is a BEIR folder, or a folder of BEIR folders (like ``../shared/eval``)."""
    folders: list[Path] = []
    for path in map(Path, paths):
        if (path / "corpus.jsonl").is_file() or not path.is_dir():
            folders.append(path)  # a missing folder fails later with the loader's clear message
        else:
            sets = sorted(p for p in path.iterdir() if (p / "corpus.jsonl").is_file())
            if not sets:
                raise BeirFormatError(f"{path} holds no corpus.jsonl and no BEIR folders.")
            folders.extend(sets)
    return folders


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A markdown table; floats with 4 decimals."""
    cells = [
        [f"{row.get(c, ''):.4f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        for row in rows
    ]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells])


def add_eval_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``eval`` sub-command; ``args.func(args)`` runs it."""
    from sse_demo.cli import add_model_args

    parser = subparsers.add_parser("eval", help="retrieval metrics (NDCG@10, MRR@10, MAP@100, Recall) of a model")
    add_model_args(parser)
    parser.add_argument(
        "--beir",
        action="append",
        metavar="DIR",
        help="BEIR folder, or a folder of them; repeatable (default: $SSE_EVAL_DIR or ../shared/eval)",
    )
    parser.add_argument(
        "--dim", type=int, nargs="+", default=[None], help="Matryoshka dims to evaluate (default: full)"
    )
    parser.add_argument("--bm25", action="store_true", help="add BM25 over the model's tokenizer as a baseline")
    parser.add_argument(
        "--nanobeir",
        action="append",
        choices=[language.value for language in NanoBEIRLanguage],
        help="also run NanoBEIR in this language (needs the Hugging Face hub); repeatable",
    )
    parser.add_argument("--max-queries", type=int, default=None, help="evaluate a seeded sample of queries per set")
    parser.set_defaults(func=run_eval)
    return parser


def run_eval(args: argparse.Namespace) -> None:
    """Evaluate and print a markdown table, one row per (set, system, dim).

    Bad folders raise ``BeirFormatError`` (a ValueError), an unreachable hub ``HubUnavailableError`` (an OSError).
    """
    from sse_demo.cli import load_from_args
    from sse_demo.evaluation.bm25 import bm25_evaluate
    from sse_demo.evaluation.evaluate import evaluate_beir
    from sse_demo.evaluation.nanobeir import nanobeir_evaluate

    folders = beir_folders(args.beir or ([] if args.nanobeir else [default_eval_dir()]))
    datasets = [load_beir(folder, max_queries=args.max_queries) for folder in folders]  # fail fast on bad folders
    model = load_from_args(args)
    label = f"{args.model or 'bundled'}{' 4-bit' if args.quantized else ''}"
    rows: list[dict[str, Any]] = []
    for data in datasets:
        for dim in args.dim:
            rows.append(
                {"set": data.name, "system": label, "dim": dim or model.dim, **evaluate_beir(model, data, dim=dim)}
            )
        if args.bm25:
            rows.append({"set": data.name, "system": "BM25", "dim": "-", **bm25_evaluate(model.tokenizer, data)})
    for language in args.nanobeir or []:
        for dim in args.dim:
            for name, metrics in nanobeir_evaluate(model, language, dim=dim).items():
                rows.append({"set": f"NanoBEIR-{language} {name}", "system": label, "dim": dim or model.dim, **metrics})
    print(markdown_table(rows, ("set", "system", "dim", *METRIC_COLUMNS)))
