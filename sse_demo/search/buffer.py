"""A row buffer that grows geometrically, so indexing a corpus chunk by chunk copies each row O(1) times."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class GrowableArray:
    """2-D array of fixed width that rows are appended to.

    ``np.concatenate`` on every chunk would copy the whole corpus once per chunk (quadratic time, and twice the
    memory at each step); doubling the capacity keeps appends amortised O(1) per row.
    """

    def __init__(self, width: int, dtype: npt.DTypeLike, data: np.ndarray | None = None) -> None:
        """Start empty, or wrap ``data`` (possibly a read-only memory map) without copying it."""
        self._data = np.empty((0, width), dtype=dtype) if data is None else data
        self._count = len(self._data)

    def __len__(self) -> int:
        return self._count

    @property
    def array(self) -> np.ndarray:
        """The filled rows, as a view (no copy)."""
        return self._data[: self._count]

    @property
    def nbytes(self) -> int:
        """Bytes of the filled rows."""
        return self.array.nbytes

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows in total, so a caller who knows the corpus size avoids regrowth."""
        if rows <= len(self._data):
            return
        grown = np.empty((rows, self._data.shape[1]), dtype=self._data.dtype)
        grown[: self._count] = self._data[: self._count]
        self._data = grown

    def append(self, rows: np.ndarray) -> None:
        """Append ``rows`` (shape ``(n, width)``)."""
        needed = self._count + len(rows)
        if needed > len(self._data) or not self._data.flags.writeable:
            self.reserve(max(needed, 2 * len(self._data), 1024))
        self._data[self._count : needed] = rows
        self._count = needed
