"""Which backend class implements which index mode (imported lazily: faiss loads only for modes that need it)."""

from __future__ import annotations

from sse_demo.search.backend import Backend
from sse_demo.search.modes import IndexMode


def backend_class(mode: IndexMode | str) -> type[Backend]:
    """The backend class for ``mode``; a clear error lists the modes when it is unknown."""
    try:
        mode = IndexMode(mode)
    except ValueError:
        known = ", ".join(repr(item.value) for item in IndexMode)
        raise ValueError(f"Unknown index mode {mode!r}; choose one of {known}.") from None
    if mode is IndexMode.EXACT:
        from sse_demo.search.exact import ExactBackend

        return ExactBackend
    if mode is IndexMode.INT8:
        from sse_demo.search.quantized import Int8Backend

        return Int8Backend
    if mode is IndexMode.BINARY:
        from sse_demo.search.quantized import BinaryBackend

        return BinaryBackend
    from sse_demo.search.approximate import IVFBackend

    return IVFBackend
