"""The SSE model: torch module, checkpoint formats, 4-bit codec and the ``SSEModel`` wrapper."""

from sse_demo.model.static import MATRYOSHKA_DIMS, SSEModel, load_model

__all__ = ["MATRYOSHKA_DIMS", "SSEModel", "load_model"]
