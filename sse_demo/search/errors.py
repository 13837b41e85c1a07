"""Errors of the search layer, each naming what went wrong and what to do about it."""

from __future__ import annotations


class MissingExtraError(ImportError):
    """An optional dependency of the chosen index mode is not installed."""


class IndexFormatError(ValueError):
    """A saved index folder is missing, corrupt, or written by an unknown format version."""


class IndexMismatchError(ValueError):
    """A saved index was built with another model or another Matryoshka dim than the caller expects."""
