"""What counts as embeddable text, for every front end (the CLI and the app word the messages their own way).

A text is refused before the tokenizer when it is empty, shows nothing (only control, format or space characters,
such as a lone zero-width space), or is not valid Unicode (a lone surrogate: undecodable bytes on a command line,
or a ``"\\ud800"`` escape in JSON), which the tokenizer cannot take and no JSON answer can carry. Files must be
UTF-8 without NUL bytes; :func:`decode_text_file` names the line at fault.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

# Characters that show nothing: controls (NUL, ESC, ...), format characters (zero-width space, BOM, bidi marks, ...)
# and separators.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Default-ignorable or blank characters outside those categories: the combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels, Mongolian and other variation selectors, the braille blank.
INVISIBLE_EXTRA = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


class TextProblem(StrEnum):
    """Why a text cannot be embedded."""

    INVALID_UNICODE = "invalid Unicode"
    EMPTY = "empty"
    INVISIBLE = "no visible characters"


def is_invisible(char: str) -> bool:
    """True for a character that shows nothing on its own (see ``INVISIBLE_CATEGORIES`` and ``INVISIBLE_EXTRA``)."""
    return char.isspace() or char in INVISIBLE_EXTRA or unicodedata.category(char) in INVISIBLE_CATEGORIES


def lone_surrogate(text: str) -> int | None:
    """The position of the first lone surrogate (U+D800..U+DFFF) in ``text``, or None when there is none."""
    return next((i for i, char in enumerate(text) if "\ud800" <= char <= "\udfff"), None)


def text_problem(text: str) -> TextProblem | None:
    """Why ``text`` cannot be embedded, or None when it can."""
    if lone_surrogate(text) is not None:
        return TextProblem.INVALID_UNICODE
    if not text.strip():
        return TextProblem.EMPTY
    if all(map(is_invisible, text)):
        return TextProblem.INVISIBLE
    return None


class UndecodableFile(ValueError):
    """A file that is not UTF-8 text: where (1-based ``line``, ``byte`` offset), and whether a NUL byte (``nul``)
    or bytes that do not decode as UTF-8 are the reason."""

    def __init__(self, line: int, byte: int, *, nul: bool) -> None:
        reason = "holds NUL bytes (a binary or UTF-16 file)" if nul else "is not UTF-8"
        super().__init__(f"line {line} (byte {byte}) {reason}")
        self.line, self.byte, self.nul = line, byte, nul


def decode_text_file(data: bytes) -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark dropped), or :class:`UndecodableFile` naming the line.

    NUL bytes are refused too: valid UTF-8, but they mean a binary or UTF-16 file, never text a visitor meant.
    """
    if (nul := data.find(b"\0")) >= 0:
        raise UndecodableFile(data[:nul].count(b"\n") + 1, nul, nul=True)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise UndecodableFile(data[:offset].count(b"\n") + 1, offset, nul=False) from None
