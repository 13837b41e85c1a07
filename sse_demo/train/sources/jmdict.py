"""JMdict and KANJIDIC2 (the ``jamdict-data`` SQLite file): Japanese headword or kanji -> English glosses."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sse_demo.train.pair import Pair, Source


def jamdict_db() -> Path:
    """Path of the SQLite file that ``jamdict-data`` installs."""
    import jamdict_data

    return Path(jamdict_data.__file__).parent / "jamdict.db"


def jmdict_pairs(db_path: Path) -> Iterator[Pair]:
    """Japanese headword (first kanji form, else first kana) to its English glosses, one pair per sense.

    Only the Entry/Kanji/Kana/Sense/SenseGloss tables are read; JMdict example sentences are not.
    """
    db = sqlite3.connect(db_path)
    heads: dict[int, str] = {}
    for idseq, text in db.execute("SELECT idseq, text FROM Kana ORDER BY ID"):
        heads.setdefault(idseq, text)
    kanji: dict[int, str] = {}
    for idseq, text in db.execute("SELECT idseq, text FROM Kanji ORDER BY ID"):
        kanji.setdefault(idseq, text)
    heads.update(kanji)
    glosses: dict[int, list[str]] = {}
    sense_entry: dict[int, int] = {}
    query = "SELECT s.ID, s.idseq, g.text FROM Sense s JOIN SenseGloss g ON g.sid = s.ID WHERE g.lang = 'eng'"
    for sid, idseq, text in db.execute(query + " ORDER BY s.ID"):
        sense_entry[sid] = idseq
        glosses.setdefault(sid, []).append(text)
    db.close()
    for sid, texts in glosses.items():
        head = heads.get(sense_entry[sid])
        if head:
            yield Pair(head, "; ".join(texts), Source.JMDICT)


def kanjidic_pairs(db_path: Path) -> Iterator[Pair]:
    """Single kanji to its English meanings (KANJIDIC2), so one-character tokens get aligned too."""
    db = sqlite3.connect(db_path)
    rows = db.execute(
        "SELECT c.literal, m.value FROM character c JOIN rm_group r ON r.cid = c.ID "
        "JOIN meaning m ON m.gid = r.ID WHERE m.m_lang = '' ORDER BY c.ID"
    ).fetchall()
    db.close()
    meanings: dict[str, list[str]] = {}
    for literal, value in rows:
        meanings.setdefault(literal, []).append(value)
    for literal, values in meanings.items():
        yield Pair(literal, "; ".join(values), Source.KANJIDIC)
