"""Binary and int8 codes are computed in sse_demo.search, equal to sentence-transformers' and without importing it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sse_demo.search import Index
from sse_demo.search.quantized import binary_codes
from sse_demo.search.rescore import int8_codes

DIM = 64


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    """Unit rows, plus rows with exact zeros (sign bit 0) and values outside the calibration ranges (clipped)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x[0, ::2] = 0.0
    x[1] *= 3.0
    x[2] = -x[1]
    return x


@pytest.fixture(scope="module")
def ranges(vectors: np.ndarray) -> np.ndarray:
    """min/max rows of a sample that excludes the out-of-range rows; one dimension of zero width."""
    sample = vectors[10:200].copy()
    sample[:, 5] = 0.25
    return np.vstack((sample.min(axis=0), sample.max(axis=0))).astype(np.float32)


def test_binary_codes_are_sign_bits_packed_8_per_byte() -> None:
    codes = binary_codes(np.array([[1.0, -1.0, 0.0, 2.0, 0.5, 0.0, -3.0, 1e-9, -0.1, 4.0, 0, 0, 0, 0, 0, 0]]))
    assert codes.dtype == np.uint8 and codes.tolist() == [[0b10011001, 0b01000000]]


def test_int8_codes_floor_and_clip_onto_255_steps_of_the_ranges() -> None:
    ranges = np.array([[0.0, -1.0], [255.0, -1.0]], dtype=np.float32)  # dim 0: step 1; dim 1: zero width (step 1)
    codes = int8_codes(np.array([[0.0, -1.0], [127.5, 0.0], [255.0, -3.0], [-20, 300.0]], dtype=np.float32), ranges)
    assert codes.dtype == np.int8 and codes.tolist() == [[-128, -128], [-1, -127], [127, -128], [-128, 127]]


def test_codes_equal_sentence_transformers_quantize_embeddings(vectors: np.ndarray, ranges: np.ndarray) -> None:
    quantization = pytest.importorskip("sentence_transformers.util.quantization")
    ours, theirs = binary_codes(vectors), quantization.quantize_embeddings(vectors, precision="ubinary")
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    ours = int8_codes(vectors, ranges)
    theirs = quantization.quantize_embeddings(vectors, precision="int8", ranges=ranges)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_binary_with_int8_rescoring_works_when_sentence_transformers_cannot_be_imported(vectors, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    index = Index(DIM, "binary", rescore="int8")
    index.add(vectors)
    _, ids = index.search(vectors[20:30], top_k=3)
    assert ids[:, 0].tolist() == list(range(20, 30))


def test_binary_with_int8_rescoring_never_imports_sentence_transformers(tmp_path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from sse_demo.search import Index

        x = np.random.default_rng(0).standard_normal((500, 64)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        index = Index(64, "binary", rescore="int8")
        index.add(x)
        loaded = Index.load(index.save({str(tmp_path / "index")!r}))
        _, ids = loaded.search(x[:5], top_k=1)
        assert ids[:, 0].tolist() == [0, 1, 2, 3, 4], ids
        imported = sorted(name for name in sys.modules if name.split(".")[0] == "sentence_transformers")
        print("imported:", imported)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported: []"
