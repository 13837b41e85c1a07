"""The running app through gradio_client: every named endpoint, English and Japanese, and bad input.

The app is started as ``python app.py`` in a subprocess on a free port, with a tiny model made here and passed
through ``SSE_MODEL`` (the browser test passes it with ``--model``).
"""

import pytest
from hostile_inputs import GENERIC, HOSTILE_TEXTS, is_invisible_only
from test_app_support import make_tiny_model, running_app, start_app

from sse_demo.text import text_problem

WARNING = "⚠️"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app"), flag=False) as url:
        yield url


@pytest.fixture
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def rows(table):
    return table["data"]


def test_named_endpoints_are_listed(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/search", "/compare", "/saturation", "/upload", "/tokens", "/speed", "/quality", "/results"} <= names
    assert {"/peers", "/peers_quality"} <= names


def test_search_in_english(client):
    summary, results, _full, costs = client.predict("How do plants make oxygen?", 256, "fp32", 5, api_name="/search")
    assert "dim 256" in summary
    assert [r[0] for r in rows(results)] == [1, 2, 3, 4, 5]
    assert results["headers"][-2:] == ["rank@512", "shift vs 512"]
    assert [r[0] for r in rows(costs)] == [512, 256, 128, 64, 32]


def test_search_in_japanese_with_the_4bit_model(client):
    summary, results, _, _ = client.predict("日本の伝統的な料理", 64, "4-bit", 3, api_name="/search")
    assert "4-bit · dim 64" in summary and len(rows(results)) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", "empty"), ("   \n\t ", "empty"), ("\x00\x01\x02", "empty"), ("x" * 100_000, "100,000 characters")],
)
def test_bad_queries_get_a_message_and_no_results(client, query, expected):
    summary, results, _, _ = client.predict(query, 512, "fp32", 5, api_name="/search")
    assert summary.startswith(WARNING) and expected in summary
    assert rows(results) == []


def test_control_characters_are_removed_with_a_note(client):
    summary, results, _, _ = client.predict("sushi\x00\x07 rice", 512, "fp32", 5, api_name="/search")
    assert "Removed 2 control character(s)" in summary and len(rows(results)) == 5


def test_app_keeps_serving_after_bad_input(client):
    client.predict("", 512, "fp32", 5, api_name="/search")
    summary, results, _, _ = client.predict("mountain", 512, "fp32", 2, api_name="/search")
    assert not summary.startswith(WARNING) and len(rows(results)) == 2


def test_compare_endpoint(client):
    summary, table, sizes = client.predict("cherry blossom", 128, 5, api_name="/compare")
    assert "overlap@5" in summary and "Spearman" in summary
    assert "rank 4-bit" in table["headers"] and len(rows(sizes)) == 2


def test_compare_with_an_empty_query(client):
    summary, _, _ = client.predict(" ", 128, 5, api_name="/compare")
    assert summary.startswith(WARNING)


def test_saturation_endpoint(client):
    summary, curve, _dims, hist, _params, table = client.predict("桜の下で花見", "fp32", api_name="/saturation")
    assert "dimensions saturated" in summary
    assert curve is not None and hist is not None and len(rows(table)) == 20


def test_tokens_endpoint(client):
    summary, table = client.predict("東京の新幹線", "fp32", api_name="/tokens")
    assert "tokens" in summary and len(rows(table)) >= 2


def test_speed_endpoint(client):
    summary, figure = client.predict("speed", api_name="/speed")
    assert summary.count("texts/s") == 2 and figure is not None


def test_quality_endpoint_uses_the_demo_pairs_without_eval_sets(client):
    summary, table, _ = client.predict("fp32", api_name="/quality")
    assert "derived from the demo corpus" in summary and len(rows(table)) == 10


def test_results_endpoint(client):
    summary, table, _, published = client.predict(api_name="/results")
    assert len(rows(published)) == 28 and "published" in summary.lower()
    assert 0 < len(rows(table)) <= 20 and "docs/results.md" in summary


def upload(client, path):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), api_name="/upload")


def test_uploaded_corpus_is_searched_in_the_same_session(client, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "a red fox"}\n{"text": "赤いきつね"}\n', encoding="utf-8")
    assert "2 passages" in upload(client, path)
    _, results, _, _ = client.predict("fox", 512, "fp32", 10, api_name="/search")
    assert len(rows(results)) == 2


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"", "is empty"),
        ("latin1.txt", "café\n".encode("latin-1"), "not UTF-8"),
        ("bad.csv", b'text\n"never closed\n', "malformed CSV"),
        ("bad.jsonl", b'{"text": "ok"}\n{oops\n', "line 2 is not valid JSON"),
    ],
)
def test_bad_uploads_get_a_message_and_keep_the_corpus(client, tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    message = upload(client, path)
    assert message.startswith(WARNING) and expected in message
    _, results, _, _ = client.predict("train", 512, "fp32", 10, api_name="/search")
    assert len(rows(results)) == 10  # still the demo corpus


def test_embedding_map_and_neighbours(client):
    summary, figure = client.predict("sushi", "fp32", api_name="/embedding_map")
    assert "UMAP of 328 passages" in summary and figure is not None
    summary, table = client.predict("ja-001", "fp32", 3, api_name="/neighbours")
    assert len(rows(table)) == 3


def test_a_model_that_fails_to_load_is_reported_in_the_page(tmp_path):
    from gradio_client import Client

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_text("{}")
    process, url = start_app(broken, tmp_path / "app.log", flag=True)
    try:
        summary, results, _, _ = Client(url, verbose=False).predict("hello", 512, "fp32", 5, api_name="/search")
        assert summary.startswith(WARNING) and "could not be loaded" in summary and rows(results) == []
    finally:
        process.terminate()
        process.wait(timeout=30)


FAKE_SPACES = """
import functools, os

def GPU(duration=60):
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            with open(os.environ["FAKE_SPACES_LOG"], "a") as log:
                log.write(f"{fn.__name__} {duration}\\n")
            return fn(*args, **kwargs)
        return inner
    return wrap
"""


def test_zerogpu_path_wraps_handlers_in_spaces_gpu(tmp_path, monkeypatch):
    from gradio_client import Client

    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "spaces.py").write_text(FAKE_SPACES)
    log = tmp_path / "gpu-calls.txt"
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setenv("FAKE_SPACES_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake"))  # start_app puts the repo after it
    process, url = start_app(make_tiny_model(tmp_path / "model"), tmp_path / "app.log", flag=True)
    try:
        summary, results, _, _ = Client(url, verbose=False).predict("桜", 128, "4-bit", 3, api_name="/search")
        assert "4-bit · dim 128" in summary and len(rows(results)) == 3
        assert "search 60" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


def raw_predict(app_url: str, api_name: str, *data) -> list:
    """Call an endpoint over Gradio's HTTP API with ASCII-escaped JSON, as a hand-written client may: it carries
    lone surrogates (``"\\ud800"``), which gradio_client (UTF-8 JSON) cannot send."""
    import json

    import httpx

    call = f"{app_url}gradio_api/call/{api_name}"
    body = json.dumps({"data": list(data)})
    event_id = httpx.post(call, content=body, headers={"content-type": "application/json"}).json()["event_id"]
    stream = httpx.get(f"{call}/{event_id}", timeout=60).text
    assert "event: complete" in stream, stream
    return json.loads(stream.rsplit("data:", 1)[1])


# A sample of the generated hostile inputs of test_app_hostile.py, through the served page's API.
@pytest.mark.parametrize("query", HOSTILE_TEXTS)
def test_hostile_queries_get_results_or_a_specific_message(app_url, query):
    summary, results, _, _ = raw_predict(app_url, "search", query, 512, "fp32", 3)
    assert GENERIC not in summary
    if is_invisible_only(query) or text_problem(query) is not None or len(query) > 2_000:
        assert summary.startswith(WARNING) and rows(results) == []
    else:
        assert not summary.startswith(WARNING) and len(rows(results)) == 3


@pytest.mark.parametrize(("k", "dim", "expected"), [("10", "512", 10), (" 4 ", 128, 4), (7.0, "64", 7)])
def test_k_and_dim_as_the_api_page_documents_them(client, k, dim, expected):
    summary, results, _, _ = client.predict("mountain", dim, "fp32", k, api_name="/search")
    assert not summary.startswith(WARNING) and len(rows(results)) == expected and f"dim {int(dim)}" in summary


@pytest.mark.parametrize("k", [2.5, None, [], "abc", True, "2.5", 0, 51])
def test_bad_k_gets_its_own_message(client, k):
    summary, results, _, _ = client.predict("mountain", 512, "fp32", k, api_name="/search")
    assert summary.startswith(WARNING) and "k must" in summary and "件数" in summary and rows(results) == []


@pytest.mark.parametrize("dim", ["512.5", None, [], "abc", 100])
def test_bad_dim_gets_its_own_message(client, dim):
    summary, _, _, _ = client.predict("mountain", dim, "fp32", 5, api_name="/search")
    assert summary.startswith(WARNING) and "dim must be one of" in summary and "次元" in summary


def test_neighbours_of_an_uploaded_passage_through_the_api(client, tmp_path):
    path = tmp_path / "mine.jsonl"
    lines = [("fox", "a red fox"), ("kitsune", "赤いきつね"), ("river", "a quiet river"), ("snow", "雪の山")]
    path.write_text("".join(f'{{"id": "{i}", "text": "{t}"}}\n' for i, t in lines), encoding="utf-8")
    assert "4 passages" in upload(client, path)
    summary, table = client.predict("kitsune", "fp32", "2", api_name="/neighbours")
    assert not summary.startswith(WARNING) and "kitsune" in summary
    assert len(rows(table)) == 2 and "kitsune" not in [row[2] for row in rows(table)]
    summary, table = client.predict("en-001", "fp32", 2, api_name="/neighbours")  # the demo's, not this session's
    assert summary.startswith(WARNING) and "Pick a passage" in summary and rows(table) == []


def test_an_uploaded_name_and_passages_are_shown_as_text(client, tmp_path):
    path = tmp_path / "[click me](evil.example) <img src=x>.txt"
    path.write_text("<b>bold</b> passage\n[click me](evil.example)\nplain\n", encoding="utf-8")
    message = upload(client, path)
    assert "\\[click me\\]\\(evil.example\\)" in message  # (Gradio itself drops < and > from file names)
    summary, _ = client.predict("1", "fp32", 1, api_name="/neighbours")
    assert "\\<b\\>bold\\</b\\>" in summary
