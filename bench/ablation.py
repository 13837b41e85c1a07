"""The bundled model's ablation: NDCG@10 per set at 512/256/128 dims, encode and search time, size, per model.

    python bench/ablation.py --row "a SSE=RUN_A/fp32:RUN_A/q4" --row "b plain mean=RUN_B/fp32:RUN_B/q4" ... \
        --out ABLATION.md   # then: python bench/eval_all.py ... --append ABLATION.md --out docs/results.md

Each ``--row`` is ``LABEL=FP32_FOLDER[:Q4_FOLDER]``; rows are checkpoints in the published SSE format (a plain mean
or a linearised DyT is stored as DyT vectors that compute it, see ``sse_demo.train.linear_dyt``), so every row is
encoded and searched by the same code. Quality: ``sse_demo.evaluation.evaluate_beir`` on every set of the eval dir
(fp32, exact cosine search). Speed, on this machine, models interleaved round by round, medians over ``--rounds``:
encode = ``SSEModel.encode`` of every query and passage of the seven sets; search = exact ``Index`` search of each
set's queries (top 10) over its passages at the model's full dim. Times are also given as a ratio to the first row.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import sse_demo
from sse_demo.evaluation.beir import BeirDataset, default_eval_dir, load_beir
from sse_demo.evaluation.evaluate import evaluate_beir
from sse_demo.evaluation.report import beir_folders, emit_report, markdown_table
from sse_demo.search import Index

ENGLISH_SETS = ("nfcorpus-en", "scifact-en", "nq-utd-en", "stackfaq-en")
DIMS = (512, 256, 128)


def parse_row(text: str) -> tuple[str, Path, Path | None]:
    label, sep, folders = text.partition("=")
    if not sep or not label.strip():
        raise argparse.ArgumentTypeError(f"row {text!r}: expected LABEL=FP32_FOLDER[:Q4_FOLDER]")
    fp32, _, q4 = folders.partition(":")
    return label.strip(), Path(fp32), Path(q4) if q4 else None


def folder_mb(folder: Path | None) -> float | None:
    """Size on disk of a checkpoint folder's files, in MB (10^6 bytes)."""
    if folder is None:
        return None
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file()) / 1e6


def quality_rows(label: str, model: sse_demo.SSEModel, sets: list[BeirDataset]) -> list[dict[str, Any]]:
    """One row per dim (the model's own, then those of ``DIMS`` below it): NDCG@10 per set, the English mean and
    the mean over all sets."""
    rows = []
    for dim in (model.dim, *(d for d in DIMS if d < model.dim)):
        scores = {data.name: evaluate_beir(model, data, dim=dim)["ndcg@10"] for data in sets}
        english = [scores[name] for name in ENGLISH_SETS if name in scores]
        rows.append(
            {
                "model": label,
                "dim": dim,
                **{name: f"{score:.4f}" for name, score in scores.items()},
                "EN mean": f"{np.mean(english):.4f}" if len(english) == len(ENGLISH_SETS) else "",
                "mean": f"{np.mean(list(scores.values())):.4f}",
            }
        )
        print(f"{label} d{dim}: mean {np.mean(list(scores.values())):.4f}", file=sys.stderr)
    return rows


def timings(models: dict[str, sse_demo.SSEModel], sets: list[BeirDataset], rounds: int) -> dict[str, dict[str, float]]:
    """Median encode and search seconds per model, the models interleaved in every round."""
    texts = [t for data in sets for t in (*data.queries.values(), *data.corpus.values())]
    encode: dict[str, list[float]] = {label: [] for label in models}
    search: dict[str, list[float]] = {label: [] for label in models}
    for _ in range(rounds):
        for label, model in models.items():
            start = time.perf_counter()
            model.encode(texts)
            encode[label].append(time.perf_counter() - start)
            elapsed = 0.0
            for data in sets:
                index = Index(model.dim)
                index.add(model.encode(list(data.corpus.values())))
                queries = model.encode(list(data.queries.values()))
                start = time.perf_counter()
                index.search(queries, 10)
                elapsed += time.perf_counter() - start
            search[label].append(elapsed)
    return {
        label: {"encode": statistics.median(encode[label]), "search": statistics.median(search[label])}
        for label in models
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--row", type=parse_row, action="append", required=True, help="LABEL=FP32[:Q4]")
    parser.add_argument("--eval-dir", type=Path, default=default_eval_dir())
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="markdown file to write (default: print)")
    args = parser.parse_args()
    started = time.perf_counter()
    sets = [load_beir(folder) for folder in beir_folders([args.eval_dir])]
    models = {label: sse_demo.load_model(fp32, device="cpu") for label, fp32, _ in args.row}
    quality = [row for label, model in models.items() for row in quality_rows(label, model, sets)]
    times = timings(models, sets, args.rounds)
    first = times[args.row[0][0]]
    n_texts = sum(len(d.queries) + len(d.corpus) for d in sets)
    cost = []
    for label, fp32, q4 in args.row:
        fp32_mb, q4_mb = folder_mb(fp32), folder_mb(q4)
        cost.append(
            {
                "model": label,
                "dim": models[label].dim,
                f"encode {n_texts:,} texts, s (ratio)": f"{times[label]['encode']:.2f} "
                f"({times[label]['encode'] / first['encode']:.2f}x)",
                "search all sets, ms (ratio)": f"{1000 * times[label]['search']:.1f} "
                f"({times[label]['search'] / first['search']:.2f}x)",
                "fp32 folder, MB": f"{fp32_mb:.1f}",
                "4-bit folder, MB": f"{q4_mb:.1f}" if q4_mb is not None else "",
            }
        )
    names = [d.name for d in sets]
    report = "\n".join(
        [
            "## Ablation: SSE against a plain mean of token rows",
            "",
            f"Made by `python bench/ablation.py {shlex.join(sys.argv[1:])}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
            f"in {(time.perf_counter() - started) / 60:.1f} min (sets: {args.eval_dir}).",
            "",
            "### NDCG@10 (fp32, exact cosine search)",
            "",
            markdown_table(quality, ["model", "dim", *names, "EN mean", "mean"]),
            "",
            f"### Encode and search time (medians of {args.rounds} interleaved rounds), size",
            "",
            markdown_table(cost, list(cost[0])),
            "",
        ]
    )
    emit_report(report, args.out)


if __name__ == "__main__":
    main()
