"""Saved index folders: exact round trips per mode, and clear errors for corrupt or mismatched folders."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from sse_demo.search import FORMAT_VERSION, Index, IndexFormatError, IndexMismatchError

DIM = 64
FINGERPRINT = "tiny-sse@test"

MODES = [
    ("exact", {}),
    ("int8", {}),
    ("int8", {"rescore": "float32"}),
    ("binary", {}),
    ("binary", {"rescore": "bits"}),
    ("binary", {"rescore": "float32"}),
    ("ivf", {"nlist": 16, "nprobe": 4}),
]


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus() -> np.ndarray:
    return unit_vectors(1000)


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return unit_vectors(20, seed=1)


@pytest.fixture
def saved(corpus: np.ndarray, tmp_path: Path) -> Path:
    index = Index(DIM, "binary", fingerprint=FINGERPRINT)
    index.add(corpus)
    return index.save(tmp_path / "index")


@pytest.mark.parametrize(("mode", "options"), MODES, ids=[f"{m}-{o.get('rescore', '')}" for m, o in MODES])
def test_round_trip_gives_identical_results(corpus, queries, tmp_path: Path, mode: str, options: dict) -> None:
    index = Index(DIM, mode, fingerprint=FINGERPRINT, **options)
    index.add(corpus)
    before = index.search(queries, top_k=10)
    loaded = Index.load(index.save(tmp_path / "index"), expected_fingerprint=FINGERPRINT, expected_dim=DIM)
    after = loaded.search(queries, top_k=10)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_array_equal(after[0], before[0])
    assert (loaded.mode.value, loaded.dim, len(loaded), loaded.backend.options()) == (
        mode,
        DIM,
        len(corpus),
        index.backend.options(),
    )


def test_string_ids_survive_a_round_trip(corpus, tmp_path: Path) -> None:
    index = Index(DIM, "exact")
    index.add(corpus, ids=[f"doc-{i}" for i in range(len(corpus))])
    _, ids = Index.load(index.save(tmp_path / "index")).search(corpus[[42]], top_k=1)
    assert ids.tolist() == [["doc-42"]]


def test_memory_mapped_load_searches_the_same_and_still_accepts_adds(corpus, queries, tmp_path: Path) -> None:
    index = Index(DIM, "exact")
    index.add(corpus)
    mapped = Index.load(index.save(tmp_path / "index"), mmap=True)
    np.testing.assert_array_equal(mapped.search(queries)[1], index.search(queries)[1])
    mapped.add(queries)
    assert len(mapped) == len(corpus) + len(queries) and mapped.search(queries[:1], top_k=1)[1][0, 0] == len(corpus)


def test_manifest_is_plain_json_with_the_documented_fields(saved: Path) -> None:
    manifest = json.loads((saved / "index.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert (manifest["mode"], manifest["dim"], manifest["count"], manifest["fingerprint"]) == (
        "binary",
        DIM,
        1000,
        FINGERPRINT,
    )
    assert set(manifest["files"]) == {"binary.faiss", "rescore_int8.npy", "rescore_int8_ranges.npy"}


def test_a_flipped_byte_is_reported_as_corruption(saved: Path) -> None:
    data = bytearray((saved / "rescore_int8.npy").read_bytes())
    data[-1] ^= 0xFF
    (saved / "rescore_int8.npy").write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match=r"rescore_int8\.npy is corrupt"):
        Index.load(saved)


def test_a_truncated_file_is_reported_as_corruption(saved: Path) -> None:
    path = saved / "binary.faiss"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexFormatError, match="bytes, expected"):
        Index.load(saved, verify=False)


def test_a_missing_file_is_named(saved: Path) -> None:
    (saved / "binary.faiss").unlink()
    with pytest.raises(IndexFormatError, match=r"binary\.faiss is missing"):
        Index.load(saved)


def test_a_folder_without_manifest_is_not_an_index(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match=r"index\.json is missing"):
        Index.load(tmp_path)


def test_a_garbled_manifest_is_reported(saved: Path) -> None:
    (saved / "index.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="corrupt"):
        Index.load(saved)


def test_a_newer_format_version_is_refused(saved: Path) -> None:
    manifest = json.loads((saved / "index.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (saved / "index.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="format version"):
        Index.load(saved)


def test_an_index_of_another_model_is_refused(saved: Path) -> None:
    with pytest.raises(IndexMismatchError, match="other-model"):
        Index.load(saved, expected_fingerprint="other-model")


def test_an_index_of_another_dim_is_refused(saved: Path) -> None:
    with pytest.raises(IndexMismatchError, match="dim 64 vectors, expected dim 256"):
        Index.load(saved, expected_dim=256)


def test_saving_an_empty_index_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        Index(DIM).save(tmp_path / "index")


SAVED_V1 = Path(__file__).parent / "data" / "search_v1"


def _fixture_maker():
    """tests/data/search_v1/make.py as a module (it made the committed folder)."""
    spec = importlib.util.spec_from_file_location("search_v1_make", SAVED_V1 / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["int8", "binary_int8"])
def test_indexes_saved_by_an_earlier_version_search_identically(name: str) -> None:
    maker = _fixture_maker()
    expected = np.load(SAVED_V1 / "expected.npz")
    index = Index.load(SAVED_V1 / name, expected_fingerprint=maker.FINGERPRINT, expected_dim=maker.DIM)
    scores, ids = index.search(np.load(SAVED_V1 / "queries.npy"), top_k=maker.TOP_K)
    np.testing.assert_array_equal(ids, expected[f"{name}_ids"])
    np.testing.assert_array_equal(scores, expected[f"{name}_scores"])


def test_rebuilding_the_earlier_indexes_writes_the_same_bytes(tmp_path: Path) -> None:
    maker = _fixture_maker()
    results = maker.build_indexes(np.load(SAVED_V1 / "vectors.npy"), np.load(SAVED_V1 / "queries.npy"), tmp_path)
    expected = np.load(SAVED_V1 / "expected.npz")
    for name, *_ in maker.INDEXES:
        committed = sorted(path.name for path in (SAVED_V1 / name).iterdir())
        assert sorted(path.name for path in (tmp_path / name).iterdir()) == committed
        for file in committed:
            assert (tmp_path / name / file).read_bytes() == (SAVED_V1 / name / file).read_bytes(), f"{name}/{file}"
        np.testing.assert_array_equal(results[f"{name}_ids"], expected[f"{name}_ids"])
        np.testing.assert_array_equal(results[f"{name}_scores"], expected[f"{name}_scores"])
