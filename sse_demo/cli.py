"""``python -m sse_demo``: inspect, encode, search and quantise SSE checkpoints from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.errors import CheckpointError, ModelNotFoundError
from sse_demo.model import SSEModel, load_model
from sse_demo.text import TextProblem, UndecodableFile, decode_text_file
from sse_demo.text import text_problem as find_text_problem


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=None,
        help="checkpoint folder or hub id (default: the bundled model)",
    )
    parser.add_argument("--quantized", action="store_true", help="use 4-bit weights")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def load_from_args(args: argparse.Namespace) -> SSEModel:
    """The model that ``--model/--quantized/--device`` name."""
    return load_model(args.model, quantized=args.quantized, device=args.device)


# What the CLI says for each problem, after "text 3" or "the query".
PROBLEM_ADVICE = {
    TextProblem.INVALID_UNICODE: "is not valid UTF-8 (it holds bytes that do not decode); give UTF-8 text",
    TextProblem.EMPTY: "is empty; give some text to embed",
    TextProblem.INVISIBLE: "has no visible characters (only control or invisible ones: {text!r}); give readable text",
}


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be embedded (empty, nothing visible, undecodable bytes), or None when it can."""
    problem = find_text_problem(text)
    return None if problem is None else PROBLEM_ADVICE[problem].format(text=text[:20])


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` unchanged, or a ValueError naming the first one that cannot be embedded."""
    for number, text in enumerate(texts, start=1):
        if problem := text_problem(text):
            raise ValueError(f"text {number} {problem}")
    return list(texts)


def _read_lines(path: Path) -> list[str]:
    """One text per non-blank line of a UTF-8 text file; NUL bytes and lines with nothing visible are errors."""
    try:
        text = decode_text_file(path.read_bytes())
    except UndecodableFile as error:
        raise ValueError(f"{path} is not UTF-8 text: {error}; save it as UTF-8 text") from None
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines separate texts
        if problem := text_problem(line):
            raise ValueError(f"{path} line {number} {problem}, or delete the line")
        lines.append(line)
    if not lines:
        raise ValueError(f"{path} has no text: every line is blank; give a UTF-8 file with one text per line")
    return lines


def cmd_info(args: argparse.Namespace) -> None:
    model = load_from_args(args)
    info = {
        "vocab_size": model.vocab_size,
        "dim": model.dim,
        "precision": "4-bit" if model.quantized else "fp32",
        "device": model.device.type,
        "parameters": model.vocab_size * model.dim + 3 * model.dim,
    }
    print(json.dumps(info, indent=2))


def cmd_encode(args: argparse.Namespace) -> None:
    texts = _read_lines(args.input) if args.input else check_texts(args.texts)
    if not texts:
        raise ValueError("nothing to encode: give texts as arguments or --input FILE (one text per line)")
    if args.output and args.output.is_dir():
        raise ValueError(
            f"{args.output} is a folder; give a file path for --output, e.g. {args.output / 'embeddings.npy'}"
        )
    embeddings = load_from_args(args).encode(texts, dim=args.dim)
    if args.output:
        with args.output.open("wb") as handle:  # a file object, so np.save adds no ".npy" to the name
            np.save(handle, embeddings)
        rows, dim = embeddings.shape
        print(f"wrote {rows} x {dim} float32 embeddings (.npy format) to {args.output}")
    else:
        print(json.dumps(np.round(embeddings, 6).tolist()))


def cmd_search(args: argparse.Namespace) -> None:
    corpus = _read_lines(args.corpus)
    if problem := text_problem(args.query):
        raise ValueError(f"the query {problem}")
    from sse_demo.search import Index

    model = load_from_args(args)
    index = Index(model.check_dim(args.dim), args.mode)
    index.add(model.encode(corpus, dim=args.dim))
    scores, rows = index.search(model.encode([args.query], dim=args.dim), top_k=args.top_k)
    for rank, (score, row) in enumerate(zip(scores[0], rows[0], strict=True), start=1):
        print(f"{rank}\t{score:.4f}\t{corpus[row]}")


def cmd_quantize(args: argparse.Namespace) -> None:
    model = load_model(args.source, quantized=True, device="cpu")
    model.save(args.target, quantized=True)
    size = sum(path.stat().st_size for path in Path(args.target).iterdir())
    print(f"wrote 4-bit checkpoint to {args.target} ({size / 1e6:.1f} MB)")


def cmd_eval(args: argparse.Namespace) -> None:
    """Evaluate and print a markdown table, one row per (set, system, dim); bad folders fail before the model loads."""
    from sse_demo.evaluation.beir import default_eval_dir, load_beir
    from sse_demo.evaluation.report import METRIC_COLUMNS, beir_folders, markdown_table, metric_rows
    from sse_demo.model.peers import load_peer

    folders = beir_folders(args.beir or ([] if args.nanobeir else [default_eval_dir()]))
    datasets = [load_beir(folder, max_queries=args.max_queries) for folder in folders]
    model = load_from_args(args)
    peers = {peer.name: peer for peer in map(load_peer, args.peer or ())}
    label = f"{args.model or 'bundled'}{' 4-bit' if args.quantized else ''}"
    rows = metric_rows(
        model, datasets, label=label, dims=args.dim, bm25=args.bm25, nanobeir=args.nanobeir or (), peers=peers
    )
    print(markdown_table(rows, ("set", "system", "dim", *METRIC_COLUMNS)))


def add_eval_parser(commands: Any) -> None:
    """The ``eval`` sub-command: retrieval metrics on BEIR folders (offline) or NanoBEIR (hub)."""
    from sse_demo.evaluation.nanobeir import NanoBEIRLanguage

    parser = commands.add_parser("eval", help="retrieval metrics (NDCG@10, MRR@10, MAP@100, Recall) of a model")
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
    parser.add_argument(
        "--peer",
        action="append",
        metavar="NAME",
        help="a static peer (folder or hub id, see sse_demo.load_peer) to evaluate beside the model; repeatable",
    )
    parser.set_defaults(func=cmd_eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sse_demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="vocabulary, dim and precision of a model")
    add_model_args(info)
    info.set_defaults(func=cmd_info)

    encode = commands.add_parser("encode", help="embed texts (arguments or a file, one per line)")
    add_model_args(encode)
    encode.add_argument("texts", nargs="*", help="texts to embed")
    encode.add_argument("--input", type=Path, help="UTF-8 file, one text per line")
    encode.add_argument(
        "--dim",
        type=int,
        default=None,
        help="Matryoshka dim (512/256/128/64/32 or any 1..dim)",
    )
    encode.add_argument(
        "--output", type=Path, help="write the embeddings in .npy format to exactly this file instead of printing JSON"
    )
    encode.set_defaults(func=cmd_encode)

    search = commands.add_parser("search", help="rank the lines of a file against a query")
    add_model_args(search)
    search.add_argument("--corpus", type=Path, required=True, help="UTF-8 file, one passage per line")
    search.add_argument("--query", required=True)
    search.add_argument("--top-k", type=int, default=10)
    search.add_argument("--dim", type=int, default=None)
    search.add_argument("--mode", default="exact", choices=["exact", "int8", "binary", "ivf"], help="index mode")
    search.set_defaults(func=cmd_search)

    quantize = commands.add_parser("quantize", help="write the 4-bit checkpoint of an fp32 checkpoint")
    quantize.add_argument("source", help="fp32 checkpoint folder or hub id")
    quantize.add_argument("target", type=Path, help="folder to write the 4-bit checkpoint into")
    quantize.set_defaults(func=cmd_quantize)

    add_eval_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit 2 with a one-line message for bad input or a missing file, extra or hub.

    Only the errors that describe the user's input or environment are caught: a bug (TypeError, AttributeError,
    ...) keeps its traceback and a non-zero exit, instead of reading like a mistake of the user's.
    """
    from sse_demo.search import MissingExtraError

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CheckpointError, ModelNotFoundError, ValueError, OSError, MissingExtraError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
