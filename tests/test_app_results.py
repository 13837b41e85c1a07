"""The Results tab: the project's NDCG@10 matrix from ``docs/results.md`` (parsed, checked on the real file), one
compact table and chart with the full tables linked, the published NanoBEIR table, and clear notes when there is
nothing to show."""

import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_app_support import REPO

from sse_demo.app.results import (
    MATRIX_SECTION,
    RESULTS_LINK,
    RESULTS_ROUTE,
    find_docs_dir,
    heading_starting,
    markdown_section,
    markdown_table,
    ndcg_matrix,
    results_router,
    results_view,
)

REAL_RESULTS = REPO / "docs" / "results.md"
MAX_ROWS = 20  # the compact table fits one screen
INSTALLED_CHECK = """
from sse_demo.app.results import PUBLISHED_CSV, find_docs_dir, results_view
summary, table, figure, published = results_view(None)
print(find_docs_dir(), PUBLISHED_CSV.is_file(), len(published), len(table), "installed without" in summary, sep="|")
"""
SMALL_RESULTS = """# Retrieval results

## NDCG@10

| system | set-a | set-b | mean |
|---|---|---|---|
| SSE fp32 d512 | 0.5000 | 0.7000 | 0.6000 |
| SSE fp32 d256 | 0.4000 | 0.6000 | 0.5000 |
| SSE 4-bit d512 | 0.4900 | 0.6900 | 0.5900 |
| BM25 (SSE tokenizer) | 0.6000 | 0.0100 | 0.3050 |
| some-peer | 0.3000 * |  |  |

## Ablation

| variant | mean |
|---|---|
| no DyT | 0.1 |
"""


def test_a_source_checkout_finds_its_docs():
    assert find_docs_dir({}) == REPO / "docs"


def test_a_package_outside_a_checkout_has_no_docs(tmp_path):
    package = tmp_path / "site-packages" / "sse_demo"
    package.mkdir(parents=True)
    assert find_docs_dir({}, package) is None


def test_the_real_matrix_agrees_with_the_real_all_metrics_table():
    """The parser on the file the evaluation wrote: each SSE and BM25 score of the matrix is the ndcg@10 of the same
    (set, system) in the long "All metrics" table of the same file."""
    text = REAL_RESULTS.read_text(encoding="utf-8")
    matrix = ndcg_matrix(text)
    long = {
        (row["set"], row["system"]): row["ndcg@10"] for row in markdown_table(markdown_section(text, "All metrics"))
    }
    sets = sorted({s for s, _ in long})
    assert 0 < len(matrix) <= MAX_ROWS
    assert [c for c in matrix[0] if c not in ("system", "sampled", "EN mean", "mean")] == sets
    systems = [row["system"] for row in matrix]
    assert {"SSE fp32 d512", "SSE 4-bit d512"} <= set(systems) and any(s.startswith("BM25") for s in systems)
    compared = 0
    for row in matrix:
        for name in sets:
            if row[name] is not None and not row["sampled"]:
                assert row[name] == pytest.approx(float(long[(name, row["system"])]), abs=1e-9)
                compared += 1
    assert compared >= 2 * len(sets)


def test_the_view_is_compact_and_links_to_the_full_tables(tmp_path):
    (tmp_path / "results.md").write_text(SMALL_RESULTS, encoding="utf-8")
    summary, table, figure, published = results_view(None, docs_dir=tmp_path)
    assert list(table.columns) == ["system", "set-a", "set-b", "mean"]
    assert table["system"].tolist() == [
        "SSE fp32 d512",
        "SSE fp32 d256",
        "SSE 4-bit d512",
        "BM25 (SSE tokenizer)",
        "some-peer *",
    ]
    assert table.loc[4, "set-a"] == 0.3 and table.loc[4, "set-b"] != table.loc[4, "set-b"]  # empty cell: NaN
    assert f"[docs/results.md]({RESULTS_LINK})" in summary  # the app's own page of every table
    assert len(published) == 28  # the published table, folded below
    # the chart: one bar group per system at its full dim (d256 left to the table), sets only, axis from 0
    assert [trace.name for trace in figure.data] == [
        "SSE fp32 d512",
        "SSE 4-bit d512",
        "BM25 (SSE tokenizer)",
        "some-peer *",
    ]
    assert all(list(trace.x) in (["set-a", "set-b"], ["set-a"]) for trace in figure.data)
    assert figure.layout.yaxis.range[0] == 0


def full_tables(environ: dict[str, str]):
    """GET the Results tab's link on an app that serves only :func:`results_router`."""
    app = FastAPI()
    app.include_router(results_router(environ))
    return TestClient(app).get(RESULTS_ROUTE)


def test_the_link_serves_every_table_of_the_file_the_tab_parsed(tmp_path):
    (tmp_path / "results.md").write_text(SMALL_RESULTS + "\n<script>alert(1)</script>\n", encoding="utf-8")
    response = full_tables({"SSE_DOCS_DIR": str(tmp_path)})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.count("<table>") == 2 and "<td>some-peer</td>" in page and "<th>variant</th>" in page
    assert str(tmp_path / "results.md") in page  # where the file is
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page  # the file's HTML shows as text


def test_the_link_on_the_real_file_shows_every_system_of_the_tab():
    response = full_tables({})
    systems = [row["system"] for row in ndcg_matrix(REAL_RESULTS.read_text(encoding="utf-8"))]
    assert response.status_code == 200 and all(f"<td>{system}</td>" in response.text for system in systems)
    assert ">All metrics</h2>" in response.text


def test_the_link_without_results_says_how_to_make_them(tmp_path):
    response = full_tables({"SSE_DOCS_DIR": str(tmp_path)})
    assert response.status_code == 404
    assert "bench/eval_all.py" in response.text and "SSE_DOCS_DIR" in response.text


def test_the_real_view_fits_one_screen():
    summary, table, figure, _ = results_view(None, environ={})
    assert 0 < len(table) <= MAX_ROWS and len(table.columns) <= 12
    assert f"[docs/results.md]({RESULTS_LINK})" in summary and len(figure.data) < len(table)


def test_loaded_peers_are_named_with_where_to_measure_them(tmp_path):
    service = SimpleNamespace(peer_names=("org/peer-a",))
    summary, *_ = results_view(service, docs_dir=tmp_path)
    assert "`org/peer-a`" in summary and "Peers tab" in summary


def test_a_section_ends_at_the_next_heading_of_its_level():
    section = markdown_section(SMALL_RESULTS, MATRIX_SECTION)
    assert "some-peer" in section and "no DyT" not in section
    assert markdown_table(markdown_section(SMALL_RESULTS, "ablation")) == [{"variant": "no DyT", "mean": "0.1"}]
    assert markdown_section(SMALL_RESULTS, "Missing") is None


def test_the_notebooks_find_the_real_ablation_by_the_start_of_its_heading():
    """Notebooks 01 and 04 read the trained ablation from docs/results.md, whose heading carries a subtitle."""
    text = REAL_RESULTS.read_text(encoding="utf-8")
    title = heading_starting(text, "ablation")
    assert title is not None and title.startswith("Ablation") and markdown_section(text, "Ablation") is None
    rows = markdown_table(markdown_section(text, title))
    assert {"model", "dim", "mean"} <= set(rows[0]) and any("plain mean" in row["model"] for row in rows)
    assert heading_starting(text, "no such heading") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# Results\n\nnothing measured\n", 'no "## NDCG@10" section'),
        ("## NDCG@10\n\nno table here\n", 'no table with a "system" column'),
        ("## NDCG@10\n\n| system | a |\n|---|---|\n| SSE fp32 d512 | n/a |\n", "'n/a' is not a score"),
    ],
)
def test_a_malformed_results_file_gets_a_note_not_a_crash(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ndcg_matrix(text)
    (tmp_path / "results.md").write_text(text, encoding="utf-8")
    summary, table, _, published = results_view(None, docs_dir=tmp_path)
    assert message in summary and "could not be read" in summary and len(table) == 0 and len(published) == 28


def test_a_docs_folder_without_results_says_how_to_make_them(tmp_path):
    summary, table, *_ = results_view(None, docs_dir=tmp_path)
    assert "bench/eval_all.py" in summary and len(table) == 0


def test_an_installed_copy_shows_the_published_table_and_says_why_no_measurements(tmp_path):
    site = tmp_path / "site-packages"
    shutil.copytree(REPO / "sse_demo", site / "sse_demo", ignore=shutil.ignore_patterns("assets", "__pycache__"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", INSTALLED_CHECK], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "None|True|28|0|True"
