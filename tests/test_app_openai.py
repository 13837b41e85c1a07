"""``python app.py`` serves the OpenAI-compatible embeddings API on the page's own port, over the page's models.

One app is started (bundled model, hub probe skipped with ``HF_HUB_OFFLINE=1``, a bearer key in ``SSE_API_KEY``)
and driven with the real ``openai`` client.
"""

from __future__ import annotations

import base64

import httpx
import numpy as np
import openai
import pytest
from test_app_support import start_app

import sse_demo

KEY = "test-key"
TEXTS = ["東京は日本の首都です。", "Tokyo is the capital of Japan.", "cherry blossom viewing party"]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("app-openai")
    process, url = start_app(None, root / "app.log", flag=False, env={"HF_HUB_OFFLINE": "1", "SSE_API_KEY": KEY})
    try:
        yield url.rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def client(app_url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{app_url}/v1", api_key=KEY, max_retries=0)


def test_models_lists_the_pages_pair_by_stable_id(client):
    assert [model.id for model in client.models.list()] == ["sse-bilingual-small", "sse-bilingual-small-q4"]


@pytest.mark.parametrize(("model_id", "quantized"), [("sse-bilingual-small", False), ("sse-bilingual-small-q4", True)])
def test_vectors_equal_encode_for_both_models(client, model_id, quantized):
    expected = sse_demo.load_model(quantized=quantized).encode(TEXTS, dim=256)
    as_float = client.embeddings.create(model=model_id, input=TEXTS, dimensions=256, encoding_format="float")
    np.testing.assert_array_equal(np.array([item.embedding for item in as_float.data], dtype=np.float32), expected)
    as_base64 = client.embeddings.with_raw_response.create(
        model=model_id, input=TEXTS, dimensions=256, encoding_format="base64"
    )
    decoded = [
        np.frombuffer(base64.b64decode(item["embedding"]), "<f4") for item in as_base64.http_response.json()["data"]
    ]
    np.testing.assert_array_equal(np.stack(decoded), expected)


def test_a_bad_request_gets_an_openai_shaped_400(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model="sse-bilingual-small", input=[], dimensions=256)
    assert raised.value.status_code == 400
    error = raised.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == "input"


def test_an_unknown_model_is_a_404_naming_the_served_ids(client):
    with pytest.raises(openai.NotFoundError, match="sse-bilingual-small-q4"):
        client.embeddings.create(model="text-embedding-3-small", input="hello")


def test_the_key_from_sse_api_key_is_required(app_url):
    response = httpx.post(f"{app_url}/v1/embeddings", json={"model": "sse-bilingual-small", "input": "hello"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


def test_the_page_names_the_api_and_its_model_ids(app_url):
    config = httpx.get(f"{app_url}/config").text
    assert "/v1/embeddings" in config
    assert "`sse-bilingual-small`" in config and "`sse-bilingual-small-q4`" in config
