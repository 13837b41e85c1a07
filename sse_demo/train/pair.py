"""The record every training-data source yields: a positive pair tagged with its source."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


class Source(StrEnum):
    """Where a pair came from; kept in each row so training mixes and ablations can filter by it."""

    DEBIAN_SHORT_LONG = "debian-short-long"
    DEBIAN_JA_EN = "debian-ja-en"
    DEBIAN_ICT = "debian-ict"
    JMDICT = "jmdict"
    KANJIDIC = "kanjidic"
    CHATTERBOT = "chatterbot"
    GETTEXT = "gettext"
    WORDNET = "wordnet"
    GENE_ONTOLOGY = "go"
    HPO = "hpo"
    HPO_LAYPERSON = "hpo-layperson"
    ICD10CM = "icd10cm"


@dataclass(frozen=True)
class Pair:
    """One positive pair: ``anchor`` plays the query, ``positive`` the document it should retrieve."""

    anchor: str
    positive: str
    source: Source


def language(text: str) -> str:
    """Return ``"ja"`` when the text holds any kana or kanji, else ``"en"`` (enough to split the two sources)."""
    return "ja" if _JA_CHARS.search(text) else "en"
