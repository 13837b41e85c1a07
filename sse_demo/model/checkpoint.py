"""Reading and writing the two published SSE folder formats, byte for byte.

fp32 (module ``SSE``):   ``model.safetensors`` (embedding.weight, dyt.alpha, dyt.beta, dyt.bias) + ``tokenizer.json``
4-bit (module ``SSEQ``): ``model_rest.safetensors`` (dyt.*) + ``embedding.q4_k_m.bin`` + ``modules.json``
                         + ``tokenizer.json``

Every check names the file and says what is wrong: a checkpoint that does not fit together must never load into
a model that silently computes something else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

from sse_demo.errors import CheckpointError
from sse_demo.model.q4 import to_bytes

FP32_WEIGHTS = "model.safetensors"
Q4_REST = "model_rest.safetensors"
Q4_TABLE = "embedding.q4_k_m.bin"
TOKENIZER = "tokenizer.json"
MODULES = "modules.json"
Q4_MODULES = [{"idx": 0, "name": "0", "path": "", "type": "SSE_quantize.SSEQ"}]
DYT_KEYS = ("dyt.alpha", "dyt.beta", "dyt.bias")


class CheckpointFormat(StrEnum):
    """The two published layouts."""

    FP32 = "fp32"
    Q4 = "q4"


@dataclass
class Checkpoint:
    """What a folder holds: the tokenizer, the DyT vectors and the table (float, or packed codes + scales)."""

    tokenizer: Tokenizer
    dyt: dict[str, np.ndarray]
    weight: np.ndarray | None = None
    packed: np.ndarray | None = None
    scales: np.ndarray | None = None


def detect_format(folder: Path) -> CheckpointFormat:
    """Tell the format from the files present, as the published repos are laid out."""
    if (folder / FP32_WEIGHTS).is_file():
        return CheckpointFormat.FP32
    if (folder / Q4_TABLE).is_file() or (folder / Q4_REST).is_file():
        return CheckpointFormat.Q4
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise CheckpointError(
        f"{folder} is not an SSE checkpoint: expected {FP32_WEIGHTS} (fp32) or {Q4_REST} + {Q4_TABLE} (4-bit) "
        f"beside {TOKENIZER}; found {present or 'nothing'}"
    )


def read_checkpoint(folder: str | Path) -> Checkpoint:
    """Read and validate an SSE folder in either format."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a folder")
    fmt = detect_format(folder)
    tokenizer = _read_tokenizer(folder / TOKENIZER)
    if fmt is CheckpointFormat.FP32:
        tensors = _read_safetensors(folder / FP32_WEIGHTS, ("embedding.weight", *DYT_KEYS))
        weight = tensors.pop("embedding.weight")
        if weight.ndim != 2:
            raise CheckpointError(f"{folder / FP32_WEIGHTS}: embedding.weight must be 2-D, has shape {weight.shape}")
        dyt = _check_dyt(folder / FP32_WEIGHTS, tensors, weight.shape[1])
        _check_vocab(folder, tokenizer, weight.shape[0], exact=False)
        return Checkpoint(tokenizer, dyt, weight=weight)
    dyt_tensors = _read_safetensors(folder / Q4_REST, DYT_KEYS)
    dim = dyt_tensors["dyt.alpha"].shape[0] if dyt_tensors["dyt.alpha"].ndim == 1 else -1
    dyt = _check_dyt(folder / Q4_REST, dyt_tensors, dim)
    packed, scales = _read_q4_table(folder / Q4_TABLE, dim)
    _check_vocab(folder, tokenizer, packed.shape[0], exact=True)
    return Checkpoint(tokenizer, dyt, packed=packed, scales=scales)


def write_fp32(
    folder: str | Path,
    tokenizer: Tokenizer,
    weight: np.ndarray,
    dyt: dict[str, np.ndarray],
) -> None:
    folder = _fresh_folder(folder)
    tensors = {"embedding.weight": np.ascontiguousarray(weight, dtype=np.float32)}
    tensors.update({key: np.ascontiguousarray(value, dtype=np.float32) for key, value in dyt.items()})
    save_file(tensors, str(folder / FP32_WEIGHTS))
    tokenizer.save(str(folder / TOKENIZER))


def write_q4(
    folder: str | Path,
    tokenizer: Tokenizer,
    packed: np.ndarray,
    scales: np.ndarray,
    dyt: dict[str, np.ndarray],
) -> None:
    folder = _fresh_folder(folder)
    save_file(
        {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in dyt.items()},
        str(folder / Q4_REST),
    )
    (folder / Q4_TABLE).write_bytes(to_bytes(packed, scales))
    (folder / MODULES).write_text(json.dumps(Q4_MODULES, indent=2) + "\n")
    tokenizer.save(str(folder / TOKENIZER))


def dyt_arrays(dyt: torch.nn.Module) -> dict[str, np.ndarray]:
    """The DyT parameters under their checkpoint keys."""
    return {f"dyt.{name}": getattr(dyt, name).detach().cpu().numpy() for name in ("alpha", "beta", "bias")}


def _fresh_folder(folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stale = [name for name in (FP32_WEIGHTS, Q4_REST, Q4_TABLE, MODULES) if (folder / name).exists()]
    for name in stale:  # a folder must hold one format only, or detection would pick the wrong one
        (folder / name).unlink()
    return folder


def _read_tokenizer(path: Path) -> Tokenizer:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: every SSE checkpoint carries its tokenizer as {TOKENIZER}")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises a bare Exception on bad JSON
        raise CheckpointError(f"{path} is not a valid tokenizers file: {error}") from error
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _read_safetensors(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors file: {error}") from error
    missing = [key for key in keys if key not in tensors]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}; it holds {sorted(tensors)}")
    for key in keys:
        if tensors[key].dtype != np.float32:
            raise CheckpointError(f"{path}: {key} must be float32, is {tensors[key].dtype}")
        _check_finite(path, key, tensors[key])
    return {key: tensors[key] for key in keys}


def _check_finite(path: Path, name: str, values: np.ndarray) -> None:
    """NaN or inf in any weight makes every embedding that touches it NaN: refuse the file instead."""
    if np.isfinite(values).all():
        return
    bad = ~np.isfinite(values)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    raise CheckpointError(
        f"{path}: {int(bad.sum())} non-finite value(s) in {name} (first: {float(values[first])} at index "
        f"{first[0] if len(first) == 1 else first}); the file is corrupt or was saved from a diverged training run. "
        f"Download or export the checkpoint again"
    )


def _check_dyt(path: Path, tensors: dict[str, np.ndarray], dim: int) -> dict[str, np.ndarray]:
    for key in DYT_KEYS:
        if tensors[key].shape != (dim,):
            raise CheckpointError(f"{path}: {key} has shape {tensors[key].shape}, expected ({dim},) to match the table")
    if dim < 2 or dim % 2:
        raise CheckpointError(f"{path}: dim {dim} must be a positive even number")
    return {key: tensors[key] for key in DYT_KEYS}


def _read_q4_table(path: Path, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Packed codes (vocab x dim/2, uint8) and scales (vocab, float32), validated against ``dim``."""
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    row_bytes = dim // 2 + 4
    size = path.stat().st_size
    if size == 0 or size % row_bytes:
        raise CheckpointError(
            f"{path} has {size} bytes, not a whole number of {row_bytes}-byte rows for dim {dim} "
            f"({dim // 2} code bytes + a 4-byte scale per token): the file is truncated, oversized, "
            f"or belongs to a model of another dim"
        )
    vocab = size // row_bytes
    raw = np.fromfile(path, dtype=np.uint8)
    packed = raw[: vocab * dim // 2].reshape(vocab, dim // 2)
    scales = raw[vocab * dim // 2 :].view("<f4").astype(np.float32)  # a copy: aligned for torch
    _check_finite(path, "the row scales", scales)
    if not np.all(scales > 0):
        bad = int(np.flatnonzero(~(scales > 0))[0])
        raise CheckpointError(
            f"{path}: row scale {bad} is {scales[bad]!r}; scales must be positive, so the file is "
            f"corrupt or its rows are misaligned (truncated, oversized, or written for another dim)"
        )
    return packed, scales


def _check_vocab(folder: Path, tokenizer: Tokenizer, rows: int, *, exact: bool) -> None:
    """The tokenizer must never produce an id the table lacks; a 4-bit table must match it exactly."""
    tokens = tokenizer.get_vocab_size(with_added_tokens=True)
    if tokens > rows or (exact and tokens != rows):
        table = Q4_TABLE if exact else FP32_WEIGHTS
        raise CheckpointError(
            f"{folder}: {TOKENIZER} has {tokens} tokens but {table} holds {rows} rows; the files do not belong "
            f"together (or {table} is truncated/oversized)"
        )
