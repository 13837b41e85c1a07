"""The public index: one backend (chosen by mode) plus caller ids, input checks, and save/load."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sse_demo.search.backend import Backend, IndexMode
from sse_demo.search.manifest import MANIFEST_FILE, IndexFormatError, Manifest
from sse_demo.search.rescore import Rescore

IDS_FILE = "ids.npy"
# Queries searched at once: bounds the candidates gathered for rescoring (256 queries x 100 candidates x 512 dims
# float32 = 50 MiB at top_k 10 and the default multiplier) whatever the batch size.
QUERY_BATCH = 256


class IndexMismatchError(ValueError):
    """A saved index was built with another model or another Matryoshka dim than the caller expects."""


def backend_class(mode: IndexMode | str) -> type[Backend]:
    """The backend class of ``mode``, imported on demand (faiss loads only for the modes that use it)."""
    try:
        mode = IndexMode(mode)
    except ValueError:
        known = ", ".join(repr(item.value) for item in IndexMode)
        raise ValueError(f"Unknown index mode {mode!r}; choose one of {known}.") from None
    if mode is IndexMode.EXACT:
        from sse_demo.search.exact import ExactBackend

        return ExactBackend
    if mode is IndexMode.INT8:
        from sse_demo.search.quantized import Int8Backend

        return Int8Backend
    if mode is IndexMode.BINARY:
        from sse_demo.search.quantized import BinaryBackend

        return BinaryBackend
    from sse_demo.search.approximate import IVFBackend

    return IVFBackend


class Index:
    """Nearest-neighbour search over embeddings of one Matryoshka dim, by inner product (cosine when normalised).

    >>> index = Index(dim=256, mode="binary", fingerprint="my-model@v1")
    >>> index.add(model.encode(passages, dim=256), ids=passage_ids)
    >>> scores, ids = index.search(model.encode(queries, dim=256), top_k=10)

    Add L2-normalised embeddings (``model.encode`` normalises by default) so scores are cosine similarities.
    Options apply per mode: ``rescore`` and ``rescore_multiplier`` to int8/binary, ``nlist`` and ``nprobe`` to
    ivf, ``device`` to exact. ``fingerprint`` is any string naming the model that made the embeddings; it is saved
    and checked on load, so an index is never searched with another model's queries.
    """

    def __init__(
        self,
        dim: int,
        mode: IndexMode | str = IndexMode.EXACT,
        *,
        fingerprint: str = "",
        rescore: Rescore | str | None = None,
        rescore_multiplier: int | None = None,
        nlist: int | None = None,
        nprobe: int | None = None,
        device: str | None = None,
    ) -> None:
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim must be a positive whole number, got {dim!r}.")
        cls = backend_class(mode)
        given = {
            "rescore": rescore,
            "rescore_multiplier": rescore_multiplier,
            "nlist": nlist,
            "nprobe": nprobe,
            "device": device,
        }
        accepted = inspect.signature(cls.__init__).parameters
        options = {name: value for name, value in given.items() if value is not None}
        if wrong := sorted(set(options) - set(accepted)):
            raise ValueError(f"Option(s) {', '.join(wrong)} do not apply to index mode {cls.mode.value!r}.")
        self._setup(cls(int(dim), **options), fingerprint)

    def _setup(self, backend: Backend, fingerprint: str) -> None:
        self.backend = backend
        self.fingerprint = fingerprint
        self._id_chunks: list[np.ndarray] | None = None  # None: no ids given, results are row numbers

    @property
    def dim(self) -> int:
        """The dim of every stored vector and of every query."""
        return self.backend.dim

    @property
    def mode(self) -> IndexMode:
        return self.backend.mode

    @property
    def nbytes(self) -> int:
        """Bytes of the searchable structures in memory (vectors or codes, rescoring copies, centroids)."""
        self.backend.finalize()
        return self.backend.nbytes

    def __len__(self) -> int:
        return self.backend.count

    def __repr__(self) -> str:
        return f"Index(mode={self.mode.value!r}, dim={self.dim}, count={len(self)}, options={self.backend.options()})"

    @property
    def ids(self) -> np.ndarray:
        """Id of every stored vector in insertion order (row numbers when no ids were given)."""
        if self._id_chunks is None:
            return np.arange(len(self), dtype=np.int64)
        if len(self._id_chunks) > 1:
            self._id_chunks = [np.concatenate(self._id_chunks)]
        return self._id_chunks[0]

    def reserve(self, rows: int) -> None:
        """Hint the final number of vectors, so a streamed build allocates once (used by ``encode_corpus``)."""
        self.backend.reserve(rows)

    def add(self, embeddings: np.ndarray, ids: Sequence[Any] | np.ndarray | None = None) -> None:
        """Append embeddings of shape ``(n, dim)``, with optional ids (all ints or all strings, one per row).

        Either every call passes ids or none does; without ids, results are row numbers in insertion order.
        Ids are returned as given and not checked for uniqueness.
        """
        vectors = self._as_vectors(embeddings, "Embeddings")
        new_ids = self._check_ids(ids, len(vectors))
        if len(vectors) == 0:
            return
        self.backend.add(vectors)
        if new_ids is not None:
            self._id_chunks = [*(self._id_chunks or []), new_ids]

    def search(
        self, queries: np.ndarray, top_k: int = 10, *, rescore_multiplier: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``top_k`` per query, best first: ``(scores (q, k) float32, ids (q, k))``.

        ``queries`` is a float batch of shape ``(q, dim)`` (a single vector of shape ``(dim,)`` is a batch of one).
        ``k`` is ``min(top_k, len(index))``. Approximate (ivf) search may find fewer: those slots hold score
        ``-inf`` and id -1 (or "" for string ids). ``rescore_multiplier`` overrides the index's for this call.
        """
        if len(self) == 0:
            raise ValueError("The index is empty; add embeddings before searching.")
        if int(top_k) != top_k or top_k < 1:
            raise ValueError(f"top_k must be a whole number >= 1, got {top_k!r}.")
        vectors = self._as_vectors(np.atleast_2d(np.asarray(queries)), "Queries")
        self.backend.finalize()
        k = min(int(top_k), len(self))
        parts = [
            self.backend.search(vectors[start : start + QUERY_BATCH], k, rescore_multiplier)
            for start in range(0, len(vectors), QUERY_BATCH)
        ]
        scores = np.concatenate([part[0] for part in parts])
        return scores, self._rows_to_ids(np.concatenate([part[1] for part in parts]))

    def _rows_to_ids(self, rows: np.ndarray) -> np.ndarray:
        if self._id_chunks is None:
            return rows
        ids = self.ids[rows]
        ids[rows < 0] = "" if ids.dtype.kind == "U" else -1
        return ids

    def _as_vectors(self, array: Any, what: str) -> np.ndarray:
        array = np.asarray(array)
        if array.ndim != 2:
            raise ValueError(f"{what} must be a 2-D array (n, {self.dim}), got shape {array.shape}.")
        if array.shape[1] != self.dim:
            raise IndexMismatchError(
                f"{what} have dim {array.shape[1]} but this index holds dim {self.dim}; "
                f"encode with model.encode(texts, dim={self.dim})."
            )
        if array.dtype.kind != "f":
            raise ValueError(f"{what} must be float embeddings, got dtype {array.dtype}.")
        vectors = np.ascontiguousarray(array, dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise ValueError(f"{what} contain NaN or infinite values.")
        return vectors

    def _check_ids(self, ids: Sequence[Any] | np.ndarray | None, count: int) -> np.ndarray | None:
        has_ids = self._id_chunks is not None
        if len(self) and (ids is not None) != has_ids:
            raise ValueError(
                "Pass ids on every add or on none: this index was started "
                + ("with" if has_ids else "without")
                + " ids."
            )
        if ids is None:
            return None
        array = np.asarray(ids)
        if array.ndim != 1 or len(array) != count:
            raise ValueError(
                f"ids must be a flat sequence with one id per embedding ({count}), got shape {array.shape}."
            )
        if array.dtype.kind in "iu":
            array = array.astype(np.int64)
        elif array.dtype.kind != "U":
            raise ValueError(f"ids must be all integers or all strings, got dtype {array.dtype}.")
        if has_ids and len(self) and (array.dtype.kind == "U") != (self.ids.dtype.kind == "U"):
            raise ValueError(
                "ids must keep one type: this index holds "
                + ("string" if self.ids.dtype.kind == "U" else "integer")
                + " ids."
            )
        return array

    def save(self, path: str | Path) -> Path:
        """Write the index into folder ``path`` (created if needed); the manifest ``index.json`` is written last."""
        if len(self) == 0:
            raise ValueError("The index is empty; add embeddings before saving.")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MANIFEST_FILE).unlink(missing_ok=True)
        self.backend.finalize()
        names = self.backend.save(folder)
        if self._id_chunks is not None:
            np.save(folder / IDS_FILE, self.ids)
            names.append(IDS_FILE)
        manifest = Manifest(
            mode=self.mode.value,
            dim=self.dim,
            count=len(self),
            fingerprint=self.fingerprint,
            options=self.backend.options(),
            ids=IDS_FILE if self._id_chunks is not None else None,
        )
        manifest.record(folder, names)
        manifest.write(folder)
        return folder

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        expected_fingerprint: str | None = None,
        expected_dim: int | None = None,
        mmap: bool = False,
        verify: bool = True,
    ) -> Index:
        """Read an index saved by ``save``.

        ``expected_fingerprint`` / ``expected_dim``: refuse (``IndexMismatchError``) an index built by another
        model or at another dim. ``mmap``: leave float32/int8 vector files on disk, paged in on use.
        ``verify``: check SHA-256 checksums (reads every file once; sizes are always checked).
        Missing, truncated or altered files raise ``IndexFormatError``.
        """
        folder = Path(path)
        manifest = Manifest.read(folder)
        if expected_dim is not None and manifest.dim != expected_dim:
            raise IndexMismatchError(
                f"Index at {folder} holds dim {manifest.dim} vectors, expected dim {expected_dim}."
            )
        if expected_fingerprint is not None and manifest.fingerprint != expected_fingerprint:
            raise IndexMismatchError(
                f"Index at {folder} was built with model {manifest.fingerprint!r}, expected {expected_fingerprint!r}; "
                "rebuild it with this model."
            )
        manifest.verify(folder, checksums=verify)
        try:
            backend = backend_class(manifest.mode).load(folder, manifest.dim, manifest.options, mmap)
            ids = None if manifest.ids is None else np.load(folder / manifest.ids, allow_pickle=False)
        except (RuntimeError, ValueError, KeyError, OSError) as error:
            raise IndexFormatError(f"Index at {folder} could not be read ({error}); rebuild it.") from error
        if backend.count != manifest.count or (ids is not None and len(ids) != manifest.count):
            raise IndexFormatError(
                f"Index at {folder} holds {backend.count} vectors, its manifest says {manifest.count}."
            )
        index = cls.__new__(cls)
        index._setup(backend, manifest.fingerprint)
        index._id_chunks = None if ids is None else [ids]
        return index
