"""Debian package descriptions (``Translation-en`` / ``Translation-ja`` lists that apt fetched): short <-> long
descriptions, Japanese <-> English of the same description, and optional inverse-cloze pairs."""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from sse_demo.train.pair import Pair, Source

APT_LISTS = Path("/var/lib/apt/lists")


def parse_debian_translation(text: str) -> dict[str, tuple[str, str]]:
    """Parse one ``Translation-xx`` file into ``{description-md5: (short, long)}``.

    Long descriptions are deb822 continuation lines; a line that is only ``.`` separates paragraphs.
    """
    out: dict[str, tuple[str, str]] = {}
    for stanza in text.split("\n\n"):
        md5, short, long_lines, in_description = "", "", [], False
        for line in stanza.split("\n"):
            if line.startswith("Description-md5:"):
                md5 = line.split(":", 1)[1].strip()
                in_description = False
            elif line.startswith("Description-"):
                short = line.split(":", 1)[1].strip()
                in_description = True
            elif in_description and line.startswith(" "):
                body = line.strip()
                long_lines.append("" if body == "." else body)
            else:
                in_description = False
        long = " ".join(part for part in long_lines if part)
        if md5 and short:
            out[md5] = (short, long)
    return out


def _read_lz4(path: Path) -> str:
    """Decompress an apt list with the ``lz4cat`` tool that ships with apt's lz4 support."""
    try:
        return subprocess.run(["lz4cat", str(path)], check=True, capture_output=True).stdout.decode("utf-8")
    except FileNotFoundError as error:
        raise RuntimeError("lz4cat not found: install it with `apt-get install lz4`") from error


def debian_descriptions(lang: str, lists_dir: Path = APT_LISTS) -> dict[str, tuple[str, str]]:
    """All ``Translation-<lang>`` descriptions that apt fetched, merged over suites, keyed by md5."""
    files = sorted(lists_dir.glob(f"*_i18n_Translation-{lang}.lz4"))
    if not files:
        raise FileNotFoundError(
            f"no {lists_dir}/*_i18n_Translation-{lang}.lz4: run `apt-get -o Acquire::Languages=en,ja update` first"
        )
    out: dict[str, tuple[str, str]] = {}
    for path in files:
        out.update(parse_debian_translation(_read_lz4(path)))
    return out


def debian_pairs(en: dict[str, tuple[str, str]], ja: dict[str, tuple[str, str]]) -> Iterator[Pair]:
    """Short-to-long pairs per language, and Japanese-to-English pairs of the same description."""
    for short, long in (*en.values(), *ja.values()):
        if long:
            yield Pair(short, long, Source.DEBIAN_SHORT_LONG)
    for md5, (ja_short, ja_long) in ja.items():
        if md5 not in en:
            continue
        en_short, en_long = en[md5]
        yield Pair(ja_short, en_short, Source.DEBIAN_JA_EN)
        yield Pair(en_short, ja_short, Source.DEBIAN_JA_EN)
        if ja_long and en_long:
            yield Pair(ja_long, en_long, Source.DEBIAN_JA_EN)
            yield Pair(en_short, ja_long, Source.DEBIAN_JA_EN)
            yield Pair(ja_short, en_long, Source.DEBIAN_JA_EN)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])|(?<=[。！？])")


def ict_pairs(descriptions: Iterable[tuple[str, str]], seed: int = 0) -> Iterator[Pair]:
    """Inverse cloze task: one sentence of a long description -> the rest of it (Lee et al., 2019).

    A sentence-to-context pair is the closest thing to query -> passage retrieval these sources hold; the
    sentence is removed from its context so the pair cannot be solved by copying alone.
    """
    rng = random.Random(seed)
    for _, long in descriptions:
        sentences = [s.strip() for s in _SENTENCE_END.split(long) if s.strip()]
        if len(sentences) < 3:
            continue
        pick = rng.randrange(len(sentences))
        if len(sentences[pick]) >= 20:
            yield Pair(sentences[pick], " ".join(sentences[:pick] + sentences[pick + 1 :]), Source.DEBIAN_ICT)
