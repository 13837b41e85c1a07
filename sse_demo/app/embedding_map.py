"""A 2-D map of the corpus embeddings (UMAP), the query placed in it, and a passage's nearest neighbours.

UMAP (umap-learn) is imported only here and only when a map is asked for: its first call compiles numba code,
which would otherwise slow the app's start-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.app.formatting import TEXT_PREVIEW, frame, html_text, markdown_text, plotly
from sse_demo.app.index import embed_query, hits_of, truncate_normalize
from sse_demo.app.inputs import InputError, Precision, check_k, clean_query, shown

if TYPE_CHECKING:
    from sse_demo.app.corpus import Corpus
    from sse_demo.app.service import DemoService
    from sse_demo.app.state import CorpusState

MIN_MAP_PASSAGES = 5
NEIGHBOUR_COLUMNS = ["rank", "score", "id", "lang", "topic", "text"]


@dataclass
class EmbeddingMap:
    """2-D coordinates of the corpus rows and the fitted reducer (to place new points)."""

    coords: np.ndarray
    reducer: object

    def place(self, vectors: np.ndarray) -> np.ndarray:
        """2-D coordinates of new vectors (e.g. the query) in the same map."""
        return np.asarray(self.reducer.transform(np.atleast_2d(vectors)), dtype=np.float32)


def fit_map(vectors: np.ndarray, *, seed: int = 0, n_neighbors: int = 15) -> EmbeddingMap:
    """Fit UMAP with cosine distance (the similarity search uses) on unit-norm vectors."""
    import umap

    n_neighbors = max(2, min(n_neighbors, len(vectors) - 1))
    reducer = umap.UMAP(n_neighbors=n_neighbors, metric="cosine", random_state=seed, n_jobs=1, init="random")
    coords = reducer.fit_transform(vectors)
    return EmbeddingMap(np.asarray(coords, dtype=np.float32), reducer)


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
        placed = fitted.place(truncate_normalize(embed_query(service.model(precision), clean.text), index.dim)[None])
    figure = map_figure(fitted.coords, st.corpus, placed, clean.text if clean else "")
    summary = (
        f"UMAP of {len(st.corpus):,} passages ({precision.value}, {index.dim} dims, cosine), ready in {seconds:.1f} s."
    )
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


def map_figure(coords: np.ndarray, corpus: Corpus, query: np.ndarray | None, query_text: str) -> object:
    """Scatter of the corpus map: colour by topic, symbol by language, the query as a star."""
    go = plotly()
    figure = go.Figure()
    symbols = {"en": "circle", "ja": "diamond"}
    topics, langs = corpus.topics, corpus.langs
    for topic in sorted(set(topics)):
        for lang in sorted(set(langs)):
            mask = [i for i, (t, la) in enumerate(zip(topics, langs, strict=True)) if t == topic and la == lang]
            if not mask:
                continue
            figure.add_trace(
                go.Scatter(
                    x=coords[mask, 0],
                    y=coords[mask, 1],
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
