"""Load a retrieval set stored in BEIR folder layout (corpus.jsonl, queries.jsonl, qrels/test.tsv)."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

EVAL_ENV_VAR = "SSE_EVAL_DIR"
SHARED_EVAL = Path("..", "shared", "eval")  # where CI puts the sets, relative to the project folder


def _source_checkout() -> Path | None:
    """The project folder when the package runs from a source checkout; None when it is installed."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


SOURCE_CHECKOUT = _source_checkout()


def default_eval_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the labelled sets are: ``$SSE_EVAL_DIR`` if set, else ``../shared/eval`` from the working directory,
    else ``../shared/eval`` from the source checkout the package runs from (if any) when that one exists.

    Without any, the working-directory path is returned, so a loader's "missing" message names where to put them.
    """
    environ = os.environ if environ is None else environ
    if environ.get(EVAL_ENV_VAR):
        return Path(environ[EVAL_ENV_VAR])
    from_cwd = Path.cwd() / SHARED_EVAL
    candidates = [from_cwd] if SOURCE_CHECKOUT is None else [from_cwd, SOURCE_CHECKOUT / SHARED_EVAL]
    return next((path.resolve() for path in candidates if path.is_dir()), from_cwd.resolve())


class BeirFormatError(ValueError):
    """A BEIR folder is missing a file or holds a line that cannot be read."""


@dataclass(frozen=True)
class BeirDataset:
    """One retrieval set: documents, the judged queries, and graded relevance (grade > 0 only).

    ``queries`` holds only the queries that have at least one relevant document, in file order, because
    the metrics are averaged over exactly those (as sentence-transformers' evaluator does).
    """

    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def relevant(self) -> dict[str, set[str]]:
        """Relevant document ids per query: what the binary metrics need."""
        return {qid: set(docs) for qid, docs in self.qrels.items()}


def _read_jsonl(path: Path, fields: tuple[str, ...]) -> list[dict]:
    """Read a jsonl file, naming the file and line of the first bad record."""
    if not path.is_file():
        raise BeirFormatError(f"{path} is missing: a BEIR folder needs corpus.jsonl, queries.jsonl, qrels/test.tsv.")
    rows = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise BeirFormatError(f"{path}:{line_no}: not valid JSON ({e.msg}).") from e
            missing = [field for field in fields if not isinstance(row, dict) or field not in row]
            if missing:
                raise BeirFormatError(f"{path}:{line_no}: missing field(s) {missing}.")
            rows.append(row)
    return rows


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read ``query-id<TAB>corpus-id<TAB>score`` lines after a header; keep grades above 0."""
    if not path.is_file():
        raise BeirFormatError(f"{path} is missing: a BEIR folder needs corpus.jsonl, queries.jsonl, qrels/test.tsv.")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            parts = line.rstrip("\r\n").split("\t")
            if line_no == 1 or parts == [""]:
                continue  # header line / blank line
            try:
                qid, cid, score = parts
                grade = int(float(score))
            except ValueError as e:
                raise BeirFormatError(
                    f"{path}:{line_no}: expected 'query-id<TAB>corpus-id<TAB>score', got {line.strip()!r}."
                ) from e
            if grade > 0:
                qrels.setdefault(qid, {})[cid] = grade
    return qrels


def load_beir(folder: str | Path, *, max_queries: int | None = None, seed: int = 0) -> BeirDataset:
    """Load a BEIR folder; ``max_queries`` keeps a seeded random sample of the judged queries (for slow models).

    Documents are ``title + " " + text``, stripped (so an empty title leaves just the text).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BeirFormatError(
            f"{folder} is not a folder: pass a BEIR folder holding corpus.jsonl, queries.jsonl, qrels/."
        )
    corpus = {
        str(row["_id"]): f"{row.get('title') or ''} {row['text'] or ''}".strip()
        for row in _read_jsonl(folder / "corpus.jsonl", ("_id", "text"))
    }
    all_queries = {str(row["_id"]): row["text"] for row in _read_jsonl(folder / "queries.jsonl", ("_id", "text"))}
    qrels = _read_qrels(folder / "qrels" / "test.tsv")
    unknown = sorted(set(qrels) - set(all_queries))
    if unknown:
        raise BeirFormatError(f"{folder}/qrels/test.tsv judges queries missing from queries.jsonl: {unknown[:5]}.")
    judged = [qid for qid in all_queries if qid in qrels]
    if max_queries is not None and len(judged) > max_queries:
        keep = set(random.Random(seed).sample(judged, max_queries))
        judged = [qid for qid in judged if qid in keep]
    return BeirDataset(
        name=folder.name,
        corpus=corpus,
        queries={qid: all_queries[qid] for qid in judged},
        qrels={qid: qrels[qid] for qid in judged},
    )
