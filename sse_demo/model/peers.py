"""Peers: the other static embedding models people compare SSE with, behind ``SSEModel``'s ``encode`` contract.

Two families are supported, each loaded by its own library (no code from a hub repo runs, no ``trust_remote_code``):

- a sentence-transformers model whose first module is ``StaticEmbedding`` (e.g. the seed's 1024-dim peers
  ``sentence-transformers/static-retrieval-mrl-en-v1`` and ``hotchpotch/static-embedding-japanese``);
- a model2vec ``StaticModel`` (e.g. the potion models).

``encode(texts, dim=d)`` keeps the library's own embedding's first ``d`` coordinates, then L2-normalises, as
``SSEModel.encode`` does, so a peer and SSE can sit side by side in the app, the CLI and the benchmarks.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np
from safetensors import safe_open

from sse_demo.errors import CheckpointError, ModelNotFoundError
from sse_demo.model.cpu_encode import token_bounds
from sse_demo.model.hub import download
from sse_demo.model.module import normalize_numpy
from sse_demo.model.static import _check_texts, resolve_device

SUPPORTED = (
    "load_peer supports a sentence-transformers model whose first module is StaticEmbedding (hub id or folder) "
    "and a model2vec StaticModel (folder or hub id); for an SSE checkpoint use sse_demo.load_model"
)
ENCODE_BATCH = 1_024  # texts per sentence-transformers forward pass; static models pool each text on its own
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_DESCRIBE_FILES = ["*.json"]  # enough to tell the kind of a hub repo before fetching any weights
_WEIGHT_FILES = ["*.json", "*.safetensors"]


class PeerKind(StrEnum):
    SENTENCE_TRANSFORMERS = "sentence-transformers StaticEmbedding"
    MODEL2VEC = "model2vec StaticModel"


class PeerModel(ABC):
    """A loaded peer: ``encode`` at any dim up to ``dim``, like ``SSEModel``."""

    kind: PeerKind

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Rows of the embedding table."""

    @property
    @abstractmethod
    def memory_bytes(self) -> int:
        """Bytes of the model's weights in memory (the embedding table and any other tensors)."""

    @property
    def disk_bytes(self) -> int:
        """Bytes of the files in the model's folder (for a hub id: the downloaded ``*.json`` and safetensors)."""
        return sum(path.stat().st_size for path in self.path.rglob("*") if path.is_file())

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """The library's own float32 embeddings of ``texts``, full dim, as its ``encode`` returns them."""

    @abstractmethod
    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """The token ids the model pools for each text."""

    def encode(self, texts: str | Sequence[str], *, dim: int | None = None, normalize: bool = True) -> np.ndarray:
        """Embed texts as a float32 array of shape (n, dim): the first ``dim`` coordinates, then L2-normalised.

        A single string gives one vector of shape (dim,), as in ``SSEModel.encode``.
        """
        single = isinstance(texts, str)
        texts = _check_texts(texts)
        dim = self.check_dim(dim)
        if not texts:
            return np.empty((0, dim), dtype=np.float32)
        out = np.ascontiguousarray(self.embed(texts)[:, :dim], dtype=np.float32)
        if normalize:
            normalize_numpy(out, out=out)
        return out[0] if single else out

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat token ids and the start offset of each text, as ``SSEModel.tokenize`` gives them."""
        ids = self.token_ids(_check_texts(texts))
        flat = np.fromiter((i for row in ids for i in row), dtype=np.int64)
        return flat, token_bounds(np.array([len(row) for row in ids], dtype=np.int64))[:-1]

    def check_dim(self, dim: int | None) -> int:
        """``dim`` as an int in 1..model.dim, or a clear error."""
        if dim is None:
            return self.dim
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim <= self.dim:
            raise ValueError(f"dim must be an integer from 1 to {self.dim} for {self.name}, got {dim!r}")
        return int(dim)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.kind}, vocab_size={self.vocab_size}, dim={self.dim})"


class SentenceTransformerPeer(PeerModel):
    """A sentence-transformers model whose first module is ``StaticEmbedding``."""

    kind = PeerKind.SENTENCE_TRANSFORMERS

    def __init__(self, name: str, path: Path, *, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        super().__init__(name, path)
        self.model = SentenceTransformer(str(path), device=device, trust_remote_code=False, local_files_only=True)
        self.static = self.model[0]

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def vocab_size(self) -> int:
        return int(self.static.num_embeddings)

    @property
    def memory_bytes(self) -> int:
        tensors = [*self.model.parameters(), *self.model.buffers()]
        return int(sum(t.numel() * t.element_size() for t in tensors))

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=ENCODE_BATCH, convert_to_numpy=True, show_progress_bar=False)

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.static.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]


class Model2VecPeer(PeerModel):
    """A model2vec ``StaticModel`` (numpy, CPU only)."""

    kind = PeerKind.MODEL2VEC

    def __init__(self, name: str, path: Path, *, device: str | None = None) -> None:
        from model2vec import StaticModel

        super().__init__(name, path)
        self.model = StaticModel.from_pretrained(path, force_download=False)

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    @property
    def vocab_size(self) -> int:
        return int(self.model.embedding.shape[0])

    @property
    def memory_bytes(self) -> int:
        arrays = [self.model.embedding, self.model.weights, self.model.token_mapping]  # the last two are optional
        return int(sum(array.nbytes for array in arrays if array is not None))

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, show_progress_bar=False)

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        return self.model.tokenize(texts)


def load_peer(name_or_path: str | Path, *, device: str | None = None) -> PeerModel:
    """Load a peer static model from a folder or a hub id (see the module docstring for what is supported)."""
    if not str(name_or_path).strip():
        raise ModelNotFoundError(f"the peer name is empty: pass a folder or a hub id. {SUPPORTED}")
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not path.is_dir():
            raise CheckpointError(f"{path} is a file, not a model folder. {SUPPORTED}")
        return _load_folder(path.name, path, device)
    name = str(name_or_path)
    if not _HUB_ID.match(name):
        raise ModelNotFoundError(f"{name!r} is neither an existing folder nor a hub id like 'owner/name'. {SUPPORTED}")
    kind = peer_kind(_download(name, _DESCRIBE_FILES), name)
    return _load_folder(name, _download(name, _WEIGHT_FILES), device, kind)


def _load_folder(name: str, folder: Path, device: str | None, kind: PeerKind | None = None) -> PeerModel:
    """Load ``folder`` with its own library, turning the library's errors about a broken folder into one message."""
    kind = kind or peer_kind(folder, str(folder))
    _check_files(folder, kind)
    if kind is PeerKind.SENTENCE_TRANSFORMERS:
        loader, device = SentenceTransformerPeer, str(resolve_device(device))
    elif device in (None, "cpu"):
        loader = Model2VecPeer
    else:
        raise ValueError(f"model2vec models run on the CPU (numpy); got device={device!r}, use None or 'cpu'")
    try:
        return loader(name, folder, device=device)
    except Exception as error:  # each library fails its own way on a damaged folder; the user needs one message
        raise CheckpointError(
            f"{folder} looks like a {kind} but could not be loaded ({type(error).__name__}: {error}); "
            f"the folder may be incomplete or damaged: download or save it again"
        ) from error


def peer_kind(folder: Path, name: str) -> PeerKind:
    """Which library loads ``folder``, or a clear error saying what it is instead and what is supported."""
    config = _read_json(folder / "config.json", name)
    modules = _read_json(folder / "modules.json", name)
    if (config or {}).get("model_type") == "model2vec" or _has_tensor(folder / "model.safetensors", "embeddings"):
        return PeerKind.MODEL2VEC
    if (folder / "embedding.q4_k_m.bin").exists() or _has_tensor(folder / "model.safetensors", "dyt.alpha"):
        raise CheckpointError(f"{name} is an SSE checkpoint, not a peer: load it with sse_demo.load_model")
    if isinstance(modules, list) and modules:
        types = [str(module.get("type", "")) if isinstance(module, dict) else "" for module in modules]
        foreign = [t for t in types if not t.startswith("sentence_transformers.")]
        if foreign:
            raise CheckpointError(
                f"{name}'s modules.json names modules outside sentence-transformers ({', '.join(foreign)}); "
                f"they would need code from the repo, which load_peer never runs. {SUPPORTED}"
            )
        if types[0].rsplit(".", 1)[-1] == "StaticEmbedding":
            return PeerKind.SENTENCE_TRANSFORMERS
        raise CheckpointError(
            f"{name} is a sentence-transformers model whose first module is {types[0].rsplit('.', 1)[-1]}, not "
            f"StaticEmbedding: a transformer, not a static model. {SUPPORTED}"
        )
    if config and "model_type" in config:
        raise CheckpointError(f"{name} is a {config['model_type']!r} transformer model, not a static one. {SUPPORTED}")
    raise CheckpointError(
        f"{name} is not a model folder this project knows (no modules.json, no model2vec config.json and "
        f"model.safetensors). {SUPPORTED}"
    )


def _check_files(folder: Path, kind: PeerKind) -> None:
    """The weight and tokenizer files the library will read are there (weights only as safetensors, never pickles)."""
    module = folder
    if kind is PeerKind.SENTENCE_TRANSFORMERS:
        module = folder / json.loads((folder / "modules.json").read_text(encoding="utf-8"))[0].get("path", "")
    missing = [name for name in ("model.safetensors", "tokenizer.json") if not (module / name).is_file()]
    if missing:
        raise CheckpointError(
            f"{module} is a {kind} folder without {' and '.join(missing)}: the folder is incomplete (or its weights "
            f"are not in safetensors format, which load_peer requires); download or save it again"
        )


def _read_json(path: Path, name: str) -> object:
    """A JSON file's content, ``None`` when absent, a clear error when unreadable."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{name}: {path.name} is not valid JSON ({error}); the folder is damaged") from error


def _has_tensor(path: Path, key: str) -> bool:
    """Whether a safetensors file holds ``key`` (reading only its header); a damaged file is a clear error."""
    if not path.is_file():
        return False
    try:
        with safe_open(path, framework="numpy") as tensors:
            return key in tensors.keys()  # noqa: SIM118 (a safetensors handle, not a dict)
    except Exception as error:  # safetensors raises its own (unexported) error types
        raise CheckpointError(f"{path} is not a readable safetensors file ({error}); download it again") from error


def _download(repo_id: str, patterns: list[str]) -> Path:
    """A peer repo's files matching ``patterns`` (or the local cache's), as a snapshot folder."""
    return download(
        repo_id,
        patterns,
        offline_hint=f"Offline alternative: load_peer('path/to/folder') with a folder you downloaded. {SUPPORTED}",
    )
