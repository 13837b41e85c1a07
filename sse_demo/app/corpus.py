"""Corpora the page can search: the bundled bilingual demo corpus, or a visitor's upload.

Uploads are parsed here with hard limits and messages that say what was wrong and what to do, because a
visitor only sees the message, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from sse_demo.app.formatting import markdown_text
from sse_demo.app.inputs import InputError, Precision, strip_controls
from sse_demo.app.state import CorpusState
from sse_demo.app.uploads import UploadHandle, discard_upload
from sse_demo.text import TextProblem, UndecodableFile, decode_text_file, lone_surrogate, text_problem

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_CORPUS = DATA_DIR / "demo_corpus.jsonl"
DEMO_QUERIES = (
    "How do plants make oxygen?",
    "日本の伝統的な料理",
    "新幹線 Tokyo Osaka",
    "cherry blossom viewing party",
    "睡眠と健康の関係",
)
"""The Search tab's example queries (EN, JA, mixed, cross-lingual) for the demo corpus."""

MAX_UPLOAD_BYTES = 2_000_000
MAX_PASSAGES = 5_000
MAX_PASSAGE_CHARS = 2_000

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


class Language(StrEnum):
    """Language tag of a passage."""

    EN = "en"
    JA = "ja"


class UploadFormat(StrEnum):
    """File types an upload may have, chosen by file extension."""

    TXT = ".txt"
    CSV = ".csv"
    JSONL = ".jsonl"


def detect_language(text: str) -> str:
    """``ja`` if the text holds any kana or kanji, else ``en``: enough for a bilingual EN/JA demo."""
    return Language.JA.value if _JAPANESE.search(text) else Language.EN.value


@dataclass(frozen=True)
class Corpus:
    """Passages with their ids, languages, topics and translation-pair ids (``None`` where there is none)."""

    name: str
    ids: list[str]
    texts: list[str]
    langs: list[str]
    topics: list[str]
    pairs: list[str | None]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        sizes = {
            len(self.ids),
            len(self.texts),
            len(self.langs),
            len(self.topics),
            len(self.pairs),
        }
        if len(sizes) != 1:
            raise ValueError(f"corpus {self.name!r}: ids, texts, langs, topics and pairs differ in length")

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def from_texts(cls, name: str, texts: list[str], **columns: list) -> Corpus:
        """A corpus from texts; missing columns are filled (ids 1..n, detected language, topic ``-``)."""
        n = len(texts)
        return cls(
            name=name,
            ids=columns.get("ids") or [str(i) for i in range(1, n + 1)],
            texts=texts,
            langs=columns.get("langs") or [detect_language(t) for t in texts],
            topics=columns.get("topics") or ["-"] * n,
            pairs=columns.get("pairs") or [None] * n,
            notes=columns.get("notes") or [],
        )


def describe(corpus: Corpus) -> str:
    """The corpus line under the search box: which corpus the visitor's searches use."""
    if corpus.name == "demo":
        return f"Corpus / コーパス: bundled demo corpus, {len(corpus)} passages (English and Japanese, 10 topics)"
    name = markdown_text(corpus.name)  # a visitor's file name is text, never markup
    return f"Corpus / コーパス: your upload **{name}**, {len(corpus):,} passages (this session only)"


def load_demo_corpus(path: Path = DEMO_CORPUS) -> Corpus:
    """The bundled corpus: English and Japanese passages across ten topics, many of them translation pairs."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return Corpus(
        name="demo",
        ids=[r["id"] for r in rows],
        texts=[r["text"] for r in rows],
        langs=[r["lang"] for r in rows],
        topics=[r["topic"] for r in rows],
        pairs=[r.get("pair") for r in rows],
    )


def parse_upload(
    path: str | Path,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_passages: int = MAX_PASSAGES,
    max_chars: int = MAX_PASSAGE_CHARS,
) -> Corpus:
    """Read an uploaded .txt (one passage a line), .csv (a ``text`` column) or .jsonl (``{"text": ...}``) file.

    Raises :class:`InputError` naming the limit or the line at fault. Passages longer than ``max_chars`` are cut
    (and the corpus notes say how many); control characters are replaced by spaces.
    """
    path = Path(path)
    try:
        kind = UploadFormat(path.suffix.lower())
    except ValueError:
        raise InputError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}. Upload .txt (one passage a line), "
            f".csv (with a 'text' column) or .jsonl (one {{\"text\": ...}} object a line). / "
            f"対応していないファイル形式です（.txt / .csv / .jsonl）。"
        ) from None
    try:
        size = path.stat().st_size
        raw = path.read_bytes() if 0 < size <= max_bytes else b""
    except (OSError, ValueError) as error:  # gone, a folder, unreadable, a name the OS cannot take
        raise InputError(
            f"{path.name} could not be read ({type(error).__name__}). Upload the file again. / "
            f"ファイルを読み込めませんでした。もう一度アップロードしてください。"
        ) from None
    if size == 0:
        raise InputError(f"{path.name} is empty: nothing to search. / ファイルが空です。")
    if size > max_bytes:
        raise InputError(
            f"{path.name} is {size:,} bytes; the upload limit is {max_bytes:,} bytes ({max_bytes / 1e6:g} MB). "
            f"Upload a smaller file or fewer passages. / ファイルが大きすぎます（上限 {max_bytes / 1e6:g} MB）。"
        )
    try:
        text = decode_text_file(raw)
    except UndecodableFile as error:
        if error.nul:
            raise InputError(
                f"{path.name} holds NUL bytes on line {error.line} (byte {error.byte}): a binary or UTF-16 file, "
                f"not UTF-8 text. Save it as UTF-8 text and upload again. / バイナリまたは UTF-16 のファイルです"
                f"（{error.line}行目）。UTF-8 のテキストで保存し直してください。"
            ) from None
        raise InputError(
            f"{path.name} is not UTF-8 text (byte {error.byte} on line {error.line} cannot be decoded). Save it as "
            f"UTF-8 and upload again. / UTF-8 のテキストではありません（{error.line}行目）。"
            f"UTF-8 で保存し直してください。"
        ) from None
    reader = {
        UploadFormat.TXT: _read_txt,
        UploadFormat.CSV: _read_csv,
        UploadFormat.JSONL: _read_jsonl,
    }[kind]
    rows = reader(text, path.name)
    return _build(path.name, rows, max_passages=max_passages, max_chars=max_chars)


def _read_txt(text: str, name: str) -> list[dict]:
    return [{"text": line, "line": number} for number, line in enumerate(text.splitlines(), start=1)]


def _read_csv(text: str, name: str) -> list[dict]:
    """Rows of the ``text`` column (and ``id``/``lang``/``topic`` if present), each with the file line it starts on.

    Blank rows are skipped, and every message names the row by that line, as an editor shows it.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []  # (first line of the row in the file, cells)
    try:
        start = 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise InputError(
            f"{name}: malformed CSV at line {reader.line_num} ({error}). Check the quotes on that line. / "
            f"CSV の形式が正しくありません（{reader.line_num}行目）。"
        ) from None
    if not records:
        raise InputError(f"{name} holds no rows. / CSV に行がありません。")
    header = [cell.strip().lower() for cell in records[0][1]]
    if "text" in header:
        column = header.index("text")
        body = records[1:]
    elif len(header) == 1:
        column, body, header = 0, records, ["text"]
    else:
        raise InputError(
            f"{name}: the CSV needs a header row with a 'text' column (found {records[0][1]!r}). / "
            f"CSV の1行目に 'text' 列の見出しが必要です。"
        )
    rows = []
    for line, cells in body:
        if len(cells) != len(header):
            raise InputError(
                f"{name}: row {line} has {len(cells)} field(s) but the header has {len(header)} (rows are numbered "
                f"by file line). / CSV の{line}行目の列の数が見出しと合いません。"
            )
        row = dict(zip(header, cells, strict=True))
        extra = {key: row[key] for key in ("id", "lang", "topic") if key in row}
        rows.append(extra | {"text": cells[column], "line": line})
    return rows


def _read_jsonl(text: str, name: str) -> list[dict]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            raise InputError(
                f"{name}: line {number} is nested too deeply to read. Each line must be one flat object like "
                f'{{"text": "..."}}. / {number}行目の入れ子が深すぎます。'
            ) from None
        except ValueError as error:  # JSONDecodeError, or a number too long to convert
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error).split(":")[0]
            raise InputError(
                f"{name}: line {number} is not valid JSON ({reason}). Each line must be one object like "
                f'{{"text": "..."}}. / {number}行目が正しい JSON ではありません。'
            ) from None
        if isinstance(value, str):
            value = {"text": value}
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise InputError(
                f'{name}: line {number} has no string "text" field. Each line must be an object like '
                f'{{"text": "..."}}. / {number}行目に文字列の "text" がありません。'
            )
        extra = {key: str(value[key]) for key in ("id", "lang", "topic") if value.get(key) is not None}
        if any(lone_surrogate(field) is not None for field in (value["text"], *extra.values())):
            raise InputError(
                f"{name}: line {number} holds invalid Unicode (a lone surrogate escape such as \\ud800). Fix or "
                f"delete that line. / {number}行目に不正な Unicode（孤立サロゲート）があります。"
            )
        rows.append(extra | {"text": value["text"], "line": number})
    return rows


def _check_unique_ids(name: str, ids: list[str], lines: list[int]) -> None:
    """Refuse a corpus whose passage ids repeat (a passage is picked by its id), naming the id and its lines."""
    lines_of: dict[str, list[int]] = {}
    for passage_id, line in zip(ids, lines, strict=True):
        lines_of.setdefault(passage_id, []).append(line)
    repeated = {passage_id: found for passage_id, found in lines_of.items() if len(found) > 1}
    if not repeated:
        return
    passage_id, found = next(iter(repeated.items()))
    more = f" ({len(repeated) - 1} more id(s) repeat too)" if len(repeated) > 1 else ""
    raise InputError(
        f"{name}: passage id {passage_id!r} is used on lines {', '.join(map(str, found))}{more}. Ids must be unique "
        f"(a passage without an id gets its passage number): give each passage its own id, or leave the ids out. / "
        f"id {passage_id!r} が {', '.join(map(str, found))} 行目で重複しています。id は一意にしてください。"
    )


def _build(name: str, rows: list[dict], *, max_passages: int, max_chars: int) -> Corpus:
    """Clean the texts, drop empty ones, apply the limits and fill missing columns."""
    kept, cut, controls, invisible = [], 0, 0, 0
    for row in rows:
        text, removed = strip_controls(row["text"])
        text = " ".join(text.split())
        controls += removed
        problem = text_problem(text)
        invisible += problem is TextProblem.INVISIBLE
        if problem is not None:
            continue
        if len(text) > max_chars:
            text, cut = text[:max_chars], cut + 1
        kept.append(row | {"text": text})
    if not kept:
        raise InputError(f"{name} holds no non-empty passage. / 空でない文章がありません。")
    if len(kept) > max_passages:
        raise InputError(
            f"{name} holds {len(kept):,} passages; the limit is {max_passages:,}. Upload fewer. / "
            f"文章の数が多すぎます（上限 {max_passages:,} 件）。"
        )
    notes = []
    if cut:
        notes.append(f"{cut} passage(s) longer than {max_chars:,} characters were cut to that length.")
    if controls:
        notes.append(f"{controls} control character(s) were replaced by spaces.")
    if invisible:
        notes.append(f"{invisible} passage(s) with no visible characters were skipped.")
    texts = [row["text"] for row in kept]
    langs = [row.get("lang") if row.get("lang") in ("en", "ja") else detect_language(row["text"]) for row in kept]
    ids = [str(row.get("id") or i) for i, row in enumerate(kept, start=1)]
    _check_unique_ids(name, ids, [row["line"] for row in kept])
    return Corpus.from_texts(
        name,
        texts,
        ids=ids,
        langs=langs,
        topics=[str(row.get("topic") or "-") for row in kept],
        notes=notes,
    )


def upload_view(
    service: DemoService, path: str | Path | None, previous: UploadHandle | None = None
) -> tuple[str, UploadHandle]:
    """Read an uploaded .txt, .csv or .jsonl file into this visitor's own corpus and index it with the fp32 model.

    Returns (message, the handle of the new upload): the message first, like every view, so errors take the same
    path. The session's ``previous`` upload is dropped, and the server's copy of the file is deleted once read.
    """
    if not path:
        raise InputError("No file was uploaded. / ファイルがアップロードされていません。")
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(
            f"The upload must be a file, got {type(path).__name__}. / ファイルをアップロードしてください。"
        )
    try:
        corpus = parse_upload(path)
    finally:
        discard_upload(path)
    state = CorpusState(corpus)
    start = time.perf_counter()
    service.index(state, Precision.FP32)
    seconds = time.perf_counter() - start
    service.uploads.drop(previous)
    handle = service.uploads.add(state)
    langs = ", ".join(f"{lang} {corpus.langs.count(lang)}" for lang in sorted(set(corpus.langs)))
    notes = " ".join(corpus.notes)
    message = (
        f"Loaded **{markdown_text(corpus.name)}**: {len(corpus):,} passages ({langs}), "
        f"indexed in {seconds:.2f} s. Searches now use this corpus (this session only). {notes} / "
        f"{len(corpus):,}件の文章を読み込みました。"
    )
    return message, handle
