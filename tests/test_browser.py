"""The page in a real browser: Debian's headless Chromium, driven by Playwright (never ``playwright install``).

Runs a search, switches the Matryoshka dim and the precision, checks what the page shows, and saves a
screenshot (its path is printed; ``SSE_SCREENSHOT_DIR`` keeps it somewhere else than pytest's tmp folder).
Skips with the reason when Chromium or the playwright package is missing.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_app_support import REPO, running_app

from sse_demo.app.results import ndcg_matrix

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
TIMEOUT_MS = 60_000

if not Path(CHROMIUM).is_file():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser-app"), flag=True) as url:
        yield url


@contextmanager
def browser_page(app_url: str, profile: Path, width: int = 1400, height: int = 1600):
    """The app open in a fresh headless Chromium window of this viewport, its first tab ready."""
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": height},
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app_url)
        page.locator("#query textarea").wait_for()
        try:
            yield page
        finally:
            context.close()


@pytest.fixture
def page(app_url, tmp_path):
    with browser_page(app_url, tmp_path / "profile") as page:
        yield page


def status(page) -> str:
    return page.locator("#search-status").inner_text()


def wait_for_status(page, text: str) -> None:
    page.wait_for_function(
        "t => (document.querySelector('#search-status')?.innerText || '').includes(t)", arg=text, timeout=TIMEOUT_MS
    )


def test_search_dial_and_precision_in_the_browser(page, tmp_path):
    page.locator("#query textarea").fill("cherry blossom viewing party")
    page.locator("#search-button").click()
    wait_for_status(page, "fp32 · dim 512")
    results = page.locator("#results")
    assert "rank@512" in results.inner_text()
    assert "shift vs 512" in results.inner_text()

    page.locator("#dim").get_by_text("128", exact=True).click()
    wait_for_status(page, "fp32 · dim 128")
    assert "◀" in page.locator("#costs").inner_text()

    page.locator("#precision").get_by_text("4-bit", exact=True).click()
    wait_for_status(page, "4-bit · dim 128")
    assert "passages" in status(page)
    text = results.inner_text()
    assert "en" in text or "ja" in text

    before = results.inner_text()
    page.get_by_role("button", name="日本の伝統的な料理").click()  # an example: one click runs the search
    page.wait_for_function(
        "b => (document.querySelector('#results')?.innerText || '') !== b", arg=before, timeout=TIMEOUT_MS
    )
    assert page.locator("#query textarea").input_value() == "日本の伝統的な料理"
    assert "4-bit · dim 128" in status(page)

    folder = Path(os.environ.get("SSE_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "app-search.png"
    page.wait_for_timeout(2000)  # the status line updates before the tables finish rendering
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_empty_query_shows_a_message_in_the_page(page):
    page.locator("#query textarea").fill("   ")
    page.locator("#search-button").click()
    wait_for_status(page, "empty")
    assert "⚠️" in status(page)


HOSTILE_PASSAGES = [
    "<b>bold</b> passage about rivers",
    "<img src=https://evil.example/x.png> [click me](evil.example) mountain",
    "![pic](https://evil.example/p.png) www.evil.example plain",
]
# Links and images that point at evil.example (the upload widget's own download link to the file is not one).
LIVE_MARKUP = """() => ({
    evil: document.querySelectorAll(
        "a[href^='evil.example'], a[href*='//evil.example'], a[href*='www.evil.example'], img[src*='//evil.example']"
    ).length,
    bold: [...document.querySelectorAll("b, strong")].filter(e => e.textContent.includes("bold")).length,
})"""


def wait_for_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)", arg=[selector, text], timeout=TIMEOUT_MS
    )


def test_uploaded_html_and_markdown_never_render_as_tags_or_links(page, tmp_path):
    """An upload named like a Markdown link, holding HTML and Markdown: its name and passages appear as text in
    the status lines, the toast, the results table and the neighbours, and nowhere as an image, a link or bold."""
    bad = tmp_path / "[click me](evil.example).jsonl"
    bad.write_text('{"text": "ok"}\n{oops\n', encoding="utf-8")
    good = tmp_path / "[click me](evil.example).txt"
    good.write_text("\n".join(HOSTILE_PASSAGES) + "\n", encoding="utf-8")

    page.get_by_text("Your own corpus / 自分のコーパス").click()
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    wait_for_text(page, "#corpus-status", "line 2 is not valid JSON")
    assert "[click me](evil.example).jsonl" in page.locator("#corpus-status").inner_text()
    page.wait_for_function("() => document.body.innerText.includes('[click me](evil.example).jsonl: line 2')")

    page.locator("#upload button[aria-label*='Clear'], #upload button[aria-label*='clear']").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(good))
    wait_for_text(page, "#corpus-status", "3 passages")
    assert "[click me](evil.example).txt" in page.locator("#corpus-status").inner_text()
    page.locator("#query textarea").fill("bold rivers click mountain")
    page.locator("#search-button").click()
    wait_for_status(page, "3 passages")
    wait_for_text(page, "#results", "<b>bold</b>")
    assert "<img src=https://evil.example/x.png> [click me](evil.example)" in page.locator("#results").inner_text()
    assert page.evaluate(LIVE_MARKUP) == {"evil": 0, "bold": 0}

    page.get_by_role("tab", name="Embedding map / 埋め込みマップ").click()
    page.locator("#passage input").click()
    page.get_by_role("option", name="<b>bold</b>", exact=False).first.click()
    wait_for_text(page, "#neighbour-status", "<b>bold</b> passage about rivers")
    page.wait_for_timeout(1000)  # the neighbours table renders after the status line
    assert "[click me](evil.example)" in page.locator("body").inner_text()
    assert page.evaluate(LIVE_MARKUP) == {"evil": 0, "bold": 0}


def open_tab(page, name: str) -> None:
    """Click a tab by its label, through Gradio's "More tabs" menu when the window is too narrow to show it."""
    tab = page.get_by_role("tab", name=name)
    if tab.count():
        tab.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=name).click()


# Where the Results tab's parts are, with the tab bar scrolled to the top of the window: the rows the table draws
# (a virtual list also keeps hidden rows of height 0 to measure), and whether the table scrolls inside itself.
RESULTS_LAYOUT = """() => {
    const tabs = document.querySelector("[role=tablist]");
    window.scrollTo(0, tabs.getBoundingClientRect().top + window.scrollY);
    const bottom = (selector) => document.querySelector(selector).getBoundingClientRect().bottom;
    const matrix = document.querySelector("#results-matrix");
    const rows = [...matrix.querySelectorAll(".virtual-row")].filter((row) => row.getBoundingClientRect().height > 0);
    const scrolls = [...matrix.querySelectorAll("*")].some((e) => e.getBoundingClientRect().height > 0 && (
        (e.scrollHeight > e.clientHeight + 1 && ["auto", "scroll"].includes(getComputedStyle(e).overflowY)) ||
        (e.scrollWidth > e.clientWidth + 1 && ["auto", "scroll"].includes(getComputedStyle(e).overflowX))));
    return {
        tabs_top: tabs.getBoundingClientRect().top, window: window.innerHeight,
        status: bottom("#results-status"), chart: bottom("#results-chart"), table: bottom("#results-matrix"),
        rows: rows.length, rows_bottom: Math.max(...rows.map((row) => row.getBoundingClientRect().bottom)),
        table_scrolls: scrolls,
    };
}"""


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1280, 800)])
def test_the_results_tab_fits_a_laptop_screen_and_links_to_every_table(app_url, tmp_path, width, height):
    """Below the tabs, the summary, the chart and every row of the NDCG@10 table are on screen at once, with no
    scrolling inside the table; its link opens the page of every table, served by the app from the same file."""
    systems = [row["system"] for row in ndcg_matrix((REPO / "docs" / "results.md").read_text(encoding="utf-8"))]
    with browser_page(app_url, tmp_path / "profile", width, height) as page:
        open_tab(page, "Results / 結果")
        wait_for_text(page, "#results-matrix", systems[-1])
        page.locator("#results-chart .js-plotly-plot").wait_for()
        layout = page.evaluate(RESULTS_LAYOUT)
        folder = Path(os.environ.get("SSE_SCREENSHOT_DIR", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"app-results-{width}x{height}.png"))
        assert abs(layout["tabs_top"]) < 1  # the tab bar at the top of the window
        assert layout["rows"] == len(systems) and not layout["table_scrolls"], layout
        assert max(layout["status"], layout["chart"], layout["table"], layout["rows_bottom"]) <= height, layout

        link = page.locator("#results-status a", has_text="docs/results.md")
        assert page.request.get(link.evaluate("a => a.href")).status == 200
        with page.context.expect_page() as opened:
            link.click()
        full = opened.value
        full.wait_for_load_state()
        assert full.get_by_role("heading", name="All metrics").count() == 1
        assert full.locator("table").count() >= 3
        assert systems[0] in full.locator("table").first.inner_text()
