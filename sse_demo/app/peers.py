"""SSE beside static peers: the same query over the same corpus, each model's top-k, agreement and costs, and
NDCG@10 on labelled sets.

The peers are the ones ``sse_demo.app.peer_models`` chose (``--peer`` / ``SSE_PEERS``). A peer that fails to load
becomes a banner above the tables; SSE and the other peers are still shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sse_demo.app.formatting import TEXT_PREVIEW, frame, human_bytes, markdown_text
from sse_demo.app.index import overlap
from sse_demo.app.inputs import InputError, Precision, check_k, clean_query
from sse_demo.app.labelled import LabelledSet, demo_pair_sets, quality_by_dim, shared_sets
from sse_demo.app.matryoshka import dial_costs
from sse_demo.app.models import files_bytes
from sse_demo.app.peer_models import PEERS_ENV
from sse_demo.app.speed import texts_per_second
from sse_demo.evaluation.beir import default_eval_dir

if TYPE_CHECKING:
    from sse_demo.app.index import CorpusIndex, Hit
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState
    from sse_demo.model import SSEModel
    from sse_demo.model.peers import PeerModel

OWN_DIM = "own"
COMMON_DIMS = (512, 256)  # the widths every model can be cut to, beside its own
DIM_CHOICES = (OWN_DIM, *map(str, COMMON_DIMS))  # each model at its own width, or cut to a common one
ENCODE_SAMPLE = 1_000  # passages timed for "encode ms / 1,000 texts"
# Labelled sets for NDCG@10, when ../shared/eval (or SSE_EVAL_DIR) holds them: English (the English peer's),
# Japanese (the Japanese peer's) and cross-lingual (SSE's bilingual claim); a seeded query sample of each.
EVAL_SETS = ("scifact-en", "jsquad-ja", "tatoeba-en2ja")
EVAL_QUERIES = 50
EVAL_DIMS = (512, 256)
STATS_COLUMNS = [
    "model",
    "kind",
    "dim",
    "overlap with SSE top-k",
    "encode ms / 1,000 texts",
    "search ms",
    "bytes / vector",
    "on disk",
    "in memory",
    "vocab × dim",
]
QUALITY_COLUMNS = ["set", "model", "dim", "ndcg@10", "recall@10"]


@dataclass(frozen=True)
class Contender:
    """One model in the comparison: its label, kind, the model itself and its index over the corpus."""

    label: str
    kind: str
    model: SSEModel | PeerModel
    index: CorpusIndex
    disk_bytes: int | None


def parse_dim(value: object) -> int | None:
    """``None`` for each model's own width, else a common width to cut every model to; or a bilingual message."""
    if str(value).strip().lower() == OWN_DIM:
        return None
    try:
        dim = int(str(value).strip())
    except ValueError:
        dim = 0
    if str(dim) not in DIM_CHOICES:
        choices = ", ".join(DIM_CHOICES)
        raise InputError(f"dim must be one of {choices}, got {value!r}. / 次元は {choices} から選んでください。")
    return dim


def contenders(
    service: DemoService, precision: Precision, state: CorpusState | None
) -> tuple[list[Contender], list[str]]:
    """SSE and every peer that loads, with their indexes over the corpus; and a banner line per peer that fails."""
    model = service.model(precision)
    sse = Contender(
        f"SSE {precision.value}",
        "SSE",
        model,
        service.index(state, precision),
        files_bytes(service.choice.ref(precision)),
    )
    found, banners = [sse], []
    for name in service.peer_names:
        try:
            peer = service.peer(name)
            found.append(Contender(name, str(peer.kind), peer, service.peer_index(state, name), peer.disk_bytes))
        except InputError as error:
            banners.append(f"⚠️ {markdown_text(error)}")
    return found, banners


def peers_view(
    service: DemoService, query: object, dim: object, precision: object, k: object, state: CorpusState | None
):
    """The same query through SSE and each static peer over the same corpus, side by side.

    Returns (summary Markdown with a banner for each peer that failed to load, the top-k of every model side by
    side, one row per model: overlap with SSE's top-k, encode and search time, bytes per vector, size on disk and in
    memory).
    """
    clean = clean_query(query)
    wanted, precision, k = parse_dim(dim), Precision.parse(precision), check_k(k)
    models, banners = contenders(service, precision, state)
    corpus = models[0].index.corpus
    sample = corpus.texts[:ENCODE_SAMPLE]
    hits: dict[str, list[Hit]] = {}
    stats = []
    for contender in models:
        model, index = contender.model, contender.index
        width = min(wanted or model.dim, model.dim)
        query_raw = model.encode([clean.text], normalize=False)[0]
        hits[contender.label] = index.search(query_raw, width, k)
        cost = dial_costs(index, query_raw, [width], k=k)[0]
        values = (
            contender.label,
            contender.kind,
            width,
            round(overlap(hits[models[0].label], hits[contender.label]), 2),
            round(1e6 / texts_per_second(model, sample, min_seconds=0.05, repeats=3), 2),
            round(cost.search_ms, 4),
            cost.bytes_per_vector,
            human_bytes(contender.disk_bytes) if contender.disk_bytes else "-",
            human_bytes(model.memory_bytes),
            f"{model.vocab_size:,} × {model.dim}",
        )
        stats.append(dict(zip(STATS_COLUMNS, values, strict=True)))
    columns = ["rank"] + [f"{c.label} {part}" for c in models for part in ("score", "text")]
    rows = []
    for rank in range(1, k + 1):
        row: dict[str, object] = {"rank": rank}
        for contender in models:
            mine = hits[contender.label]
            hit = mine[rank - 1] if rank <= len(mine) else None
            row[f"{contender.label} score"] = round(hit.score, 4) if hit else None
            row[f"{contender.label} text"] = corpus.texts[hit.index][:TEXT_PREVIEW] if hit else ""
        if any(row[f"{c.label} text"] for c in models):
            rows.append(row)
    widths = "each model at its own dim" if wanted is None else f"every model cut to at most {wanted} dims"
    summary = (
        f"{clean.note} **{precision.value} SSE and {len(models) - 1} peer(s), top-{k}**, {widths}, over the same "
        f"{len(corpus):,} passages; encode time over the first {len(sample):,} of them (median of 3), peers on the "
        f"CPU. / 同じクエリ・同じコーパスで SSE と比較モデルを並べます。"
    ).strip()
    if not service.peer_names:
        summary += (
            f"\n\nNo peers are configured: start the app with `--peer NAME` (a folder or hub id; repeat it) or set "
            f"`{PEERS_ENV}`. / 比較モデルが設定されていません（`--peer` か `{PEERS_ENV}` で指定してください）。"
        )
    return "\n\n".join([*banners, summary]), frame(rows, columns), frame(stats, STATS_COLUMNS)


def eval_dims(model_dim: int) -> list[int]:
    """A model's own dim, then 512 and 256 where it has that many."""
    return list(dict.fromkeys([model_dim, *(d for d in EVAL_DIMS if d <= model_dim)]))


def labelled(service: DemoService) -> list[LabelledSet]:
    """The shared sets (a seeded sample of queries, every document), else the demo corpus's translation pairs."""
    return service.cache.get(
        ("peers-eval-sets",),
        lambda: (
            shared_sets(default_eval_dir(), EVAL_SETS, max_queries=EVAL_QUERIES) or demo_pair_sets(service.demo.corpus)
        ),
    )


def peers_quality_view(service: DemoService, precision: object):
    """NDCG@10 and Recall@10 of SSE and each peer on labelled sets, each at its own dim and at 512 / 256.

    Returns (summary Markdown naming the sets and query samples, with a banner per peer that failed to load; table).
    Measured once per model, then cached: the first call encodes every set's documents once per model.
    """
    precision = Precision.parse(precision)
    models, banners = contenders(service, precision, None)
    sets = labelled(service)
    names = tuple(s.dataset.name for s in sets)
    start = time.perf_counter()
    rows = []
    for contender in models:
        model = contender.model
        measured = service.cache.get(
            ("peers-quality", contender.label, names),
            lambda model=model: quality_by_dim(model, sets, eval_dims(model.dim)),
        )
        rows += [{**row, "model": contender.label} for row in measured]
    rows.sort(key=lambda row: names.index(row["set"]))  # stable: per set, models in order, dims widest first
    table = [{**row, "ndcg@10": round(row["ndcg@10"], 4), "recall@10": round(row["recall@10"], 4)} for row in rows]
    seconds = time.perf_counter() - start
    summary = (
        f"NDCG@10 of {len(models)} model(s), answered in {seconds:.1f} s (cached after the first call), on: "
        + "; ".join(s.source for s in sets)
        + ". Every document of each set is searched; the query sample is seeded (seed 0). / 評価セットでの NDCG@10。"
    )
    return "\n\n".join([*banners, summary]), frame(table, QUALITY_COLUMNS)
