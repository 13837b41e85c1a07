"""The demo corpus and upload parsing, with the limits and messages a visitor sees."""

import json
import re

import pytest

from sse_demo.app.corpus import detect_language, load_demo_corpus, parse_upload
from sse_demo.app.inputs import InputError

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def demo():
    return load_demo_corpus()


def test_demo_corpus_has_at_least_300_unique_passages(demo):
    assert len(demo) >= 300
    assert len(set(demo.ids)) == len(demo) and len(set(demo.texts)) == len(demo)


def test_demo_corpus_languages_match_the_text(demo):
    for text, lang in zip(demo.texts, demo.langs, strict=True):
        assert lang in ("en", "ja")
        assert bool(JAPANESE.search(text)) == (lang == "ja"), text


def test_demo_corpus_has_many_translation_pairs_with_one_passage_per_language(demo):
    pairs = {}
    for pair, lang, topic in zip(demo.pairs, demo.langs, demo.topics, strict=True):
        if pair:
            pairs.setdefault(pair, []).append((lang, topic))
    assert len(pairs) >= 100
    for members in pairs.values():
        assert sorted(lang for lang, _ in members) == ["en", "ja"]
        assert members[0][1] == members[1][1]


def test_demo_corpus_covers_varied_topics(demo):
    assert len(set(demo.topics)) >= 8


def test_detect_language():
    assert detect_language("Tokyo tower") == "en"
    assert detect_language("東京タワー") == "ja"
    assert detect_language("カタカナ only") == "ja"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_txt_upload_is_one_passage_per_non_empty_line(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.txt", "first line\n\n  \n二行目です\n"))
    assert corpus.texts == ["first line", "二行目です"]
    assert corpus.langs == ["en", "ja"]
    assert corpus.ids == ["1", "2"]


def test_csv_upload_reads_the_text_column_and_optional_columns(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.csv", 'id,topic,text\nx1,food,"Sushi, rice"\nx2,,寿司\n'))
    assert corpus.texts == ["Sushi, rice", "寿司"]
    assert corpus.ids == ["x1", "x2"]
    assert corpus.topics == ["food", "-"]


def test_csv_with_one_column_and_no_text_header_uses_every_row(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.csv", "alpha\nbeta\n"))
    assert corpus.texts == ["alpha", "beta"]


def test_csv_without_a_text_column_says_what_is_missing(tmp_path):
    with pytest.raises(InputError, match="'text' column"):
        parse_upload(write(tmp_path, "a.csv", "a,b\n1,2\n"))


def test_csv_with_a_short_row_names_the_row(tmp_path):
    with pytest.raises(InputError, match="row 3 has 1 field"):
        parse_upload(write(tmp_path, "a.csv", "id,text\n1,ok\n2\n"))


def test_csv_with_an_unclosed_quote_is_malformed(tmp_path):
    with pytest.raises(InputError, match="malformed CSV"):
        parse_upload(write(tmp_path, "a.csv", 'text\n"never closed\n'))


def test_jsonl_upload_reads_text_and_language(tmp_path):
    lines = [json.dumps({"text": "hello", "lang": "en", "id": 7}), json.dumps("素の文字列"), ""]
    corpus = parse_upload(write(tmp_path, "a.jsonl", "\n".join(lines)))
    assert corpus.texts == ["hello", "素の文字列"]
    assert corpus.ids == ["7", "2"]
    assert corpus.langs == ["en", "ja"]


def test_jsonl_bad_line_is_named(tmp_path):
    with pytest.raises(InputError, match="line 2 is not valid JSON"):
        parse_upload(write(tmp_path, "a.jsonl", '{"text": "ok"}\n{oops\n'))


def test_jsonl_line_without_text_is_named(tmp_path):
    with pytest.raises(InputError, match='line 1 has no string "text"'):
        parse_upload(write(tmp_path, "a.jsonl", '{"body": "no text"}\n'))


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(InputError, match="empty"):
        parse_upload(write(tmp_path, "a.txt", b""))


def test_file_of_blank_lines_holds_no_passage(tmp_path):
    with pytest.raises(InputError, match="no non-empty passage"):
        parse_upload(write(tmp_path, "a.txt", "\n  \n\t\n"))


def test_non_utf8_file_is_refused_with_the_byte(tmp_path):
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 3"):
        parse_upload(write(tmp_path, "a.txt", b"abc\xff\xfe"))


def test_too_large_file_names_the_limit(tmp_path):
    with pytest.raises(InputError, match=r"1,001 bytes; the upload limit is 1,000 bytes"):
        parse_upload(write(tmp_path, "a.txt", "x" * 1001), max_bytes=1000)


def test_too_many_passages_names_the_limit(tmp_path):
    with pytest.raises(InputError, match="holds 4 passages; the limit is 3"):
        parse_upload(write(tmp_path, "a.txt", "a\nb\nc\nd\n"), max_passages=3)


def test_unsupported_extension_lists_the_supported_ones(tmp_path):
    with pytest.raises(InputError, match=r"unsupported file type '\.pdf'.*\.txt"):
        parse_upload(write(tmp_path, "a.pdf", "x"))


def test_long_passages_are_cut_and_noted(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.txt", "y" * 50 + "\nshort\n"), max_chars=10)
    assert corpus.texts == ["y" * 10, "short"]
    assert "1 passage(s) longer than 10" in corpus.notes[0]


def test_control_characters_in_uploads_become_spaces(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.txt", "a\x1bb\n"))  # NUL means a binary file: refused
    assert corpus.texts == ["a b"]
    assert "control" in corpus.notes[0]


def test_csv_messages_name_the_file_line_when_blank_rows_come_before(tmp_path):
    with pytest.raises(InputError, match="row 5 has 1 field"):
        parse_upload(write(tmp_path, "a.csv", "id,text\n\n1,ok\n\n2\n"))


def test_csv_row_after_a_multiline_quoted_field_is_named_by_its_first_line(tmp_path):
    with pytest.raises(InputError, match="row 4 has 3 field"):
        parse_upload(write(tmp_path, "a.csv", 'id,text\n1,"two\nlines"\n2,x,y\n'))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.csv", "id,text\nx1,first\n\nx2,second\nx1,third\n", r"'x1' is used on lines 2, 5"),
        (
            "a.jsonl",
            '{"id": "p", "text": "a"}\n{"text": "b"}\n{"id": "p", "text": "c"}\n',
            r"'p' is used on lines 1, 3",
        ),
        ("b.jsonl", '{"id": 2, "text": "a"}\n{"text": "b"}\n', r"'2' is used on lines 1, 2"),  # an id filled in
    ],
)
def test_repeated_passage_ids_are_refused_naming_the_id_and_lines(tmp_path, name, content, expected):
    with pytest.raises(InputError, match=expected + r".*重複"):
        parse_upload(write(tmp_path, name, content))


def test_unique_ids_with_gaps_are_kept(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.csv", "id,text\nb,first\na,second\n"))
    assert corpus.ids == ["b", "a"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("deep.jsonl", '{"text": "ok"}\n' + "[" * 100_000 + "]" * 100_000 + "\n", r"line 2 is nested too deeply"),
        ("deep2.jsonl", '{"text": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001 + "\n", r"line 1 is nested too deeply"),
        ("long-number.jsonl", '{"text": "ok", "id": ' + "1" * 5_000 + "}\n", r"line 1 is not valid JSON"),
        ("surrogate.jsonl", '{"text": "ok"}\n{"text": "bad \\ud800 text"}\n', r"line 2 holds invalid Unicode"),
        ("surrogate-id.jsonl", '{"text": "ok", "id": "\\udc00"}\n', r"line 1 holds invalid Unicode"),
        ("utf16.txt", "hello\nworld\n".encode("utf-16"), r"NUL bytes on line 1 \(byte 3\).*UTF-16"),
        ("latin1.csv", b"text\nok\ncaf\xe9\n", r"not UTF-8 text \(byte 11 on line 3"),
        ("nul.txt", b"hello\nwor\x00ld\n", r"NUL bytes on line 2"),
        ("binary.jsonl", bytes(range(256)) * 4, r"NUL bytes on line 1"),
        ("array.jsonl", "[1, 2]\n", r'line 1 has no string "text"'),
    ],
)
def test_every_parse_failure_names_the_line(tmp_path, name, content, expected):
    with pytest.raises(InputError, match=expected):
        parse_upload(write(tmp_path, name, content))


def test_passages_with_nothing_visible_are_skipped_and_noted(tmp_path):
    corpus = parse_upload(write(tmp_path, "a.txt", "\u200b\nhello\n\u2060\ufeff\n"))
    assert corpus.texts == ["hello"]
    assert "2 passage(s) with no visible characters were skipped" in " ".join(corpus.notes)


def test_a_file_of_invisible_passages_holds_no_passage(tmp_path):
    with pytest.raises(InputError, match="no non-empty passage"):
        parse_upload(write(tmp_path, "a.txt", "\u200b\n\u3164\n"))


def test_a_path_that_cannot_be_read_gets_a_message(tmp_path):
    with pytest.raises(InputError, match="could not be read"):
        parse_upload(tmp_path / "missing.txt")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(InputError, match="could not be read"):
        parse_upload(tmp_path / "folder.txt")


@pytest.mark.parametrize("path", [5, ["a.txt"], {"path": "a.txt"}, 2.5])
def test_an_upload_that_is_not_a_file_path_gets_a_message(path):
    from sse_demo.app.corpus import upload_view

    with pytest.raises(InputError, match="must be a file"):
        upload_view(None, path)
