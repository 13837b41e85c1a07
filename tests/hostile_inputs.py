"""Hostile inputs for the app's endpoints and the CLI: hand-picked cases and hypothesis strategies that generate more.

Not a test module: ``test_app_hostile.py`` (views, the endpoint table, the CLI) and ``test_app_client.py`` (a
sample through gradio_client) import from here. Strategies that carry an expectation yield ``(value, expected)``
pairs, the expectation written here from the rule (never computed by the code under test).
"""

from __future__ import annotations

import math
import string
import unicodedata

from hypothesis import strategies as st

LADDER = (512, 256, 128, 64, 32)  # the tiny test model's dims
MAX_K = 50
GENERIC = "Something went wrong"

# Categories whose characters show nothing: a text made only of them must never be searched.
INVISIBLE_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")
INVISIBLE_TEXTS = [
    "\u200b",
    "\u200b\u200c\u200d",
    "\ufeff",
    "\u2060\u2061\u2062",
    "\u00ad",
    "\u202e\u202d",
    " \u3000 ",
    "\u180e",
    "\x00\u200b\x7f",
    "\u3164",
    "\u2800",
    "\ufe0f\ufe0e",
    "\U000e0001\U000e0020",
]
SURROGATE_TEXTS = ["\ud800", "\udfff", "ok \udc80 ok", "日本\udbff", "\ud83d"]  # \ud83d: half an emoji
HTML_AND_MARKDOWN = [
    "<b>bold</b>",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click me](https://evil.example)",
    "![x](https://evil.example/p.png)",
    "<https://evil.example>",
    "www.evil.example",
    "`code` **x** _y_",
    "$$\\href{https://evil.example}{x}$$",
    "&lt;b&gt;",
]
ODD_TEXTS = [
    "x" * 2_000,
    "x" * 2_001,
    "寿" * 5_000,
    "a\u0301" * 300,  # combining marks
    "\u0301\u0302",  # marks with no base
    "👩\u200d👩\u200d👧\u200d👦",
    "\U0010ffff\U000f0000",  # private use
    "\ue000",
    "\U000e0041 tag text",
    "ｆｕｌｌｗｉｄｔｈ",
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "\t\n mixed\r\n ",
    "%s %d {0} {}",
    "'; DROP TABLE passages; --",
    "\\x00\\n",
    "-" * 50,
    "--help",
]
HOSTILE_TEXTS = INVISIBLE_TEXTS + SURROGATE_TEXTS + HTML_AND_MARKDOWN + ODD_TEXTS + ["", " ", "\x00"]


def is_invisible_only(text: str) -> bool:
    """The rule, written out for the oracle: no character outside the invisible categories (nor a surrogate)."""
    return all(unicodedata.category(c) in INVISIBLE_CATEGORIES or c.isspace() for c in text)


invisible_text = st.text(st.characters(categories=INVISIBLE_CATEGORIES), min_size=1, max_size=40) | st.sampled_from(
    INVISIBLE_TEXTS
)
surrogate_text = st.builds(
    lambda a, s, b: a + s + b,
    st.text(max_size=10),
    st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]),
    st.text(max_size=10),
)
non_text = (
    st.none()
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.lists(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    | st.binary(max_size=8)
)
any_query = (
    st.sampled_from(HOSTILE_TEXTS)
    | st.text(max_size=60)
    | invisible_text
    | surrogate_text
    | st.text(st.characters(codec="utf-8"), max_size=20)
)


def either(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid or invalid values half the time each (``a | b`` would weigh every alternative of ``b`` as one)."""
    return st.booleans().flatmap(lambda ok: valid if ok else invalid)


precisions = either(st.sampled_from(["fp32", "4-bit"]), st.sampled_from(["FP32", "4bit", "", "fp16"]) | non_text)


def _k_forms(k: int):
    return st.sampled_from([k, str(k), f" {k} ", f"+{k}", float(k), f"{k}.0"])


def _not_a_whole_number_in_range(value: float) -> bool:
    return not (math.isfinite(value) and float(value).is_integer() and 1 <= value <= MAX_K)


# (k as sent, the k the view must use, or None when it must be refused)
k_cases = either(
    st.integers(1, MAX_K).flatmap(lambda k: _k_forms(k).map(lambda v: (v, k))),
    (
        st.integers().filter(lambda k: not 1 <= k <= MAX_K)
        | st.floats().filter(_not_a_whole_number_in_range)
        | st.text(st.characters(exclude_characters=string.digits), max_size=8)  # no digit: never a number
        | st.sampled_from(["2.5", "10.5", "1_0", "1e1", "0x10", "５", "0", "51", "-1", "9" * 5_000, "10 10", "+-3"])
        | st.sampled_from([None, [], [10], {}, True, False, b"10", float("nan"), float("inf")])
    ).map(lambda v: (v, None)),
)

# (dim as sent, the dim the view must use, or None when it must be refused)
dim_cases = either(
    st.sampled_from(LADDER).flatmap(lambda d: st.sampled_from([d, str(d), f" {d} ", float(d)]).map(lambda v: (v, d))),
    (
        st.integers().filter(lambda d: d not in LADDER)
        | st.floats().filter(lambda d: d not in LADDER)
        | st.text(st.characters(exclude_characters=string.digits), max_size=8)
        | st.sampled_from(["512.5", "５１２", "1024", "0", "-512", "5 12", "512px"])
        | st.sampled_from([None, [], [512], {}, True, b"512"])
    ).map(lambda v: (v, None)),
)

UPLOAD_LINES = [*HOSTILE_TEXTS, '{"text": "ok"}', '{"text": "\\ud800"}', "[" * 2_000, '"quoted', "a,b,c", "id,text"]
upload_content = st.one_of(
    st.lists(st.sampled_from(UPLOAD_LINES) | st.text(max_size=30), min_size=1, max_size=12).map(
        lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")
    ),
    st.binary(min_size=1, max_size=200),
    st.lists(
        st.fixed_dictionaries(
            {"text": st.sampled_from(HOSTILE_TEXTS) | st.text(max_size=20) | non_text},
            optional={"id": st.text(max_size=5) | st.integers() | non_text, "lang": st.text(max_size=3)},
        ),
        min_size=1,
        max_size=8,
    ).map(lambda rows: "\n".join(map(_json_line, rows)).encode("utf-8")),
    st.just(b"[" * 100_000 + b"]" * 100_000),
    st.just("text\n<b>x</b>\n".encode("utf-16")),
)
upload_suffix = st.sampled_from([".txt", ".csv", ".jsonl", ".TXT", ".pdf", ""])


def _json_line(row: dict) -> str:
    import json

    try:
        return json.dumps(row)
    except (TypeError, ValueError):
        return repr(row)  # not JSON at all: the parser must say so
