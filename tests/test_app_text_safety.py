"""Text stays text: passages, ids and file names from a visitor never become tags, links or images in the page.

Markdown is rendered here with markdown-it-py (CommonMark); the real page (Gradio's marked, plotly, the toasts) is
checked in ``test_browser.py``.
"""

import html
import re

import pytest
from test_app_support import make_tiny_model

from sse_demo.app.corpus import describe, parse_upload, upload_view
from sse_demo.app.embedding_map import EmbeddingMap, map_figure, neighbours_view
from sse_demo.app.formatting import html_text, markdown_text
from sse_demo.app.models import choose_models
from sse_demo.app.service import DemoService
from sse_demo.app.tokens import tokens_view

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py renders the Markdown under test")

HOSTILE = [
    "<b>bold</b> <img src=x onerror=alert(1)>",
    "[click me](https://evil.example/x) ![pic](https://evil.example/p.png)",
    "<https://evil.example> http://evil.example www.evil.example mail@evil.example",
    "`code` *em* _em_ **strong** ~~gone~~ \\[x\\] &lt;b&gt; &amp;",
    "# heading | a | b |\n- item\n> quote",
]
TAGS = re.compile(r"<(?!/?(p|strong)>)[a-z]", re.IGNORECASE)  # any tag but a paragraph and the page's own bold


def rendered(markdown: str) -> str:
    return markdown_it.MarkdownIt("commonmark").render(markdown)


def shown_text(markdown: str) -> str:
    """What a reader sees: the rendered HTML without its tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered(markdown))).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_renders_as_the_text_itself_and_no_tag(text):
    out = rendered(markdown_text(text))
    assert not TAGS.search(out), out
    assert shown_text(markdown_text(text)) == " ".join(text.splitlines())


@pytest.mark.parametrize("text", HOSTILE)
def test_html_text_leaves_no_tag(text):
    assert "<" not in html_text(text) and html.unescape(html_text(text)) == text


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = DemoService(choose_models(str(make_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))))
    assert service.warm_up() == ""
    return service


@pytest.fixture
def hostile_upload(tmp_path):
    path = tmp_path / "[click me](evil.example) <img src=x>.txt"
    lines = [*HOSTILE[:4], "a plain passage about rivers", "another about mountains"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_status_lines_of_an_upload_show_its_name_as_text(service, hostile_upload):
    message, state = upload_view(service, str(hostile_upload))
    for markdown in (message, describe(service.state(state).corpus)):
        assert not TAGS.search(rendered(markdown)), markdown
        assert hostile_upload.name in shown_text(markdown)


def test_the_neighbours_summary_shows_the_passage_as_text(service, hostile_upload):
    state = upload_view(service, str(hostile_upload))[1]
    corpus = service.state(state).corpus
    for passage_id, text in zip(corpus.ids, corpus.texts, strict=True):
        summary, _ = neighbours_view(service, passage_id, "fp32", 3, state)
        assert not TAGS.search(rendered(summary)), summary
        assert text in shown_text(summary)


def test_the_token_inspector_shows_uncovered_characters_as_text(service):
    summary, _ = tokens_view(service, "`` ` <img src=x> [a](evil.example)", "fp32")
    assert not TAGS.search(rendered(summary)), summary


def test_map_labels_escape_tags_for_plotly(hostile_upload):
    corpus = parse_upload(hostile_upload)
    import numpy as np

    fitted = EmbeddingMap(np.zeros((len(corpus), 2), dtype=np.float32), np.arange(len(corpus)))
    figure = map_figure(fitted, corpus, np.zeros((1, 2)), "<b>query</b>")
    labels = [label for trace in figure.data for label in (*trace.text, trace.name)]
    assert not any("<" in label for label in labels)
    assert any("&lt;b&gt;bold&lt;/b&gt;" in label for label in labels)
