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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import csr_matrix

from sse_demo import load_model
from sse_demo.evaluation.beir import BeirDataset, default_eval_dir, load_beir
from sse_demo.evaluation.evaluate import rank_and_score

EN_SETS = ("nfcorpus-en", "scifact-en", "nq-utd-en", "stackfaq-en")


def term_counts(model, texts: list[str]) -> csr_matrix:
    """How often each token id occurs in each text (texts x vocabulary)."""
    ids, offsets = model.tokenize(texts)
    counts = csr_matrix(
        (np.ones(len(ids), np.float32), ids, np.append(offsets, len(ids))), shape=(len(texts), model.vocab_size)
    )
    counts.sum_duplicates()
    return counts


def tfidf(counts: csr_matrix, idf: np.ndarray, *, sublinear: bool = False) -> csr_matrix:
    """Row-normalised TF-IDF vectors from term counts; ``sublinear`` uses ``1 + log(tf)``."""
    tf = counts.copy()
    if sublinear:
        tf.data = 1 + np.log(tf.data)
    weighted = csr_matrix(tf.multiply(idf[None, :]))
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel()) + 1e-12
    return csr_matrix(weighted.multiply(1 / norms[:, None]))


@dataclass
class CountedSet:
    """One eval set, tokenised once: term counts of its judged queries and of its documents in id order (the
    column order the project's evaluator ranks in, so score ties break by id as there)."""

    data: BeirDataset
    doc_ids: list[str]
    queries: csr_matrix
    docs: csr_matrix

    @classmethod
    def load(cls, model, folder: Path) -> CountedSet:
        data = load_beir(folder)
        doc_ids = sorted(data.corpus)
        return cls(
            data=data,
            doc_ids=doc_ids,
            queries=term_counts(model, list(data.queries.values())),
            docs=term_counts(model, [data.corpus[i] for i in doc_ids]),
        )

    def document_frequency(self) -> np.ndarray:
        """Fraction of the documents that hold each token id."""
        return np.asarray((self.docs > 0).sum(axis=0)).ravel() / self.docs.shape[0]

    def ndcg(self, scores: np.ndarray) -> float:
        """NDCG@10 of query x document scores, ranked and scored by the project's evaluator."""
        return rank_and_score(self.data, self.doc_ids, iter([torch.from_numpy(np.ascontiguousarray(scores))]))[
            "ndcg@10"
        ]


def evaluate_set(counted: CountedSet, other_df: np.ndarray, dims: list[int], seeds: int) -> dict[str, float]:
    """NDCG@10 of each lexical system on one set (random tables: median over ``seeds``); ``other_df`` is the mean
    document frequency of the other sets."""
    results: dict[str, float] = {}
    for label, df in (("", counted.document_frequency()), (", IDF of the other sets", other_df)):
        idf = (np.log(1 / (df + 1 / counted.docs.shape[0])) + 1).astype(np.float32)
        queries, docs = tfidf(counted.queries, idf), tfidf(counted.docs, idf)
        results[f"tfidf exact{label}"] = counted.ndcg((queries @ docs.T).toarray())
        if not label:
            sublinear = tfidf(counted.queries, idf, sublinear=True) @ tfidf(counted.docs, idf, sublinear=True).T
            results["tfidf sublinear"] = counted.ndcg(sublinear.toarray())
        for dim in dims:
            runs = []
            for seed in range(seeds):
                rows = np.random.default_rng(seed).standard_normal((queries.shape[1], dim)).astype(np.float32)
                rows /= np.linalg.norm(rows, axis=1, keepdims=True)
                q, d = queries @ rows, docs @ rows
                q /= np.linalg.norm(q, axis=1, keepdims=True) + 1e-12
                d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
                runs.append(counted.ndcg(q @ d.T))
            results[f"tfidf random {dim}{label}"] = float(np.median(runs))
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
    sets = {name: CountedSet.load(model, args.eval_dir / name) for name in EN_SETS}
    dfs = {name: counted.document_frequency() for name, counted in sets.items()}
    other = {name: np.mean([df for other, df in dfs.items() if other != name], axis=0) for name in EN_SETS}
    results = {name: evaluate_set(sets[name], other[name], args.dims, args.seeds) for name in EN_SETS}
    systems = list(results[EN_SETS[0]])
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
        values = [results[name][system] for name in EN_SETS]
        lines.append(f"| {system} | {' | '.join(f'{v:.4f}' for v in values)} | {np.mean(values):.4f} |")
    report = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
