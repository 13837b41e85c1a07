"""Parsers and cleaning of the training-data builder, on tiny inline fixtures."""

from __future__ import annotations

import json
from pathlib import Path

from sse_demo.train.data import (
    Pair,
    Source,
    clean,
    debian_pairs,
    eval_texts,
    ict_pairs,
    language,
    parse_debian_translation,
)

TRANSLATION = """Package: foo
Description-md5: aaa
Description-en: fast text tool
 Foo processes text quickly.
 .
 It has a second paragraph.

Package: bar
Description-md5: bbb
Description-en: bar utility
"""

TRANSLATION_JA = """Package: foo
Description-md5: aaa
Description-ja: 高速なテキストツール
 Foo はテキストを素早く処理します。
"""


def test_parse_debian_joins_long_description_paragraphs() -> None:
    parsed = parse_debian_translation(TRANSLATION)
    assert parsed["aaa"] == ("fast text tool", "Foo processes text quickly. It has a second paragraph.")


def test_parse_debian_keeps_short_only_descriptions() -> None:
    assert parse_debian_translation(TRANSLATION)["bbb"] == ("bar utility", "")


def test_debian_pairs_join_languages_by_md5() -> None:
    pairs = list(debian_pairs(parse_debian_translation(TRANSLATION), parse_debian_translation(TRANSLATION_JA)))
    assert Pair("高速なテキストツール", "fast text tool", Source.DEBIAN_JA_EN) in pairs
    assert not any(p.anchor == "bar utility" for p in pairs)


def test_clean_drops_pairs_that_touch_eval_texts() -> None:
    pairs = [Pair("a query", "secret eval doc", Source.JMDICT), Pair("kept", "also kept", Source.JMDICT)]
    kept, dropped = clean(pairs, {"secret eval doc"})
    assert (kept, dropped) == ([Pair("kept", "also kept", Source.JMDICT)], 1)


def test_clean_dedupes_and_drops_self_pairs() -> None:
    pairs = [Pair("x  y", "z", Source.GETTEXT), Pair("x y", "z", Source.GETTEXT), Pair("same", "same", Source.GETTEXT)]
    assert clean(pairs, set())[0] == [Pair("x y", "z", Source.GETTEXT)]


def test_eval_texts_reads_queries_and_title_text(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(json.dumps({"_id": "d", "title": "T", "text": "body"}) + "\n")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "question"}) + "\n")
    assert {"T body", "body", "question"} <= eval_texts(tmp_path)


def test_language_detects_japanese_by_script() -> None:
    assert (language("猫が好き"), language("I like cats")) == ("ja", "en")


def test_ict_pairs_take_one_sentence_out_of_its_context() -> None:
    long = "First sentence is here. Second sentence is a bit longer. Third one closes it."
    (pair,) = ict_pairs([("short", long)])
    assert pair.anchor in long and pair.anchor not in pair.positive and pair.source is Source.DEBIAN_ICT


def test_ict_pairs_skip_descriptions_shorter_than_three_sentences() -> None:
    assert list(ict_pairs([("short", "Only one sentence here. And two.")])) == []
