"""OpenAI-compatible ``GET /v1/models`` and ``POST /v1/embeddings`` as a FastAPI router.

The router is self-contained (its own error responses, key check and body limit, no app-level handlers), so it
can join any FastAPI app: the Gradio page's own (``demo.launch(app_kwargs={"routes": router.routes})``), or one
that mounts the page with ``gr.mount_gradio_app``.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import time
from collections.abc import Mapping

import numpy as np
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from sse_demo.api.errors import APIError
from sse_demo.api.models import Encoder, EncoderSource, ModelCatalog
from sse_demo.api.request import (
    EmbeddingsRequest,
    EncodingFormat,
    parse_embeddings_request,
    parse_json_object,
    parse_model_id,
)

log = logging.getLogger(__name__)

API_KEY_ENV = "SSE_API_KEY"
# The largest valid request (2,048 texts of 2,000 characters) written with JSON's \uXXXX escapes is ~25 MB.
MAX_BODY_BYTES = 32 * 2**20
OWNER = "sse_demo"


def embeddings_router(
    models: Mapping[str, EncoderSource],
    *,
    api_key: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> APIRouter:
    """Routes serving ``models`` (id -> encoder, or a callable returning one) the way OpenAI's API does.

    ``api_key`` (default: ``$SSE_API_KEY``) makes every route ask for ``Authorization: Bearer <key>``; without one
    (or with ``""``) the API is open, as the page is.
    """
    catalog = ModelCatalog(models)
    key = (api_key if api_key is not None else os.environ.get(API_KEY_ENV)) or None
    created = int(time.time())
    router = APIRouter()

    def model_card(name: str) -> dict:
        return {"id": name, "object": "model", "created": created, "owned_by": OWNER}

    @router.get("/v1/models")
    async def list_models(request: Request) -> Response:
        try:
            check_key(request, key)
        except APIError as error:
            return error.response()
        return JSONResponse({"object": "list", "data": [model_card(name) for name in catalog.ids()]})

    @router.get("/v1/models/{name:path}")
    async def retrieve_model(name: str, request: Request) -> Response:
        try:
            check_key(request, key)
            catalog.require(name)
        except APIError as error:
            return error.response()
        return JSONResponse(model_card(name))

    @router.post("/v1/embeddings")
    async def create_embeddings(request: Request) -> Response:
        try:
            check_key(request, key)
            payload = parse_json_object(await read_body(request, max_body_bytes))
            model = await run_in_threadpool(catalog.get, parse_model_id(payload))
            checked = parse_embeddings_request(payload, model.dim)
            # encode and JSON rendering (1.8 s for 2,048 x 512 floats on a loaded 2-core machine) stay off the loop
            return await run_in_threadpool(lambda: JSONResponse(embeddings_body(model, checked)))
        except APIError as error:
            return error.response()
        except Exception as error:  # a bug must answer in OpenAI's shape too, and be logged
            log.exception("/v1/embeddings failed")
            return APIError(500, f"internal error ({type(error).__name__}: {error})", type="server_error").response()

    return router


def check_key(request: Request, key: str | None) -> None:
    """401 unless the API is open or the request carries ``Authorization: Bearer <key>``."""
    if key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise APIError(
            401,
            f"missing or wrong API key: send 'Authorization: Bearer <key>' with the key set in ${API_KEY_ENV}",
            code="invalid_api_key",
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or a 413 as soon as it (or its declared length) passes ``limit`` bytes."""
    too_large = APIError(
        413,
        f"the request body is over {limit:,} bytes; send fewer texts per request",
        code="request_too_large",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def embeddings_body(model: Encoder, request: EmbeddingsRequest) -> dict:
    """OpenAI's embeddings response: the vectors of ``model.encode(texts, dim=dimensions)`` and the token count."""
    vectors = model.encode(request.texts, dim=request.dimensions)
    token_ids, _ = model.tokenize(request.texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": encode_vector(vector, request.encoding_format)}
            for index, vector in enumerate(vectors)
        ],
        "model": request.model,
        "usage": {"prompt_tokens": len(token_ids), "total_tokens": len(token_ids)},
    }


def encode_vector(vector: np.ndarray, encoding_format: EncodingFormat) -> list[float] | str:
    """A float32 vector as JSON numbers (exact: each float32 widens to a float64 without loss) or base64 of its
    little-endian float32 bytes."""
    if encoding_format is EncodingFormat.BASE64:
        return base64.b64encode(vector.astype("<f4", copy=False).tobytes()).decode("ascii")
    return vector.tolist()
