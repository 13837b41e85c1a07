"""Live throughput of the loaded model on this machine."""

from __future__ import annotations

import time

import numpy as np


def texts_per_second(
    model, texts: list[str], *, batch_size: int = 1024, min_seconds: float = 0.3, repeats: int = 3
) -> float:
    """Median texts/s over ``repeats`` runs, each encoding ``texts`` as often as fits in ``min_seconds``."""
    if not texts:
        raise ValueError("need at least one text to time")
    model.encode(texts[:batch_size], batch_size=batch_size)  # warm-up: first call allocates
    rates = []
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while True:
            model.encode(texts, batch_size=batch_size)
            done += len(texts)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(done / elapsed)
    return float(np.median(rates))
