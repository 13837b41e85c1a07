"""The published NanoBEIR table of the 4-bit bilingual model, beside what this project measured (if it has).

The published numbers are the app's own copy of ``../shared/spec/nanobeir-published.csv``. Measured NanoBEIR
numbers are read from the first ``docs/**/*nanobeir*.csv`` with the same columns (language, dataset, ndcg@10,
...). NanoBEIR needs the Hugging Face hub, so offline the project measures on local labelled sets instead and
writes ``docs/results.md``: the page shows that file as it is.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sse_demo.app.corpus import DATA_DIR

PUBLISHED_CSV = DATA_DIR / "nanobeir-published.csv"
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
METRICS = ("ndcg@10", "mrr@10", "map@100")
RESULTS_MD = "results.md"


def read_table(path: Path) -> list[dict]:
    """Rows of a results CSV with the metric columns as floats."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for metric in METRICS:
            if row.get(metric) not in (None, ""):
                row[metric] = float(row[metric])
    return rows


def measured_csv(docs_dir: Path = DOCS_DIR) -> Path | None:
    """The project's measured NanoBEIR CSV, if one has been written under ``docs``."""
    if not docs_dir.is_dir():
        return None
    for path in sorted(docs_dir.rglob("*nanobeir*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
        if {"language", "dataset", "ndcg@10"} <= set(header):
            return path
    return None


def side_by_side(published: list[dict], measured: list[dict] | None) -> list[dict]:
    """One row per (language, dataset): published metrics, and the measured NDCG@10 and its difference."""
    found = {(row["language"], row["dataset"]): row for row in measured or []}
    rows = []
    for row in published:
        other = found.get((row["language"], row["dataset"]))
        value = other.get("ndcg@10") if other else None
        rows.append(
            {
                "language": row["language"],
                "dataset": row["dataset"],
                **{f"published {m}": row[m] for m in METRICS},
                "measured ndcg@10": value,
                "difference": round(value - row["ndcg@10"], 4) if isinstance(value, float) else None,
            }
        )
    return rows


def measured_markdown(docs_dir: Path = DOCS_DIR) -> str | None:
    """The project's own results page (``docs/results.md``), if it has been written."""
    path = docs_dir / RESULTS_MD
    return path.read_text(encoding="utf-8") if path.is_file() else None
