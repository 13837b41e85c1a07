"""Every named API endpoint of the page in one place: its ``api_name`` and the view that answers it.

A *view* is a function ``view(service, *inputs) -> outputs`` that lives beside the computation it shows; its
docstring says what it returns (Gradio shows it on the API page). ``app.py`` binds each view to the running
:class:`~sse_demo.app.service.DemoService` with :func:`bind` and wires it to its tab's components; another front
end (an HTTP API, MCP tools) can serve the same table.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sse_demo.app.compare import compare_view
from sse_demo.app.corpus import upload_view
from sse_demo.app.embedding_map import embedding_map_view, neighbours_view
from sse_demo.app.labelled import quality_view
from sse_demo.app.matryoshka import search_view
from sse_demo.app.results import results_view
from sse_demo.app.saturation import saturation_view
from sse_demo.app.speed import speed_view
from sse_demo.app.state import lower_thread_priority
from sse_demo.app.tokens import tokens_view

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService


# Gradio runs each event in a concurrency group with a limit: searches and other quick views in one, the views
# that encode or fit a whole corpus in another, so that a map fit or an upload runs beside searches, never ahead.
# Heavy views also run in threads of their own at a lower CPU priority, so on a small CPU searches come first.
SEARCH, HEAVY = "search", "heavy"
CONCURRENCY_LIMITS = {SEARCH: 8, HEAVY: 2}
HEAVY_THREADS = ThreadPoolExecutor(
    CONCURRENCY_LIMITS[HEAVY], thread_name_prefix="heavy-view", initializer=lower_thread_priority
)


@dataclass(frozen=True)
class Endpoint:
    """A named endpoint: the view behind it and how the page runs it."""

    api_name: str
    view: Callable
    gpu_seconds: int = 60  # the ZeroGPU allowance of one call
    keep_outputs_on_error: bool = False  # on an error, leave every output but the message as it was
    concurrency: str = SEARCH  # its Gradio concurrency group, a key of CONCURRENCY_LIMITS


ENDPOINTS: dict[str, Endpoint] = {
    endpoint.api_name: endpoint
    for endpoint in (
        Endpoint("search", search_view),
        Endpoint("quality", quality_view, concurrency=HEAVY),
        # a bad upload keeps the visitor's corpus
        Endpoint("upload", upload_view, keep_outputs_on_error=True, concurrency=HEAVY),
        Endpoint("compare", compare_view, concurrency=HEAVY),  # its first call on an upload indexes it in 4-bit
        Endpoint("saturation", saturation_view, concurrency=HEAVY),  # pools the whole corpus
        Endpoint("embedding_map", embedding_map_view, gpu_seconds=120, keep_outputs_on_error=True, concurrency=HEAVY),
        Endpoint("neighbours", neighbours_view),
        Endpoint("tokens", tokens_view),
        Endpoint("speed", speed_view, concurrency=HEAVY),
        Endpoint("results", results_view),
    )
}


def bind(endpoint: Endpoint, service: DemoService) -> Callable:
    """The endpoint's view with ``service`` filled in, named after the endpoint, keeping its docstring and the
    signature of its remaining parameters (what Gradio inspects)."""
    view = endpoint.view

    def handler(*inputs):
        if endpoint.concurrency == HEAVY:
            return HEAVY_THREADS.submit(view, service, *inputs).result()
        return view(service, *inputs)

    handler.__name__ = handler.__qualname__ = endpoint.api_name
    handler.__doc__ = view.__doc__
    parameters = list(inspect.signature(view).parameters.values())[1:]
    handler.__signature__ = inspect.signature(view).replace(parameters=parameters)
    return handler
