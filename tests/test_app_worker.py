"""Map fits run in a low-priority worker process: UMAP never holds the page's GIL, and every thread of the worker
runs below the page's CPU priority."""

import os
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import psutil
import pytest

from sse_demo.app.embedding_map import fit_map, umap_coords
from sse_demo.app.worker import HEAVY_PROCESS, WorkerProcess, process_niceness

REPO = Path(__file__).resolve().parents[1]


def clusters(n: int = 40, dim: int = 16) -> np.ndarray:
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(2, dim))
    vectors = np.concatenate([c + 0.05 * rng.normal(size=(n // 2, dim)) for c in centres])
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def worker():
    process = WorkerProcess(niceness=10)
    yield process
    process.shutdown()


def test_the_worker_is_another_process_and_every_thread_of_it_runs_niced_below_the_page(worker):
    own = os.getpriority(os.PRIO_PROCESS, os.getpid())
    if own >= 19:
        pytest.skip("the tests already run at the lowest CPU priority (nice 19): nothing can run lower")
    assert worker.run(os.getpid) != os.getpid()
    niceness = worker.run(process_niceness)  # numpy's BLAS threads, started at import, included
    assert niceness and set(niceness) == {min(19, own + 10)}


def test_a_worker_that_died_is_replaced_on_the_next_call(worker):
    first = worker.run(os.getpid)
    with pytest.raises(BrokenProcessPool):
        worker.run(os._exit, 1)
    second = worker.run(os.getpid)
    assert second != first and second != os.getpid()


def test_a_map_fitted_in_the_worker_equals_the_same_fit_in_this_process():
    vectors = clusters()
    fitted = fit_map(vectors, n_neighbors=10)
    here = umap_coords(vectors, seed=0, n_neighbors=10)
    assert fitted.coords.dtype == np.float32 and fitted.rows.tolist() == list(range(len(vectors)))
    np.testing.assert_allclose(fitted.coords, here, rtol=1e-5, atol=1e-5)
    assert HEAVY_PROCESS.run(os.getpid) != os.getpid()


def test_the_page_process_never_imports_umap_to_fit_a_map():
    code = (
        "import sys, numpy as np\n"
        "from sse_demo.app.embedding_map import fit_map\n"
        "rng = np.random.default_rng(0)\n"
        "v = rng.normal(size=(30, 8)).astype(np.float32)\n"
        "fit_map(v / np.linalg.norm(v, axis=1, keepdims=True))\n"
        "print('umap' in sys.modules, 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_the_worker_ends_when_the_page_process_is_killed(tmp_path):
    pid_file = tmp_path / "worker.pid"
    code = (
        "import os, sys, time\n"
        "from sse_demo.app.worker import WorkerProcess\n"
        "worker = WorkerProcess()\n"
        f"open({str(pid_file)!r}, 'w').write(str(worker.run(os.getpid)))\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    page = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env)
    try:
        for _ in range(1200):  # until the worker has answered (bounded: 10 minutes)
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.5)
        worker = psutil.Process(int(pid_file.read_text()))
    finally:
        page.kill()  # no atexit, no pool shutdown: only the worker's own watch can end it
        page.wait()
    worker.wait(timeout=60)  # psutil.TimeoutExpired if the worker outlives its page
    assert not worker.is_running()
