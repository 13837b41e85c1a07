"""Stable Static Embedding demo: the Gradio page. It only wires components to ``sse_demo.app.service``.

Run ``python app.py`` (bundled model), ``python app.py --model path/or/hub-id``, or set ``SSE_MODEL``.
On a Hugging Face Space the same file runs on CPU or ZeroGPU (the ``spaces`` package is optional).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os

import gradio as gr

from sse_demo.app.index import Precision
from sse_demo.app.inputs import InputError
from sse_demo.app.matryoshka import DIMS
from sse_demo.app.models import ENV_VAR, choose_models, requested_model
from sse_demo.app.service import DEFAULT_K, MAX_K, DemoService

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
STATE_TTL_S = 3600  # an upload (and its index, up to ~20 MB) is dropped an hour after its session last used it
EXAMPLES = [
    ["How do plants make oxygen?"],
    ["日本の伝統的な料理"],
    ["新幹線 Tokyo Osaka"],
    ["cherry blossom viewing party"],
    ["睡眠と健康の関係"],
]


def guarded(fn, n_outputs: int, *, keep_rest: bool = False):
    """Run a handler; turn any error into a warning toast and a message in the first output, never a traceback.

    The other outputs are cleared, or left as they were with ``keep_rest`` (for the per-session corpus state).
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
        gr.Warning(message)
        rest = gr.skip() if keep_rest else None
        return (f"⚠️ {message}", *([rest] * (n_outputs - 1)))

    return wrapper


def build(service: DemoService, load_error: str = "") -> gr.Blocks:
    """The page: one tab per view, bilingual labels, named API endpoints."""
    with gr.Blocks(title="Stable Static Embedding demo") as demo:
        corpus = gr.State(None, time_to_live=STATE_TTL_S)  # a visitor's upload; None = the demo corpus
        gr.Markdown(
            "# Stable Static Embedding (SSE) · 静的埋め込みデモ\n"
            "A bilingual English/Japanese static embedding: token vectors averaged, then a per-dimension tanh "
            "(Separable DyT), 512 dims you can cut down (Matryoshka), in fp32 or 4-bit. / "
            "英語・日本語の静的埋め込みモデル。トークンベクトルの平均に次元ごとの tanh（DyT）をかけ、"
            "512次元を切り詰めて使えます（マトリョーシカ）。"
        )
        gr.Markdown(("⚠️ " + load_error + "\n\n" if load_error else "") + service.model_status(), elem_id="model-status")

        with gr.Tab("Search / 検索", id="search"):
            with gr.Row():
                query = gr.Textbox(label="Query / クエリ", placeholder="English or 日本語", scale=4, elem_id="query")
                search_button = gr.Button("Search / 検索", variant="primary", scale=1, elem_id="search-button")
            with gr.Row():
                dim = gr.Radio(DIMS, value=512, label="Matryoshka dim / 次元", elem_id="dim")
                precision = gr.Radio(
                    PRECISIONS, value=Precision.FP32.value, label="Precision / 精度", elem_id="precision"
                )
                k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Results / 件数")
            examples = gr.Examples(EXAMPLES, inputs=[query], label="Examples / 例 (EN, JA, mixed, cross-lingual)")
            search_status = gr.Markdown(elem_id="search-status")
            with gr.Row():
                results = gr.Dataframe(
                    interactive=False,
                    label="Results at the chosen dim / 選んだ次元の結果",
                    wrap=True,
                    elem_id="results",
                    headers=["rank", "score", "lang", "topic", "text", "rank@512", "shift vs 512"],
                )
                results_full = gr.Dataframe(interactive=False, label="Results at 512 / 512次元の結果", wrap=True)
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
            corpus_status = gr.Markdown(service.corpus_status(None))

        with gr.Tab("4-bit vs fp32 / 4ビットと fp32", id="compare"):
            with gr.Row():
                compare_query = gr.Textbox(label="Query / クエリ", value="cherry blossom viewing party", scale=4)
                compare_button = gr.Button("Compare / 比較", variant="primary", scale=1)
            with gr.Row():
                compare_dim = gr.Radio(DIMS, value=512, label="Matryoshka dim / 次元")
                compare_k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="k")
            compare_status = gr.Markdown()
            compare_table = gr.Dataframe(interactive=False, label="Side by side / 並べて比較", wrap=True)
            sizes_table = gr.Dataframe(interactive=False, label="Sizes / サイズ")

        with gr.Tab("DyT saturation / 飽和", id="saturation"):
            with gr.Row():
                saturation_text = gr.Textbox(label="Text / テキスト", value="桜の下で花見を楽しむ", scale=4)
                saturation_precision = gr.Radio(PRECISIONS, value=Precision.FP32.value, label="Precision / 精度")
                saturation_button = gr.Button("Show / 表示", variant="primary", scale=1)
            saturation_status = gr.Markdown()
            with gr.Row():
                curve_plot = gr.Plot(label="tanh curve")
                dims_plot = gr.Plot(label="x_k, y_k")
            hist_plot = gr.Plot(label="Corpus / コーパス")
            saturation_table = gr.Dataframe(interactive=False, label="Most saturated dimensions / 飽和の強い次元")
            params_plot = gr.Plot(label="alpha, beta, bias")

        with gr.Tab("Embedding map / 埋め込みマップ", id="map"):
            with gr.Row():
                map_query = gr.Textbox(label="Query to place (optional) / 配置するクエリ（任意）", scale=4)
                map_precision = gr.Radio(PRECISIONS, value=Precision.FP32.value, label="Precision / 精度")
                map_button = gr.Button("Draw map / 地図を描く", variant="primary", scale=1)
            map_status = gr.Markdown("The first map takes a few seconds (UMAP compiles). / 初回は数秒かかります。")
            map_plot = gr.Plot()
            with gr.Row():
                passage = gr.Dropdown(service.passage_choices(None), label="Passage / 文章", scale=4)
                neighbour_k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="k")
            neighbour_status = gr.Markdown()
            neighbour_table = gr.Dataframe(interactive=False, label="Nearest neighbours / 近傍", wrap=True)

        with gr.Tab("Token inspector / トークン", id="tokens"):
            with gr.Row():
                token_text = gr.Textbox(
                    label="Text / テキスト", value="東京の新幹線は時間どおりに発車します。", scale=4
                )
                token_precision = gr.Radio(PRECISIONS, value=Precision.FP32.value, label="Precision / 精度")
                token_button = gr.Button("Tokenise / 分割", variant="primary", scale=1)
            token_status = gr.Markdown()
            token_table = gr.Dataframe(interactive=False, label="Tokens / トークン")

        with gr.Tab("Speed / 速度", id="speed"):
            speed_query = gr.Textbox(label="Query / クエリ", value="fast static embeddings on a CPU")
            speed_button = gr.Button("Measure / 計測", variant="primary")
            speed_status = gr.Markdown()
            speed_plot = gr.Plot()

        with gr.Tab("Results / 結果", id="results-tab"):
            results_status = gr.Markdown()
            results_plot = gr.Plot()
            results_table = gr.Dataframe(interactive=False, label="NanoBEIR")
            gr.Markdown("### Measured by this project / このプロジェクトの計測")
            measured = gr.Markdown()

        search_inputs = [query, dim, precision, k, corpus]
        search_outputs = [search_status, results, results_full, costs]
        run_search = gpu(guarded(service.search, len(search_outputs)))
        search_button.click(run_search, search_inputs, search_outputs, api_name="search")
        query.submit(run_search, search_inputs, search_outputs, api_visibility="private")
        dim.change(run_search, search_inputs, search_outputs, api_visibility="private")
        precision.change(run_search, search_inputs, search_outputs, api_visibility="private")
        examples.load_input_event.then(run_search, search_inputs, search_outputs, api_visibility="private")
        quality_button.click(
            gpu(guarded(service.quality, 3)),
            [precision, corpus],
            [quality_status, quality_table, quality_plot],
            api_name="quality",
        )
        upload.upload(
            gpu(guarded(service.upload, 2, keep_rest=True)), [upload], [corpus_status, corpus], api_name="upload"
        ).then(
            lambda state: gr.update(choices=service.passage_choices(state), value=None),
            [corpus],
            [passage],
            api_visibility="private",
        )
        demo_button.click(
            lambda: (service.corpus_status(None), None), None, [corpus_status, corpus], api_visibility="private"
        ).then(
            lambda: gr.update(choices=service.passage_choices(None), value=None),
            None,
            [passage],
            api_visibility="private",
        )

        compare_button.click(
            gpu(guarded(service.compare, 3)),
            [compare_query, compare_dim, compare_k, corpus],
            [compare_status, compare_table, sizes_table],
            api_name="compare",
        )
        saturation_button.click(
            gpu(guarded(service.saturation, 6)),
            [saturation_text, saturation_precision, corpus],
            [saturation_status, curve_plot, dims_plot, hist_plot, params_plot, saturation_table],
            api_name="saturation",
        )
        map_button.click(
            gpu(guarded(service.embedding_map, 2, keep_rest=True), duration=120),
            [map_query, map_precision, corpus],
            [map_status, map_plot],
            api_name="embedding_map",
        )
        passage.change(
            gpu(guarded(service.neighbours, 2)),
            [passage, map_precision, neighbour_k, corpus],
            [neighbour_status, neighbour_table],
            api_name="neighbours",
        )
        token_button.click(
            gpu(guarded(service.tokens, 2)),
            [token_text, token_precision],
            [token_status, token_table],
            api_name="tokens",
        )
        speed_button.click(
            gpu(guarded(service.speed, 2)), [speed_query, corpus], [speed_status, speed_plot], api_name="speed"
        )
        demo.load(
            guarded(service.results, 4),
            None,
            [results_status, results_table, results_plot, measured],
            api_name="results",
        )
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=None,
        help=f"bundled (default), a checkpoint folder, or a hub id; overrides ${ENV_VAR}",
    )
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument(
        "--no-prewarm",
        action="store_true",
        default=os.environ.get("SSE_PREWARM_MAP", "1") == "0",
        help="do not fit the embedding map in the background at start-up (or set SSE_PREWARM_MAP=0)",
    )
    args, _ = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO)
    service = DemoService(choose_models(requested_model(args.model)))
    load_error = service.load_models() if ZERO_GPU else service.warm_up()
    demo = build(service, load_error)
    if not (args.no_prewarm or ZERO_GPU or load_error):
        service.prewarm_map()
    demo.launch(server_name=args.host, server_port=args.port, max_file_size="10mb", footer_links=["api"])


if __name__ == "__main__":
    main()
