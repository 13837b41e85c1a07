"""The CPU encode: texts cut into units, each tokenised and pooled by one thread, straight into the output array.

Each of ``CPU_THREADS`` threads takes the next unit of texts, tokenises it (the tokenizer's rayon pool off,
``parallelism.tokenizer_parallelism_off``), takes the ids out of the ``Encoding`` objects, pools the unit with
``pooling.mean_rows`` (bit for bit torch's ``embedding_bag``), then applies DyT and the normalisation in place.
Serial tokenizer calls on each thread do the same work in less CPU time than the pool's fork-join over a batch and
leave no pool threads to fight the pooling for the cores. The Rust call, scipy and numpy release the GIL, so the
threads run side by side; only taking the ids out of the ``Encoding`` objects holds it.

Where the time goes besides the tokenizer (bench/encode_budget.py) is mostly the caches: pooling gathers rows from
all over a 200 MB table and evicts the tokenizer's working set, which the tokenizer then reloads. So a unit is
large (up to ``UNIT_TEXTS``), to pool seldom, while the tokenizer is called on slices of ``TOKENIZE_TEXTS`` texts
whose ``Encoding`` objects are freed while their memory is still in cache; and the units shrink towards the end of
the texts (a guided schedule) so that the threads still finish together.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from tokenizers import Encoding, Tokenizer

from sse_demo.model.module import SSE, normalize_numpy
from sse_demo.model.parallelism import tokenizer_parallelism_off
from sse_demo.model.pooling import mean_rows

UNIT_TEXTS = 4_096  # the most texts in a unit of work: each unit pools once...
UNIT_CHARS = 200_000  # ...and holds at most this many characters (bounds its ids and a 4-bit unit's rows)...
MIN_UNIT_TEXTS = 256  # ...and at least this many texts while the shrinking schedule is what limits it
TOKENIZE_TEXTS = 128  # texts per tokenizer call within a unit
CPU_THREADS = min(8, getattr(os, "process_cpu_count", os.cpu_count)() or 1)


def encode_on_cpu(tokenizer: Tokenizer, module: SSE, texts: list[str], out: np.ndarray, normalize: bool) -> None:
    """Write the embeddings of ``texts`` (first ``out.shape[1]`` coordinates) into ``out``, unit after unit on
    ``CPU_THREADS`` threads; a single unit (a query, a small batch) runs on the calling thread, pool on."""
    units = work_units(texts)
    if len(units) <= 1:  # threads would only add their start-up
        encode_unit(tokenizer, module, texts, out, normalize)
        return
    with tokenizer_parallelism_off(), ThreadPoolExecutor(CPU_THREADS, thread_name_prefix="sse-encode") as pool:
        jobs = [pool.submit(encode_unit, tokenizer, module, texts[s:e], out[s:e], normalize) for s, e in units]
        try:
            for job in jobs:
                job.result()
        except BaseException:  # an error or Ctrl-C: drop the units not started rather than wait for them
            for job in jobs:
                job.cancel()
            raise


def encode_unit(tokenizer: Tokenizer, module: SSE, texts: list[str], out: np.ndarray, normalize: bool) -> None:
    """Tokenise ``texts`` and write their pooled, DyT'd (and normalised) embeddings into ``out``.

    DyT and normalisation run in place in numpy, whose SIMD tanh is much faster than torch's."""
    mean_rows(module.embedding, *ids_and_bounds(tokenizer, texts), out)
    module.dyt.forward_numpy(out, out=out)
    if normalize:
        normalize_numpy(out, out=out)


def ids_and_bounds(tokenizer: Tokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Flat token ids and the n + 1 boundaries of the texts in them (no special tokens), from tokenizer calls on
    ``TOKENIZE_TEXTS`` texts at a time: each call's ``Encoding`` objects are freed before the next call."""
    ids, lengths = zip(
        *(
            flatten_ids(tokenizer.encode_batch_fast(texts[start : start + TOKENIZE_TEXTS], add_special_tokens=False))
            for start in range(0, max(len(texts), 1), TOKENIZE_TEXTS)  # an empty list too: one (empty) call
        ),
        strict=True,
    )
    return np.concatenate(ids), token_bounds(np.concatenate(lengths))


def flatten_ids(encodings: Sequence[Encoding]) -> tuple[np.ndarray, np.ndarray]:
    """The ids of ``encodings`` as one int64 array, and the number of ids of each encoding."""
    ids: list[int] = []
    lengths: list[int] = []
    for encoding in encodings:
        encoding_ids = encoding.ids
        ids += encoding_ids
        lengths.append(len(encoding_ids))
    return np.array(ids, dtype=np.int64), np.array(lengths, dtype=np.int64)


def work_units(texts: Sequence[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of consecutive units of at most ``UNIT_TEXTS`` texts and ``UNIT_CHARS`` characters (a
    longer text is a unit of its own), shrinking towards the end: a unit takes at most a ``2 * CPU_THREADS``-th
    of the texts left, but no fewer than ``MIN_UNIT_TEXTS``, so the last units are small and the threads, which
    take the units in turn, finish at about the same time."""
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
    units, start = [], 0
    while start < len(texts):
        share = -(-(len(texts) - start) // (2 * CPU_THREADS))
        before = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, before + UNIT_CHARS, side="right"))
        end = min(max(end, start + 1), start + min(UNIT_TEXTS, max(MIN_UNIT_TEXTS, share)), len(texts))
        units.append((start, end))
        start = end
    return units


def token_bounds(lengths: np.ndarray) -> np.ndarray:
    """The n + 1 boundaries of n texts of these token counts in the flat ids: text i is ``ids[b[i]:b[i+1]]``."""
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    return bounds
