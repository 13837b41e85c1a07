"""Token inspector: how a text is split, which parts the vocabulary does not know, and each token's share.

The pooled vector is the mean of the token rows, ``x = (1/n) sum_i r_i``, so ``x·x = sum_i (r_i·x)/n``: token
i's *share* ``(r_i·x) / (n x·x)`` says how much of the pooled vector it carries. Shares add up to 1; a negative
share pulls against the rest of the text.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import frame, markdown_text
from sse_demo.app.inputs import Precision, clean_query

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService
    from sse_demo.model import SSEModel

WORD_START = "▁Ġ"  # SentencePiece / byte-level BPE markers for "a word starts here"


@dataclass(frozen=True)
class TokenRow:
    """One token of the inspected text."""

    position: int
    token: str
    token_id: int
    surface: str
    unknown: bool
    share: float


@dataclass(frozen=True)
class TokenReport:
    """All tokens of a text, plus the characters no token covers (dropped by the tokenizer)."""

    rows: list[TokenRow]
    uncovered: str

    @property
    def unknown_count(self) -> int:
        return sum(row.unknown for row in self.rows)


@functools.lru_cache(maxsize=8)
def unknown_id(tokenizer) -> int | None:
    """Id of the tokenizer's unknown token, if its model has one.

    BPE and WordPiece name it (``unk_token``); Unigram (SentencePiece-style, as the published bilingual
    tokenizer) keeps only ``unk_id`` in its JSON, which the Python object does not expose. Cached: the JSON of a
    large vocabulary takes a moment to write.
    """
    token = getattr(tokenizer.model, "unk_token", None)
    if token:
        return tokenizer.token_to_id(token)
    unk = json.loads(tokenizer.to_str()).get("model", {}).get("unk_id")
    return unk if isinstance(unk, int) else None


def token_shares(rows: np.ndarray) -> np.ndarray:
    """Each row's share of the mean vector's squared norm (see the module docstring); zeros if the mean is 0."""
    rows = np.asarray(rows, dtype=np.float64)
    if not len(rows):
        return np.zeros(0)
    mean = rows.mean(axis=0)
    energy = float(mean @ mean)
    if energy == 0.0:
        return np.zeros(len(rows))
    return (rows @ mean) / (len(rows) * energy)


def inspect_tokens(model: SSEModel, text: str) -> TokenReport:
    """Tokenise ``text`` as the model does (no special tokens) and describe every token."""
    encoding = model.tokenizer.encode(text, add_special_tokens=False)
    unk = unknown_id(model.tokenizer)
    shares = token_shares(model.token_vectors(encoding.ids))
    covered = np.zeros(len(text), dtype=bool)
    rows = []
    for position, (token, token_id, (start, end)) in enumerate(
        zip(encoding.tokens, encoding.ids, encoding.offsets, strict=True)
    ):
        covered[start:end] = True
        surface = text[start:end] if token.strip(WORD_START) else "␣"  # a bare word-start marker carries no text
        rows.append(TokenRow(position, token, token_id, surface, token_id == unk, float(shares[position])))
    uncovered = "".join(ch for ch, hit in zip(text, covered, strict=True) if not hit and not ch.isspace())
    return TokenReport(rows, uncovered)


def tokens_view(service: DemoService, text: object, precision: object):
    """How the model tokenises a text: each token, its id, whether it is unknown and its share of the pooled vector.

    Returns (summary Markdown, token table).
    """
    clean = clean_query(text)
    report = inspect_tokens(service.model(Precision.parse(precision)), clean.text)
    columns = ["#", "token", "id", "text", "unknown", "share of pooled vector"]
    rows = [
        dict(zip(columns, (r.position, r.token, r.token_id, r.surface, r.unknown, f"{r.share:.1%}"), strict=True))
        for r in report.rows
    ]
    dropped = f" Characters no token covers (dropped): {markdown_text(report.uncovered)}." if report.uncovered else ""
    summary = (
        f"{clean.note} **{len(report.rows)} tokens**, {report.unknown_count} unknown, for {len(clean.text)} "
        f"characters.{dropped} Share = how much of the pooled (mean) vector each token carries; shares add up "
        f"to 100% and a negative share pulls against the rest. / トークン数 {len(report.rows)}、未知語 "
        f"{report.unknown_count}。"
    ).strip()
    return summary, frame(rows, columns)
