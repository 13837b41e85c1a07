"""Checking an ``/v1/embeddings`` body field by field, as OpenAI does, so a bad request gets a 400 naming the field.

The checks are hand-written rather than a pydantic model: OpenAI's error shape needs the offending ``param`` and a
message a person can act on, and JSON's loose types (``true`` is not a dimension, ``1.0`` is not an int) need
deciding one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from sse_demo.api.errors import bad_request
from sse_demo.app.inputs import MAX_QUERY_CHARS

MAX_INPUTS = 2_048  # OpenAI's own limit on the number of texts in one request
MAX_INPUT_CHARS = MAX_QUERY_CHARS  # the page's limit on one text
FIELDS = ("model", "input", "dimensions", "encoding_format", "user")


class EncodingFormat(StrEnum):
    FLOAT = "float"
    BASE64 = "base64"


@dataclass(frozen=True)
class EmbeddingsRequest:
    """A checked request: the model id, the texts, the Matryoshka dim (``None`` = the model's) and the format."""

    model: str
    texts: list[str]
    dimensions: int | None
    encoding_format: EncodingFormat


def parse_json_object(body: bytes) -> dict:
    """The body as a JSON object, or a 400 that says why it is not one."""
    try:
        payload = json.loads(body)
    except UnicodeDecodeError as error:
        raise bad_request(f"the request body is not valid UTF-8 ({error.reason})", None, "invalid_json") from error
    except json.JSONDecodeError as error:
        raise bad_request(f"the request body is not valid JSON: {error}", None, "invalid_json") from error
    if not isinstance(payload, dict):
        raise bad_request(f"the request body must be a JSON object, got {_json_type(payload)}", None, "invalid_json")
    return payload


def parse_model_id(payload: dict) -> str:
    """The ``model`` field: a non-empty string."""
    if "model" not in payload:
        raise bad_request("'model' is required: GET /v1/models lists the ids", "model", "missing_required_parameter")
    model = payload["model"]
    if not isinstance(model, str) or not model:
        raise bad_request(f"'model' must be a model id string, got {_json_type(model)}", "model", "invalid_type")
    return model


def parse_embeddings_request(payload: dict, model_dim: int) -> EmbeddingsRequest:
    """Check every field of an embeddings body against a model of ``model_dim`` dimensions."""
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise bad_request(
            f"unrecognised request argument(s): {', '.join(unknown)}; the fields are {', '.join(FIELDS)}",
            unknown[0],
            "unknown_parameter",
        )
    user = payload.get("user")
    if user is not None and not isinstance(user, str):
        raise bad_request(f"'user' must be a string, got {_json_type(user)}", "user", "invalid_type")
    return EmbeddingsRequest(
        model=parse_model_id(payload),
        texts=parse_input(payload.get("input")),
        dimensions=parse_dimensions(payload.get("dimensions"), model_dim),
        encoding_format=parse_encoding_format(payload.get("encoding_format")),
    )


def parse_input(value: object) -> list[str]:
    """``input``: one text or a list of 1 to ``MAX_INPUTS`` texts, each non-blank, valid Unicode, not too long."""
    if value is None:
        raise bad_request("'input' is required: a string or a list of strings", "input", "missing_required_parameter")
    if isinstance(value, str):
        return [check_text(value, "input")]
    if not isinstance(value, list):
        raise bad_request(
            f"'input' must be a string or a list of strings, got {_json_type(value)}", "input", "invalid_type"
        )
    if not value:
        raise bad_request("'input' is an empty list: send at least one text", "input", "empty_input")
    if len(value) > MAX_INPUTS:
        raise bad_request(
            f"'input' has {len(value):,} items; the limit is {MAX_INPUTS:,} per request. Split it into batches",
            "input",
            "too_many_inputs",
        )
    return [check_text(text, f"input[{index}]") for index, text in enumerate(value)]


def check_text(text: object, where: str) -> str:
    """One text: a string (token-id arrays are refused: they belong to another tokenizer), non-blank, encodable."""
    if not isinstance(text, str):
        hint = " (token ids are not accepted: send the text itself)" if isinstance(text, (int, list)) else ""
        raise bad_request(f"{where} must be a string, got {_json_type(text)}{hint}", "input", "invalid_type")
    if not text.strip():
        raise bad_request(f"{where} is empty or only whitespace: there is nothing to embed", "input", "empty_input")
    if len(text) > MAX_INPUT_CHARS:
        raise bad_request(
            f"{where} is {len(text):,} characters long; the limit is {MAX_INPUT_CHARS:,}. Split the text into passages",
            "input",
            "input_too_long",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise bad_request(
            f"{where} is not valid Unicode ({error.reason} at character {error.start}, e.g. a lone surrogate escape)",
            "input",
            "invalid_unicode",
        ) from error
    return text


def parse_dimensions(value: object, model_dim: int) -> int | None:
    """``dimensions``: an integer from 1 to the model's dim (Matryoshka truncation), or absent for the full dim."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'dimensions' must be an integer, got {_json_type(value)}", "dimensions", "invalid_type")
    if not 1 <= value <= model_dim:
        raise bad_request(
            f"'dimensions' must be from 1 to {model_dim} for this model, got {value}", "dimensions", "invalid_value"
        )
    return value


def parse_encoding_format(value: object) -> EncodingFormat:
    """``encoding_format``: ``float`` (the default) or ``base64``."""
    if value is None:
        return EncodingFormat.FLOAT
    try:
        return EncodingFormat(value)
    except ValueError as error:
        raise bad_request(
            f"'encoding_format' must be 'float' or 'base64', got {value!r}", "encoding_format", "invalid_value"
        ) from error


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
