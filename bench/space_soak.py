"""Soak the served app as a public Space sees it: many sessions uploading, and a crowd searching beside heavy calls.

Starts ``python app.py`` (bundled model unless ``--model``) on a free loopback port and talks to it over Gradio's
HTTP API (``/gradio_api/upload`` and ``/gradio_api/call/<endpoint>``, one ``session_hash`` per visitor):

After one warm-up visitor (a search, the demo corpus's map, one upload: the process's one-off costs),
(a) ``--sessions`` visitors each upload a different generated corpus (5,000 passages, just under 2 MB, English
    and Japanese) and search it; then each searches again. Reports the resident memory (RSS) growth of the app and
    its child processes (the map-fit worker) and, per session, whether that next search found its own corpus or
    said its upload had expired.
(b) ``--clients`` concurrent visitors search the demo corpus for ``--seconds`` alone, then again while one more
    visitor uploads a corpus, draws its map and measures quality (over and over until the time is up). Reports
    errors and search latency p50/p95/p99 (round trip) for both, and the load average beside them.

    python bench/space_soak.py --sessions 40 --clients 20 --seconds 40

Everything runs on 127.0.0.1, every loop is bounded, and the app is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
QUERIES = ["How do plants make oxygen?", "日本の伝統的な料理", "新幹線 Tokyo Osaka", "cherry blossom viewing party"]
EN_WORDS = tuple(
    [
        "river",
        "mountain",
        "train",
        "city",
        "garden",
        "music",
        "science",
        "energy",
        "water",
        "history",
        "food",
        "school",
        "bridge",
        "light",
        "rain",
        "market",
        "festival",
        "computer",
        "language",
        "forest",
        "ocean",
        "station",
        "library",
        "museum",
        "winter",
        "summer",
        "coffee",
        "bicycle",
        "harbour",
        "castle",
    ]
)
JA_WORDS = tuple(
    [
        "東京",
        "大阪",
        "桜",
        "新幹線",
        "料理",
        "音楽",
        "科学",
        "川",
        "山",
        "祭り",
        "学校",
        "歴史",
        "雨",
        "市場",
        "言語",
        "電車",
        "庭",
        "光",
        "水",
        "橋",
        "森",
        "海",
        "駅",
    ]
)
PASSAGES = 5_000
UPLOAD_BYTES = 1_990_000  # just under the app's 2,000,000-byte limit
CALL_TIMEOUT_S = 300.0
WARNING = "⚠️"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_corpus(path: Path, marker: str, seed: int, n: int = PASSAGES, size: int = UPLOAD_BYTES) -> Path:
    """``n`` passages of about ``size`` bytes in all, every one starting with ``marker``; a third in Japanese."""
    rng = random.Random(seed)
    budget = size // n - 1
    lines = []
    for i in range(n):
        words = JA_WORDS if i % 3 == 0 else EN_WORDS
        line = f"{marker} {i}"
        while len(line.encode()) < budget - 12:
            line += " " + rng.choice(words)
        lines.append(line)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class App:
    """``python app.py`` on a free loopback port, and Gradio's HTTP API to it."""

    def __init__(self, model: str | None, extra: list[str], log_dir: Path, repo: Path = REPO) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "app.py", "--port", str(self.port), *(["--model", model] if model else []), *extra]
        env = {**os.environ, "PYTHONPATH": str(repo), "GRADIO_TEMP_DIR": str(log_dir / "gradio")}
        self.log = (log_dir / "app.log").open("w")
        self.process = subprocess.Popen(args, cwd=repo, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}; see {log_dir / 'app.log'}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("app.py did not answer within 300 s")

    def rss_mb(self) -> float:
        """The resident memory of the app and its child processes (the map-fit worker) together."""
        app = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in (app, *app.children(recursive=True))) / 1e6

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def call(http: httpx.Client, app: App, api: str, data: list, session: str) -> list:
    """One event through ``/gradio_api/call``: its outputs, or RuntimeError with the server's error."""
    response = http.post(f"{app.url}/gradio_api/call/{api}", json={"data": data, "session_hash": session})
    response.raise_for_status()
    event_id = response.json()["event_id"]
    event = None
    with http.stream("GET", f"{app.url}/gradio_api/call/{api}/{event_id}", timeout=CALL_TIMEOUT_S) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = line.split(":", 1)[1].strip()
                if event == "error":
                    raise RuntimeError(f"{api}: {payload}")
                return json.loads(payload)
    raise RuntimeError(f"{api}: the event stream ended without a result")


def upload(http: httpx.Client, app: App, path: Path, session: str) -> str:
    """Upload ``path`` into ``session``'s corpus; the app's message."""
    files = {"files": (path.name, path.read_bytes(), "text/plain")}
    response = http.post(f"{app.url}/gradio_api/upload", files=files, timeout=CALL_TIMEOUT_S)
    response.raise_for_status()
    file_data = {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
    return call(http, app, "upload", [file_data], session)[0]


def search(http: httpx.Client, app: App, query: str, session: str) -> tuple[str, list[list]]:
    summary, results, *_ = call(http, app, "search", [query, 512, "fp32", 5], session)
    return summary, results["data"]


def sessions_phase(app: App, n: int, folder: Path) -> dict:
    """(a): ``n`` sessions upload their own corpus and search it, then each searches again."""
    sessions = [uuid.uuid4().hex[:12] for _ in range(n)]
    markers = [f"S{i:02d}x" for i in range(n)]
    before = app.rss_mb()
    peak = before
    refused = []
    with httpx.Client(timeout=CALL_TIMEOUT_S) as http:
        for i, (session, marker) in enumerate(zip(sessions, markers, strict=True)):
            path = make_corpus(folder / f"corpus-{i:02d}.txt", marker, seed=i)
            message = upload(http, app, path, session)
            path.unlink()
            if message.startswith(WARNING):
                refused.append(message)
            search(http, app, "river 桜", session)
            peak = max(peak, app.rss_mb())
        outcomes = {"own corpus": 0, "upload expired": 0, "wrong corpus or error": 0}
        for session, marker in zip(sessions, markers, strict=True):
            summary, rows = search(http, app, "river 桜", session)
            if rows and all(row[4].startswith(marker + " ") for row in rows):
                outcomes["own corpus"] += 1
            elif summary.startswith(WARNING) and "expired" in summary and not rows:
                outcomes["upload expired"] += 1
            else:
                outcomes["wrong corpus or error"] += 1
        after = app.rss_mb()
    return {
        "sessions": n,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(max(peak, after), 1),
        "rss_after_mb": round(after, 1),
        "rss_growth_mb": round(max(peak, after) - before, 1),
        "refused_uploads": len(refused),
        **outcomes,
    }


@dataclass
class Crowd:
    """What the searching clients saw."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def searcher(app: App, deadline: float, crowd: Crowd, seed: int) -> None:
    rng = random.Random(seed)
    session = uuid.uuid4().hex[:12]
    with httpx.Client(timeout=CALL_TIMEOUT_S) as http:
        while time.monotonic() < deadline:
            query = rng.choice(QUERIES)
            start = time.perf_counter()
            try:
                summary, rows = search(http, app, query, session)
                error = summary if summary.startswith(WARNING) or len(rows) != 5 else None
            except Exception as caught:  # counted, not raised: the bench reports every error
                error = f"{type(caught).__name__}: {caught}"
            elapsed = time.perf_counter() - start
            with crowd.lock:
                crowd.latencies.append(elapsed)
                if error:
                    crowd.errors.append(error)


def heavy_visitor(app: App, deadline: float, folder: Path, report: dict) -> None:
    """Upload a corpus, draw its map, measure quality (fp32 then 4-bit); again with a new corpus until the end."""
    session = uuid.uuid4().hex[:12]
    round_ = 0
    with httpx.Client(timeout=CALL_TIMEOUT_S) as http:
        while time.monotonic() < deadline:
            path = make_corpus(folder / f"heavy-{round_}.txt", f"H{round_}x", seed=1000 + round_)
            steps = [
                ("upload", lambda path=path: [upload(http, app, path, session)]),
                ("embedding_map", lambda: call(http, app, "embedding_map", ["river", "fp32"], session)),
                ("quality fp32", lambda: call(http, app, "quality", ["fp32"], session)),
                ("quality 4-bit", lambda: call(http, app, "quality", ["4-bit"], session)),
            ]
            for name, step in steps:
                if time.monotonic() >= deadline:
                    break
                start = time.perf_counter()
                try:
                    message = str(step()[0])
                    failed = message.startswith(WARNING)
                except Exception as caught:
                    message, failed = f"{type(caught).__name__}: {caught}", True
                report.setdefault("calls", []).append(
                    {"call": name, "seconds": round(time.perf_counter() - start, 2), "error": message if failed else ""}
                )
            path.unlink(missing_ok=True)
            round_ += 1


def crowd_phase(app: App, clients: int, seconds: float, folder: Path | None) -> dict:
    """(b): ``clients`` searching for ``seconds``, with a heavy visitor beside them when ``folder`` is given."""
    crowd, heavy = Crowd(), {}
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=searcher, args=(app, deadline, crowd, i)) for i in range(clients)]
    if folder is not None:
        threads.append(threading.Thread(target=heavy_visitor, args=(app, deadline, folder, heavy)))
    load_before = os.getloadavg()[0]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + CALL_TIMEOUT_S)
    p50, p95, p99 = np.percentile(crowd.latencies, [50, 95, 99]) if crowd.latencies else (np.nan,) * 3
    return {
        "clients": clients,
        "heavy visitor": folder is not None,
        "searches": len(crowd.latencies),
        "errors": len(crowd.errors),
        "first errors": crowd.errors[:3],
        "p50_s": round(float(p50), 3),
        "p95_s": round(float(p95), 3),
        "p99_s": round(float(p99), 3),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "heavy calls": heavy.get("calls", []),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="passed to app.py (default: the bundled model)")
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--upload-memory-mb", type=float, default=None, help="passed to app.py (default: its own)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the checkout whose app.py to serve (e.g. an older one, to compare)"
    )
    args = parser.parse_args()
    extra = [] if args.upload_memory_mb is None else ["--upload-memory-mb", str(args.upload_memory_mb)]
    results = {"cpus": os.cpu_count(), "load_at_start": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="space-soak-") as tmp:
        folder = Path(tmp)
        app = App(args.model, extra, folder, args.repo)
        try:
            with httpx.Client(timeout=CALL_TIMEOUT_S) as http:  # one-off costs before the baseline RSS:
                search(http, app, QUERIES[0], "warm-up")  # the first search starts the background map fit,
                call(http, app, "embedding_map", ["", "fp32"], "warm-up")  # which this waits for (UMAP compiled),
                upload(http, app, make_corpus(folder / "warm-up.txt", "W", seed=-1), "warm-up")  # a first upload
            results["sessions"] = sessions_phase(app, args.sessions, folder)
            print(json.dumps(results["sessions"], ensure_ascii=False), flush=True)
            for label, heavy_folder in (("crowd alone", None), ("crowd + heavy visitor", folder)):
                results[label] = crowd_phase(app, args.clients, args.seconds, heavy_folder)
                print(label, json.dumps(results[label], ensure_ascii=False), flush=True)
        finally:
            app.stop()
    results["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
