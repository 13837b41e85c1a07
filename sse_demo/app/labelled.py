"""A labelled retrieval set for "quality against dim": the shared eval sets when present, else the demo pairs.

The demo fallback uses the corpus's translation pairs: each English passage must find its Japanese translation
among all Japanese passages, and each Japanese passage its English one (cross-lingual retrieval). It is small
and easy, so it shows the *shape* of quality against dim rather than a benchmark number.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sse_demo.app.corpus import Corpus
from sse_demo.app.formatting import frame, plotly
from sse_demo.app.inputs import InputError, Precision
from sse_demo.evaluation.beir import default_eval_dir

if TYPE_CHECKING:
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState
    from sse_demo.model import SSEModel

# Sets to try, in order; each is sampled to at most EVAL_MAX_QUERIES queries so the page answers in seconds.
EVAL_SETS = ("tatoeba-en2ja", "jsquad-ja")
EVAL_MAX_QUERIES = 200


@dataclass(frozen=True)
class LabelledSet:
    """A BEIR dataset and a sentence saying where it came from."""

    dataset: object  # sse_demo.evaluation.beir.BeirDataset
    source: str


def shared_sets(folder: Path, names=EVAL_SETS, *, max_queries: int = EVAL_MAX_QUERIES) -> list[LabelledSet]:
    """The eval sets found under ``folder`` (none when it is absent)."""
    from sse_demo.evaluation.beir import load_beir

    found = []
    for name in names:
        if (folder / name / "corpus.jsonl").is_file():
            data = load_beir(folder / name, max_queries=max_queries)
            found.append(LabelledSet(data, f"{name} from {folder} ({len(data.queries)} queries sampled)"))
    return found


def demo_pair_sets(corpus: Corpus) -> list[LabelledSet]:
    """Two cross-lingual sets from the translation pairs: en to ja and ja to en."""
    from sse_demo.evaluation.beir import BeirDataset

    sets = []
    for source, target in (("en", "ja"), ("ja", "en")):
        docs = {i: t for i, t, lang in zip(corpus.ids, corpus.texts, corpus.langs, strict=True) if lang == target}
        by_pair = {
            p: i for i, p, lang in zip(corpus.ids, corpus.pairs, corpus.langs, strict=True) if lang == target and p
        }
        queries, qrels = {}, {}
        for qid, text, lang, pair in zip(corpus.ids, corpus.texts, corpus.langs, corpus.pairs, strict=True):
            if lang == source and pair in by_pair:
                queries[qid], qrels[qid] = text, {by_pair[pair]: 1}
        if queries:
            name = f"demo-pairs-{source}2{target}"
            description = (
                f"{name}: {len(queries)} {source} passages of the demo corpus, each to find its {target} "
                f"translation among {len(docs)} {target} passages (derived from the demo corpus)"
            )
            sets.append(LabelledSet(BeirDataset(name, docs, queries, qrels), description))
    return sets


def labelled_sets(corpus: Corpus, folder: Path | None = None) -> list[LabelledSet]:
    """The shared eval sets when the folder holds any, else the demo-pair sets."""
    return shared_sets(folder if folder is not None else default_eval_dir()) or demo_pair_sets(corpus)


def quality_by_dim(model: SSEModel, sets: list[LabelledSet], dims) -> list[dict]:
    """NDCG@10 and Recall@10 of ``model`` on each set at each dim (exact cosine search).

    Documents and queries are encoded once at full dim; each dim's view is truncated and re-normalised, which is
    what ``encode(..., dim=d)`` gives, so the ladder costs one encoding instead of one per dim.
    """
    import torch

    from sse_demo.app.index import truncate_normalize
    from sse_demo.evaluation.evaluate import rank_and_score

    rows = []
    for labelled in sets:
        data = labelled.dataset
        doc_ids = sorted(data.corpus)  # column order = id order, so score ties break by id (as the evaluator does)
        docs = model.encode([data.corpus[i] for i in doc_ids], normalize=False)
        queries = model.encode(list(data.queries.values()), normalize=False)
        for dim in dims:
            scores = torch.from_numpy(truncate_normalize(queries, dim) @ truncate_normalize(docs, dim).T)
            metrics = rank_and_score(data, doc_ids, iter([scores]))
            rows.append(
                {"set": data.name, "dim": dim, "ndcg@10": metrics["ndcg@10"], "recall@10": metrics["recall@10"]}
            )
    return rows


def quality_view(service: DemoService, precision: object, state: CorpusState | None = None):
    """Retrieval quality (NDCG@10, Recall@10) against Matryoshka dim on a labelled set.

    Returns (summary Markdown, table, figure). Measured once per precision and set, then cached.
    """
    precision = Precision.parse(precision)
    corpus = service.state(state).corpus
    sets = labelled_sets(service.demo.corpus if corpus.name != "demo" else corpus)
    if not sets:
        raise InputError("No labelled set is available. / 評価用データがありません。")
    model = service.model(precision)
    dims = service.dims

    def measure() -> tuple[list[dict], float]:
        start = time.perf_counter()
        return quality_by_dim(model, sets, [d for d in dims if d <= model.dim]), time.perf_counter() - start

    rows, seconds = service.cache.get(("quality", precision, tuple(s.dataset.name for s in sets)), measure)
    table = [{**row, "ndcg@10": round(row["ndcg@10"], 4), "recall@10": round(row["recall@10"], 4)} for row in rows]
    sources = "; ".join(s.source for s in sets)
    summary = f"Quality against dim, {precision.value} model, measured in {seconds:.1f} s on: {sources}."
    figure = quality_vs_dim(rows, f"NDCG@10 against dim ({precision.value})")
    return summary, frame(table, ["set", "dim", "ndcg@10", "recall@10"]), figure


def quality_vs_dim(rows: list[dict], title: str) -> object:
    """NDCG@10 against dim, one line per labelled set."""
    go = plotly()
    figure = go.Figure()
    for name in dict.fromkeys(row["set"] for row in rows):
        mine = [row for row in rows if row["set"] == name]
        figure.add_trace(
            go.Scatter(x=[r["dim"] for r in mine], y=[r["ndcg@10"] for r in mine], mode="lines+markers", name=name)
        )
    figure.update_layout(
        title=title,
        xaxis={"title": "dim", "type": "log", "tickvals": sorted({row["dim"] for row in rows})},
        yaxis_title="NDCG@10",
        height=360,
    )
    return figure
