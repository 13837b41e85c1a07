"""Query checks: what a visitor types becomes a clean query or a clear message."""

import numpy as np
import pytest

from sse_demo.app.inputs import MAX_QUERY_CHARS, InputError, check_dim, check_k, clean_query, strip_controls

LADDER = (512, 256, 128, 64, 32)


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


@pytest.mark.parametrize("text", ["\ud800", "ok \udc80 ok", "\udfff日本"])
def test_lone_surrogates_are_refused_before_the_tokenizer(text):
    with pytest.raises(InputError, match=r"invalid Unicode \(a lone surrogate.*Unicode"):
        clean_query(text)


@pytest.mark.parametrize(
    "text", ["\u200b", "\u200b\u200c\u200d\ufeff", " \u2060 \u00ad ", "\u3164", "\u2800\u2800", "\ufe0f", "\x00\u200b"]
)
def test_invisible_only_queries_are_refused(text):
    with pytest.raises(InputError, match=r"no visible characters.*見える文字"):
        clean_query(text)


def test_invisible_characters_inside_visible_text_are_kept():
    assert clean_query("👩\u200d💻 coder").text == "👩\u200d💻 coder"


@pytest.mark.parametrize(("k", "expected"), [(10, 10), ("10", 10), (" 7 ", 7), (3.0, 3), ("+4", 4), (np.int64(5), 5)])
def test_k_accepts_whole_numbers_and_numeric_strings(k, expected):
    assert check_k(k) == expected
    assert type(check_k(k)) is int


@pytest.mark.parametrize("k", [2.5, "2.5", None, [], "abc", True, False, float("nan"), "9" * 5000, {}, b"10", "1_0"])
def test_k_that_is_not_a_whole_number_is_refused_not_truncated(k):
    with pytest.raises(InputError, match=r"k must be a whole number.*件数"):
        check_k(k)


@pytest.mark.parametrize("k", [0, -3, 51, "0", 10**100])
def test_k_out_of_range_names_the_range(k):
    with pytest.raises(InputError, match=r"k must be from 1 to 50.*件数"):
        check_k(k)


def test_a_long_bad_value_is_shown_shortened():
    with pytest.raises(InputError) as error:
        check_k("x" * 10_000)
    assert len(str(error.value)) < 300


@pytest.mark.parametrize(("dim", "expected"), [(512, 512), ("512", 512), ("128", 128), (64.0, 64), (np.int32(32), 32)])
def test_dim_accepts_ints_and_the_strings_the_api_page_documents(dim, expected):
    assert check_dim(dim, LADDER) == expected


@pytest.mark.parametrize("dim", [None, [], "abc", True, 128.5, "128.5", {}])
def test_dim_that_is_not_a_whole_number_is_refused(dim):
    with pytest.raises(InputError, match=r"dim must be one of 512, 256, 128, 64, 32.*次元"):
        check_dim(dim, LADDER)
