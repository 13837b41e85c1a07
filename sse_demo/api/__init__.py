"""An OpenAI-compatible embeddings API (``/v1/models``, ``/v1/embeddings``) over SSE models and peers.

from sse_demo.api import embeddings_router, model_id
router = embeddings_router({model_id(None, quantized=False): sse_demo.load_model()})
app.include_router(router)   # any FastAPI app; see docs/api.md for the Gradio page's own port
"""

from sse_demo.api.models import Encoder, ModelCatalog, model_id
from sse_demo.api.request import MAX_INPUT_CHARS, MAX_INPUTS
from sse_demo.api.router import API_KEY_ENV, MAX_BODY_BYTES, embeddings_router

__all__ = [
    "API_KEY_ENV",
    "MAX_BODY_BYTES",
    "MAX_INPUTS",
    "MAX_INPUT_CHARS",
    "Encoder",
    "ModelCatalog",
    "embeddings_router",
    "model_id",
]
