"""Everything a page event needs, as plain values: tables (pandas), Markdown text and plotly figures.

``DemoService`` owns the two models (fp32 and 4-bit, the second loaded on first use) and the demo corpus.
A visitor's upload lives in a :class:`CorpusState` that the page keeps per session; ``None`` means the demo
corpus. Every method raises :class:`~sse_demo.app.inputs.InputError` with a bilingual message for anything a
visitor can get wrong, including a model that failed to load; the page shows that message and keeps serving.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sse_demo.app import figures
from sse_demo.app.compare import compare_scores, row_cosines
from sse_demo.app.corpus import Corpus, load_demo_corpus, parse_upload
from sse_demo.app.embedding_map import EmbeddingMap, fit_map, neighbours
from sse_demo.app.index import CorpusIndex, Precision, StageTimes, embed_query, ranks, truncate_normalize
from sse_demo.app.inputs import InputError, clean_query
from sse_demo.app.labelled import labelled_sets, quality_by_dim
from sse_demo.app.matryoshka import DIMS, dial_costs, rank_shifts
from sse_demo.app.models import ModelChoice, checkpoint_bytes, files_bytes, memory_bytes
from sse_demo.app.results import PUBLISHED_CSV, measured_csv, measured_markdown, read_table, side_by_side
from sse_demo.app.saturation import DyTParams, saturation
from sse_demo.app.speed import texts_per_second
from sse_demo.app.tokens import inspect_tokens

DEFAULT_K = 10
MAX_K = 50
TEXT_PREVIEW = 160
PREWARM_WAIT_S = 30.0


@dataclass
class CorpusState:
    """A corpus and what has been computed on it so far (indexes and maps per precision)."""

    corpus: Corpus
    indexes: dict[Precision, CorpusIndex] = field(default_factory=dict)
    maps: dict[Precision, EmbeddingMap] = field(default_factory=dict)


def _frame(rows: list[dict], columns: list[str]):
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _shift_label(shift: int) -> str:
    return "=" if shift == 0 else (f"↑{shift}" if shift > 0 else f"↓{-shift}")


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n} GB"


def _check_dim(dim: object, model_dim: int = max(DIMS)) -> int:
    try:
        value = int(dim)
    except (TypeError, ValueError):
        value = -1
    if value not in DIMS:
        raise InputError(
            f"dim must be one of {', '.join(map(str, DIMS))}, got {dim!r}. / 次元は {DIMS} から選んでください。"
        )
    if value > model_dim:
        raise InputError(
            f"This model has only {model_dim} dims; pick a smaller dim. / このモデルは{model_dim}次元です。"
        )
    return value


def _check_precision(precision: object) -> Precision:
    try:
        return Precision(precision)
    except ValueError:
        choices = ", ".join(p.value for p in Precision)
        raise InputError(
            f"precision must be one of {choices}, got {precision!r}. / 精度は {choices} から選んでください。"
        ) from None


def _check_k(k: object) -> int:
    try:
        value = int(k)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_K:
        raise InputError(
            f"k must be a whole number from 1 to {MAX_K}, got {k!r}. / 件数は1〜{MAX_K}で指定してください。"
        )
    return value


class DemoService:
    """The models, the demo corpus and every computation the page shows."""

    def __init__(self, choice: ModelChoice, demo_corpus: Corpus | None = None) -> None:
        self.choice = choice
        self.demo = CorpusState(demo_corpus or load_demo_corpus())
        self._models: dict[Precision, object] = {}
        self._errors: dict[Precision, str] = {}
        self._lock = threading.RLock()
        self._searched = threading.Event()  # set after the first search: background work may start
        self._map_lock = threading.Lock()  # UMAP fits take seconds: never hold up searches behind one
        self._quality: dict[tuple[Precision, str], tuple] = {}

    # -- models ---------------------------------------------------------------------------------------------

    def model(self, precision: Precision):
        """The loaded model for ``precision`` (loaded on first use), or an InputError saying why it failed."""
        with self._lock:
            if precision in self._models:
                return self._models[precision]
            if precision not in self._errors:
                ref = self.choice.ref(precision)
                try:
                    from sse_demo import load_model

                    self._models[precision] = load_model(ref.name, quantized=ref.quantized)
                    return self._models[precision]
                except Exception as error:  # any load failure becomes a message in the page
                    self._errors[precision] = f"{type(error).__name__}: {error}"
            raise InputError(
                f"The {precision.value} model ({self.choice.ref(precision).label}) could not be loaded: "
                f"{self._errors[precision]} / {precision.value} モデルを読み込めませんでした。"
            )

    def load_models(self) -> str:
        """Load both models now (no computation). Returns an empty string or the load errors for the page."""
        errors = []
        for precision in Precision:
            try:
                self.model(precision)
            except InputError as error:
                errors.append(str(error))
        return " ".join(errors)

    def warm_up(self) -> str:
        """Load the fp32 model and index the demo corpus now, so the first search answers at once.

        Returns an empty string, or the load error to show at the top of the page.
        """
        try:
            self.index(None, Precision.FP32)
        except InputError as error:
            return str(error)
        return ""

    def prewarm_map(self, *, wait_s: float = PREWARM_WAIT_S) -> threading.Thread:
        """Fit the demo corpus's map in the background, so the first visitor to open the map need not wait.

        UMAP's first fit in a process compiles numba code (tens of seconds on a small CPU), so the thread waits
        until the first search has been answered (or ``wait_s``) and runs at a lower CPU priority: start-up
        and searches come first.
        """

        def work() -> None:
            self._searched.wait(wait_s)
            with contextlib.suppress(OSError):  # lower this thread's priority where the OS allows it
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            try:
                self.embedding_map("", Precision.FP32.value, None)
            except Exception:  # a failed pre-warm only means the first map is slow; say so in the log
                logging.getLogger(__name__).warning("pre-warming the embedding map failed", exc_info=True)

        thread = threading.Thread(target=work, name="prewarm-map", daemon=True)
        thread.start()
        return thread

    def model_status(self) -> str:
        """A Markdown line saying which models are loaded, from where, on which device."""
        parts = [f"**Models / モデル** ({self.choice.source.value}):"]
        for precision in Precision:
            ref = self.choice.ref(precision)
            if precision in self._models:
                model = self._models[precision]
                parts.append(
                    f"{precision.value} `{ref.label}` {model.vocab_size:,} × {model.dim} on {model.device.type}"
                )
            elif precision in self._errors:
                parts.append(f"{precision.value} `{ref.label}` failed to load")
            else:
                parts.append(f"{precision.value} `{ref.label}` (loads on first use)")
        return " · ".join(parts)

    # -- corpora --------------------------------------------------------------------------------------------

    def state(self, state: CorpusState | None) -> CorpusState:
        return state if isinstance(state, CorpusState) else self.demo

    def index(self, state: CorpusState | None, precision: Precision) -> CorpusIndex:
        """The corpus encoded by the ``precision`` model (built once per corpus and precision)."""
        state = self.state(state)
        model = self.model(precision)
        with self._lock:
            if precision not in state.indexes:
                state.indexes[precision] = CorpusIndex.build(model, state.corpus, DIMS)
            return state.indexes[precision]

    def upload(self, path: str | Path | None) -> tuple[str, CorpusState]:
        """Parse an uploaded file into a new corpus state for this visitor, indexed with the fp32 model.

        Returns (message, state): the message first, like every view, so the page's error path is the same.
        """
        if not path:
            raise InputError("No file was uploaded. / ファイルがアップロードされていません。")
        corpus = parse_upload(path)
        state = CorpusState(corpus)
        start = time.perf_counter()
        self.index(state, Precision.FP32)
        seconds = time.perf_counter() - start
        langs = {lang: corpus.langs.count(lang) for lang in sorted(set(corpus.langs))}
        notes = " ".join(corpus.notes)
        message = (
            f"Loaded **{corpus.name}**: {len(corpus):,} passages ({', '.join(f'{k} {v}' for k, v in langs.items())}), "
            f"indexed in {seconds:.2f} s. Searches now use this corpus (this session only). {notes} / "
            f"{len(corpus):,}件の文章を読み込みました。"
        )
        return message, state

    def corpus_status(self, state: CorpusState | None) -> str:
        corpus = self.state(state).corpus
        if corpus.name == "demo":
            return f"Corpus / コーパス: bundled demo corpus, {len(corpus)} passages (English and Japanese, 10 topics)"
        return f"Corpus / コーパス: your upload **{corpus.name}**, {len(corpus):,} passages (this session only)"

    # -- search and the Matryoshka dial ---------------------------------------------------------------------

    def search(self, query: object, dim: object, precision: object, k: object, state: CorpusState | None):
        """Results at ``dim`` with their rank at 512, the results at 512, and what each dim costs.

        Returns (summary Markdown, results at dim, results at full dim, dial cost table).
        """
        clean = clean_query(query)
        precision, k = _check_precision(precision), _check_k(k)
        model = self.model(precision)
        dim = _check_dim(dim, model.dim)
        index = self.index(state, precision)
        times = StageTimes()
        query_raw = embed_query(model, clean.text, times)
        hits = index.search(query_raw, dim, k, times)
        full_hits = index.search(query_raw, index.dim, k)
        corpus = index.corpus
        rows = [
            {
                "rank": s.hit.rank,
                "score": round(s.hit.score, 4),
                "lang": corpus.langs[s.hit.index],
                "topic": corpus.topics[s.hit.index],
                "text": corpus.texts[s.hit.index][:TEXT_PREVIEW],
                "rank@512": s.full_rank,
                "shift vs 512": _shift_label(s.shift),
            }
            for s in rank_shifts(index, query_raw, hits)
        ]
        full_rows = [
            {
                "rank": h.rank,
                "score": round(h.score, 4),
                "lang": corpus.langs[h.index],
                "text": corpus.texts[h.index][:TEXT_PREVIEW],
            }
            for h in full_hits
        ]
        costs = [
            {
                "dim": c.dim,
                "bytes/vector": c.bytes_per_vector,
                "index size": _human_bytes(c.index_bytes),
                "saved vs 512": f"{c.saving:.0%}",
                "search ms (score+sort)": round(c.search_ms, 4),
                "chosen": "◀" if c.dim == dim else "",
            }
            for c in dial_costs(index, query_raw)
        ]
        same = len({h.index for h in hits} & {h.index for h in full_hits})
        summary = (
            f"{clean.note} **{precision.value} · dim {dim}** · {len(corpus):,} passages · "
            f"top-{k} shared with 512: {same}/{len(hits)} · search {times.total_ms:.2f} ms "
            f"(tokenise {times.tokenize_ms:.3f}, embed {times.embed_ms:.3f}, score {times.score_ms:.3f}, "
            f"sort {times.sort_ms:.3f} ms)"
        ).strip()
        self._searched.set()
        return (
            summary,
            _frame(rows, ["rank", "score", "lang", "topic", "text", "rank@512", "shift vs 512"]),
            _frame(full_rows, ["rank", "score", "lang", "text"]),
            _frame(costs, ["dim", "bytes/vector", "index size", "saved vs 512", "search ms (score+sort)", "chosen"]),
        )

    def quality(self, precision: object, state: CorpusState | None = None):
        """Retrieval quality (NDCG@10, Recall@10) against dim on a labelled set. Returns (Markdown, table, figure)."""
        precision = _check_precision(precision)
        corpus = self.state(state).corpus
        sets = labelled_sets(self.demo.corpus if corpus.name != "demo" else corpus)
        key = (precision, sets[0].dataset.name if sets else "")
        if not sets:
            raise InputError("No labelled set is available. / 評価用データがありません。")
        if key not in self._quality:
            start = time.perf_counter()
            rows = quality_by_dim(self.model(precision), sets, DIMS)
            self._quality[key] = (rows, time.perf_counter() - start, sets)
        rows, seconds, sets = self._quality[key]
        table = [{**row, "ndcg@10": round(row["ndcg@10"], 4), "recall@10": round(row["recall@10"], 4)} for row in rows]
        sources = "; ".join(s.source for s in sets)
        summary = f"Quality against dim, {precision.value} model, measured in {seconds:.1f} s on: {sources}."
        figure = figures.quality_vs_dim(rows, f"NDCG@10 against dim ({precision.value})")
        return summary, _frame(table, ["set", "dim", "ndcg@10", "recall@10"]), figure

    # -- 4-bit against fp32 ---------------------------------------------------------------------------------

    def compare(self, query: object, dim: object, k: object, state: CorpusState | None):
        """The same query through both models. Returns (summary Markdown, side-by-side table, sizes table)."""
        clean = clean_query(query)
        k = _check_k(k)
        models = {p: self.model(p) for p in Precision}
        dim = _check_dim(dim, min(m.dim for m in models.values()))
        indexes = {p: self.index(state, p) for p in Precision}
        raws = {p: embed_query(models[p], clean.text) for p in Precision}
        scores = {p: indexes[p].scores(raws[p], dim) for p in Precision}
        rank_of = {p: ranks(scores[p]) for p in Precision}
        corpus_cos = row_cosines(indexes[Precision.FP32].view(dim), indexes[Precision.Q4].view(dim))
        query_cos = float(
            row_cosines(
                truncate_normalize(raws[Precision.FP32], dim)[None], truncate_normalize(raws[Precision.Q4], dim)[None]
            )[0]
        )
        metrics = compare_scores(scores[Precision.FP32], scores[Precision.Q4], query_cos, corpus_cos, k)
        shown = [int(i) for i in np.argsort(rank_of[Precision.FP32])[:k]]
        shown += [int(i) for i in np.argsort(rank_of[Precision.Q4])[:k] if int(i) not in shown]
        corpus = indexes[Precision.FP32].corpus
        rows = [
            {
                "rank fp32": int(rank_of[Precision.FP32][i]),
                "rank 4-bit": int(rank_of[Precision.Q4][i]),
                "score fp32": round(float(scores[Precision.FP32][i]), 4),
                "score 4-bit": round(float(scores[Precision.Q4][i]), 4),
                "score diff": round(float(scores[Precision.Q4][i] - scores[Precision.FP32][i]), 5),
                "cosine fp32·4-bit": round(float(corpus_cos[i]), 5),
                "lang": corpus.langs[i],
                "text": corpus.texts[i][:TEXT_PREVIEW],
            }
            for i in shown
        ]
        summary = (
            f"{clean.note} **dim {dim}, top-{k}**: overlap@{k} = {metrics.overlap:.2f} · Spearman ρ over all "
            f"{len(corpus):,} passages = {metrics.spearman:.4f} · |score diff| max {metrics.max_abs_score_diff:.4f}, "
            f"mean {metrics.mean_abs_score_diff:.4f} · cosine of the query's two embeddings "
            f"{metrics.query_cosine:.5f} · "
            f"passages: mean {metrics.corpus_cosine_mean:.5f}, min {metrics.corpus_cosine_min:.5f}"
        ).strip()
        columns = [
            "rank fp32",
            "rank 4-bit",
            "score fp32",
            "score 4-bit",
            "score diff",
            "cosine fp32·4-bit",
            "lang",
            "text",
        ]
        return summary, _frame(rows, columns), self.sizes()

    def sizes(self):
        """Size of both models: weights in the published format, the checkpoint folder's files, tensors in memory."""
        rows = []
        for precision in Precision:
            model = self.model(precision)
            rows.append(
                {
                    "model": f"{precision.value}: {self.choice.ref(precision).label}",
                    "weights on disk (published format)": _human_bytes(
                        checkpoint_bytes(model.vocab_size, model.dim, quantized=precision is Precision.Q4)
                    ),
                    "checkpoint folder": _human_bytes(size)
                    if (size := files_bytes(self.choice.ref(precision)))
                    else "-",
                    "in memory (tensors)": _human_bytes(memory_bytes(model)),
                    "vocab × dim": f"{model.vocab_size:,} × {model.dim}",
                }
            )
        columns = [
            "model",
            "weights on disk (published format)",
            "checkpoint folder",
            "in memory (tensors)",
            "vocab × dim",
        ]
        return _frame(rows, columns)

    # -- DyT saturation -------------------------------------------------------------------------------------

    def saturation(self, text: object, precision: object, state: CorpusState | None):
        """Where the text's dimensions sit on their tanh curves, and the corpus-wide picture.

        Returns (summary Markdown, tanh-curve figure, x/y per-dim figure, corpus histograms, DyT parameters, table
        of the most saturated dimensions).
        """
        clean = clean_query(text)
        precision = _check_precision(precision)
        model = self.model(precision)
        params = DyTParams.of(model)
        one = saturation(model.pooled([clean.text])[0], params)
        corpus = self.state(state).corpus
        everything = saturation(model.pooled(corpus.texts), params)
        counts = everything.count
        order = np.argsort(-np.abs(one.u))[:20]
        top = [
            {
                "dim": int(d),
                "x_k": round(float(one.x[d]), 4),
                "u_k = alpha·x+bias": round(float(one.u[d]), 4),
                "y_k": round(float(one.y[d]), 4),
                "sech² gate": round(float(one.gate[d]), 5),
                "saturated": bool(one.saturated[d]),
                "alpha": round(float(params.alpha[d]), 4),
                "beta": round(float(params.beta[d]), 4),
                "bias": round(float(params.bias[d]), 4),
            }
            for d in order
        ]
        summary = (
            f"{clean.note} **{int(one.count)} of {model.dim} dimensions saturated** (|alpha·x + bias| > "
            f"{one.threshold:g}, where the gradient gate sech² < {1 - np.tanh(one.threshold) ** 2:.3f}); mean gate "
            f"{float(one.gate.mean()):.3f}. Over the {len(corpus):,} corpus passages: {everything.fraction:.1%} of "
            f"entries saturated, {float(np.median(counts)):.0f} dims per passage (median), "
            f"{int((everything.saturated.any(axis=0)).sum())} dims saturated in at least one passage."
        ).strip()
        columns = ["dim", "x_k", "u_k = alpha·x+bias", "y_k", "sech² gate", "saturated", "alpha", "beta", "bias"]
        return (
            summary,
            figures.tanh_curves(one, params, "Each dimension on its tanh curve / 各次元の tanh 上の位置"),
            figures.per_dimension(one, "Pooled x_k and DyT output y_k per dimension"),
            figures.corpus_histograms(everything, f"Corpus ({len(corpus):,} passages)"),
            figures.dyt_parameters(params),
            _frame(top, columns),
        )

    # -- token inspector ------------------------------------------------------------------------------------

    def tokens(self, text: object, precision: object):
        """How the text is tokenised. Returns (summary Markdown, token table)."""
        clean = clean_query(text)
        report = inspect_tokens(self.model(_check_precision(precision)), clean.text)
        rows = [
            {
                "#": r.position,
                "token": r.token,
                "id": r.token_id,
                "text": r.surface,
                "unknown": r.unknown,
                "share of pooled vector": f"{r.share:.1%}",
            }
            for r in report.rows
        ]
        dropped = f" Characters no token covers (dropped): `{report.uncovered}`." if report.uncovered else ""
        summary = (
            f"{clean.note} **{len(report.rows)} tokens**, {report.unknown_count} unknown, for {len(clean.text)} "
            f"characters.{dropped} Share = how much of the pooled (mean) vector each token carries; shares add up "
            f"to 100% and a negative share pulls against the rest. / トークン数 {len(report.rows)}、未知語 "
            f"{report.unknown_count}。"
        ).strip()
        return summary, _frame(rows, ["#", "token", "id", "text", "unknown", "share of pooled vector"])

    # -- speed ----------------------------------------------------------------------------------------------

    def speed(self, query: object, state: CorpusState | None):
        """Live texts/s of both models on the corpus, and the per-stage time of one search (median of 21)."""
        clean = clean_query(query)
        texts = self.state(state).corpus.texts
        lines = []
        for precision in Precision:
            model = self.model(precision)
            rate = texts_per_second(model, texts, min_seconds=0.2, repeats=3)
            lines.append(f"{precision.value}: **{rate:,.0f} texts/s** ({len(texts):,} corpus passages per call)")
        index = self.index(state, Precision.FP32)
        model = self.model(Precision.FP32)
        runs = []
        for _ in range(21):
            times = StageTimes()
            index.search(embed_query(model, clean.text, times), index.dim, DEFAULT_K, times)
            runs.append(times)
        stages = {
            name: float(np.median([getattr(t, f"{name}_ms") for t in runs]))
            for name in ("tokenize", "embed", "score", "sort")
        }
        total = float(np.median([t.total_ms for t in runs]))
        device = model.device.type
        summary = (
            f"On this machine ({device}): " + " · ".join(lines) + f". One search of the corpus at 512 dims: "
            f"**{total:.3f} ms** (median of 21)."
        )
        return summary, figures.speed_bars(stages)

    # -- embedding map --------------------------------------------------------------------------------------

    def embedding_map(self, query: object, precision: object, state: CorpusState | None):
        """UMAP of the corpus with the query placed in it. Returns (summary, figure)."""
        precision = _check_precision(precision)
        text = str(query or "").strip()
        clean = clean_query(text) if text else None
        st = self.state(state)
        index = self.index(st, precision)
        if len(st.corpus) < 5:
            raise InputError("The map needs at least 5 passages. / 地図には5件以上の文章が必要です。")
        start = time.perf_counter()
        with self._map_lock:
            if precision not in st.maps:
                st.maps[precision] = fit_map(index.view(index.dim))
        seconds = time.perf_counter() - start
        placed = None
        if clean is not None:
            q = truncate_normalize(embed_query(self.model(precision), clean.text), index.dim)
            placed = st.maps[precision].place(q[None])
        corpus = st.corpus
        figure = figures.embedding_map(
            st.maps[precision].coords,
            corpus.langs,
            corpus.topics,
            corpus.texts,
            corpus.ids,
            placed,
            clean.text if clean else "",
        )
        summary = f"UMAP of {len(corpus):,} passages ({precision.value}, 512 dims, cosine), ready in {seconds:.1f} s."
        return summary, figure

    def passage_choices(self, state: CorpusState | None) -> list[tuple[str, str]]:
        """(label, id) for every passage of the corpus: the neighbour picker's choices."""
        corpus = self.state(state).corpus
        return [
            (f"{i} · {lang} · {t[:70]}", i) for i, lang, t in zip(corpus.ids, corpus.langs, corpus.texts, strict=True)
        ]

    def neighbours(self, passage_id: object, precision: object, k: object, state: CorpusState | None):
        """The nearest passages of one passage (by id). Returns (summary, table)."""
        precision, k = _check_precision(precision), _check_k(k)
        st = self.state(state)
        columns = ["rank", "score", "id", "lang", "topic", "text"]
        if passage_id in (None, ""):  # the picker was cleared (e.g. a new corpus): nothing to show, no error
            return "", _frame([], columns)
        if passage_id not in st.corpus.ids:
            raise InputError(f"Pick a passage from the list (got {passage_id!r}). / 一覧から文章を選んでください。")
        row = st.corpus.ids.index(passage_id)
        index = self.index(st, precision)
        corpus = st.corpus
        rows = [
            {
                "rank": r,
                "score": round(s, 4),
                "id": corpus.ids[i],
                "lang": corpus.langs[i],
                "topic": corpus.topics[i],
                "text": corpus.texts[i][:TEXT_PREVIEW],
            }
            for r, (i, s) in enumerate(neighbours(index.view(index.dim), row, k), start=1)
        ]
        summary = f"Nearest passages of **{passage_id}**: {corpus.texts[row][:TEXT_PREVIEW]}"
        return summary, _frame(rows, columns)

    # -- results --------------------------------------------------------------------------------------------

    def results(self):
        """The published NanoBEIR table beside the project's measured numbers.

        Returns (Markdown, table, figure, the project's results page or a note that it is not written yet).
        """
        measured_path = measured_csv()
        measured = read_table(measured_path) if measured_path else None
        rows = side_by_side(read_table(PUBLISHED_CSV), measured)
        where = (
            f"Measured NanoBEIR: `{measured_path.name}`."
            if measured_path
            else "NanoBEIR needs the Hugging Face hub, so the measured column stays empty offline; the project's own "
            "measurements on local labelled sets are below."
        )
        summary = (
            "Published NanoBEIR results of the 4-bit bilingual SSE model "
            "(RikkaBotan/quantized-stable-static-embedding-fast-retrieval-mrl-bilingual-ja-en). " + where
        )
        page = (
            measured_markdown() or "_No `docs/results.md` yet: run `python bench/eval_all.py --out docs/results.md`._"
        )
        columns = list(rows[0]) if rows else []
        return summary, _frame(rows, columns), figures.results_bars(rows), page
