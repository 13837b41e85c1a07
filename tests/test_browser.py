"""The page in a real browser: Debian's headless Chromium, driven by Playwright (never ``playwright install``).

Runs a search, switches the Matryoshka dim and the precision, checks what the page shows, and saves a
screenshot (its path is printed; ``SSE_SCREENSHOT_DIR`` keeps it somewhere else than pytest's tmp folder).
Skips with the reason when Chromium or the playwright package is missing.
"""

import os
import shutil
from pathlib import Path

import pytest
from test_app_support import running_app

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


@pytest.fixture
def page(app_url, tmp_path):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1600},
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app_url)
        page.locator("#query textarea").wait_for()
        yield page
        context.close()


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
