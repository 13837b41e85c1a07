"""The Results tab: one compact view of what this project measured, with the full tables a link away.

The numbers come from one place, ``docs/results.md`` (written by ``bench/eval_all.py``): its "NDCG@10" section is a
matrix of systems (SSE fp32 and 4-bit at each Matryoshka dim, BM25, peers and teachers when the evaluation ran them)
against the labelled sets. The tab shows that matrix and one chart of it, sized to fit a laptop screen, and links to
the whole file, which the app itself serves as a page at ``/docs/results`` (:func:`results_router`): it is the file the
tab parsed, so the link works offline, on a Space (the deploy uploads ``docs/``) and in a checkout alike, and never
points at another version of the numbers.

The published NanoBEIR table of the 4-bit bilingual model is the app's own copy of
``../shared/spec/nanobeir-published.csv`` (package data, so it ships with an installed package), beside a measured
NanoBEIR column read from the first ``docs/**/*nanobeir*.csv`` with the same columns, when one exists (NanoBEIR
needs the Hugging Face hub).

``docs/`` is ``$SSE_DOCS_DIR`` when set, else the ``docs/`` of the source checkout the package runs from; an
installed package without either says so on the page instead of pretending nothing was measured.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from sse_demo.app.corpus import DATA_DIR
from sse_demo.app.formatting import frame, plotly

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService

PUBLISHED_CSV = DATA_DIR / "nanobeir-published.csv"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../sse_demo
DOCS_ENV = "SSE_DOCS_DIR"
METRICS = ("ndcg@10", "mrr@10", "map@100")
RESULTS_MD = "results.md"
MATRIX_SECTION = "NDCG@10"  # the section of results.md holding the systems x sets matrix
SAMPLED_MARK = "*"  # results.md marks a score measured on a sample of the queries
SSE_SYSTEM = re.compile(r"^SSE (?P<precision>\S+) d(?P<dim>\d+)$")
TABLE_RULE = re.compile(r"\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?")  # a pipe table's |---|---| line
MEAN_COLUMNS = ("EN mean", "mean")
RESULTS_ROUTE = "/docs/results"  # the page that shows docs/results.md whole; the tab links to it
RESULTS_LINK = RESULTS_ROUTE.lstrip("/")  # relative, so the link also works under a proxy's path prefix
CHART_HEIGHT = 250  # pixels: the chart and the compact table fit below the tabs on a 1366 x 768 screen
# The compact table: rows of 25 px instead of 37 px and a smaller font, so its ~13 rows and ~10 columns fit beside
# the chart on a laptop screen. Scoped to the tab's element ids; the selectors are Gradio 6's Dataframe classes.
RESULTS_CSS = """
#results-matrix .cell-wrap, #results-matrix .cell-wrap * { font-size: 12px !important; }
#results-matrix .virtual-row, #results-matrix .cell-wrap { min-height: 0 !important; }
#results-matrix .cell-wrap { padding-top: 2px !important; padding-bottom: 2px !important; }
"""
PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:75rem;margin:1rem auto;padding:0 1rem;line-height:1.4}"
    "table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.15rem .4rem}"
    "th{background:#f3f3f3}td{font-variant-numeric:tabular-nums}code{background:#f3f3f3;padding:0 .2rem}"
)


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


def markdown_section(text: str, title: str) -> str | None:
    """The body of the section headed ``title`` (any heading level, case-insensitive), up to the next heading of
    the same or a higher level; ``None`` when there is no such section."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading and heading[2].casefold() == title.casefold():
            level = len(heading[1])
            end = next(
                (
                    i
                    for i in range(start + 1, len(lines))
                    if (m := re.match(r"^(#{1,6})\s", lines[i])) and len(m[1]) <= level
                ),
                len(lines),
            )
            return "\n".join(lines[start + 1 : end])
    return None


def heading_starting(text: str, prefix: str) -> str | None:
    """The title of the first heading that starts with ``prefix`` (case-insensitive), e.g. "Ablation: SSE against
    a plain mean" for "Ablation", to pass to :func:`markdown_section`; ``None`` when there is none."""
    for line in text.splitlines():
        if (heading := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)) and heading[1].casefold().startswith(
            prefix.casefold()
        ):
            return heading[1]
    return None


def markdown_table(text: str) -> list[dict[str, str]]:
    """The rows of the first pipe table in ``text`` (header, ``---`` separator, rows), as header -> cell text.

    Cells are stripped; an escaped pipe (``\\|``) stays inside its cell; a row with fewer cells is padded with "".
    """

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", line.strip().strip("|") if line.strip() != "|" else "")
        return [part.strip().replace("\\|", "|") for part in parts]

    lines = text.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].lstrip().startswith("|") and TABLE_RULE.fullmatch(lines[i + 1].strip()):
            header = cells(lines[i])
            rows = []
            for line in lines[i + 2 :]:
                if not line.lstrip().startswith("|"):
                    break
                row = cells(line)
                rows.append(dict(zip(header, row + [""] * (len(header) - len(row)), strict=False)))
            return rows
    return []


def score(cell: str) -> tuple[float | None, bool]:
    """A matrix cell: the score (``None`` when empty) and whether it was measured on sampled queries."""
    text = cell.strip()
    sampled = text.endswith(SAMPLED_MARK)
    text = text.removesuffix(SAMPLED_MARK).strip()
    return (float(text) if text else None), sampled


def ndcg_matrix(text: str) -> list[dict]:
    """The systems x sets NDCG@10 matrix of a ``results.md``: one dict per system with ``system``, one float (or
    ``None``) per set and mean column, and ``sampled`` (whether any score was on sampled queries).

    Raises ``ValueError`` naming the problem when the section or its table is missing or a cell is not a number.
    """
    section = markdown_section(text, MATRIX_SECTION)
    if section is None:
        raise ValueError(f'no "## {MATRIX_SECTION}" section')
    table = markdown_table(section)
    if not table or "system" not in table[0]:
        raise ValueError(f'the "{MATRIX_SECTION}" section has no table with a "system" column')
    rows = []
    for cells in table:
        row: dict = {"system": cells["system"], "sampled": False}
        for column, cell in cells.items():
            if column == "system":
                continue
            try:
                row[column], sampled = score(cell)
            except ValueError:
                raise ValueError(f"{cells['system']} / {column}: {cell!r} is not a score") from None
            row["sampled"] |= sampled
        rows.append(row)
    return rows


def full_dim_rows(rows: list[dict]) -> list[dict]:
    """The rows a chart compares: SSE at its widest dim in each precision, and every other system (BM25, peers)."""
    widest: dict[str, int] = {}
    for row in rows:
        if match := SSE_SYSTEM.match(row["system"]):
            widest[match["precision"]] = max(widest.get(match["precision"], 0), int(match["dim"]))
    return [
        row
        for row in rows
        if not (match := SSE_SYSTEM.match(row["system"])) or int(match["dim"]) == widest[match["precision"]]
    ]


def results_link(docs_dir: Path | None) -> str:
    """The Markdown link to the page with every table (or where the file would be, when there are no docs)."""
    if docs_dir is None:
        return f"`docs/{RESULTS_MD}` in the repository"
    return f"[docs/{RESULTS_MD}]({RESULTS_LINK})"


def markdown_html(text: str) -> str:
    """CommonMark with pipe tables as HTML; raw HTML in the text is escaped, never rendered."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def full_results_page(docs_dir: Path | None) -> tuple[int, str]:
    """(HTTP status, HTML page) for ``docs/results.md`` whole: every metric, the ablation and the commands that
    made them; 404 with what to do when the file is not there."""
    path = docs_dir / RESULTS_MD if docs_dir is not None else None
    if path is None or not path.is_file():
        where = f"`{path}` does not exist" if path else "this copy of sse_demo is installed without `docs/`"
        body = (
            f"No results to show: {where}. Set `{DOCS_ENV}` to a checkout's `docs/` folder, or run "
            f"`python bench/eval_all.py --out docs/{RESULTS_MD}`. / 結果ファイルがありません。"
        )
        status = 404
    else:
        body = path.read_text(encoding="utf-8") + f"\n\n---\n\nFile: `{path}`\n"
        status = 200
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>SSE results: docs/{RESULTS_MD}</title><style>{PAGE_STYLE}</style></head>"
        f"<body>{markdown_html(body)}</body></html>"
    )
    return status, page


def results_router(environ: Mapping[str, str] | None = None) -> APIRouter:
    """``GET /docs/results``: the page the Results tab links to, read from :func:`find_docs_dir` on each request
    (so it shows what the tab shows). Join it to the page's app as ``app_kwargs={"routes": router.routes}``."""
    router = APIRouter()

    @router.get(RESULTS_ROUTE, include_in_schema=False)
    def full_results() -> HTMLResponse:
        status, page = full_results_page(find_docs_dir(environ))
        return HTMLResponse(page, status_code=status)

    return router


def matrix_figure(rows: list[dict], sets: list[str]) -> object:
    """NDCG@10 per set, one bar per system at its full dim; the axis starts at 0."""
    go = plotly()
    figure = go.Figure()
    for row in full_dim_rows(rows):
        present = [name for name in sets if row.get(name) is not None]
        name = row["system"] + (f" {SAMPLED_MARK}" if row["sampled"] else "")
        figure.add_trace(go.Bar(x=present, y=[row[s] for s in present], name=name))
    figure.update_layout(
        title={"text": "NDCG@10 per set (SSE at its full dim; every dim in the table)", "font": {"size": 14}},
        barmode="group",
        yaxis={"range": [0, 1], "title": "NDCG@10"},
        height=CHART_HEIGHT,
        margin={"t": 30, "b": 25, "l": 50, "r": 10},
        legend={"font": {"size": 11}},
    )
    return figure


def measured_view(docs_dir: Path | None) -> tuple[str, object, object]:
    """(summary Markdown, the NDCG@10 matrix as a table, its chart); the table is empty with a note when there is
    nothing to show."""
    go = plotly()
    if docs_dir is None:
        note = (
            f"_This copy of sse_demo is installed without the project's `docs/` folder, so its measured results "
            f"cannot be shown here: set `{DOCS_ENV}` to a checkout's `docs/` folder. / インストールされた "
            f"パッケージには docs/ がありません。{DOCS_ENV} を設定してください。_"
        )
        return note, frame([], ["system"]), go.Figure()
    path = docs_dir / RESULTS_MD
    if not path.is_file():
        note = f"_No `{RESULTS_MD}` in `{docs_dir}` yet: run `python bench/eval_all.py --out docs/{RESULTS_MD}`._"
        return note, frame([], ["system"]), go.Figure()
    try:
        rows = ndcg_matrix(path.read_text(encoding="utf-8"))
    except ValueError as error:
        return (
            f"_`{path}` could not be read: {error}. / 結果ファイルを読めません。_",
            frame([], ["system"]),
            go.Figure(),
        )
    columns = [c for c in rows[0] if c not in ("system", "sampled")]
    sets = [c for c in columns if c not in MEAN_COLUMNS]
    table = [
        {"system": row["system"] + (f" {SAMPLED_MARK}" if row["sampled"] else ""), **{c: row[c] for c in columns}}
        for row in rows
    ]
    summary = (
        f"NDCG@10 measured by this project on {len(sets)} labelled sets: SSE fp32 and 4-bit at each Matryoshka dim, "
        f"BM25 over SSE's tokenizer and the other systems the evaluation ran (`{SAMPLED_MARK}`: on sampled queries). "
        f"**Every metric, the ablation and the commands: {results_link(docs_dir)}** / "
        f"全指標・アブレーション: docs/{RESULTS_MD}"
    )
    return summary, frame(table, ["system", *columns]), matrix_figure(rows, sets)


def results_view(
    service: DemoService | None, *, docs_dir: Path | None = None, environ: Mapping[str, str] | None = None
):
    """The project's measured NDCG@10 (compact table and chart, full tables linked), and the published NanoBEIR
    table of the 4-bit bilingual model beside any measured NanoBEIR numbers.

    Returns (summary Markdown, measured table, measured chart, published NanoBEIR table). ``docs_dir`` defaults to
    :func:`find_docs_dir`; the numbers are files, so the service is only asked which peers the app has.
    """
    docs_dir = docs_dir if docs_dir is not None else find_docs_dir(environ)
    summary, table, figure = measured_view(docs_dir)
    measured_path = measured_csv(docs_dir)
    published = side_by_side(read_table(PUBLISHED_CSV), read_table(measured_path) if measured_path else None)
    summary += " · Folded below: the published NanoBEIR table of the 4-bit bilingual model" + (
        f", beside measured NanoBEIR from `{measured_path.name}`." if measured_path else "."
    )
    peers = getattr(service, "peer_names", ())
    if peers:
        summary += (
            f"\n\nPeers loaded in this app ({', '.join(f'`{name}`' for name in peers)}): their NDCG@10 on the "
            "labelled sets is measured live on the Peers tab. / 比較モデルの NDCG@10 は「比較」タブで計測します。"
        )
    return summary, table, figure, frame(published, list(published[0]) if published else [])
