"""The page's lifecycle: the two models, the demo corpus, each corpus's indexes and maps, and caches.

``DemoService`` owns the fp32 and 4-bit models (the second loaded on first use), the demo corpus, and the
visitors' uploads in one :class:`~sse_demo.app.uploads.UploadStore` under a memory cap. A session keeps an
:class:`~sse_demo.app.uploads.UploadHandle` (``None`` means the demo corpus).
What each view computes and shows lives beside its computation (``matryoshka``, ``compare``,
``saturation``, ...); ``sse_demo.app.endpoints`` lists them.

No lock is held across model or index work for more than its own key: loading the 4-bit model, indexing one
visitor's upload or fitting one map never holds up a search on another corpus or model. A model that fails to
load is retried once ``retry_after_s`` has passed (a hub hiccup must not need a restart); meanwhile its error is
the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sse_demo.app.corpus import Corpus, load_demo_corpus
from sse_demo.app.embedding_map import EmbeddingMap, fit_map
from sse_demo.app.index import CorpusIndex, embed_query
from sse_demo.app.inputs import InputError, Precision
from sse_demo.app.matryoshka import ladder
from sse_demo.app.models import ModelChoice
from sse_demo.app.peers import COMMON_DIMS
from sse_demo.app.state import CorpusState, LoadFailed, LoadOnce, OncePerKey, lower_thread_priority
from sse_demo.app.uploads import UploadHandle, UploadStore
from sse_demo.model import MATRYOSHKA_DIMS, SSEModel

if TYPE_CHECKING:
    from sse_demo.model.peers import PeerModel

PREWARM_WAIT_S = 30.0
RETRY_AFTER_S = 30.0  # a model that failed to load is tried again after this long


@dataclass(frozen=True)
class LoadFailure:
    """Why a model failed to load, and when (``clock`` seconds)."""

    message: str
    at: float


class DemoService:
    """The models, the demo corpus and each corpus's indexes and maps, built once and shared across visitors."""

    def __init__(
        self,
        choice: ModelChoice,
        demo_corpus: Corpus | None = None,
        *,
        retry_after_s: float = RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        peers: Sequence[str] = (),
        uploads: UploadStore | None = None,
    ) -> None:
        self.choice = choice
        self.peer_names = tuple(peers)  # static peers for the Peers tab (sse_demo.app.peer_models), loaded on use
        self._peers = LoadOnce(_load_peer, retry_after_s=retry_after_s, clock=clock)
        self.demo = CorpusState(demo_corpus or load_demo_corpus())
        self.uploads = uploads if uploads is not None else UploadStore()
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._models: dict[Precision, SSEModel] = {}
        self._failures: dict[Precision, LoadFailure] = {}
        self._model_locks = {precision: threading.Lock() for precision in Precision}
        self._searched = threading.Event()  # set after the first search: background work may start
        self.cache = OncePerKey()  # results that depend only on the models (e.g. quality against dim)

    # -- models ---------------------------------------------------------------------------------------------

    def model(self, precision: Precision) -> SSEModel:
        """The loaded model for ``precision`` (loaded on first use), or an InputError saying why it failed.

        A failed load is retried once ``retry_after_s`` has passed since it failed.
        """
        if (model := self._models.get(precision)) is not None:
            return model
        with self._model_locks[precision]:  # only callers of this precision wait for its load
            if (model := self._models.get(precision)) is not None:
                return model
            failure = self._failures.get(precision)
            if failure is None or self._clock() - failure.at >= self.retry_after_s:
                ref = self.choice.ref(precision)
                try:
                    from sse_demo import load_model

                    self._models[precision] = load_model(ref.name, quantized=ref.quantized)
                    self._failures.pop(precision, None)
                    return self._models[precision]
                except Exception as error:  # any load failure becomes a message in the page
                    failure = LoadFailure(f"{type(error).__name__}: {error}", self._clock())
                    self._failures[precision] = failure
            retry = max(0.0, self.retry_after_s - (self._clock() - failure.at))
            raise InputError(
                f"The {precision.value} model ({self.choice.ref(precision).label}) could not be loaded: "
                f"{failure.message} (tried again in {retry:.0f} s) / {precision.value} モデルを読み込めませんでした"
                f"（{retry:.0f} 秒後に再試行します）。"
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

    @property
    def full_dim(self) -> int:
        """The loaded models' own dim (the smaller if they differ); the published 512 while none has loaded."""
        dims = [model.dim for model in self._models.values()]
        return min(dims) if dims else max(MATRYOSHKA_DIMS)

    @property
    def dims(self) -> tuple[int, ...]:
        """The Matryoshka ladder the page offers: the models' own dim, then halvings down to 32."""
        return ladder(self.full_dim)

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
            elif precision in self._failures:
                parts.append(f"{precision.value} `{ref.label}` failed to load")
            else:
                parts.append(f"{precision.value} `{ref.label}` (loads on first use)")
        return " · ".join(parts)

    def peer(self, name: str) -> PeerModel:
        """The loaded peer ``name`` (loaded on first use, on the CPU), or an InputError saying why it failed."""
        try:
            return self._peers.get(name)
        except LoadFailed as failure:
            raise InputError(
                f"The peer {name} could not be loaded: {failure.message} (tried again in {failure.retry_in_s:.0f} s)"
                f" / 比較モデル {name} を読み込めませんでした（{failure.retry_in_s:.0f} 秒後に再試行します）。"
            ) from None

    # -- corpora, indexes and maps --------------------------------------------------------------------------

    def state(self, state: UploadHandle | CorpusState | None) -> CorpusState:
        """The visitor's corpus state: the upload behind a handle (or an
        :class:`~sse_demo.app.uploads.UploadExpired` saying it is gone), or the demo corpus's for ``None``."""
        self.uploads.sweep()
        if isinstance(state, UploadHandle):
            return self.uploads.get(state)
        return state if isinstance(state, CorpusState) else self.demo

    def index(self, state: UploadHandle | CorpusState | None, precision: Precision) -> CorpusIndex:
        """The corpus encoded by the ``precision`` model (built once per corpus and precision)."""
        state = self.state(state)
        model = self.model(precision)
        return self._built(state, state.indexes, precision, lambda: CorpusIndex.build(model, state.corpus, self.dims))

    def peer_index(self, state: UploadHandle | CorpusState | None, name: str) -> CorpusIndex:
        """The corpus encoded by the peer ``name`` (built once per corpus and peer, like the SSE indexes)."""
        state = self.state(state)
        peer = self.peer(name)
        build = lambda: CorpusIndex.build(peer, state.corpus, COMMON_DIMS)  # noqa: E731
        return self._built(state, state.indexes, ("peer", name), build)

    def map(self, state: UploadHandle | CorpusState | None, precision: Precision) -> EmbeddingMap:
        """The UMAP map of the corpus under ``precision`` at full dim (fitted once per corpus and precision)."""
        state = self.state(state)
        index = self.index(state, precision)
        return self._built(state, state.maps, precision, lambda: fit_map(index.view(index.dim)))

    def _built(self, state: CorpusState, cache: OncePerKey, key: Hashable, build: Callable):
        """``cache``'s value for ``key`` (a precision, or a peer's); a new one counts against the upload memory cap."""
        if key in cache:
            return cache.get(key, build)
        value = cache.get(key, build)
        self.uploads.grew(state)
        return value

    def searched(self) -> None:
        """Note that a search has been answered: the background map may start."""
        self._searched.set()

    # -- start-up -------------------------------------------------------------------------------------------

    def warm_up(self) -> str:
        """Load the fp32 model, index the demo corpus and embed one query now, so the first search answers at once.

        Returns an empty string, or the load error to show at the top of the page.
        """
        try:
            self.index(None, Precision.FP32)
            embed_query(self.model(Precision.FP32), "warm up")  # the first pooling call pays a one-off set-up
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
            lower_thread_priority()
            try:
                self.map(None, Precision.FP32)
            except Exception:  # a failed pre-warm only means the first map is slow; say so in the log
                logging.getLogger(__name__).warning("pre-warming the embedding map failed", exc_info=True)

        thread = threading.Thread(target=work, name="prewarm-map", daemon=True)
        thread.start()
        return thread


def _load_peer(name: str) -> PeerModel:
    """A peer on the CPU: static models need no accelerator, and ZeroGPU allows none outside a GPU call."""
    from sse_demo.model.peers import load_peer

    return load_peer(name, device="cpu")
