"""Rebuild the offline EN+JA training data from sources that install here, with one command.

``python -m sse_demo.train.data --out DIR`` (add ``--ict`` for inverse-cloze pairs, ``--wordnet`` for WordNet
definitions, ``--biomed`` for biomedical definitions; measured and left out of the bundled model) writes:

- ``DIR/pairs.jsonl``: one ``{"anchor", "positive", "source"}`` object per line, deduplicated, for contrastive training;
- ``DIR/texts.jsonl``: ``{"text", "lang"}`` lines, every distinct text once, for vocabulary counts and distillation;
- ``DIR/manifest.json``: source versions, licences, counts and how many texts were dropped as eval-set overlaps.

Sources: Debian package descriptions (``apt-get -o Acquire::Languages=en,ja update``), JMdict and KANJIDIC2 through
``jamdict-data`` (glosses only: the JMdict example sentences come from Tatoeba, the source of two eval sets, so they
are never read), ``chatterbot-corpus`` dialogues, the Japanese gettext catalogues (``.mo``) of a fixed list of
Debian packages (``GETTEXT_PACKAGES``, fetched with ``apt-get download``), and optionally WordNet 3.0 definitions
(Debian's ``wordnet-base``) and biomedical vocabularies (``biomed``). Any text that exactly equals a text of an eval
set (``--eval-dir``, default ``$SSE_EVAL_DIR`` or ``../shared/eval``) is dropped, with its pair, so the eval sets
are never trained on.
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import itertools
import json
import random
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path

from sse_demo.train import biomed
from sse_demo.train.fetch import apt_download, unpack_debs

APT_LISTS = Path("/var/lib/apt/lists")
MO_SUBDIR = Path("usr/share/locale/ja/LC_MESSAGES")
# The Debian packages whose Japanese gettext catalogues are read. Fetched with `apt-get download` (not installed),
# so the data do not depend on what the build machine happens to have installed.
GETTEXT_PACKAGES = (
    "adduser", "appstream", "apt", "at-spi2-common", "bash", "binutils-common", "coreutils", "diffutils", "dpkg",
    "findutils", "gettext", "gettext-base", "gnupg-l10n", "grep", "gsettings-desktop-schemas", "iso-codes",
    "libapt-pkg6.0", "libavahi-common-data", "libc-l10n", "libelf1", "libgdk-pixbuf2.0-common", "libglib2.0-data",
    "libgstreamer1.0-0", "libgtk2.0-common", "libidn2-0", "libpam-runtime", "libpq5", "login", "make", "man-db",
    "net-tools", "packagekit", "postgresql-15", "postgresql-client-15", "psmisc", "python-apt-common", "sed",
    "shared-mime-info", "software-properties-common", "systemd", "tar", "wget", "xdg-user-dirs", "xkb-data",
)  # fmt: skip
WORDNET_DIR = Path("/usr/share/wordnet")  # Debian's wordnet-base
WORDNET_FILES = tuple(f"data.{pos}" for pos in ("noun", "verb", "adj", "adv"))
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


def chatterbot_pairs() -> Iterator[Pair]:
    """Question-to-answer pairs from the English and Japanese chatterbot-corpus dialogues."""
    import chatterbot_corpus
    import yaml

    root = Path(chatterbot_corpus.__file__).parent / "data"
    for lang_dir in ("english", "japanese"):
        for path in sorted((root / lang_dir).glob("*.yml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for turns in doc.get("conversations", []):
                texts = [str(t).strip() for t in turns if t is not None and str(t).strip()]
                for question, answer in itertools.pairwise(texts):
                    yield Pair(question, answer, Source.CHATTERBOT)


_MO_MARKUP = re.compile(r"(%[-+ #0-9.]*[a-zA-Z]|\{[^}]*\}|&|_(?=\w)|<[^>]+>|\\n)")


def gettext_pairs(mo_dir: Path) -> Iterator[Pair]:
    """English msgid to Japanese msgstr from installed ``.mo`` catalogues, minus format codes and accelerators."""
    for path in sorted(mo_dir.glob("*.mo")):
        try:
            with path.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # the parsed msgid -> msgstr table
        except OSError:
            continue
        for key, value in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if not msgid or not value:
                continue
            en = " ".join(_MO_MARKUP.sub(" ", msgid).split())
            ja = " ".join(_MO_MARKUP.sub(" ", value).split())
            if 3 <= len(en) <= 300 and ja and language(ja) == "ja" and language(en) == "en":
                yield Pair(ja, en, Source.GETTEXT)


_WORDNET_MARKER = re.compile(r"\([a-z]+\)$")  # adjective position markers such as "(a)" or "(p)"


def wordnet_pairs(wordnet_dir: Path = WORDNET_DIR, lemmas_per_synset: int = 3) -> Iterator[Pair]:
    """English word or phrase to its WordNet 3.0 definition, for up to ``lemmas_per_synset`` lemmas per synset.

    The one English source here that defines general and technical vocabulary (medicine, science, computing) in
    plain sentences. Measured: scifact +0.01 to +0.02, the English eval mean +0.001 to +0.007, tatoeba-en2ja -0.004
    to -0.016, so it is opt-in (model card). Example sentences are left out.
    """
    missing = [name for name in WORDNET_FILES if not (wordnet_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"WordNet files {missing} not found in {wordnet_dir}: install them with `apt-get install wordnet-base`, "
            "or leave out --wordnet"
        )
    for name in WORDNET_FILES:
        for line in (wordnet_dir / name).read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):  # the licence header
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            count = int(fields[3], 16)
            words = [_WORDNET_MARKER.sub("", fields[4 + 2 * i]).replace("_", " ") for i in range(count)]
            definition = "; ".join(part.strip() for part in gloss.split(";") if not part.strip().startswith('"'))
            for word in words[:lemmas_per_synset]:
                yield Pair(word, definition, Source.WORDNET)


def biomed_pairs(files: biomed.BiomedFiles) -> Iterator[Pair]:
    """GO and HPO term -> definition, HPO layperson synonym -> term, ICD-10-CM inclusion term -> diagnosis title."""
    for source, pairs in (
        (Source.GENE_ONTOLOGY, biomed.go_definitions(files.go_sqlite)),
        (Source.HPO, biomed.hpo_definitions(files.hpo_obo)),
        (Source.HPO_LAYPERSON, biomed.hpo_layperson_synonyms(files.hpo_obo)),
        (Source.ICD10CM, biomed.icd10cm_inclusions(files.icd_xml)),
    ):
        yield from (Pair(anchor, positive, source) for anchor, positive in pairs)


def fetch_catalogues(packages: Sequence[str], dest: Path) -> tuple[Path, list[str]]:
    """Download ``packages`` with ``apt-get download`` into ``dest`` and unpack their Japanese catalogues.

    Returns the catalogue folder and the ``.deb`` file names (which carry the versions, for the manifest).
    """
    debs = apt_download(packages, dest / "debs", "pass --no-gettext")
    return unpack_catalogues(debs, dest / "root"), [deb.name for deb in debs]


def unpack_catalogues(debs: Sequence[Path], root: Path) -> Path:
    """Extract ``.deb`` files under ``root`` with ``dpkg-deb -x``; returns ``root``'s Japanese catalogue folder."""
    return unpack_debs(debs, root) / MO_SUBDIR


MAX_CHARS = 2000
"""Training texts are cut to this many characters (a few descriptions and catalogue entries run far longer)."""


def normalise(text: str, max_chars: int = MAX_CHARS) -> str:
    """Whitespace collapsed to single spaces, cut to ``max_chars``: the one form both training texts and eval texts
    take before they are compared, so an eval text never escapes the overlap filter by its spacing or length."""
    return " ".join(text.split())[:max_chars]


def eval_texts(eval_dir: Path | None) -> set[str]:
    """Every query, title, text and "title text" of the BEIR folders under ``eval_dir``, normalised as training
    texts are, for the exact-match overlap filter (blank lines in the files are skipped)."""
    texts: set[str] = set()
    if eval_dir is None or not eval_dir.is_dir():
        return texts
    for path in sorted(eval_dir.glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            text, title = str(row.get("text", "")), str(row.get("title", ""))
            texts.update(normalise(t) for t in (text, title, f"{title} {text}"))
    texts.discard("")
    return texts


def clean(pairs: Iterable[Pair], banned: set[str], max_chars: int = MAX_CHARS) -> tuple[list[Pair], int]:
    """Normalise (``normalise``), drop empty, self-pairs and pairs with a text in ``banned``, dedupe; returns (pairs,
    dropped). ``banned`` must be normalised the same way (``eval_texts`` does)."""
    seen: set[tuple[str, str]] = set()
    kept: list[Pair] = []
    dropped = 0
    for pair in pairs:
        anchor = normalise(pair.anchor, max_chars)
        positive = normalise(pair.positive, max_chars)
        if not anchor or not positive or anchor == positive:
            continue
        if anchor in banned or positive in banned:
            dropped += 1
            continue
        if (anchor, positive) in seen:
            continue
        seen.add((anchor, positive))
        kept.append(Pair(anchor, positive, pair.source))
    return kept, dropped


def _fingerprint(path: Path) -> str:
    """``name:sha256-prefix`` of an input file, so a rebuild can tell whether its inputs changed."""
    return f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def build(
    out: Path,
    eval_dir: Path | None,
    mo_dir: Path | None,
    seed: int = 0,
    ict: bool = False,
    wordnet_dir: Path | None = None,
    gettext_debs: Sequence[str] = (),
    biomed_files: biomed.BiomedFiles | None = None,
) -> dict[str, object]:
    """Collect every source, dedupe against the eval sets, shuffle with ``seed`` and write ``out``.

    ``mo_dir``, ``wordnet_dir`` or ``biomed_files`` set to None leaves that source out; ``gettext_debs`` names the
    packages the catalogues came from, for the manifest.
    """
    en, ja = debian_descriptions("en"), debian_descriptions("ja")
    db = jamdict_db()
    raw: list[Pair] = [
        *debian_pairs(en, ja),
        *jmdict_pairs(db),
        *kanjidic_pairs(db),
        *chatterbot_pairs(),
    ]
    mo_files: list[str] = []
    if mo_dir is not None:
        mo_files = [_fingerprint(p) for p in sorted(mo_dir.glob("*.mo"))]
        if not mo_files:
            raise FileNotFoundError(f"no .mo catalogues in {mo_dir}: pass a folder of catalogues, or --no-gettext")
        raw.extend(gettext_pairs(mo_dir))
    wordnet_files: list[str] = []
    if wordnet_dir is not None:
        raw.extend(wordnet_pairs(wordnet_dir))
        wordnet_files = [_fingerprint(wordnet_dir / name) for name in WORDNET_FILES]
    biomed_inputs: list[str] = []
    if biomed_files is not None:
        raw.extend(biomed_pairs(biomed_files))
        biomed_inputs = [
            *biomed_files.packages,
            *(_fingerprint(p) for p in (biomed_files.go_sqlite, biomed_files.hpo_obo, biomed_files.icd_xml)),
        ]
    if ict:
        raw.extend(ict_pairs([*en.values(), *ja.values()], seed))
    pairs, dropped = clean(raw, eval_texts(eval_dir))
    random.Random(seed).shuffle(pairs)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "pairs.jsonl").open("w", encoding="utf-8") as handle:
        for pair in pairs:
            row = {
                "anchor": pair.anchor,
                "positive": pair.positive,
                "source": pair.source.value,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    texts = sorted({t for p in pairs for t in (p.anchor, p.positive)})
    with (out / "texts.jsonl").open("w", encoding="utf-8") as handle:
        for text in texts:
            handle.write(json.dumps({"text": text, "lang": language(text)}, ensure_ascii=False) + "\n")
    counts = {s.value: sum(p.source == s for p in pairs) for s in Source}
    manifest: dict[str, object] = {
        "pairs": len(pairs),
        "texts": len(texts),
        "pairs_per_source": counts,
        "dropped_eval_overlap": dropped,
        "eval_dir": str(eval_dir) if eval_dir and eval_dir.is_dir() else None,
        "debian_descriptions": {"en": len(en), "ja": len(ja)},
        "debian_lists": [_fingerprint(p) for p in sorted(APT_LISTS.glob("*_i18n_Translation-*.lz4"))],
        "versions": {p: _version(p) for p in ("jamdict-data", "chatterbot-corpus")},
        "gettext_packages": list(gettext_debs),
        "gettext_catalogues": mo_files,
        "wordnet_files": wordnet_files,
        "biomed_inputs": biomed_inputs,
        "seed": seed,
        "ict": ict,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m sse_demo.train.data --out DIR [--eval-dir DIR] [--no-gettext] [--wordnet]
    [--biomed]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for pairs.jsonl, texts.jsonl, manifest.json",
    )
    parser.add_argument(
        "--eval-dir",
        type=Path,
        default=None,
        help="eval sets to exclude (default $SSE_EVAL_DIR)",
    )
    parser.add_argument(
        "--mo-dir",
        type=Path,
        default=None,
        help="read the Japanese .mo catalogues in this folder instead of downloading GETTEXT_PACKAGES",
    )
    parser.add_argument("--no-gettext", action="store_true", help="skip gettext catalogues")
    parser.add_argument(
        "--wordnet", action="store_true", help="add WordNet word -> definition pairs (EN +0.001 to +0.007, not used)"
    )
    parser.add_argument("--wordnet-dir", type=Path, default=WORDNET_DIR, help="WordNet 3.0 dict folder")
    parser.add_argument(
        "--biomed",
        action="store_true",
        help="add Gene Ontology, HPO and ICD-10-CM term -> definition pairs (downloads ~24 MB; see the model card)",
    )
    parser.add_argument(
        "--ict", action="store_true", help="add inverse-cloze pairs from long descriptions (+0.001 mean, not used)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from sse_demo.evaluation.beir import default_eval_dir

    eval_dir = args.eval_dir or default_eval_dir()
    if not eval_dir.is_dir():
        print(f"warning: eval dir {eval_dir} not found; training texts are NOT deduplicated against eval sets")
    with tempfile.TemporaryDirectory() as scratch:
        mo_dir, debs = args.mo_dir, []
        if not args.no_gettext and mo_dir is None:
            mo_dir, debs = fetch_catalogues(GETTEXT_PACKAGES, Path(scratch))
        biomed_files = biomed.fetch(Path(scratch) / "biomed") if args.biomed else None
        manifest = build(
            args.out,
            eval_dir,
            None if args.no_gettext else mo_dir,
            args.seed,
            ict=args.ict,
            wordnet_dir=args.wordnet_dir if args.wordnet else None,
            gettext_debs=debs,
            biomed_files=biomed_files,
        )
    print(
        json.dumps(manifest["pairs_per_source"]),
        f"pairs={manifest['pairs']}",
        f"texts={manifest['texts']}",
    )
    print(f"dropped (eval overlap): {manifest['dropped_eval_overlap']}")


if __name__ == "__main__":
    main()
