"""``python -m sse_demo.api``: the OpenAI-compatible embeddings API on its own, without the page.

Serves the fp32 / 4-bit pair that ``--model`` (or ``SSE_MODEL``) names, as app.py would, plus any ``--peer``.
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from fastapi import FastAPI

import sse_demo
from sse_demo.api.models import model_id
from sse_demo.api.router import API_KEY_ENV, embeddings_router
from sse_demo.app.inputs import Precision
from sse_demo.app.models import ENV_VAR, app_models


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sse_demo.api", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=f"bundled, a checkpoint folder, or a hub id; overrides ${ENV_VAR}")
    parser.add_argument("--peer", action="append", default=[], help="a peer folder or hub id to serve too (repeat)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    choice = app_models(args.model)  # as app.py chooses: online and unasked, the published pair
    models = {}
    for precision in Precision:  # loaded now, so a bad name fails at start-up rather than on the first request
        ref = choice.ref(precision)
        models[model_id(ref.name, quantized=ref.quantized)] = sse_demo.load_model(ref.name, quantized=ref.quantized)
    for name in args.peer:
        peer = sse_demo.load_peer(name)
        if peer.name in models:
            parser.error(f"two models would share the id {peer.name!r}; rename the peer's folder")
        models[peer.name] = peer
    app = FastAPI(title="SSE embeddings (OpenAI-compatible)")
    app.include_router(embeddings_router(models))
    key_note = "a bearer key is required" if os.environ.get(API_KEY_ENV) else f"open (set {API_KEY_ENV} for a key)"
    print(choice.banner)
    print(f"Serving {', '.join(models)} at http://{args.host}:{args.port}/v1 ({key_note})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
