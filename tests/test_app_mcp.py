"""``python app.py`` is an MCP server: its named endpoints are tools, described from their docstrings' ``Args:``,
without the visitor's corpus state. Driven with the ``mcp`` client over Gradio's streamable HTTP transport."""

from __future__ import annotations

import asyncio

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from test_app_support import start_app

from sse_demo.app.endpoints import ENDPOINTS
from sse_demo.app.matryoshka import search_view
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService

QUERY = "cherry blossom viewing party"


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("app-mcp")
    process, url = start_app(None, root / "app.log", flag=False, env={"HF_HUB_OFFLINE": "1"})
    try:
        yield f"{url}gradio_api/mcp/"
    finally:
        process.terminate()
        process.wait(timeout=30)


def session_call(url: str, work):
    """Run ``await work(session)`` in an initialised MCP client session on ``url``."""

    async def main():
        async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def tools(mcp_url):
    async def work(session):
        return {tool.name: tool for tool in (await session.list_tools()).tools}

    return session_call(mcp_url, work)


def test_the_named_endpoints_are_tools_but_upload_is_not(tools):
    assert set(tools) == set(ENDPOINTS) - {"upload"}  # an upload only sets the visitor's state, which MCP cannot keep


def test_every_tool_parameter_is_described_and_state_is_not_one(tools):
    for tool in tools.values():
        assert tool.description
        properties = tool.inputSchema["properties"]
        assert "state" not in properties
        for name, schema in properties.items():
            assert schema.get("description"), f"{tool.name}.{name} has no description"


def test_the_dim_is_an_integer_from_the_ladder(tools):
    dim = tools["search"].inputSchema["properties"]["dim"]
    assert dim["type"] == "integer" and dim["enum"] == [512, 256, 128, 64, 32]


def test_search_answers_with_demo_corpus_results(mcp_url):
    service = DemoService(choose_models(None))
    _, results, _, _ = search_view(service, QUERY, 256, "4-bit", 3, None)
    expected = list(results["text"])

    async def work(session):
        return await session.call_tool("search", {"query": QUERY, "dim": 256, "precision": "4-bit", "k": 3})

    answer = session_call(mcp_url, work)
    text = "\n".join(part.text for part in answer.content if part.type == "text")
    assert not answer.isError, text
    assert "dim 256" in text
    for passage in expected:
        assert passage in text
