"""``SSEModel``: a tokenizer plus the SSE module, with encode / save / load.

Encoding is the hot path: the Rust tokenizer does the work (``encode_batch_fast``, no offsets, no special
tokens) and the ids are flattened once into a numpy array. On CPU ``cpu_encode`` tokenises and pools unit by unit
on one thread per core; on CUDA helper threads tokenise ahead and the torch module does the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

from sse_demo.model import checkpoint
from sse_demo.model.cpu_encode import encode_on_cpu, ids_and_bounds
from sse_demo.model.hub import resolve
from sse_demo.model.module import SSE, SeparableDyT, truncate_and_normalize
from sse_demo.model.q4 import PackedQ4EmbeddingBag

MATRYOSHKA_DIMS = (512, 256, 128, 64, 32)
DEFAULT_BATCH_SIZE = 1024
TOKENIZE_AHEAD = 2  # batches tokenised ahead of the one being embedded (CUDA encode)


def default_device() -> str:
    """CUDA when present, else CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a torch device, defaulting to CUDA when present; a clear error for one that cannot run here."""
    try:
        resolved = torch.device(device or default_device())
    except RuntimeError as error:
        raise ValueError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here; use device='cpu'")
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r} is not supported: use 'cpu' or 'cuda'")
    return resolved


class SSEModel:
    """A loaded SSE model: ``encode`` texts to float32 numpy arrays at any Matryoshka dim."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        module: SSE,
        *,
        device: str | torch.device | None = None,
    ) -> None:
        tokens = tokenizer.get_vocab_size(with_added_tokens=True)
        if tokens > module.vocab_size:
            raise ValueError(f"the tokenizer has {tokens} tokens but the table only {module.vocab_size} rows")
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.device = resolve_device(device)
        self.module = module.to(self.device).eval()

    @classmethod
    def from_arrays(
        cls,
        tokenizer: Tokenizer,
        embedding: np.ndarray | torch.Tensor,
        alpha: np.ndarray | None = None,
        beta: np.ndarray | None = None,
        bias: np.ndarray | None = None,
        *,
        device: str | None = None,
    ) -> SSEModel:
        """Build a model from a table and (optionally) DyT vectors; missing DyT vectors take their initial values."""
        module = SSE.from_weights(torch.as_tensor(np.asarray(embedding, dtype=np.float32)))
        with torch.no_grad():
            for name, value in (("alpha", alpha), ("beta", beta), ("bias", bias)):
                if value is not None:
                    getattr(module.dyt, name).copy_(torch.as_tensor(np.asarray(value, dtype=np.float32)))
        return cls(tokenizer, module, device=device)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path | None = None,
        *,
        quantized: bool = False,
        device: str | None = None,
    ) -> SSEModel:
        """Load the bundled model (``None``), a local folder in either format, or a hub id (``load_model`` is the
        same call; ``save_pretrained`` / ``save`` write what this reads).

        ``quantized=True`` gives a 4-bit model: the bundled 4-bit checkpoint, or an fp32 checkpoint quantised on
        load exactly as the published quantizer would. A 4-bit folder always loads as 4-bit.
        """
        ckpt = checkpoint.read_checkpoint(resolve(name_or_path, quantized=quantized))
        dyt = SeparableDyT(len(ckpt.dyt["dyt.alpha"]))
        with torch.no_grad():
            for key, value in ckpt.dyt.items():
                getattr(dyt, key.removeprefix("dyt.")).copy_(torch.from_numpy(value))
        if ckpt.weight is None:
            embedding = PackedQ4EmbeddingBag(torch.from_numpy(ckpt.packed), torch.from_numpy(ckpt.scales))
        elif quantized:
            embedding = PackedQ4EmbeddingBag.from_float(ckpt.weight)
        else:
            embedding = nn.EmbeddingBag.from_pretrained(torch.from_numpy(ckpt.weight), freeze=False, mode="mean")
        return cls(ckpt.tokenizer, SSE(embedding, dyt), device=device)

    @property
    def dim(self) -> int:
        return self.module.dim

    @property
    def vocab_size(self) -> int:
        return self.module.vocab_size

    @property
    def quantized(self) -> bool:
        return self.module.quantized

    def __repr__(self) -> str:
        precision = "4-bit" if self.quantized else "fp32"
        return f"SSEModel(vocab_size={self.vocab_size}, dim={self.dim}, {precision}, device={self.device.type})"

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat token ids and the start offset of each text: what ``EmbeddingBag`` consumes."""
        ids, bounds = ids_and_bounds(self.tokenizer, list(texts))
        return ids, bounds[:-1]

    def encode(
        self,
        texts: str | Sequence[str],
        *,
        dim: int | None = None,
        normalize: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> np.ndarray:
        """Embed texts as a float32 array of shape (n, dim), or a single string as a vector of shape (dim,).

        ``dim`` truncates to the first ``dim`` coordinates (Matryoshka; 512/256/128/64/32 are the trained rungs,
        any 1..model.dim works) *before* the L2 normalisation that ``normalize`` applies. A string gives one
        vector and a list a 2-D array (an empty list: shape (0, dim)), as in sentence-transformers and model2vec.

        ``batch_size`` is a GPU knob: the number of texts per forward pass on CUDA. On CPU encode cuts the texts
        into its own units (``cpu_encode``) whatever it is, since smaller units only cost time there; no setting
        changes the numbers.
        """
        single = isinstance(texts, str)
        texts = _check_texts(texts)
        dim = self.check_dim(dim)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        out = np.empty((len(texts), dim), dtype=np.float32)
        if self.device.type == "cpu":
            encode_on_cpu(self.tokenizer, self.module, texts, out, normalize)
        else:
            self._encode_on_device(texts, out, normalize, batch_size)
        return out[0] if single else out

    def _encode_on_device(self, texts: list[str], out: np.ndarray, normalize: bool, batch_size: int) -> None:
        """The torch module on the model's device, batch after batch, the next batches tokenised meanwhile."""
        for start, (ids, offsets) in self._tokenized_batches(texts, batch_size):
            with torch.inference_mode():
                embeddings = self.module(*self._to_device(ids, offsets))
                normalized = truncate_and_normalize(embeddings, out.shape[1], normalize)
                out[start : start + batch_size] = normalized.cpu().numpy()

    def _tokenized_batches(self, texts: list[str], batch_size: int) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        """``(start, tokenize(batch))`` for each batch, the next batches being tokenised on helper threads meanwhile,
        so the tokenizer keeps the CPU busy while the GPU embeds."""
        starts = range(0, len(texts), batch_size)
        if len(starts) < 2:
            yield from ((start, self.tokenize(texts[start : start + batch_size])) for start in starts)
            return
        with ThreadPoolExecutor(max_workers=TOKENIZE_AHEAD, thread_name_prefix="sse-tokenize") as pool:
            pending = deque(pool.submit(self.tokenize, texts[s : s + batch_size]) for s in starts[:TOKENIZE_AHEAD])
            for index, start in enumerate(starts):
                batch = pending.popleft().result()
                if index + TOKENIZE_AHEAD < len(starts):
                    ahead = starts[index + TOKENIZE_AHEAD]
                    pending.append(pool.submit(self.tokenize, texts[ahead : ahead + batch_size]))
                yield start, batch

    def pooled(self, texts: str | Sequence[str]) -> np.ndarray:
        """The mean of each text's token rows, before DyT: where the texts sit on the tanh curves (a string gives
        one vector, as in ``encode``)."""
        single = isinstance(texts, str)
        texts = _check_texts(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            pooled = self.module.pool(*self._to_device(*self.tokenize(texts))).float().cpu().numpy()
        return pooled[0] if single else pooled

    # -- inspection: what the demo app shows, without reaching into the torch module ---------------------------

    def dyt_parameters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The learned DyT vectors ``(alpha, beta, bias)`` as float32 numpy arrays of length ``dim``."""
        dyt = self.module.dyt
        return tuple(getattr(dyt, name).detach().float().cpu().numpy() for name in ("alpha", "beta", "bias"))

    def token_vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The table rows of token ``ids`` as float32 (n, dim), dequantised for a 4-bit model (only these rows)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"token ids must lie in 0..{self.vocab_size - 1}, got {ids.min()}..{ids.max()}")
        embedding, index = self.module.embedding, torch.from_numpy(ids).to(self.device)
        if isinstance(embedding, PackedQ4EmbeddingBag):
            rows = embedding.rows(index)  # packed codes and scales are buffers: no autograd to switch off
        else:
            rows = embedding.weight.detach()[index]  # a plain gather, outside autograd
        return rows.float().cpu().numpy()

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the model's tensors (parameters and buffers): the packed table for a 4-bit model."""
        tensors = [*self.module.parameters(), *self.module.buffers()]
        return int(sum(t.numel() * t.element_size() for t in tensors))

    def save(self, path: str | Path, *, quantized: bool = False) -> Path:
        """Write the published folder format: fp32 (``model.safetensors``) or 4-bit (``embedding.q4_k_m.bin``).

        Saving a 4-bit model as 4-bit writes its codes unchanged; saving it as fp32 writes the dequantised table.
        """
        dyt = checkpoint.dyt_arrays(self.module.dyt)
        embedding = self.module.embedding
        if not quantized:
            checkpoint.write_fp32(path, self.tokenizer, self.module.float_table().cpu().numpy(), dyt)
        elif isinstance(embedding, PackedQ4EmbeddingBag):
            checkpoint.write_q4(
                path,
                self.tokenizer,
                embedding.packed.cpu().numpy(),
                embedding.scales.cpu().numpy(),
                dyt,
            )
        else:
            packed = PackedQ4EmbeddingBag.from_float(embedding.weight)
            checkpoint.write_q4(path, self.tokenizer, packed.packed.numpy(), packed.scales.numpy(), dyt)
        return Path(path)

    save_pretrained = save  # model2vec's and transformers' name, the counterpart of ``from_pretrained``

    def check_dim(self, dim: int | None) -> int:
        """``dim`` as an int in 1..model.dim, or a clear error."""
        if dim is None:
            return self.dim
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim <= self.dim:
            raise ValueError(
                f"dim must be an integer from 1 to {self.dim} (the Matryoshka ladder is "
                f"{'/'.join(map(str, MATRYOSHKA_DIMS))}), got {dim!r}"
            )
        return int(dim)

    def _to_device(self, ids: np.ndarray, offsets: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(ids).to(self.device), torch.from_numpy(offsets).to(self.device)


def _check_texts(texts: str | Iterable[str]) -> list[str]:
    """A list of str, or a clear error naming the first item that is not a string."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Iterable):
        raise TypeError(f"texts must be a string or a list of strings, got {type(texts).__name__}")
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] is {type(text).__name__}, not str; decode or convert it first")
    return texts


def load_model(
    name_or_path: str | Path | None = None,
    *,
    quantized: bool = False,
    device: str | None = None,
) -> SSEModel:
    """Load an SSE model: ``None`` is the bundled model; otherwise a checkpoint folder or a hub id."""
    return SSEModel.from_pretrained(name_or_path, quantized=quantized, device=device)
