"""The models the API serves, by stable id: lent by the caller (the app's loaded pair, peers), loaded on first use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from sse_demo.api.errors import APIError

log = logging.getLogger(__name__)


@runtime_checkable
class Encoder(Protocol):
    """What the API needs of a model: ``SSEModel`` and ``sse_demo.load_peer``'s models both fit."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], *, dim: int | None = None, normalize: bool = True) -> np.ndarray: ...

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


EncoderSource = Encoder | Callable[[], Encoder]


def model_id(name: str | None, *, quantized: bool) -> str:
    """The stable API id of a model loaded as ``sse_demo.load_model(name, quantized=quantized)``.

    The bundled pair is ``sse-bilingual-small`` / ``sse-bilingual-small-q4`` (their folder names); the published
    pair keeps its two hub ids; any other hub id keeps its id and a local folder its folder name, with ``-q4`` for
    the copy quantised on load.
    """
    from sse_demo.model.hub import BUNDLED_FP32, BUNDLED_Q4, PUBLISHED_FP32, PUBLISHED_Q4

    if name is None:
        return BUNDLED_Q4.name if quantized else BUNDLED_FP32.name
    if name in (PUBLISHED_FP32, PUBLISHED_Q4):
        return PUBLISHED_Q4 if quantized else PUBLISHED_FP32
    path = Path(name).expanduser()
    base = path.resolve().name if path.exists() else name
    return f"{base}-q4" if quantized else base


class ModelCatalog:
    """Ids to encoders. A source is an encoder, or a callable that returns one (called at first use, then kept)."""

    def __init__(self, models: Mapping[str, EncoderSource]) -> None:
        for name in models:
            if not isinstance(name, str) or not name:
                raise ValueError(f"model ids must be non-empty strings, got {name!r}")
        self._sources = dict(models)
        self._loaded: dict[str, Encoder] = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        return list(self._sources)

    def require(self, name: str) -> None:
        """404 for an id not served here."""
        if name not in self._sources:
            raise APIError(
                404,
                f"the model {name!r} does not exist here; GET /v1/models lists the ids ({', '.join(self._sources)})",
                param="model",
                code="model_not_found",
            )

    def get(self, name: str) -> Encoder:
        """The encoder for ``name``: 404 for an id not served, 503 when its provider fails to load it."""
        self.require(name)
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._load(name)
            return self._loaded[name]

    def _load(self, name: str) -> Encoder:
        source = self._sources[name]
        if isinstance(source, Encoder):
            return source
        try:
            encoder = source()
        except Exception as error:  # a model that cannot load must not take the API down; the next call retries
            log.exception("model %s failed to load", name)
            raise APIError(
                503,
                f"the model {name!r} could not be loaded ({type(error).__name__}: {error}); try again or use another",
                param="model",
                code="model_unavailable",
                type="server_error",
            ) from error
        if not isinstance(encoder, Encoder):
            raise TypeError(f"the provider of {name!r} returned {type(encoder).__name__}, not an encoder")
        return encoder
