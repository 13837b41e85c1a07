"""Where the CPU time of an encode goes, against the tokenizer's own CPU time (issue 2's 1.3x point).

Each step of ``SSEModel.encode`` on CPU is timed on its own, as process CPU time, per batch of 1,024 texts:

* the tokenizer (``encode_batch_fast``, all its rayon threads), and the same texts with the rayon pool off, in
  calls of ``TOKENIZE_TEXTS`` texts, as each of encode's threads runs it;
* taking the ids out of the ``Encoding`` objects and flattening them;
* pooling (``sse_demo.model.pooling.mean_rows``);
* DyT;
* normalisation.

The sum of the steps after the tokenizer, plus the serial tokenizer call, divided by the pooled tokenizer's CPU
time, is the least the whole encode could cost relative to the tokenizer alone if every core were kept busy. The
last row runs the steps one after the other per batch, as each of encode's threads does: what it costs beyond the
sum of the steps is their fight over the caches (the table's rows evict the tokenizer's working set). Same table,
vocabularies and texts as ``encode_bench.py``; ``--vocabulary`` picks one.

    python bench/encode_budget.py --xlmr-tokenizer PATH/tokenizer.json --vocabulary BPE
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from encode_bench import bench_texts, published_size_tokenizer, synthetic_checkpoints, trained_bpe_tokenizer


def cpu_ms(step: Callable[[object], object], items: Sequence[object], rounds: int) -> float:
    """Median over ``rounds`` of the process CPU time per item, in ms."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for item in items:
            step(item)
        times.append(time.process_time() - start)
    return statistics.median(times) / len(items) * 1e3


def main() -> None:
    import sse_demo
    from sse_demo.model.cpu_encode import TOKENIZE_TEXTS, encode_unit, flatten_ids, token_bounds
    from sse_demo.model.module import normalize_numpy
    from sse_demo.model.parallelism import tokenizer_parallelism_off
    from sse_demo.model.pooling import mean_rows

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xlmr-tokenizer", type=Path, help="XLM-R tokenizer.json, for --vocabulary Unigram")
    parser.add_argument("--vocabulary", choices=("Unigram", "BPE"), default="Unigram")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    batch_size = 1024
    if args.vocabulary == "Unigram" and not args.xlmr_tokenizer:
        parser.error("--vocabulary Unigram needs --xlmr-tokenizer (see encode_bench.py)")
    tokenizer = (
        published_size_tokenizer(args.xlmr_tokenizer) if args.vocabulary == "Unigram" else trained_bpe_tokenizer()
    )
    texts, _ = bench_texts(args.batches * batch_size)
    with tempfile.TemporaryDirectory() as folder:
        fp32, _ = synthetic_checkpoints(tokenizer, Path(folder))
        model = sse_demo.load_model(fp32, device="cpu")
    batches = [texts[start : start + batch_size] for start in range(0, len(texts), batch_size)]
    encodings = [tokenizer.encode_batch_fast(batch, add_special_tokens=False) for batch in batches]
    tokenized = [(ids, token_bounds(lengths)) for ids, lengths in map(flatten_ids, encodings)]
    out = np.empty((batch_size, model.dim), dtype=np.float32)

    def tokenize(batch: list[str]) -> object:
        return tokenizer.encode_batch_fast(batch, add_special_tokens=False)

    def tokenize_in_slices(batch: list[str]) -> None:
        for start in range(0, len(batch), TOKENIZE_TEXTS):
            tokenize(batch[start : start + TOKENIZE_TEXTS])

    tokenizer_ms = cpu_ms(tokenize, batches, args.rounds)
    with tokenizer_parallelism_off():
        serial_ms = cpu_ms(tokenize_in_slices, batches, args.rounds)
        in_a_row_ms = cpu_ms(lambda b: encode_unit(tokenizer, model.module, b, out, True), batches, args.rounds)
    steps = {
        "ids out of the Encoding objects, flattened": cpu_ms(flatten_ids, encodings, args.rounds),
        "pooling (scipy CSR product)": cpu_ms(
            lambda t: mean_rows(model.module.embedding, t[0], t[1], out), tokenized, args.rounds
        ),
        "DyT (numpy)": cpu_ms(lambda _: model.module.dyt.forward_numpy(out, out=out), tokenized, args.rounds),
        "normalisation (numpy)": cpu_ms(lambda _: normalize_numpy(out, out=out), tokenized, args.rounds),
    }
    added = sum(steps.values())
    print(f"CPU time per batch of {batch_size} texts, median of {args.rounds} rounds over {len(batches)} batches:\n")
    print("| step | CPU ms | / tokenizer |\n|---|---:|---:|")
    print(f"| tokenizer (encode_batch_fast, its rayon pool on all cores) | {tokenizer_ms:.2f} | 1.00 |")
    print(
        f"| tokenizer with the pool off, {TOKENIZE_TEXTS} texts a call (what each encode thread runs) | "
        f"{serial_ms:.2f} | {serial_ms / tokenizer_ms:.2f} |"
    )
    for name, ms in steps.items():
        print(f"| {name} | {ms:.2f} | {ms / tokenizer_ms:.2f} |")
    print(f"| **all steps after the tokenizer** | **{added:.2f}** | **{added / tokenizer_ms:.2f}** |")
    total = serial_ms + added
    ratio = total / tokenizer_ms
    print(f"| **encode's whole CPU time (serial tokenizer + all steps)** | **{total:.2f}** | **{ratio:.2f}** |")
    print(
        f"| **the same steps in a row per batch, as an encode thread runs them** | **{in_a_row_ms:.2f}** | "
        f"**{in_a_row_ms / tokenizer_ms:.2f}** |"
    )


if __name__ == "__main__":
    main()
