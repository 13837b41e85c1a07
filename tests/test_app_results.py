"""The Results tab finds the project's docs in a source checkout, through ``SSE_DOCS_DIR``, or says it has none."""

import shutil
import subprocess
import sys

from test_app_support import REPO

from sse_demo.app.results import find_docs_dir, results_view

INSTALLED_CHECK = """
from sse_demo.app.results import PUBLISHED_CSV, find_docs_dir, results_view
summary, table, figure, page = results_view(None)
print(find_docs_dir(), PUBLISHED_CSV.is_file(), len(table), "installed without" in page, sep="|")
"""


def test_a_source_checkout_finds_its_docs():
    assert find_docs_dir({}) == REPO / "docs"


def test_the_environment_names_the_docs_folder(tmp_path):
    assert find_docs_dir({"SSE_DOCS_DIR": str(tmp_path)}) == tmp_path
    (tmp_path / "results.md").write_text("# Measured here\n", encoding="utf-8")
    *_, page = results_view(None, docs_dir=tmp_path)
    assert page == "# Measured here\n"


def test_a_package_outside_a_checkout_has_no_docs(tmp_path):
    package = tmp_path / "site-packages" / "sse_demo"
    package.mkdir(parents=True)
    assert find_docs_dir({}, package) is None


def test_an_installed_copy_shows_the_published_table_and_says_why_no_measurements(tmp_path):
    site = tmp_path / "site-packages"
    shutil.copytree(REPO / "sse_demo", site / "sse_demo", ignore=shutil.ignore_patterns("assets", "__pycache__"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", INSTALLED_CHECK], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "None|True|28|True"
