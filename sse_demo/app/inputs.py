"""What a visitor sends (query, precision, k, Matryoshka dim), checked, or a clear bilingual message."""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sse_demo.text import TextProblem, lone_surrogate, text_problem

MAX_QUERY_CHARS = 2_000
DEFAULT_K = 10
MAX_K = 50
SHOWN_CHARS = 40  # of a bad value, in a message
_SPACES = re.compile(r"\s+")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,9}(?:\.0*)?")  # "10", "+4", "10.0": what an API caller may send as text


class InputError(ValueError):
    """Bad input from a visitor; the message is shown in the page as is (English / Japanese)."""


class Precision(StrEnum):
    """Which of the two loaded models a view uses."""

    FP32 = "fp32"
    Q4 = "4-bit"

    @classmethod
    def parse(cls, value: object) -> Precision:
        """A precision from what the page sent, or a bilingual message listing the choices."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise InputError(
                f"precision must be one of {choices}, got {value!r}. / 精度は {choices} から選んでください。"
            ) from None


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
    if (position := lone_surrogate(text)) is not None:
        raise InputError(
            f"The query holds invalid Unicode (a lone surrogate U+{ord(text[position]):04X} at character "
            f"{position + 1}), so it cannot be read as text. Send it as UTF-8 text. / クエリに不正な Unicode "
            f"（孤立サロゲート）が含まれています。"
        )
    cleaned, removed = strip_controls(text)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if text_problem(cleaned) is TextProblem.EMPTY:
        raise InputError(
            "The query is empty (only spaces or control characters). Type a few words, in English or Japanese. / "
            "クエリが空です。英語か日本語で入力してください。"
        )
    if text_problem(cleaned) is TextProblem.INVISIBLE:
        raise InputError(
            f"The query has no visible characters (only invisible ones such as {shown(cleaned)}), so there is nothing "
            f"to search for. Type a few words, in English or Japanese. / クエリに見える文字がありません。"
        )
    return CleanQuery(cleaned, removed)


def shown(value: object) -> str:
    """``repr(value)`` cut to ``SHOWN_CHARS`` characters, for a message about a bad value."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def whole_number(value: object) -> int | None:
    """``value`` as an int when it is one: an int, an integral float, or a string such as ``"10"``; else None.

    Booleans, fractions (2.5 is never cut to 2), non-finite numbers and other types are not whole numbers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return int(value) if math.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(float(value)) if "." in value else int(value)
    return None


def check_k(k: object, *, max_k: int = MAX_K) -> int:
    """The number of results asked for, as an int in 1..``max_k`` (an int or a numeric string), or a message."""
    value = whole_number(k)
    if value is None:
        raise InputError(
            f'k must be a whole number from 1 to {max_k} (an integer, or text such as "10"), got {shown(k)}. / '
            f"件数は1〜{max_k}の整数で指定してください。"
        )
    if not 1 <= value <= max_k:
        raise InputError(f"k must be from 1 to {max_k}, got {shown(k)}. / 件数は1〜{max_k}で指定してください。")
    return value


def check_dim(dim: object, ladder: Sequence[int], model_dim: int | None = None) -> int:
    """A Matryoshka dim from the page's ``ladder`` that the model can give (an int or a numeric string such as
    ``"512"``, as the API page shows it), or a bilingual message.

    ``ladder`` is the page's dims (largest first: the loaded model's own dim, then halvings); ``model_dim`` the
    dim of the model that will answer, when it may be smaller than the ladder's top.
    """
    value = whole_number(dim)
    choices = ", ".join(map(str, ladder))
    if value not in ladder:
        raise InputError(
            f"dim must be one of {choices} (the loaded model has {max(ladder)} dims), got {shown(dim)}. / "
            f"次元は {choices} から選んでください（このモデルは{max(ladder)}次元です）。"
        )
    if model_dim is not None and value > model_dim:
        raise InputError(
            f"This model has only {model_dim} dims; pick a smaller dim. / このモデルは{model_dim}次元です。"
        )
    return value
