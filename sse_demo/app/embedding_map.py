"""A 2-D map of the corpus embeddings (UMAP), the query placed in it, and a passage's nearest neighbours.

UMAP (umap-learn) is imported only in the worker process that fits maps (``fit_map``), when a map is first asked
for: its first call compiles numba code, which would otherwise slow the app's start-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import TEXT_PREVIEW, frame, html_text, markdown_text, plotly
from sse_demo.app.index import embed_query, hits_of, truncate_normalize
from sse_demo.app.inputs import InputError, Precision, check_k, clean_query, shown
from sse_demo.search.exact import top_k

if TYPE_CHECKING:
    from sse_demo.app.corpus import Corpus
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState

MIN_MAP_PASSAGES = 5
MAX_MAP_PASSAGES = 1_000  # a larger corpus is mapped by an even sample of this many passages
PLACE_NEIGHBOURS = 15
NEIGHBOUR_COLUMNS = ["rank", "score", "id", "lang", "topic", "text"]


@dataclass
class EmbeddingMap:
    """2-D coordinates of the mapped corpus rows (all of them, or an even sample of a large corpus)."""

    coords: np.ndarray  # (m, 2) float32
    rows: np.ndarray  # (m,) the corpus row of each point, ascending

    @property
    def nbytes(self) -> int:
        return self.coords.nbytes + self.rows.nbytes

    def place(self, matrix: np.ndarray, vector: np.ndarray, n_neighbors: int = PLACE_NEIGHBOURS) -> np.ndarray:
        """2-D position of a new unit vector (e.g. the query): the similarity-weighted mean of its nearest mapped
        passages' positions (``matrix`` is the corpus's unit-norm full-dim matrix), as UMAP starts a transform.

        Keeping no fitted reducer keeps a map to a few kilobytes, and placing a point compiles nothing.
        """
        scores = matrix[self.rows] @ vector
        nearest = top_k(scores, min(n_neighbors, len(scores)))
        weights = np.clip(scores[nearest], 1e-6, None)
        return (weights @ self.coords[nearest] / weights.sum())[None].astype(np.float32)


def map_rows(n: int, max_points: int = MAX_MAP_PASSAGES) -> np.ndarray:
    """Which corpus rows a map shows: all of them, or ``max_points`` spread evenly over the corpus."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def fit_map(
    vectors: np.ndarray, *, seed: int = 0, n_neighbors: int = 15, max_points: int = MAX_MAP_PASSAGES
) -> EmbeddingMap:
    """Fit UMAP with cosine distance (the similarity search uses) on unit-norm vectors, at most ``max_points``
    of them: a fit's time grows with the points (on a busy 2-core machine 1,000 took 5 s, 2,000 took 15 s).

    The fit runs in the page's low-priority worker process (:mod:`sse_demo.app.worker`): UMAP holds the GIL for
    most of it, which in a thread of the page would stall every search."""
    from sse_demo.app.worker import HEAVY_PROCESS

    rows = map_rows(len(vectors), max_points)
    n_neighbors = max(2, min(n_neighbors, len(rows) - 1))
    coords = HEAVY_PROCESS.run(umap_coords, np.ascontiguousarray(vectors[rows]), seed=seed, n_neighbors=n_neighbors)
    return EmbeddingMap(coords, rows)


def umap_coords(vectors: np.ndarray, *, seed: int, n_neighbors: int) -> np.ndarray:
    """The 2-D UMAP coordinates (float32) of ``vectors``: what the worker process computes."""
    import umap

    reducer = umap.UMAP(n_neighbors=n_neighbors, metric="cosine", random_state=seed, n_jobs=1, init="random")
    return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)


def neighbours(matrix: np.ndarray, row: int, k: int) -> list[tuple[int, float]]:
    """The ``k`` passages closest to passage ``row`` (itself excluded), with their cosine scores."""
    scores = matrix @ matrix[row]
    scores[row] = -np.inf
    return [(h.index, h.score) for h in hits_of(scores, min(k, len(scores) - 1))]


def embedding_map_view(service: DemoService, query: object, precision: object, state: CorpusState | None):
    """A UMAP map of the corpus (cosine, full dim), the query placed in it as a star if one is given.

    Returns (summary Markdown, figure). The first map of a process takes seconds: UMAP compiles numba code.
    """
    precision = Precision.parse(precision)
    clean = None if query is None or (isinstance(query, str) and not query.strip()) else clean_query(query)
    st = service.state(state)
    if len(st.corpus) < MIN_MAP_PASSAGES:
        raise InputError(
            f"The map needs at least {MIN_MAP_PASSAGES} passages. / 地図には{MIN_MAP_PASSAGES}件以上の文章が必要です。"
        )
    index = service.index(st, precision)
    start = time.perf_counter()
    fitted = service.map(st, precision)
    seconds = time.perf_counter() - start
    placed = None
    if clean is not None:
        query = truncate_normalize(embed_query(service.model(precision), clean.text), index.dim)
        placed = fitted.place(index.view(index.dim), query)
    figure = map_figure(fitted, st.corpus, placed, clean.text if clean else "")
    shown = f"{len(st.corpus):,} passages"
    if len(fitted.rows) < len(st.corpus):
        shown = (
            f"{len(fitted.rows):,} of {len(st.corpus):,} passages (an even sample: a map of more takes minutes "
            f"here) / {len(st.corpus):,}件中{len(fitted.rows):,}件を表示"
        )
    summary = f"UMAP of {shown} ({precision.value}, {index.dim} dims, cosine), ready in {seconds:.1f} s."
    return summary, figure


def passage_choices(corpus: Corpus) -> list[tuple[str, str]]:
    """(label, id) for every passage of the corpus: the neighbour picker's choices."""
    return [(f"{i} · {lang} · {t[:70]}", i) for i, lang, t in zip(corpus.ids, corpus.langs, corpus.texts, strict=True)]


def neighbours_view(service: DemoService, passage_id: object, precision: object, k: object, state: CorpusState | None):
    """The ``k`` passages nearest to one passage of the corpus (picked by id), at full dim.

    Returns (summary Markdown, table). A cleared picker (``None`` or empty id) gives an empty table, not an error.
    The id is checked against this session's corpus here (an API caller may send the id of a passage it uploaded,
    which the page's picker only learns in a private event); a whole number stands for the id it spells.
    """
    precision, k = Precision.parse(precision), check_k(k)
    corpus = service.state(state).corpus
    if passage_id is None or passage_id == "":
        return "", frame([], NEIGHBOUR_COLUMNS)
    if isinstance(passage_id, int) and not isinstance(passage_id, bool):
        passage_id = str(passage_id)
    if not isinstance(passage_id, str) or passage_id not in corpus.ids:
        raise InputError(
            f"Pick a passage from the list: {shown(passage_id)} is not the id of a passage of this corpus "
            f"({len(corpus):,} passages, ids such as {shown(corpus.ids[0])}). / 一覧から文章を選んでください。"
        )
    row = corpus.ids.index(passage_id)
    index = service.index(state, precision)
    rows = [
        dict(
            zip(
                NEIGHBOUR_COLUMNS,
                (r, round(s, 4), corpus.ids[i], corpus.langs[i], corpus.topics[i], corpus.texts[i][:TEXT_PREVIEW]),
                strict=True,
            )
        )
        for r, (i, s) in enumerate(neighbours(index.view(index.dim), row, k), start=1)
    ]
    summary = f"Nearest passages of **{markdown_text(passage_id)}**: {markdown_text(corpus.texts[row][:TEXT_PREVIEW])}"
    return summary, frame(rows, NEIGHBOUR_COLUMNS)


def map_figure(fitted: EmbeddingMap, corpus: Corpus, query: np.ndarray | None, query_text: str) -> object:
    """Scatter of the mapped passages: colour by topic, symbol by language, the query as a star."""
    go = plotly()
    figure = go.Figure()
    symbols = {"en": "circle", "ja": "diamond"}
    rows = fitted.rows.tolist()
    topics, langs = [corpus.topics[i] for i in rows], [corpus.langs[i] for i in rows]
    for topic in sorted(set(topics)):
        for lang in sorted(set(langs)):
            points = [p for p, (t, la) in enumerate(zip(topics, langs, strict=True)) if t == topic and la == lang]
            if not points:
                continue
            mask = [rows[p] for p in points]
            figure.add_trace(
                go.Scatter(
                    x=fitted.coords[points, 0],
                    y=fitted.coords[points, 1],
                    mode="markers",
                    name=html_text(f"{topic} · {lang}"),  # plotly renders tags and links in labels
                    legendgroup=topic,
                    marker={"symbol": symbols.get(lang, "circle"), "size": 8},
                    text=[html_text(f"{corpus.ids[i]}: {corpus.texts[i][:80]}") for i in mask],
                    hoverinfo="text",
                )
            )
    if query is not None:
        figure.add_trace(
            go.Scatter(
                x=query[:, 0],
                y=query[:, 1],
                mode="markers",
                name="query",
                text=[html_text(query_text[:80])],
                hoverinfo="text",
                marker={"symbol": "star", "size": 18, "color": "black"},
            )
        )
    figure.update_layout(title="UMAP of the corpus (colour: topic, ● en, ◆ ja)", height=560)
    return figure
