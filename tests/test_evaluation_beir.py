"""Loading BEIR folders: text joining, judged queries only, clear errors naming the file and line."""

from __future__ import annotations

import pytest
from evaluation_fixtures import write_beir

from sse_demo.evaluation import BeirFormatError, beir, load_beir
from sse_demo.evaluation.beir import default_eval_dir

README_JUDGED_QUERIES = {
    "jsquad-ja": 4442,
    "nfcorpus-en": 323,
    "scifact-en": 300,
    "nq-utd-en": 80,
    "stackfaq-en": 1249,
    "tatoeba-ja2en": 1000,
    "tatoeba-en2ja": 1000,
}


@pytest.fixture
def small(tmp_path):
    corpus = {"a": ("Title", "body text"), "b": ("", "only text"), "c": ("", "")}
    queries = {"q1": "find a", "q2": "graded", "q3": "all zero", "q4": "unjudged"}
    qrels = [("q1", "a", 1), ("q2", "a", 2), ("q2", "b", 0), ("q3", "b", 0)]
    return write_beir(tmp_path / "small", corpus, queries, qrels)


def test_title_and_text_are_joined_and_stripped(small):
    assert load_beir(small).corpus == {"a": "Title body text", "b": "only text", "c": ""}


def test_only_queries_with_a_relevant_document_are_kept(small):
    data = load_beir(small)
    assert list(data.queries) == ["q1", "q2"]
    assert data.qrels == {"q1": {"a": 1}, "q2": {"a": 2}}


def test_windows_line_endings_in_qrels(small):
    path = small / "qrels" / "test.tsv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_beir(small).qrels["q2"] == {"a": 2}


def test_max_queries_takes_a_seeded_sample(small):
    first, again = load_beir(small, max_queries=1, seed=3), load_beir(small, max_queries=1, seed=3)
    assert len(first.queries) == 1 and first.queries == again.queries


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(BeirFormatError, match="nowhere"):
        load_beir(tmp_path / "nowhere")


def test_missing_qrels_file_is_named(small):
    (small / "qrels" / "test.tsv").unlink()
    with pytest.raises(BeirFormatError, match=r"qrels/test\.tsv is missing"):
        load_beir(small)


def test_bad_json_line_is_named(small):
    with (small / "corpus.jsonl").open("a") as f:
        f.write("{not json\n")
    with pytest.raises(BeirFormatError, match=r"corpus\.jsonl:4: not valid JSON"):
        load_beir(small)


def test_bad_qrels_line_is_named(small):
    with (small / "qrels" / "test.tsv").open("a") as f:
        f.write("q1 a 1\n")
    with pytest.raises(BeirFormatError, match=r"test\.tsv:6: expected"):
        load_beir(small)


def test_qrels_for_unknown_query_is_an_error(small):
    with (small / "qrels" / "test.tsv").open("a") as f:
        f.write("ghost\ta\t1\n")
    with pytest.raises(BeirFormatError, match="ghost"):
        load_beir(small)


def test_shared_eval_sets_load_with_readme_query_counts(eval_dir):
    for name, judged in README_JUDGED_QUERIES.items():
        assert len(load_beir(eval_dir / name).queries) == judged, name


def test_eval_dir_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_eval_dir({"SSE_EVAL_DIR": str(tmp_path / "sets")}) == tmp_path / "sets"


def test_installed_package_finds_the_sets_beside_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "shared" / "eval").mkdir(parents=True)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setattr(beir, "SOURCE_CHECKOUT", None)  # as in site-packages: no checkout around the package
    assert default_eval_dir({}) == tmp_path / "shared" / "eval"


def test_a_source_checkout_finds_its_sets_from_any_working_directory(tmp_path, monkeypatch):
    (tmp_path / "shared" / "eval").mkdir(parents=True)
    (tmp_path / "repo").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setattr(beir, "SOURCE_CHECKOUT", tmp_path / "repo")
    assert default_eval_dir({}) == tmp_path / "shared" / "eval"


def test_without_any_sets_the_working_directory_path_is_named(tmp_path, monkeypatch):
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setattr(beir, "SOURCE_CHECKOUT", None)
    assert default_eval_dir({}) == tmp_path / "shared" / "eval"
