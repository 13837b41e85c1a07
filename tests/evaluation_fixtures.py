"""Tiny BEIR folders and a tiny static encoder for the evaluation tests (no network, no real data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers

WORDS = [f"w{i}" for i in range(40)]


def tiny_tokenizer() -> Tokenizer:
    """Whitespace word-level tokenizer over WORDS, unknown words map to [UNK] (id 0)."""
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tokenizer


class TinyStaticEncoder:
    """SSE-like encoder: mean of token rows, keep the first ``dim`` coordinates, L2-normalise."""

    def __init__(self, tokenizer: Tokenizer, embedding: np.ndarray) -> None:
        self.tokenizer = tokenizer
        self.embedding = embedding

    def encode(self, texts: list[str], dim: int | None = None) -> np.ndarray:
        rows = []
        for encoding in self.tokenizer.encode_batch(texts, add_special_tokens=False):
            ids = encoding.ids
            rows.append(self.embedding[ids].mean(axis=0) if ids else np.zeros(self.embedding.shape[1], np.float32))
        x = np.stack(rows)[:, :dim]
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return (x / np.where(norms == 0, 1, norms)).astype(np.float32)


def write_beir(
    folder: Path,
    corpus: dict[str, tuple[str, str]],
    queries: dict[str, str],
    qrels: list[tuple],
) -> Path:
    """Write corpus {id: (title, text)}, queries {id: text} and qrels [(qid, cid, score)] in BEIR layout."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for doc_id, (title, text) in corpus.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid, text in queries.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{c}\t{s}" for q, c, s in qrels]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def random_beir(folder: Path, seed: int = 0, n_docs: int = 150, n_queries: int = 30, words: list[str] = WORDS) -> Path:
    """A random set with graded and zero grades, duplicate and empty documents, unjudged queries and
    a relevant id missing from the corpus: the corner cases where evaluators disagree."""
    rng = np.random.default_rng(seed)

    def text(n: int) -> str:
        return " ".join(rng.choice(words, size=n))

    corpus = {f"d{i}": ("" if i % 3 else text(2), text(int(rng.integers(1, 12)))) for i in range(n_docs)}
    corpus["d5"] = corpus["d7"] = ("", " ".join(words[:3]))  # identical documents: tied scores
    corpus["d9"] = ("", "")
    queries = {f"q{i}": text(int(rng.integers(1, 6))) for i in range(n_queries)}
    qrels = []
    for i in range(n_queries - 3):  # the last three queries stay unjudged
        for doc in rng.choice(n_docs, size=int(rng.integers(1, 6)), replace=False):
            qrels.append((f"q{i}", f"d{doc}", int(rng.integers(0, 3))))
        qrels.append((f"q{i}", f"d{int(rng.integers(0, n_docs))}", 1))  # every judged query has a relevant doc
    qrels.append(("q0", "missing-doc", 1))
    return write_beir(folder, corpus, queries, qrels)
