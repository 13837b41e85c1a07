"""Every named API endpoint of the page in one place: its ``api_name`` and the view that answers it.

A *view* is a function ``view(service, *inputs) -> outputs`` that lives beside the computation it shows; its
docstring says what it returns. ``app.py`` binds each view to the running
:class:`~sse_demo.app.service.DemoService` with :func:`bind` and wires it to its tab's components. The bound
handler's docstring adds an ``Args:`` section from :data:`PARAMETERS`: Gradio builds the parameter descriptions of
the API page and of the MCP tools (``launch(mcp_server=True)``) from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sse_demo.app.compare import compare_view
from sse_demo.app.corpus import upload_view
from sse_demo.app.embedding_map import embedding_map_view, neighbours_view
from sse_demo.app.inputs import MAX_K, MAX_QUERY_CHARS
from sse_demo.app.labelled import quality_view
from sse_demo.app.matryoshka import search_view
from sse_demo.app.peers import peers_quality_view, peers_view
from sse_demo.app.results import results_view
from sse_demo.app.saturation import saturation_view
from sse_demo.app.speed import speed_view
from sse_demo.app.state import lower_thread_priority
from sse_demo.app.tokens import tokens_view

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService


# What each view parameter means to a caller of the API or an MCP client (an endpoint may say it its own way).
PARAMETERS: dict[str, str] = {
    "query": f"The search query, in English, Japanese or both (at most {MAX_QUERY_CHARS:,} characters).",
    "text": f"The text to look at, in English, Japanese or both (at most {MAX_QUERY_CHARS:,} characters).",
    "dim": "The Matryoshka dim to cut the embeddings to: the model's own dim (512 for SSE) or a halving of it, "
    "down to 32.",
    "precision": "Which model embeds: 'fp32' (full precision) or '4-bit' (the quantised twin, 8x smaller).",
    "k": f"How many passages to return, 1 to {MAX_K}.",
    "passage_id": "The id of a passage of the corpus, such as 'en-001' or 'ja-001'.",
    "path": "The corpus file: .txt (one passage a line), .csv (a 'text' column) or .jsonl ({\"text\": ...} a line).",
    "state": "The visitor's uploaded corpus, kept by the page for its session; not a parameter of the API or the "
    "MCP tools, which search the demo corpus.",
}

# Gradio runs each event in a concurrency group with a limit: searches and other quick views in one, the views
# that encode or fit a whole corpus in another, so that a map fit or an upload runs beside searches, never ahead.
# Heavy views also run in threads of their own at a lower CPU priority, so on a small CPU searches come first;
# the map fit, which holds the GIL, goes on to a low-priority worker process (sse_demo.app.worker).
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
    mcp_tool: bool = True  # offered as an MCP tool (an MCP call keeps no per-visitor state between calls)
    parameters: Mapping[str, str] = field(default_factory=dict)  # this endpoint's own words for PARAMETERS
    concurrency: str = SEARCH  # its Gradio concurrency group, a key of CONCURRENCY_LIMITS


ENDPOINTS: dict[str, Endpoint] = {
    endpoint.api_name: endpoint
    for endpoint in (
        Endpoint("search", search_view),
        Endpoint("quality", quality_view, concurrency=HEAVY),
        # a bad upload keeps the visitor's corpus; its only output is that visitor's state, so it is no MCP tool
        Endpoint(
            "upload",
            upload_view,
            keep_outputs_on_error=True,
            mcp_tool=False,
            parameters={"previous": "The session's previous upload, dropped when this one is read; kept by the page."},
            concurrency=HEAVY,
        ),
        Endpoint("compare", compare_view, concurrency=HEAVY),  # its first call on an upload indexes it in 4-bit
        Endpoint("saturation", saturation_view, concurrency=HEAVY),  # pools the whole corpus
        Endpoint(
            "embedding_map",
            embedding_map_view,
            gpu_seconds=120,
            keep_outputs_on_error=True,
            parameters={"query": "A text to place on the map as a star; empty for none."},
            concurrency=HEAVY,
        ),
        Endpoint("neighbours", neighbours_view),
        Endpoint("tokens", tokens_view),
        Endpoint(
            "speed",
            speed_view,
            parameters={"query": "The query whose search is timed stage by stage."},
            concurrency=HEAVY,
        ),
        Endpoint("results", results_view),
        # the first call may fetch the peers from the hub, and indexes the corpus with each
        Endpoint("peers", peers_view, gpu_seconds=120, concurrency=HEAVY),
        Endpoint("peers_quality", peers_quality_view, gpu_seconds=120, concurrency=HEAVY),
    )
}


def bind(endpoint: Endpoint, service: DemoService) -> Callable:
    """The endpoint's view with ``service`` filled in, named after the endpoint, with the signature of its
    remaining positional parameters and a docstring that describes each of them (what Gradio inspects)."""
    view = endpoint.view

    def handler(*inputs):
        if endpoint.concurrency == HEAVY:
            return HEAVY_THREADS.submit(view, service, *inputs).result()
        return view(service, *inputs)

    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = [p for p in list(inspect.signature(view).parameters.values())[1:] if p.kind in positional]
    handler.__name__ = handler.__qualname__ = endpoint.api_name
    handler.__doc__ = docstring(endpoint, [p.name for p in parameters])
    handler.__signature__ = inspect.signature(view).replace(parameters=parameters)
    if not endpoint.mcp_tool:  # Gradio lists as MCP tools only functions whose _mcp_type is unset or "tool"
        handler._mcp_type = "page-only"
    return handler


def docstring(endpoint: Endpoint, names: list[str]) -> str:
    """The view's docstring with an ``Args:`` line for each parameter: the endpoint's own words, else PARAMETERS."""
    missing = [name for name in names if name not in endpoint.parameters and name not in PARAMETERS]
    if missing:
        raise KeyError(f"describe the parameters {missing} of {endpoint.api_name!r} in PARAMETERS or the Endpoint")
    args = [f"    {name}: {endpoint.parameters.get(name) or PARAMETERS[name]}" for name in names]
    return "\n".join([inspect.cleandoc(endpoint.view.__doc__ or ""), "", "Args:", *args])
