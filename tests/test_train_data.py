"""Parsers and cleaning of the training-data builder, on tiny inline fixtures."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from sse_demo.train.data import clean, eval_texts
from sse_demo.train.pair import Pair, Source, language
from sse_demo.train.sources.debian import debian_pairs, ict_pairs, parse_debian_translation
from sse_demo.train.sources.gettext_catalogues import fetch_catalogues, gettext_pairs, unpack_catalogues
from sse_demo.train.sources.wordnet import wordnet_pairs

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


def test_overlap_filter_matches_eval_texts_that_differ_only_in_inner_whitespace(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "what  is\na  cat?"}) + "\n")
    kept, dropped = clean([Pair("what is a cat?", "a small animal", Source.JMDICT)], eval_texts(tmp_path))
    assert (kept, dropped) == ([], 1)


def test_overlap_filter_matches_eval_texts_longer_than_the_training_cut(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    long_text = " ".join(f"word{i}" for i in range(1000))  # ~8,900 characters, cut to 2,000 in training texts
    (folder / "corpus.jsonl").write_text(json.dumps({"_id": "d", "title": "", "text": long_text}) + "\n")
    kept, dropped = clean([Pair("a query", long_text, Source.DEBIAN_SHORT_LONG)], eval_texts(tmp_path))
    assert (kept, dropped) == ([], 1)


def test_eval_texts_skip_blank_lines(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    rows = [json.dumps({"_id": "q1", "text": "first"}), "", "   ", json.dumps({"_id": "q2", "text": "second"}), ""]
    (folder / "queries.jsonl").write_text("\n".join(rows) + "\n")
    assert eval_texts(tmp_path) == {"first", "second"}


def test_language_detects_japanese_by_script() -> None:
    assert (language("猫が好き"), language("I like cats")) == ("ja", "en")


def test_ict_pairs_take_one_sentence_out_of_its_context() -> None:
    long = "First sentence is here. Second sentence is a bit longer. Third one closes it."
    (pair,) = ict_pairs([("short", long)])
    assert pair.anchor in long and pair.anchor not in pair.positive and pair.source is Source.DEBIAN_ICT


def test_ict_pairs_skip_descriptions_shorter_than_three_sentences() -> None:
    assert list(ict_pairs([("short", "Only one sentence here. And two.")])) == []


WORDNET_NOUN = (
    "  1 This software and database is being provided to you, the LICENSEE, by\n"
    "  2 Princeton University under the following license.\n"
    "14112855 26 n 04 heart_attack 0 coronary 0 coronary_occlusion 0 coronary_thrombosis 0 001 @ 14081375 n 0000"
    ' | a sudden severe instance of abnormal heart function; "he had a heart attack"\n'
)
WORDNET_ADJ = (
    "00001740 00 a 01 able(a) 0 000"
    ' | (usually followed by `to\') having the necessary means; "able to swim"; or skill\n'
)


def write_wordnet(folder: Path) -> Path:
    for name, text in (("noun", WORDNET_NOUN), ("adj", WORDNET_ADJ), ("verb", ""), ("adv", "")):
        (folder / f"data.{name}").write_text(text, encoding="latin-1")
    return folder


def test_wordnet_pairs_map_up_to_three_lemmas_to_the_definition_without_examples(tmp_path: Path) -> None:
    pairs = list(wordnet_pairs(write_wordnet(tmp_path)))
    definition = "a sudden severe instance of abnormal heart function"
    assert [(p.anchor, p.positive) for p in pairs[:3]] == [
        ("heart attack", definition),
        ("coronary", definition),
        ("coronary occlusion", definition),
    ]
    assert pairs[3] == Pair("able", "(usually followed by `to') having the necessary means; or skill", Source.WORDNET)
    assert len(pairs) == 4


def test_wordnet_pairs_name_the_package_when_files_are_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base"):
        next(wordnet_pairs(tmp_path))


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """A GNU .mo catalogue (the format msgfmt writes), with the UTF-8 header entry gettext needs for Japanese."""
    entries = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **messages}.items())
    ids = [key.encode() for key, _ in entries]
    strs = [value.encode() for _, value in entries]
    start = 28 + 16 * len(entries)
    table, blob = [], b""
    for text in ids + strs:
        table.append((len(text), start + len(blob)))
        blob += text + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, len(entries), 28, 28 + 8 * len(entries), 0, 0)
    path.write_bytes(header + b"".join(struct.pack("<2I", *entry) for entry in table) + blob)


def test_catalogues_unpacked_from_a_deb_give_japanese_to_english_pairs(tmp_path: Path) -> None:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb (Debian's dpkg) is not installed")
    package = tmp_path / "pkg"
    (package / "DEBIAN").mkdir(parents=True)
    (package / "DEBIAN" / "control").write_text(
        "Package: tiny\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: tiny\n"
    )
    catalogues = package / "usr/share/locale/ja/LC_MESSAGES"
    catalogues.mkdir(parents=True)
    write_mo(catalogues / "tiny.mo", {"Copy %s files": "%s 個のファイルをコピー", "Quit": "終了"})
    subprocess.run(["dpkg-deb", "-b", str(package), str(tmp_path / "tiny.deb")], check=True, capture_output=True)

    mo_dir = unpack_catalogues([tmp_path / "tiny.deb"], tmp_path / "root")

    assert sorted(gettext_pairs(mo_dir), key=lambda pair: pair.positive) == [
        Pair("個のファイルをコピー", "Copy files", Source.GETTEXT),
        Pair("終了", "Quit", Source.GETTEXT),
    ]


def test_fetch_catalogues_explains_a_failed_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    apt_get = fake_bin / "apt-get"
    apt_get.write_text("#!/bin/sh\necho 'E: Unable to locate package no-such-package' >&2\nexit 100\n")
    apt_get.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:/usr/bin:/bin")
    with pytest.raises(RuntimeError, match=r"Unable to locate package no-such-package.*apt-get update.*--no-gettext"):
        fetch_catalogues(["no-such-package"], tmp_path / "out")
