"""The API routes and a Gradio page on one port, wired the way app.py does it:
``demo.launch(app_kwargs={"routes": router.routes})`` puts the routes into the FastAPI app Gradio creates."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import gradio as gr
import httpx
import numpy as np
import openai
import pytest
from gradio_client import Client

import sse_demo
from sse_demo.api import embeddings_router, model_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def model() -> sse_demo.SSEModel:
    return sse_demo.load_model(quantized=True)


@pytest.fixture(scope="module")
def page_url(model: sse_demo.SSEModel) -> Iterator[str]:
    with gr.Blocks(title="tiny page") as demo:
        text = gr.Textbox(label="Text")
        size = gr.Number(label="Tokens")
        gr.Button("Count").click(lambda t: len(model.tokenize([t])[0]), text, size, api_name="count")
    router = embeddings_router({model_id(None, quantized=True): model}, api_key="")
    demo.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        app_kwargs={"routes": router.routes},
    )
    try:
        yield demo.local_url.rstrip("/")
    finally:
        demo.close()


def test_page_and_api_share_one_port(page_url: str, model: sse_demo.SSEModel) -> None:
    page = httpx.get(page_url)
    assert page.status_code == 200 and "tiny page" in page.text
    assert Client(page_url, verbose=False).predict("Tokyo is the capital", api_name="/count") == len(
        model.tokenize(["Tokyo is the capital"])[0]
    )
    client = openai.OpenAI(base_url=f"{page_url}/v1", api_key="not-needed", max_retries=0)
    assert [m.id for m in client.models.list()] == ["sse-bilingual-small-q4"]
    response = client.embeddings.create(model="sse-bilingual-small-q4", input=["東京", "Tokyo"], dimensions=128)
    np.testing.assert_array_equal(
        np.array([item.embedding for item in response.data], dtype=np.float32),
        model.encode(["東京", "Tokyo"], dim=128),
    )


def test_api_errors_keep_openais_shape_behind_gradio(page_url: str) -> None:
    response = httpx.post(f"{page_url}/v1/embeddings", json={"model": "sse-bilingual-small-q4", "input": []})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"
