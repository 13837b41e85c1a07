"""Where real texts sit on an SSE model's DyT curves: the share of saturated (text, dimension) pre-activations.

    python bench/dyt_saturation.py                          # the bundled model
    python bench/dyt_saturation.py --model A --model B      # several checkpoints, one table

For each model: over the first 300 judged queries of every set in the eval dir (the texts a user types), and over
the first 300 passages of every set (long texts), the share of entries with ``|alpha * x + bias| > 2`` (where the
tanh's gradient gate sech^2 is below 0.07 and the output is pinned near ``±beta``), the 99th percentile of
``|alpha * x + bias|``, the same share for short (<= 8 tokens) and long (>= 64 tokens) texts, and the number of
saturated dimensions of the app's example text. ``u`` comes from the model's own ``SeparableDyT.pre_activation``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import sse_demo
from sse_demo.app.saturation import SATURATION_EXAMPLE as EXAMPLE  # the app's default text on its DyT tab
from sse_demo.evaluation.beir import default_eval_dir, load_beir
from sse_demo.evaluation.report import beir_folders, markdown_table
from sse_demo.model import SSEModel

THRESHOLD = 2.0
SHORT_TOKENS, LONG_TOKENS = 8, 64


def eval_texts(eval_dir: Path, per_set: int = 300) -> tuple[list[str], list[str]]:
    """The first ``per_set`` judged queries and the first ``per_set`` passages of every set, in file order."""
    queries: list[str] = []
    passages: list[str] = []
    for folder in beir_folders([eval_dir]):
        data = load_beir(folder)
        queries += list(data.queries.values())[:per_set]
        passages += list(data.corpus.values())[:per_set]
    return queries, passages


def pre_activations(model: SSEModel, texts: list[str]) -> np.ndarray:
    """``u = alpha * x + bias`` of each text (n x dim), x being the mean of its token rows."""
    with torch.inference_mode():
        return model.module.dyt.pre_activation(torch.from_numpy(model.pooled(texts))).numpy()


def token_counts(model: SSEModel, texts: list[str]) -> np.ndarray:
    ids, offsets = model.tokenize(texts)
    return np.diff(np.append(offsets, len(ids)))


def saturation_row(name: str, model: SSEModel, queries: list[str], passages: list[str]) -> dict[str, object]:
    """One table row: saturation shares and |u| percentiles for ``model``."""
    u_query, u_passage = np.abs(pre_activations(model, queries)), np.abs(pre_activations(model, passages))
    texts = queries + passages
    u_all = np.concatenate([u_query, u_passage])
    lengths = np.concatenate([token_counts(model, queries), token_counts(model, passages)])
    short, long = u_all[(lengths > 0) & (lengths <= SHORT_TOKENS)], u_all[lengths >= LONG_TOKENS]
    example = np.abs(pre_activations(model, [EXAMPLE])[0])
    return {
        "model": name,
        "queries saturated": f"{(u_query > THRESHOLD).mean():.2%}",
        "passages saturated": f"{(u_passage > THRESHOLD).mean():.2%}",
        f"short texts (<= {SHORT_TOKENS} tokens) saturated": f"{(short > THRESHOLD).mean():.2%} ({len(short)})",
        f"long texts (>= {LONG_TOKENS} tokens) saturated": f"{(long > THRESHOLD).mean():.2%} ({len(long)})",
        "p99 |u| queries": f"{np.percentile(u_query, 99):.2f}",
        "p99 |u| passages": f"{np.percentile(u_passage, 99):.2f}",
        f"dims saturated, '{EXAMPLE}'": f"{int((example > THRESHOLD).sum())} of {model.dim}",
        "texts": len(texts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="SSE checkpoint folder, repeatable (default: the bundled)")
    parser.add_argument("--eval-dir", type=Path, default=default_eval_dir())
    parser.add_argument("--per-set", type=int, default=300)
    args = parser.parse_args()
    queries, passages = eval_texts(args.eval_dir, args.per_set)
    rows = [
        saturation_row(path or "bundled", sse_demo.load_model(path, device="cpu"), queries, passages)
        for path in args.model or [None]
    ]
    print(markdown_table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
