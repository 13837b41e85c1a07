"""The Space's requirements.txt installs what pyproject.toml declares for running the app, at the same pins."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO


def _names_and_pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[<>=!~\[ ]", line, maxsplit=1)[0]
            pins[name.lower().replace("_", "-")] = line[len(name) :].strip()
    return pins


def test_requirements_match_pyproject_runtime_and_app_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = _names_and_pins(project["dependencies"] + project["optional-dependencies"]["app"])
    required = _names_and_pins((REPO / "requirements.txt").read_text().splitlines())
    assert required == declared


def test_torch_is_pinned_to_the_cpu_build_on_disk() -> None:
    assert "torch==2.13.0" in (REPO / "requirements.txt").read_text().splitlines()
