"""The OpenAI-compatible API served on a free port, driven by the real ``openai`` client (and raw HTTP where the
client cannot send the malformed request)."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
import openai
import pytest
import uvicorn
from conftest import REPO
from fastapi import FastAPI

import sse_demo
from sse_demo.api import MAX_INPUT_CHARS, MAX_INPUTS, embeddings_router

FP32_ID, Q4_ID = "sse-bilingual-small", "sse-bilingual-small-q4"
TEXTS = ["東京は日本の首都です。", "Tokyo is the capital of Japan.", "cherry blossom viewing party 花見"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free local port in a thread; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def app_with(models, **router_options) -> FastAPI:
    app = FastAPI()
    app.include_router(embeddings_router(models, **router_options))
    return app


@pytest.fixture(scope="module")
def bundled() -> dict[str, sse_demo.SSEModel]:
    return {FP32_ID: sse_demo.load_model(), Q4_ID: sse_demo.load_model(quantized=True)}


@pytest.fixture(scope="module")
def base_url(bundled: dict[str, sse_demo.SSEModel]) -> Iterator[str]:
    with serve(app_with(bundled, api_key="")) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="not-needed", max_retries=0)


def test_models_lists_both_precisions_with_stable_ids(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [FP32_ID, Q4_ID]
    assert client.models.retrieve(Q4_ID).owned_by == "sse_demo"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


@pytest.mark.parametrize("model_id", [FP32_ID, Q4_ID])
def test_vectors_equal_encode_at_256_in_float_and_base64(client, bundled, model_id: str) -> None:
    expected = bundled[model_id].encode(TEXTS, dim=256)
    as_float = client.embeddings.create(model=model_id, input=TEXTS, dimensions=256, encoding_format="float")
    as_base64 = client.embeddings.create(model=model_id, input=TEXTS, dimensions=256)  # the client's default
    for response in (as_float, as_base64):
        got = np.array([item.embedding for item in response.data], dtype=np.float32)
        np.testing.assert_array_equal(got, expected)
        assert [item.index for item in response.data] == [0, 1, 2]
        assert response.model == model_id
        assert response.usage.prompt_tokens == len(bundled[model_id].tokenize(TEXTS)[0]) > len(TEXTS)


def test_base64_is_little_endian_float32_of_the_same_vector(base_url, bundled) -> None:
    body = {"model": FP32_ID, "input": TEXTS[0], "dimensions": 64, "encoding_format": "base64"}
    item = httpx.post(f"{base_url}/v1/embeddings", json=body).json()["data"][0]
    vector = np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
    np.testing.assert_array_equal(vector, bundled[FP32_ID].encode(TEXTS[0], dim=64))
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5  # truncated, then normalised


def test_single_string_and_full_dim(client, bundled) -> None:
    response = client.embeddings.create(model=Q4_ID, input=TEXTS[1], encoding_format="float")
    assert len(response.data) == 1 and len(response.data[0].embedding) == 512
    np.testing.assert_array_equal(np.float32(response.data[0].embedding), bundled[Q4_ID].encode([TEXTS[1]])[0])


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"input": ""}, "input"),
        ({"input": "   "}, "input"),
        ({"input": []}, "input"),
        ({"input": ["ok"] * (MAX_INPUTS + 1)}, "input"),
        ({"input": ["ok", "x" * (MAX_INPUT_CHARS + 1)]}, "input"),
        ({"input": [1, 2, 3]}, "input"),
        ({"input": [["nested"]]}, "input"),
        ({"input": {"text": "a dict"}}, "input"),
        ({"dimensions": 0}, "dimensions"),
        ({"dimensions": 513}, "dimensions"),
        ({"dimensions": 1.5}, "dimensions"),
        ({"dimensions": "256"}, "dimensions"),
        ({"encoding_format": "int8"}, "encoding_format"),
        ({"model": 7}, "model"),
    ],
)
def test_bad_input_is_a_400_in_openais_shape(client, fields: dict, param: str) -> None:
    request = {"model": FP32_ID, "input": "ok", **fields}
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(**request)
    assert caught.value.status_code == 400
    error = caught.value.body
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


@pytest.mark.parametrize(
    ("body", "param", "says"),
    [
        ({"model": FP32_ID, "input": "ok", "dimensions": True}, "dimensions", "integer"),
        ({"model": FP32_ID, "input": "ok", "temperature": 0}, "temperature", "unrecognised"),
        ({"input": "ok"}, "model", "required"),
        ({"model": FP32_ID}, "input", "required"),
        ([1, 2], None, "JSON object"),
    ],
)
def test_raw_bad_requests_name_the_field(base_url, body, param, says: str) -> None:
    response = httpx.post(f"{base_url}/v1/embeddings", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and says in error["message"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"model": "sse-bilingual-small", "input": "\\ud800 lone surrogate"}', "not valid Unicode"),
        (b'{"model": "sse-bilingual-small", "input": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"model": "sse-bilingual-small", "input": ', "not valid JSON"),
    ],
)
def test_undecodable_text_is_a_400(base_url, content: bytes, says: str) -> None:
    response = httpx.post(f"{base_url}/v1/embeddings", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert says in response.json()["error"]["message"]


def test_unknown_model_is_a_404_listing_the_ids(client) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert caught.value.body["code"] == "model_not_found" and FP32_ID in caught.value.body["message"]


def test_body_over_the_limit_is_a_413(bundled) -> None:
    with serve(app_with(bundled, api_key="", max_body_bytes=2_000)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            client.embeddings.create(model=FP32_ID, input=["a long enough text"] * 200)
        assert caught.value.status_code == 413 and caught.value.body["code"] == "request_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
            yield b'{"model": "sse-bilingual-small", "input": ["'
            yield from [b"x" * 500] * 10
            yield b'"]}'

        streamed = httpx.post(f"{url}/v1/embeddings", content=chunks())
        assert streamed.status_code == 413
        assert client.embeddings.create(model=FP32_ID, input="short").data  # within the limit: served


def test_bearer_key_when_set(bundled) -> None:
    with serve(app_with(bundled, api_key="s3cret")) as url:
        for key in ("wrong", ""):
            wrong = openai.OpenAI(base_url=f"{url}/v1", api_key=key or "-", max_retries=0)
            with pytest.raises(openai.AuthenticationError) as caught:
                wrong.embeddings.create(model=FP32_ID, input="hello")
            assert caught.value.body["code"] == "invalid_api_key"
        assert httpx.get(f"{url}/v1/models").status_code == 401
        right = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
        assert len(right.embeddings.create(model=FP32_ID, input="hello").data) == 1


def test_key_comes_from_the_environment(bundled, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSE_API_KEY", "from-env")
    with serve(app_with(bundled)) as url:
        assert httpx.get(f"{url}/v1/models").status_code == 401
        assert httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer from-env"}).status_code == 200


def test_providers_load_on_first_use_and_a_failing_one_is_a_503(bundled) -> None:
    calls: list[str] = []

    def lend_q4() -> sse_demo.SSEModel:
        calls.append("q4")
        return bundled[Q4_ID]

    def broken() -> sse_demo.SSEModel:
        raise OSError("weights missing")

    with serve(app_with({Q4_ID: lend_q4, "broken": broken}, api_key="")) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        assert [m.id for m in client.models.list()] == [Q4_ID, "broken"] and calls == []
        for _ in range(2):
            client.embeddings.create(model=Q4_ID, input="hello")
        assert calls == ["q4"]
        with pytest.raises(openai.InternalServerError) as caught:
            client.embeddings.create(model="broken", input="hello")
        assert caught.value.status_code == 503 and "weights missing" in caught.value.body["message"]


def test_python_m_sse_demo_api_serves_the_bundled_pair(bundled) -> None:
    port = free_port()
    command = [sys.executable, "-m", "sse_demo.api", "--port", str(port)]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0)
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                ids = [m.id for m in client.models.list()]
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline, "python -m sse_demo.api did not start"
                time.sleep(0.2)
        assert ids == [FP32_ID, Q4_ID]
        response = client.embeddings.create(model=Q4_ID, input=TEXTS, dimensions=256)
        got = np.array([item.embedding for item in response.data], dtype=np.float32)
        np.testing.assert_array_equal(got, bundled[Q4_ID].encode(TEXTS, dim=256))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_largest_batch_is_served(client, bundled) -> None:
    texts = [f"passage {i} 東京" for i in range(MAX_INPUTS)]
    response = client.embeddings.create(model=FP32_ID, input=texts, dimensions=32)
    assert [item.index for item in response.data] == list(range(MAX_INPUTS))
    np.testing.assert_array_equal(
        np.array([d.embedding for d in response.data]), bundled[FP32_ID].encode(texts, dim=32)
    )


class FailingEncoder:
    """An encoder whose encode breaks: the API must still answer in OpenAI's shape."""

    dim = 8

    def encode(self, texts, *, dim=None, normalize=True):
        raise RuntimeError("kernel exploded")

    def tokenize(self, texts):
        return np.zeros(0, dtype=np.int64), np.zeros(len(texts), dtype=np.int64)


def test_an_encoder_failure_is_a_500_in_openais_shape() -> None:
    from fastapi.testclient import TestClient

    with TestClient(app_with({"failing": FailingEncoder()}, api_key="")) as http:
        response = http.post("/v1/embeddings", json={"model": "failing", "input": "hello"})
    assert response.status_code == 500
    assert (
        response.json()["error"]["type"] == "server_error" and "kernel exploded" in response.json()["error"]["message"]
    )
