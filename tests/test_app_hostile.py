"""Generated hostile input (hypothesis, derandomised) through the endpoint table and the CLI's ``main``.

Over 1,300 inputs in all (the ``max_examples`` below): invalid Unicode, invisible-only and non-text queries, ``k``
and ``dim`` in every type an API caller can send, made-up and uploaded passage ids, broken upload files, and the
CLI's ``encode`` and ``search``. Every call must answer, or raise :class:`InputError` with a specific bilingual
message (the page shows it; anything else would reach the visitor as a generic "Something went wrong"). A sample
of the same inputs goes through a served app in ``test_app_client.py``.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from hostile_inputs import (
    GENERIC,
    HOSTILE_TEXTS,
    any_query,
    dim_cases,
    either,
    is_invisible_only,
    k_cases,
    non_text,
    precisions,
    upload_content,
    upload_suffix,
)
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from test_app_support import make_tiny_model

from sse_demo.app.embedding_map import EmbeddingMap
from sse_demo.app.endpoints import ENDPOINTS, bind
from sse_demo.app.inputs import InputError, Precision
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService
from sse_demo.cli import main
from sse_demo.text import text_problem

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FIXED_QUERY = "mountain river"


def generated(examples: int):
    """Derandomised (the same inputs every run), no example database, no per-example deadline."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


def planar_map(vectors: np.ndarray) -> EmbeddingMap:
    """A linear 2-D projection standing in for UMAP (whose numba compile takes tens of seconds): the map view's
    input handling is what is under test here; the UMAP fit is tested in ``test_app_client.py``."""
    basis = np.linalg.svd(vectors - vectors.mean(0), full_matrices=False)[2][:2].T
    return EmbeddingMap((vectors @ basis).astype(np.float32), np.arange(len(vectors)))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = DemoService(choose_models(str(make_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))))
    assert service.warm_up() == ""
    for precision in Precision:
        vectors = service.index(None, precision).view(service.full_dim)
        service.demo.maps.get(precision, lambda v=vectors: planar_map(v))
    return service


@pytest.fixture(scope="module")
def uploaded(service, tmp_path_factory):
    """A visitor's upload: ids given in the file, passages with markup and odd characters."""
    path = tmp_path_factory.mktemp("upload") / "mine <b>.jsonl"
    texts = ["a red fox <img src=x>", "[click](evil.example) river", "赤いきつね", "quiet 🦊 forest", "雪の山"]
    ids = ["fox-1", "<b>2</b>", "狐", "4", "[5](x)"]
    path.write_text("\n".join(f'{{"id": "{i}", "text": "{t}"}}' for i, t in zip(ids, texts, strict=True)) + "\n")
    _, state = call(service, "upload", str(path))
    assert service.state(state).corpus.ids == ids
    return state


def count(label: str) -> None:
    """Count an outcome (``pytest --hypothesis-show-statistics`` shows the shares) inside a generated test."""
    if currently_in_test_context():
        event(label)


def call(service: DemoService, api_name: str, *inputs):
    """The endpoint's answer, or its InputError after checking the message is specific and bilingual."""
    try:
        answer = bind(ENDPOINTS[api_name], service)(*inputs)
        count(f"{api_name} answered")
        return answer
    except InputError as error:
        count(f"{api_name} refused")
        message = str(error)
        assert message and GENERIC not in message and JAPANESE.search(message) and " / " in message, message
        assert len(message) < 1_000, message  # a long bad value is quoted shortened
        return error


def refused(answer) -> bool:
    return isinstance(answer, InputError)


@generated(250)
@given(query=either(any_query, non_text))
def test_search_answers_only_visible_text_and_refuses_the_rest(service, query):
    answer = call(service, "search", query, 128, "fp32", 5, None)
    if not isinstance(query, str) or is_invisible_only(query) or text_problem(query) is not None:
        assert refused(answer), query  # 0 results for invisible-only, empty, surrogate or non-text queries
    if not refused(answer):
        assert len(answer[1]) == 5


@generated(250)
@given(k=k_cases, dim=dim_cases)
def test_search_k_and_dim_rules(service, k, dim):
    (k_sent, k_expected), (dim_sent, dim_expected) = k, dim
    answer = call(service, "search", FIXED_QUERY, dim_sent, "fp32", k_sent, None)
    if k_expected is None:
        assert refused(answer) and "k must" in str(answer), (k_sent, answer)
    elif dim_expected is None:
        assert refused(answer) and "dim must be one of 512, 256, 128, 64, 32" in str(answer), (dim_sent, answer)
    else:
        summary, results, _, _ = answer
        assert len(results) == k_expected and f"dim {dim_expected}" in summary


@generated(100)
@given(query=any_query, k=either(st.just((5, 5)), k_cases), dim=either(st.just((128, 128)), dim_cases))
def test_compare(service, query, k, dim):
    answer = call(service, "compare", query, dim[0], k[0], None)
    if is_invisible_only(query) or k[1] is None or dim[1] is None:
        assert refused(answer)


@generated(150)
@given(api_name=st.sampled_from(["tokens", "saturation"]), text=any_query, precision=precisions)
def test_text_views(service, api_name, text, precision):
    inputs = (text, precision) if api_name == "tokens" else (text, precision, None)
    answer = call(service, api_name, *inputs)
    if not isinstance(text, str) or is_invisible_only(text) or precision not in ("fp32", "4-bit"):
        assert refused(answer)


@generated(60)
@given(query=either(any_query, non_text), precision=precisions)
def test_embedding_map_places_only_a_readable_query(service, query, precision):
    answer = call(service, "embedding_map", query, precision, None)
    if precision not in ("fp32", "4-bit") or (isinstance(query, str) and query.strip() and is_invisible_only(query)):
        assert refused(answer)


@generated(200)
@given(
    passage_id=st.sampled_from(["fox-1", "<b>2</b>", "狐", "4", "[5](x)", 4])
    | st.sampled_from(HOSTILE_TEXTS)
    | non_text,
    k=k_cases,
)
def test_neighbours_take_an_uploaded_id_and_refuse_the_rest(service, uploaded, passage_id, k):
    answer = call(service, "neighbours", passage_id, "fp32", k[0], uploaded)
    known = str(passage_id) in service.state(uploaded).corpus.ids and not isinstance(passage_id, bool)
    if known and k[1] is not None:
        summary, table = answer
        assert (
            len(table) == min(k[1], len(service.state(uploaded).corpus) - 1)
            and str(passage_id) not in table["id"].tolist()
        )
        assert "<" not in summary.replace("\\<", "") and "](" not in summary  # shown as text, see test_app_text_safety
    elif passage_id not in (None, ""):
        assert refused(answer)


@generated(150)
@given(content=upload_content, suffix=upload_suffix)
def test_uploads_are_parsed_or_refused_naming_the_problem(service, tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("up") / f"upload{suffix}"
    path.write_bytes(content)
    answer = call(service, "upload", str(path))
    if not refused(answer):
        corpus = service.state(answer[1]).corpus
        assert len(corpus) >= 1 and all(text_problem(text) is None for text in corpus.texts)


def run_cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse's own refusal (a usage line), never a traceback
            code = exit_.code
    return code, err.getvalue()


@generated(100)
@given(texts=st.lists(any_query, min_size=1, max_size=3))
def test_cli_encode(fp32_dir, texts):
    code, err = run_cli("encode", "--model", str(fp32_dir), "--", *texts)
    event(f"encode exit {code}")
    assert code in (0, 2) and "Traceback" not in err
    if any(is_invisible_only(t) for t in texts):
        assert code == 2 and "error: text" in err


@generated(50)
@given(query=any_query, corpus=upload_content)
def test_cli_search(fp32_dir, tmp_path_factory, query, corpus):
    path = tmp_path_factory.mktemp("cli") / "corpus.txt"
    path.write_bytes(corpus)
    code, err = run_cli("search", "--model", str(fp32_dir), "--corpus", str(path), "--query", query, "--top-k", "3")
    event(f"search exit {code}")
    assert code in (0, 2) and "Traceback" not in err
    if is_invisible_only(query):
        assert code == 2
