"""The ``notebooks`` extra installs everything the notebooks import, and the README says how to open them."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib import metadata

from conftest import REPO
from packaging.requirements import Requirement

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def notebook_modules() -> set[str]:
    """Top-level modules imported by the notebooks' code cells (IPython magics and shell lines skipped)."""
    modules = set()
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "\n".join(
                line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))
            )
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_closure(extra: str) -> set[str]:
    """Distributions that ``pip install .[extra]`` brings: the extra, its ``sse_demo[...]`` extras, the core
    dependencies, and everything those require in turn (read from the installed metadata, where installed)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pending = [Requirement(line) for line in project["dependencies"] + project["optional-dependencies"][extra]]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = normalized(requirement.name)
        if name == "sse-demo":
            for own in requirement.extras:
                pending += [Requirement(line) for line in project["optional-dependencies"][own]]
            continue
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:  # not installed here (e.g. jupyterlab outside a notebooks venv)
            requires = []
        for line in requires:
            needed = Requirement(line)
            if needed.marker is None or needed.marker.evaluate({"extra": ""}):
                pending.append(needed)
    return found


def test_notebooks_extra_covers_every_import() -> None:
    third_party = notebook_modules() - set(sys.stdlib_module_names) - {"sse_demo"}
    assert {"sentence_transformers", "pandas", "plotly", "psutil", "torch"} <= third_party
    distributions = metadata.packages_distributions()
    installed = extra_closure("notebooks")
    missing = {m for m in third_party if not {normalized(d) for d in distributions.get(m, [m])} & installed}
    assert not missing, f"the notebooks import {sorted(missing)}, which .[notebooks] does not install"
    assert {"jupyterlab", "ipykernel", "nbmake", "pytest", "datasets"} <= installed


def test_readme_opens_jupyterlab_on_the_notebooks() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if "jupyter lab" in line]
    assert commands and '".[notebooks]"' in commands[0] and commands[0].rstrip().endswith("jupyter lab notebooks/")
