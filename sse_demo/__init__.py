"""sse_demo: load, run, search, evaluate, quantise and train Stable Static Embedding (SSE) models."""

from sse_demo.errors import CheckpointError, ModelNotFoundError
from sse_demo.model import MATRYOSHKA_DIMS, SSEModel, load_model
from sse_demo.model.peers import load_peer

__version__ = "0.1.0"
__all__ = [
    "MATRYOSHKA_DIMS",
    "CheckpointError",
    "ModelNotFoundError",
    "SSEModel",
    "__version__",
    "load_model",
    "load_peer",
]
