"""Errors the package raises on purpose, so callers can tell bad input from bugs."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint folder or file is missing, truncated or inconsistent.

    The message always names the file and the problem, so a user knows what to fix.
    """


class ModelNotFoundError(FileNotFoundError):
    """A model name is neither a local folder nor a hub id that can be fetched now."""
