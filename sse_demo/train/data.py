"""Rebuild the offline EN+JA training data from sources that install here, with one command.

``python -m sse_demo.train.data --out DIR`` (add ``--biomed`` for biomedical definitions, which the bundled model
trains on since v3; ``--ict`` for inverse-cloze pairs and ``--wordnet`` for WordNet definitions were measured and
left out) writes:

- ``DIR/pairs.jsonl``: one ``{"anchor", "positive", "source"}`` object per line, deduplicated, for contrastive training;
- ``DIR/texts.jsonl``: ``{"text", "lang"}`` lines, every distinct text once, for vocabulary counts and distillation;
- ``DIR/manifest.json``: source versions, licences, counts and how many texts were dropped as eval-set overlaps.

Sources (one module each under ``sse_demo/train/sources/``): Debian package descriptions
(``apt-get -o Acquire::Languages=en,ja update``), JMdict and KANJIDIC2 through ``jamdict-data`` (glosses only: the
JMdict example sentences come from Tatoeba, the source of two eval sets, so they are never read),
``chatterbot-corpus`` dialogues, the Japanese gettext catalogues (``.mo``) of a fixed list of Debian packages
(``GETTEXT_PACKAGES``, fetched with ``apt-get download``), and optionally WordNet 3.0 definitions (Debian's
``wordnet-base``) and biomedical vocabularies (``biomed``). Any text that equals a text of an eval set
(``--eval-dir``, default ``$SSE_EVAL_DIR`` or ``../shared/eval``) once both are normalised the same way is dropped,
with its pair, so the eval sets are never trained on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from sse_demo.train.pair import Pair, Source, language
from sse_demo.train.sources import biomed
from sse_demo.train.sources.chatterbot import chatterbot_pairs
from sse_demo.train.sources.debian import APT_LISTS, debian_descriptions, debian_pairs, ict_pairs
from sse_demo.train.sources.gettext_catalogues import GETTEXT_PACKAGES, fetch_catalogues, gettext_pairs
from sse_demo.train.sources.jmdict import jamdict_db, jmdict_pairs, kanjidic_pairs
from sse_demo.train.sources.wordnet import WORDNET_DIR, WORDNET_FILES, wordnet_pairs

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
        raw.extend(biomed.biomed_pairs(biomed_files))
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
