"""Query checks: what a visitor types becomes a clean query or a clear message."""

import pytest

from sse_demo.app.inputs import MAX_QUERY_CHARS, InputError, clean_query, strip_controls


def test_controls_are_replaced_and_counted():
    assert strip_controls("a\x00b\x1bc") == ("a b c", 2)


def test_tabs_and_newlines_are_not_controls():
    assert strip_controls("a\tb\nc\r") == ("a\tb\nc\r", 0)


def test_query_is_trimmed_and_spaces_collapsed():
    clean = clean_query("  plants \x00\x00 oxygen \n")
    assert clean.text == "plants oxygen"
    assert clean.removed_controls == 2
    assert "2" in clean.note


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x02", "\n\t", None])
def test_empty_queries_are_refused(text):
    with pytest.raises(InputError, match="empty"):
        clean_query(text)


def test_a_100000_character_query_names_its_length_and_the_limit():
    with pytest.raises(InputError, match=r"100,000 characters.*2,000"):
        clean_query("x" * 100_000)


def test_a_query_at_the_limit_is_accepted():
    assert len(clean_query("a" * MAX_QUERY_CHARS).text) == MAX_QUERY_CHARS


def test_non_text_is_refused():
    with pytest.raises(InputError, match="must be text"):
        clean_query(123)


def test_japanese_is_kept_as_is():
    assert clean_query("日本の料理").text == "日本の料理"
