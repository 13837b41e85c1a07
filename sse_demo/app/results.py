"""The published NanoBEIR table of the 4-bit bilingual model, beside what this project measured (if it has).

The published numbers are the app's own copy of ``../shared/spec/nanobeir-published.csv``. Measured NanoBEIR
numbers are read from the first ``docs/**/*nanobeir*.csv`` with the same columns (language, dataset, ndcg@10,
...). NanoBEIR needs the Hugging Face hub, so offline the project measures on local labelled sets instead and
writes ``docs/results.md``: the page shows that file as it is.

The published table is package data, so it ships with an installed package; ``docs/`` does not. The docs folder
is ``$SSE_DOCS_DIR`` when set, else the ``docs/`` of the source checkout the package runs from; an installed
package without either says so on the page instead of pretending nothing was measured.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sse_demo.app.corpus import DATA_DIR
from sse_demo.app.formatting import frame, plotly

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService

PUBLISHED_CSV = DATA_DIR / "nanobeir-published.csv"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../sse_demo
DOCS_ENV = "SSE_DOCS_DIR"
METRICS = ("ndcg@10", "mrr@10", "map@100")
RESULTS_MD = "results.md"


def find_docs_dir(environ: Mapping[str, str] | None = None, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """``$SSE_DOCS_DIR``, else ``docs/`` beside the package in a source checkout (a ``pyproject.toml`` next to
    it), else ``None``: an installed package carries no docs."""
    environ = os.environ if environ is None else environ
    if environ.get(DOCS_ENV):
        return Path(environ[DOCS_ENV]).expanduser()
    root = package_dir.parent
    if (root / "pyproject.toml").is_file() and (root / "docs").is_dir():
        return root / "docs"
    return None


def read_table(path: Path) -> list[dict]:
    """Rows of a results CSV with the metric columns as floats."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for metric in METRICS:
            if row.get(metric) not in (None, ""):
                row[metric] = float(row[metric])
    return rows


def measured_csv(docs_dir: Path | None) -> Path | None:
    """The project's measured NanoBEIR CSV, if one has been written under ``docs``."""
    if docs_dir is None or not docs_dir.is_dir():
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


def measured_markdown(docs_dir: Path | None) -> str | None:
    """The project's own results page (``docs/results.md``), if it has been written."""
    path = docs_dir / RESULTS_MD if docs_dir is not None else None
    return path.read_text(encoding="utf-8") if path is not None and path.is_file() else None


def results_view(service: DemoService | None, *, docs_dir: Path | None = None):
    """The published NanoBEIR table of the 4-bit bilingual model beside the project's measured numbers.

    Returns (summary Markdown, table, figure, the project's results page or a note saying why there is none).
    ``docs_dir`` defaults to :func:`find_docs_dir`; the service is not needed (the numbers are files).
    """
    docs_dir = docs_dir if docs_dir is not None else find_docs_dir()
    measured_path = measured_csv(docs_dir)
    rows = side_by_side(read_table(PUBLISHED_CSV), read_table(measured_path) if measured_path else None)
    where = (
        f"Measured NanoBEIR: `{measured_path.name}`."
        if measured_path
        else "NanoBEIR needs the Hugging Face hub, so the measured column stays empty offline; the project's own "
        "measurements on local labelled sets are below."
    )
    summary = (
        "Published NanoBEIR results of the 4-bit bilingual SSE model "
        "(RikkaBotan/quantized-stable-static-embedding-fast-retrieval-mrl-bilingual-ja-en). " + where
    )
    if docs_dir is None:
        page = (
            f"_This copy of sse_demo is installed without the project's `docs/` folder, so its measured results "
            f"cannot be shown here: set `{DOCS_ENV}` to a checkout's `docs/` folder. / インストールされた "
            f"パッケージには docs/ がありません。{DOCS_ENV} を設定してください。_"
        )
    else:
        page = measured_markdown(docs_dir) or (
            f"_No `{RESULTS_MD}` in `{docs_dir}` yet: run `python bench/eval_all.py --out docs/results.md`._"
        )
    columns = list(rows[0]) if rows else []
    return summary, frame(rows, columns), results_bars(rows), page


def results_bars(rows: list[dict]) -> object:
    """Published (and measured, where present) NDCG@10 per dataset, English and Japanese."""
    from plotly.subplots import make_subplots

    go = plotly()
    figure = make_subplots(rows=1, cols=2, subplot_titles=("English", "日本語 / Japanese"))
    for col, lang in ((1, "en"), (2, "ja")):
        mine = [r for r in rows if r["language"] == lang]
        names = [r["dataset"].removeprefix("Nano") for r in mine]
        bars = (("published ndcg@10", "published", "#1f77b4"), ("measured ndcg@10", "measured", "#ff7f0e"))
        for key, name, color in bars:
            if key == "published ndcg@10" or any(r[key] is not None for r in mine):
                figure.add_trace(
                    go.Bar(x=names, y=[r[key] for r in mine], name=name, marker={"color": color}, showlegend=col == 1),
                    row=1,
                    col=col,
                )
    figure.update_layout(title="NanoBEIR NDCG@10", barmode="group", height=420)
    return figure
