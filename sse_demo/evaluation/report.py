"""Results tables shared by the ``eval`` command and the benchmarks: which folders are sets, one row of metrics per
(set, system, dim), and markdown output."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sse_demo.evaluation.beir import BeirDataset, BeirFormatError
from sse_demo.evaluation.bm25 import bm25_evaluate
from sse_demo.evaluation.evaluate import evaluate_beir
from sse_demo.evaluation.nanobeir import NanoBEIRLanguage, nanobeir_evaluate

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


def metric_rows(
    model: Any,
    datasets: Sequence[BeirDataset],
    *,
    label: str,
    dims: Sequence[int | None] = (None,),
    bm25: bool = False,
    nanobeir: Sequence[NanoBEIRLanguage | str] = (),
    peers: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per (set, system, dim): ``model`` (an SSE model, named ``label``) at each Matryoshka dim (None: its
    full dim) on each set, then each of ``peers`` (name to a ``load_peer`` model) at the dims that fit it, BM25 over
    the SSE model's tokenizer when ``bm25``, then NanoBEIR per language for the SSE model (needs the hub)."""
    rows: list[dict[str, Any]] = []
    for data in datasets:
        for dim in dims:
            rows.append(
                {"set": data.name, "system": label, "dim": dim or model.dim, **evaluate_beir(model, data, dim=dim)}
            )
        for name, peer in (peers or {}).items():
            for dim in peer_dims(peer.dim, dims):
                rows.append({"set": data.name, "system": name, "dim": dim, **evaluate_beir(peer, data, dim=dim)})
        if bm25:
            rows.append({"set": data.name, "system": "BM25", "dim": "-", **bm25_evaluate(model.tokenizer, data)})
    for language in nanobeir:
        for dim in dims:
            for name, metrics in nanobeir_evaluate(model, language, dim=dim).items():
                rows.append({"set": f"NanoBEIR-{language} {name}", "system": label, "dim": dim or model.dim, **metrics})
    return rows


def peer_dims(peer_dim: int, dims: Sequence[int | None]) -> list[int]:
    """The dims a peer of ``peer_dim`` is evaluated at: each asked-for dim, its full dim for None and for a dim
    wider than it has (the table's dim column then says what was measured), without repeats."""
    return list(dict.fromkeys(peer_dim if dim is None or dim > peer_dim else dim for dim in dims))


def emit_report(report: str, out: Path | None) -> None:
    """Write a benchmark's markdown ``report`` to ``out`` (saying so on stderr), or print it when there is none."""
    if out:
        out.write_text(report, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(report)
