"""How far can a mean-pooled static embedding get on the English eval sets by lexical matching alone?

A static model scores ``cos(mean of query rows, mean of document rows)``. With orthogonal rows scaled by IDF that
is exactly TF-IDF cosine with linear term frequency, the best such a model can do without semantics. This script
measures, with the bundled model's tokenizer and the project's metrics (NDCG@10, binary relevance):

* ``tfidf exact``: sparse TF-IDF cosine, IDF from the searched corpus itself (as BM25 has it);
* ``tfidf random D``: the same vectors through D random unit rows, i.e. a static table of D dims whose rows are
  random directions scaled by that IDF (what any 512-dim table pays in cross-talk between unrelated pieces);
* ``tfidf sublinear``: ``1 + log(tf)`` instead of tf, which mean pooling cannot express (for comparison);
* ``..., IDF of the other sets``: the IDF taken from the other three corpora instead of the searched one, as a
  model's fixed weights would be: learnt on text from elsewhere.

The corpus IDF is not available to a static model (its weights are fixed before it sees a corpus), so these are
upper bounds of the lexical part, not models.

    python bench/lexical_ceiling.py --out docs/lexical_ceiling.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from sse_demo import load_model
from sse_demo.evaluation.beir import default_eval_dir, load_beir
from sse_demo.evaluation.metrics import retrieval_metrics

EN_SETS = ("nfcorpus-en", "scifact-en", "nq-utd-en", "stackfaq-en")


def tfidf(model, texts: list[str], idf: np.ndarray, *, sublinear: bool = False) -> csr_matrix:
    """Row-normalised TF-IDF vectors of ``texts`` over the model's token ids."""
    ids, offsets = model.tokenize(texts)
    counts = csr_matrix(
        (np.ones(len(ids), np.float32), ids, np.append(offsets, len(ids))), shape=(len(texts), model.vocab_size)
    )
    counts.sum_duplicates()
    if sublinear:
        counts.data = 1 + np.log(counts.data)
    weighted = csr_matrix(counts.multiply(idf[None, :]))
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel()) + 1e-12
    return csr_matrix(weighted.multiply(1 / norms[:, None]))


def ndcg(scores: np.ndarray, doc_ids: list[str], relevant: list[set[str]]) -> float:
    ranked = [[doc_ids[j] for j in np.argsort(-row)[:100]] for row in scores]
    return retrieval_metrics(ranked, relevant)["ndcg@10"]


def document_frequency(model, docs: list[str]) -> np.ndarray:
    """Fraction of ``docs`` that hold each token id."""
    ids, offsets = model.tokenize(docs)
    doc_of_token = np.repeat(np.arange(len(docs)), np.diff(np.append(offsets, len(ids))))
    counts = np.bincount(np.unique(np.stack([doc_of_token, ids]), axis=1)[1], minlength=model.vocab_size)
    return counts / len(docs)


def evaluate_set(model, data, own_df: np.ndarray, other_df: np.ndarray, dims: list[int], seed: int) -> dict:
    """NDCG@10 of each lexical system on one set; ``other_df`` is the mean document frequency of the other sets."""
    doc_ids = list(data.corpus)
    docs = [data.corpus[i] for i in doc_ids]
    query_ids = [q for q in data.qrels if q in data.queries]
    queries = [data.queries[q] for q in query_ids]
    relevant = [{d for d, grade in data.qrels[q].items() if grade > 0} for q in query_ids]
    results: dict[str, float] = {}
    for label, df in (("", own_df), (", IDF of the other sets", other_df)):
        idf = (np.log(1 / (df + 1 / len(docs))) + 1).astype(np.float32)
        for name, sublinear in (("tfidf exact", False), ("tfidf sublinear", True)):
            if sublinear and label:
                continue
            scores = tfidf(model, queries, idf, sublinear=sublinear) @ tfidf(model, docs, idf, sublinear=sublinear).T
            results[name + label] = ndcg(scores.toarray(), doc_ids, relevant)
        query_vectors, doc_vectors = tfidf(model, queries, idf), tfidf(model, docs, idf)
        for dim in dims:
            rows = np.random.default_rng(seed).standard_normal((model.vocab_size, dim)).astype(np.float32)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            q, d = query_vectors @ rows, doc_vectors @ rows
            q /= np.linalg.norm(q, axis=1, keepdims=True) + 1e-12
            d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
            results[f"tfidf random {dim}{label}"] = ndcg(q @ d.T, doc_ids, relevant)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, default=default_eval_dir())
    parser.add_argument("--dims", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--seeds", type=int, default=3, help="random tables per dim (the table gives the median)")
    parser.add_argument("--out", type=Path, help="markdown file to write (default: print)")
    args = parser.parse_args()
    missing = [name for name in EN_SETS if not (args.eval_dir / name).is_dir()]
    if missing:
        raise SystemExit(f"eval sets {missing} not found under {args.eval_dir}: pass --eval-dir (see README)")
    started = time.time()
    model = load_model()
    sets = {name: load_beir(args.eval_dir / name) for name in EN_SETS}
    dfs = {name: document_frequency(model, list(data.corpus.values())) for name, data in sets.items()}
    other = {name: np.mean([df for other, df in dfs.items() if other != name], axis=0) for name in EN_SETS}
    per_seed = [
        {name: evaluate_set(model, sets[name], dfs[name], other[name], args.dims, seed) for name in EN_SETS}
        for seed in range(args.seeds)
    ]
    systems = list(per_seed[0][EN_SETS[0]])
    lines = [
        "# Lexical ceiling of a mean-pooled static embedding (English eval sets)",
        "",
        f"Made by `python bench/lexical_ceiling.py{' --out ' + str(args.out) if args.out else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {(time.time() - started) / 60:.1f} min "
        f"(bundled model's tokenizer; sets: {args.eval_dir}). NDCG@10, binary relevance; IDF from each searched "
        f"corpus; random tables: median of {args.seeds} seeds. See the script's docstring for what each row is.",
        "",
        f"| system | {' | '.join(EN_SETS)} | EN mean |",
        f"|---|{'---|' * len(EN_SETS)}---|",
    ]
    for system in systems:
        values = [float(np.median([run[name][system] for run in per_seed])) for name in EN_SETS]
        lines.append(f"| {system} | {' | '.join(f'{v:.4f}' for v in values)} | {np.mean(values):.4f} |")
    report = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
