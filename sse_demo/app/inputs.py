"""Query checks: turn whatever a visitor typed into a clean query, or a clear bilingual message."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 2_000
_SPACES = re.compile(r"\s+")


class InputError(ValueError):
    """Bad input from a visitor; the message is shown in the page as is (English / Japanese)."""


@dataclass(frozen=True)
class CleanQuery:
    """A query ready to encode, and how many control characters were removed from it."""

    text: str
    removed_controls: int = 0

    @property
    def note(self) -> str:
        """A short notice for the page when the query was changed, else an empty string."""
        if not self.removed_controls:
            return ""
        return (
            f"Removed {self.removed_controls} control character(s) from the query. / "
            f"クエリから制御文字を{self.removed_controls}個取り除きました。"
        )


def strip_controls(text: str) -> tuple[str, int]:
    """Replace control characters (Unicode category Cc, other than plain whitespace) with spaces.

    Tabs and newlines count as whitespace, not as controls: they are normal in pasted text.
    """
    removed = 0
    out = []
    for char in text:
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            removed += 1
            out.append(" ")
        else:
            out.append(char)
    return "".join(out), removed


def clean_query(text: object, *, max_chars: int = MAX_QUERY_CHARS) -> CleanQuery:
    """Check and normalise a query: not empty, not longer than ``max_chars``, no control characters.

    The length limit is checked on the raw text so a visitor learns how long what they pasted was.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"The query must be text, got {type(text).__name__}. / クエリは文字列で入力してください。")
    if len(text) > max_chars:
        raise InputError(
            f"The query is {len(text):,} characters long; the limit is {max_chars:,}. Shorten it and try again. / "
            f"クエリが長すぎます（{len(text):,}文字）。上限は{max_chars:,}文字です。"
        )
    cleaned, removed = strip_controls(text)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if not cleaned:
        raise InputError(
            "The query is empty (only spaces or control characters). Type a few words, in English or Japanese. / "
            "クエリが空です。英語か日本語で入力してください。"
        )
    return CleanQuery(cleaned, removed)
