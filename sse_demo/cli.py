"""``python -m sse_demo``: inspect, encode, search and quantise SSE checkpoints from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sse_demo.errors import CheckpointError, ModelNotFoundError
from sse_demo.evaluation.cli import add_eval_parser
from sse_demo.model import SSEModel, load_model


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


def _read_lines(path: Path) -> list[str]:
    """One text per non-empty line of a UTF-8 file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error}); re-encode it as UTF-8") from error
    return [line for line in text.splitlines() if line.strip()]


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
    texts = _read_lines(args.input) if args.input else args.texts
    if not texts:
        raise ValueError("nothing to encode: give texts as arguments or --input FILE (one text per line)")
    embeddings = load_from_args(args).encode(texts, dim=args.dim)
    if args.output:
        np.save(args.output, embeddings)
        print(f"wrote {embeddings.shape[0]} x {embeddings.shape[1]} float32 embeddings to {args.output}")
    else:
        print(json.dumps(np.round(embeddings, 6).tolist()))


def cmd_search(args: argparse.Namespace) -> None:
    corpus = _read_lines(args.corpus)
    if not corpus:
        raise ValueError(f"{args.corpus} has no non-empty lines to search")
    if not args.query.strip():
        raise ValueError("the query is empty; give some text to search for")
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
    encode.add_argument("--output", type=Path, help="write a .npy file instead of printing JSON")
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
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (
        CheckpointError,
        ModelNotFoundError,
        ValueError,
        TypeError,
        OSError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
