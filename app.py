"""Stable Static Embedding demo: the Gradio page. It only lays out tabs and wires them to ``sse_demo.app``.

Run ``python app.py`` (the published models when the hub answers, else the bundled one),
``python app.py --model bundled|path/or/hub-id``, or set ``SSE_MODEL``.
On a Hugging Face Space the same file runs on CPU or ZeroGPU (the ``spaces`` package is optional).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import warnings
from collections.abc import Callable

import gradio as gr

from sse_demo.api import embeddings_router
from sse_demo.app.corpus import DEMO_QUERIES, MAX_UPLOAD_BYTES, describe
from sse_demo.app.embedding_map import passage_choices
from sse_demo.app.endpoints import CONCURRENCY_LIMITS, ENDPOINTS, bind
from sse_demo.app.formatting import html_text, markdown_text
from sse_demo.app.inputs import DEFAULT_K, MAX_K, InputError, Precision
from sse_demo.app.matryoshka import result_columns
from sse_demo.app.models import ENV_VAR, app_models
from sse_demo.app.peer_models import PEERS_ENV, requested_peers
from sse_demo.app.peers import DIM_CHOICES, OWN_DIM
from sse_demo.app.results import RESULTS_CSS, results_router
from sse_demo.app.saturation import SATURATION_EXAMPLE
from sse_demo.app.service import DemoService
from sse_demo.app.uploads import DEFAULT_IDLE_S, DEFAULT_MEMORY_MB, IDLE_ENV_VAR, MEMORY_ENV_VAR, UploadStore

try:  # ZeroGPU Spaces: run the model-using handlers on the GPU; elsewhere a no-op decorator
    import spaces

    def gpu(fn, duration: int = 60):
        return spaces.GPU(duration=duration)(fn)

except ImportError:

    def gpu(fn, duration: int = 60):
        return fn


# On ZeroGPU nothing may compute on the GPU outside a @spaces.GPU call: load the models at start-up, but index
# the demo corpus on the first call and skip the background map.
ZERO_GPU = os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")
log = logging.getLogger("sse_demo.app")
PRECISIONS = [p.value for p in Precision]
DELETE_CACHE = (300, 900)  # every 5 minutes, delete Gradio's temporary files older than 15 minutes


def guarded(fn, n_outputs: int, *, keep_rest: bool = False):
    """Run a handler; turn any error into a warning toast and a message in the first output, never a traceback.

    The other outputs are cleared, or left as they were with ``keep_rest`` (for the per-session corpus state).
    Messages quote what the visitor sent, so they are shown as text: escaped for the Markdown status line and
    for the toast (which renders HTML).
    """

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except InputError as error:
            message = str(error)
        except Exception as error:  # a bug must not take the page down: log it, tell the visitor
            log.exception("handler %s failed", fn.__name__)
            message = f"Something went wrong ({type(error).__name__}: {error}). / エラーが発生しました。"
        gr.Warning(html_text(message))
        rest = gr.skip() if keep_rest else None
        return (f"⚠️ {markdown_text(message)}", *([rest] * (n_outputs - 1)))

    return wrapper


class Page:
    """What every tab needs: the service, the visitor's corpus state, and one way to wire a handler."""

    def __init__(self, service: DemoService, corpus: gr.State) -> None:
        self.service = service
        self.corpus = corpus  # the handle of a visitor's upload (in service.uploads); None = the demo corpus

    def endpoint(self, trigger, api_name: str, inputs: list, outputs: list, *, also: tuple = ()):
        """Wire the named endpoint ``api_name`` (see ``sse_demo.app.endpoints``) to ``trigger``, and the same
        handler, unnamed, to the ``also`` triggers. The outputs list sets how many values an error returns."""
        endpoint = ENDPOINTS[api_name]
        handler = guarded(bind(endpoint, self.service), len(outputs), keep_rest=endpoint.keep_outputs_on_error)
        handler = gpu(handler, endpoint.gpu_seconds)
        group = {"concurrency_id": endpoint.concurrency, "concurrency_limit": CONCURRENCY_LIMITS[endpoint.concurrency]}
        dependency = trigger(handler, inputs, outputs, api_name=api_name, **group)
        for other in also:
            other(handler, inputs, outputs, api_visibility="private", **group)
        return dependency


def checked_by_view(component):
    """Pass what an API caller sends for ``component`` to the view unchanged: the view checks it (a dim outside the
    ladder, ``k`` as ``"10"`` or 2.5, an uploaded passage's id the picker has not been told of) and answers with
    a specific English / Japanese message. Gradio's own checks would refuse in English only, round 2.5 down to 2,
    or fail on ``"10"`` with a generic error. (An instance override, not a subclass: Gradio writes a stub file
    beside any module that defines a component class.)
    """
    component.preprocess = lambda payload: payload
    return component


def dim_radio(dims: tuple[int, ...], **kwargs) -> gr.Radio:
    """The Matryoshka dim radio, offering the loaded model's ladder (its own dim first)."""
    radio = checked_by_view(gr.Radio(list(dims), value=dims[0], label="Matryoshka dim / 次元", **kwargs))
    # Gradio's Radio schema says "string" whatever the choices; MCP clients validate against it, so say "integer"
    radio.api_info = lambda: {"type": "integer", "enum": list(dims), "title": "Matryoshka dim"}
    return radio


def precision_radio(**kwargs) -> gr.Radio:
    return checked_by_view(gr.Radio(PRECISIONS, value=Precision.FP32.value, label="Precision / 精度", **kwargs))


def k_slider(label: str) -> gr.Slider:
    return checked_by_view(gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label=label))


def search_tab(page: Page) -> None:
    """Search, the Matryoshka dial, quality against dim and the visitor's own corpus."""
    service, dims = page.service, page.service.dims
    full = dims[0]
    with gr.Tab("Search / 検索", id="search"):
        with gr.Row():
            query = gr.Textbox(label="Query / クエリ", placeholder="English or 日本語", scale=4, elem_id="query")
            search_button = gr.Button("Search / 検索", variant="primary", scale=1, elem_id="search-button")
        with gr.Row():
            dim = dim_radio(dims, elem_id="dim")
            precision = precision_radio(elem_id="precision")
            k = k_slider("Results / 件数")
        examples = gr.Examples(
            [[q] for q in DEMO_QUERIES], inputs=[query], label="Examples / 例 (EN, JA, mixed, cross-lingual)"
        )
        status = gr.Markdown(elem_id="search-status")
        with gr.Row():
            results = gr.Dataframe(
                interactive=False,
                label="Results at the chosen dim / 選んだ次元の結果",
                wrap=True,
                elem_id="results",
                headers=result_columns(full),
            )
            results_full = gr.Dataframe(interactive=False, label=f"Results at {full} / {full}次元の結果", wrap=True)
        costs = gr.Dataframe(
            interactive=False, label="What each dim costs and saves / 次元ごとのコスト", elem_id="costs"
        )
        with gr.Accordion("Quality against dim / 次元と検索品質", open=False):
            quality_button = gr.Button("Measure / 計測")
            quality_status = gr.Markdown()
            quality_plot = gr.Plot()
            quality_table = gr.Dataframe(interactive=False)
        with gr.Accordion("Your own corpus / 自分のコーパス", open=False):
            gr.Markdown(
                '.txt (one passage a line), .csv (a `text` column) or .jsonl (`{"text": ...}` a line); at most '
                "2 MB and 5,000 passages. It stays in your session only. / 1行1文の .txt、text 列の .csv、"
                ".jsonl（2 MB・5,000件まで）。このセッションだけで使われます。"
            )
            upload = gr.File(label="Upload / アップロード", file_types=[".txt", ".csv", ".jsonl"], elem_id="upload")
            demo_button = gr.Button("Back to the demo corpus / デモコーパスに戻す")
        corpus_status = gr.Markdown(describe(service.demo.corpus), elem_id="corpus-status")

    page.endpoint(
        search_button.click,
        "search",
        [query, dim, precision, k, page.corpus],
        [status, results, results_full, costs],
        also=(query.submit, dim.change, precision.change, examples.load_input_event.then),
    )
    page.endpoint(
        quality_button.click, "quality", [precision, page.corpus], [quality_status, quality_table, quality_plot]
    )
    page.endpoint(upload.upload, "upload", [upload, page.corpus], [corpus_status, page.corpus])

    def back_to_demo(handle):
        service.uploads.drop(handle)  # the session's upload is not needed any more
        return describe(service.demo.corpus), None

    demo_button.click(
        back_to_demo,
        [page.corpus],
        [corpus_status, page.corpus],
        api_visibility="private",
    )


def compare_tab(page: Page) -> None:
    """The same query through the fp32 and the 4-bit model, and the sizes of both."""
    dims = page.service.dims
    with gr.Tab("4-bit vs fp32 / 4ビットと fp32", id="compare"):
        with gr.Row():
            query = gr.Textbox(label="Query / クエリ", value="cherry blossom viewing party", scale=4)
            button = gr.Button("Compare / 比較", variant="primary", scale=1)
        with gr.Row():
            dim = dim_radio(dims)
            k = k_slider("k")
        status = gr.Markdown()
        table = gr.Dataframe(interactive=False, label="Side by side / 並べて比較", wrap=True)
        sizes = gr.Dataframe(interactive=False, label="Sizes / サイズ")
    page.endpoint(button.click, "compare", [query, dim, k, page.corpus], [status, table, sizes])


def saturation_tab(page: Page) -> None:
    """Where a text's dimensions sit on their DyT tanh curves, and the corpus-wide picture."""
    with gr.Tab("DyT saturation / 飽和", id="saturation"):
        with gr.Row():
            text = gr.Textbox(label="Text / テキスト", value=SATURATION_EXAMPLE, scale=4)
            precision = precision_radio()
            button = gr.Button("Show / 表示", variant="primary", scale=1)
        status = gr.Markdown()
        with gr.Row():
            curve_plot = gr.Plot(label="tanh curve")
            dims_plot = gr.Plot(label="x_k, y_k")
        hist_plot = gr.Plot(label="Corpus / コーパス")
        table = gr.Dataframe(interactive=False, label="Most saturated dimensions / 飽和の強い次元")
        params_plot = gr.Plot(label="alpha, beta, bias")
    page.endpoint(
        button.click,
        "saturation",
        [text, precision, page.corpus],
        [status, curve_plot, dims_plot, hist_plot, params_plot, table],
    )


def map_tab(page: Page) -> None:
    """A UMAP map of the corpus with the query placed in it, and a passage's nearest neighbours."""
    service = page.service
    with gr.Tab("Embedding map / 埋め込みマップ", id="map"):
        with gr.Row():
            query = gr.Textbox(label="Query to place (optional) / 配置するクエリ（任意）", scale=4)
            precision = precision_radio()
            button = gr.Button("Draw map / 地図を描く", variant="primary", scale=1)
        status = gr.Markdown("The first map takes a few seconds (UMAP compiles). / 初回は数秒かかります。")
        plot = gr.Plot()
        with gr.Row():
            passage = checked_by_view(
                gr.Dropdown(passage_choices(service.demo.corpus), label="Passage / 文章", scale=4, elem_id="passage")
            )
            k = k_slider("k")
        neighbour_status = gr.Markdown(elem_id="neighbour-status")
        neighbour_table = gr.Dataframe(interactive=False, label="Nearest neighbours / 近傍", wrap=True)
    page.endpoint(button.click, "embedding_map", [query, precision, page.corpus], [status, plot])
    page.endpoint(
        passage.change, "neighbours", [passage, precision, k, page.corpus], [neighbour_status, neighbour_table]
    )
    page.corpus.change(  # a new corpus (an upload, or back to the demo): its passages, none picked
        lambda handle: gr.update(
            choices=passage_choices(service.demo.corpus if handle is None else service.state(handle).corpus),
            value=None,
        ),
        [page.corpus],
        [passage],
        api_visibility="private",
    )


def tokens_tab(page: Page) -> None:
    """How a text is tokenised, and each token's share of the pooled vector."""
    with gr.Tab("Token inspector / トークン", id="tokens"):
        with gr.Row():
            text = gr.Textbox(label="Text / テキスト", value="東京の新幹線は時間どおりに発車します。", scale=4)
            precision = precision_radio()
            button = gr.Button("Tokenise / 分割", variant="primary", scale=1)
        status = gr.Markdown()
        table = gr.Dataframe(interactive=False, label="Tokens / トークン")
    page.endpoint(button.click, "tokens", [text, precision], [status, table])


def speed_tab(page: Page) -> None:
    """Live texts/s of both models, and the time of each stage of one search."""
    with gr.Tab("Speed / 速度", id="speed"):
        query = gr.Textbox(label="Query / クエリ", value="fast static embeddings on a CPU")
        button = gr.Button("Measure / 計測", variant="primary")
        status = gr.Markdown()
        plot = gr.Plot()
    page.endpoint(button.click, "speed", [query, page.corpus], [status, plot])


def peers_tab(page: Page) -> None:
    """SSE beside each static peer on the same query and corpus, and NDCG@10 on labelled sets."""
    names = page.service.peer_names
    with gr.Tab("Peers / 比較", id="peers"):
        gr.Markdown(
            "Peers / 比較モデル: "
            + (", ".join(f"`{name}`" for name in names) if names else "none / なし")
            + f" (`--peer NAME`, or `{PEERS_ENV}`; loaded on first use / 初回に読み込み)"
        )
        with gr.Row():
            query = gr.Textbox(label="Query / クエリ", value="cherry blossom viewing party", scale=4)
            button = gr.Button("Compare / 比較", variant="primary", scale=1)
        with gr.Row():
            dim = checked_by_view(
                gr.Radio(list(DIM_CHOICES), value=OWN_DIM, label="dim: each model's own, or cut to / 次元")
            )
            precision = precision_radio()
            k = k_slider("k")
        status = gr.Markdown(elem_id="peers-status")
        results = gr.Dataframe(interactive=False, label="Top-k side by side / 上位の比較", wrap=True)
        stats = gr.Dataframe(interactive=False, label="Agreement and costs / 一致度とコスト")
        with gr.Accordion("NDCG@10 on labelled sets / 評価セットの NDCG@10", open=False):
            quality_button = gr.Button("Measure / 計測")
            quality_status = gr.Markdown()
            quality_table = gr.Dataframe(interactive=False)
    page.endpoint(
        button.click, "peers", [query, dim, precision, k, page.corpus], [status, results, stats], also=(query.submit,)
    )
    page.endpoint(quality_button.click, "peers_quality", [precision], [quality_status, quality_table])


def results_tab(page: Page, demo: gr.Blocks) -> None:
    """The project's measured NDCG@10 in one chart and a compact table that fit a laptop screen below the tabs
    (every table a link away, at ``/docs/results``), the published NanoBEIR table folded below (filled on load)."""
    with gr.Tab("Results / 結果", id="results-tab"):
        status = gr.Markdown(elem_id="results-status")
        plot = gr.Plot(show_label=False, elem_id="results-chart")
        table = gr.Dataframe(
            interactive=False, show_label=False, elem_id="results-matrix", max_height=10_000, buttons=[]
        )
        with gr.Accordion("Published NanoBEIR (4-bit bilingual SSE) / 公開値", open=False):
            published = gr.Dataframe(interactive=False, label="NanoBEIR")
        gr.HTML(head=f"<style>{RESULTS_CSS}</style>", container=False, padding=False)  # last: its gap is unseen
    page.endpoint(demo.load, "results", None, [status, table, plot, published])


def api_models(service: DemoService) -> dict[str, Callable]:
    """The page's fp32 / 4-bit pair by stable API id, then each peer by its name, lent to the OpenAI-compatible API:
    each is the service's own model, loaded on the API's first call if the page has not loaded it yet (never a
    second copy); a peer that fails to load answers 503 with its reason."""
    pair = {service.choice.ref(p).api_id: functools.partial(service.model, p) for p in Precision}
    return pair | {name: functools.partial(service.peer, name) for name in service.peer_names if name not in pair}


def api_note(service: DemoService) -> str:
    """The line under the model status that tells a visitor where the API is and which model ids it takes."""
    ids = ", ".join(f"`{name}`" for name in api_models(service))
    return f"OpenAI-compatible API / OpenAI 互換 API: `POST /v1/embeddings`, `GET /v1/models` · models: {ids}"


def build(service: DemoService, load_error: str = "") -> gr.Blocks:
    """The page: a header, then one tab per view, each laid out and wired by its own function."""
    full = service.full_dim
    with gr.Blocks(title="Stable Static Embedding demo", delete_cache=DELETE_CACHE) as demo:
        # A session keeps only its upload's handle; the upload lives in service.uploads (memory cap, idle
        # expiry) and goes with the session when Gradio drops it.
        page = Page(service, gr.State(None, delete_callback=service.uploads.drop))
        gr.Markdown(
            "# Stable Static Embedding (SSE) · 静的埋め込みデモ\n"
            "A bilingual English/Japanese static embedding: token vectors averaged, then a per-dimension tanh "
            f"(Separable DyT), {full} dims you can cut down (Matryoshka), in fp32 or 4-bit. / "
            "英語・日本語の静的埋め込みモデル。トークンベクトルの平均に次元ごとの tanh（DyT）をかけ、"
            f"{full}次元を切り詰めて使えます（マトリョーシカ）。"
        )
        gr.Markdown(
            ("⚠️ " + load_error + "\n\n" if load_error else "")
            + (f"ℹ️ {service.choice.banner}\n\n" if service.choice.banner else "")
            + service.model_status()
            + "\n\n"
            + api_note(service),
            elem_id="model-status",
        )
        search_tab(page)
        compare_tab(page)
        saturation_tab(page)
        map_tab(page)
        tokens_tab(page)
        speed_tab(page)
        peers_tab(page)
        results_tab(page, demo)
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=None,
        help=f"bundled, a checkpoint folder, or a hub id; overrides ${ENV_VAR}. Default: the published pair "
        "when the Hugging Face hub answers, else bundled",
    )
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument(
        "--no-prewarm",
        action="store_true",
        default=os.environ.get("SSE_PREWARM_MAP", "1") == "0",
        help="do not fit the embedding map in the background at start-up (or set SSE_PREWARM_MAP=0)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        metavar="NAME",
        help=f"a static peer for the Peers tab (folder or hub id); repeatable; overrides ${PEERS_ENV} (a, b)",
    )
    parser.add_argument(
        "--upload-memory-mb",
        type=float,
        default=None,
        help=f"memory all visitors' uploads may hold together, least recently used dropped first (or set "
        f"{MEMORY_ENV_VAR}; default {DEFAULT_MEMORY_MB:,})",
    )
    parser.add_argument(
        "--upload-idle-s",
        type=float,
        default=None,
        help=f"drop an upload unused for this long (or set {IDLE_ENV_VAR}; default {DEFAULT_IDLE_S})",
    )
    args, _ = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO)
    uploads = UploadStore.from_env(args.upload_memory_mb, args.upload_idle_s)
    service = DemoService(app_models(args.model), peers=requested_peers(args.peer), uploads=uploads)
    load_error = service.load_models() if ZERO_GPU else service.warm_up()
    demo = build(service, load_error)
    # An MCP call gets each gr.State's default, None: the demo corpus, which is what a tool should search.
    warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
    if not (args.no_prewarm or ZERO_GPU or load_error):
        service.prewarm_map()
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        max_file_size=MAX_UPLOAD_BYTES,
        footer_links=["api"],
        # /v1/... and the Results tab's /docs/results on the page's port
        app_kwargs={"routes": embeddings_router(api_models(service)).routes + results_router().routes},
        mcp_server=True,  # the named endpoints as MCP tools at /gradio_api/mcp/
    )


if __name__ == "__main__":
    main()
