"""Start-up of the Gradio app: seconds from ``python app.py`` to the first answered search, and search latency.

Each run starts a fresh ``python app.py`` (bundled model unless ``--model``), polls ``/search`` through
gradio_client until it answers, then times searches on the demo corpus: the server-side time the page reports
(tokenise + embed + score + sort) and the full round trip through gradio_client. Medians over the runs.

    python bench/app_startup.py --runs 5

The round trip through Gradio's queue has a floor of its own, so the script also times an empty handler
(``echo``) the same way, for comparison.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERIES = ["How do plants make oxygen?", "日本の伝統的な料理", "新幹線 Tokyo Osaka", "cherry blossom viewing party"]
SERVER_MS = re.compile(r"search ([0-9.]+) ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(model: str | None, searches: int) -> dict[str, float]:
    """Start the app, wait for its first search, time ``searches`` more, stop it."""
    import psutil
    from gradio_client import Client

    port = free_port()
    args = [sys.executable, "app.py", "--port", str(port)] + (["--model", model] if model else [])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with {process.returncode}")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                summary = client.predict(QUERIES[0], 512, "fp32", 10, api_name="/search")[0]
                break
            except Exception:  # not up yet
                time.sleep(0.05)
        first = time.perf_counter() - start
        cpu = psutil.Process(process.pid).cpu_times()
        if summary.startswith("⚠️"):
            raise RuntimeError(f"the first search failed: {summary}")
        server, round_trip = [], []
        for i in range(searches):
            t = time.perf_counter()
            summary = client.predict(QUERIES[i % len(QUERIES)], 512, "fp32", 10, api_name="/search")[0]
            round_trip.append((time.perf_counter() - t) * 1e3)
            server.append(float(SERVER_MS.search(summary).group(1)))
        return {
            "first_search_s": first,
            "app_cpu_s": cpu.user + cpu.system,
            "server_ms": statistics.median(server),
            "round_trip_ms": statistics.median(round_trip),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def echo_round_trip(calls: int) -> float:
    """Median round trip of an empty handler through Gradio's queue: the floor under any endpoint here."""
    import gradio as gr
    from gradio_client import Client

    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(lambda text: text, box, box, api_name="echo")
    port = free_port()
    demo.launch(server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict("x", api_name="/echo")
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            client.predict("x", api_name="/echo")
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)
    finally:
        demo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="checkpoint folder or hub id (default: the bundled model)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--searches", type=int, default=40)
    args = parser.parse_args()
    results = [one_run(args.model, args.searches) for _ in range(args.runs)]
    for i, r in enumerate(results, start=1):
        print(
            f"run {i}: first search {r['first_search_s']:.2f} s, search {r['server_ms']:.2f} ms "
            f"(server), {r['round_trip_ms']:.1f} ms (round trip)"
        )
    med = {key: statistics.median(r[key] for r in results) for key in results[0]}
    echo = echo_round_trip(args.searches)
    print(
        f"median of {args.runs}: start-up to first answered search {med['first_search_s']:.2f} s "
        f"({med['app_cpu_s']:.2f} s CPU in app.py); "
        f"search on the demo corpus {med['server_ms']:.2f} ms in the app, {med['round_trip_ms']:.1f} ms round trip; "
        f"an empty Gradio handler's round trip: {echo:.1f} ms"
    )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
