"""The JSON manifest of a saved index: what it holds, which model made it, and checksums of its files.

Folder layout (format version 1), documented in docs/search.md:

- ``index.json``: this manifest.
- mode files: ``vectors.npy`` (exact), ``int8.faiss`` (int8), ``binary.faiss`` (binary), ``ivf.faiss`` (ivf),
  plus rescoring copies ``rescore_int8.npy`` + ``rescore_int8_ranges.npy`` or ``rescore_float32.npy``.
- ``ids.npy``: caller ids (int64 or unicode), present only when ids were given.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT_NAME = "sse-demo-search-index"
FORMAT_VERSION = 1
MANIFEST_FILE = "index.json"


class IndexFormatError(ValueError):
    """A saved index folder is missing, corrupt, or written by an unknown format version."""


@dataclass
class Manifest:
    """Everything needed to load an index and to refuse one built with another model or dim."""

    mode: str
    dim: int
    count: int
    fingerprint: str
    options: dict[str, Any]
    ids: str | None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    metric: str = "inner_product"
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def write(self, folder: Path) -> None:
        """Write ``index.json`` (last, so a folder without it was never completely saved)."""
        (folder / MANIFEST_FILE).write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Parse ``index.json``, rejecting anything that is not a manifest this version understands."""
        path = folder / MANIFEST_FILE
        if not path.is_file():
            raise IndexFormatError(f"No saved index at {folder}: {MANIFEST_FILE} is missing. Save one with Index.save.")
        try:
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT_NAME:
                raise IndexFormatError(f"{path} is not an sse_demo search index (format {data.get('format')!r}).")
            if data.get("format_version") != FORMAT_VERSION:
                raise IndexFormatError(
                    f"{path} has format version {data.get('format_version')!r}; this sse_demo reads version "
                    f"{FORMAT_VERSION}. Rebuild the index with this version."
                )
            return cls(**data)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, AttributeError) as error:
            raise IndexFormatError(f"{path} is corrupt ({error}); rebuild the index.") from error

    def record(self, folder: Path, names: list[str]) -> None:
        """Store size and SHA-256 of each written file."""
        self.files = {
            name: {"bytes": (folder / name).stat().st_size, "sha256": sha256(folder / name)} for name in names
        }

    def verify(self, folder: Path, checksums: bool) -> None:
        """Check that every listed file exists with its recorded size (and, if ``checksums``, its SHA-256)."""
        for name, expected in self.files.items():
            path = folder / name
            if not path.is_file():
                raise IndexFormatError(f"Saved index {folder} is incomplete: {name} is missing.")
            if path.stat().st_size != expected["bytes"]:
                raise IndexFormatError(
                    f"{path} is corrupt: {path.stat().st_size} bytes, expected {expected['bytes']}. Rebuild the index."
                )
            if checksums and sha256(path) != expected["sha256"]:
                raise IndexFormatError(
                    f"{path} is corrupt: its SHA-256 does not match the manifest. Rebuild the index."
                )


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
