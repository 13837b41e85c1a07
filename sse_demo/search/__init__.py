"""Search over SSE embeddings from a demo corpus to millions of passages: exact, int8, binary + rescoring, IVF.

See docs/search.md for the modes, the saved-folder format and measured speed and quality.
"""

from sse_demo.search.backend import IndexMode, MissingExtraError
from sse_demo.search.encode import encode_corpus
from sse_demo.search.index import Index, IndexMismatchError
from sse_demo.search.manifest import FORMAT_VERSION, IndexFormatError
from sse_demo.search.rescore import Rescore

__all__ = [
    "FORMAT_VERSION",
    "Index",
    "IndexFormatError",
    "IndexMismatchError",
    "IndexMode",
    "MissingExtraError",
    "Rescore",
    "encode_corpus",
]
