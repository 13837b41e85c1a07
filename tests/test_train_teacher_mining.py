"""Teacher-mined hard negatives: same source, never a positive, below the margin, within the depth, deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer

import sse_demo
from sse_demo.train.teacher import Entry, Role, TeacherCache
from sse_demo.train.teacher_mining import add_negatives, known_positives, mine_negatives
from sse_demo.train.trainer import Stage, train

pytest.importorskip("datasets", reason="training needs the `datasets` package (pip install datasets==5.2.0)")

DIM = 16


def unit(cosine: float, axis: int) -> np.ndarray:
    """A unit vector at ``cosine`` to axis 0, the rest along its own ``axis``."""
    row = np.zeros(DIM, np.float32)
    row[0], row[axis] = cosine, np.sqrt(1 - cosine**2)
    return row


def handmade_cache() -> TeacherCache:
    """Anchor ``q1`` (axis 0) and passages at known cosines to it, in two sources."""
    rows = [
        (Entry("q1", Role.QUERY, "a", "en"), unit(1.0, 1)),
        (Entry("p1", Role.PASSAGE, "a", "en"), unit(0.90, 2)),  # q1's positive
        (Entry("near", Role.PASSAGE, "a", "en"), unit(0.89, 3)),  # within the margin: maybe relevant
        (Entry("other positive", Role.PASSAGE, "a", "en"), unit(0.95, 4)),  # q1's positive in another pair
        (Entry("q1", Role.PASSAGE, "a", "en"), unit(0.99, 5)),  # the anchor's own text as a passage
        (Entry("hard", Role.PASSAGE, "a", "en"), unit(0.85, 6)),
        (Entry("hard twin", Role.PASSAGE, "a", "en"), unit(0.85, 7)),  # a tie: the earlier entry wins
        (Entry("easy", Role.PASSAGE, "a", "en"), unit(0.50, 8)),
        (Entry("close elsewhere", Role.PASSAGE, "b", "en"), unit(0.87, 9)),  # another source, else it would win
    ]
    return TeacherCache([e for e, _ in rows], np.stack([v for _, v in rows]).astype(np.float16), "toy")


POSITIVES = known_positives([("q1", "p1", "a"), ("q1", "other positive", "a"), ("q1", "uncached", "a")])


def test_the_negative_is_the_best_passage_below_the_margin_that_is_no_positive() -> None:
    mined = mine_negatives(handmade_cache(), POSITIVES, margin=0.02, depth=10)
    assert set(mined) == {("q1", "p1"), ("q1", "other positive")}  # "uncached" has no teacher score
    found = mined["q1", "p1"]
    assert (found.negative, found.source) == ("hard", "a")
    assert found.positive_score == pytest.approx(0.90, abs=2e-3)
    assert found.negative_score == pytest.approx(0.85, abs=2e-3)
    assert mined["q1", "other positive"].negative == "near"  # 0.89 is 0.06 below that pair's 0.95


def test_margin_and_depth_bound_the_choice() -> None:
    assert mine_negatives(handmade_cache(), POSITIVES, margin=0.1, depth=10)["q1", "p1"].negative == "easy"
    assert ("q1", "p1") not in mine_negatives(handmade_cache(), POSITIVES, margin=0.1, depth=6)
    assert mine_negatives(handmade_cache(), POSITIVES, margin=0.02, depth=3) == {}  # top 3: q1, other positive, p1
    with pytest.raises(ValueError, match="margin must be at least 0"):
        mine_negatives(handmade_cache(), POSITIVES, margin=-0.1)


def random_cache(seed: int = 0) -> tuple[TeacherCache, dict[str, set[str]]]:
    """Three sources of 40 pairs each, some anchors with two positives; random unit teacher vectors, each pair's
    passage near its anchor."""
    rng = np.random.default_rng(seed)
    pairs = [(f"{s} q{i}", f"{s} p{i}", s) for s in "xyz" for i in range(40)]
    pairs += [(f"{s} q{i}", f"{s} p{i + 1}", s) for s in "xyz" for i in range(0, 40, 5)]
    entries = [Entry(text, Role.QUERY, s, "en") for text, _, s in pairs[:120]]
    entries += [Entry(text, Role.PASSAGE, s, "en") for _, text, s in pairs[:120]]
    anchors = rng.standard_normal((120, DIM))
    vectors = np.concatenate([anchors, anchors + 0.8 * rng.standard_normal((120, DIM))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return TeacherCache(entries, vectors.astype(np.float16), "toy"), known_positives(pairs)


def test_mined_negatives_on_random_vectors_keep_every_rule() -> None:
    cache, positives = random_cache()
    margin, depth = 0.05, 8
    mined = mine_negatives(cache, positives, margin=margin, depth=depth, chunk=7)
    assert len(mined) > 60
    source_of = {(e.role, e.text): e.source for e in cache.entries}
    vector = {(e.role, e.text): v.astype(np.float32) for e, v in zip(cache.entries, cache.vectors, strict=True)}
    for (anchor, positive), found in mined.items():
        assert source_of[Role.QUERY, anchor] == source_of[Role.PASSAGE, found.negative] == found.source
        assert found.negative not in positives[anchor] and found.negative != anchor
        assert found.negative_score < found.positive_score - margin
        assert found.positive_score == pytest.approx(float(vector[Role.QUERY, anchor] @ vector[Role.PASSAGE, positive]))
        scores = [
            float(vector[Role.QUERY, anchor] @ vector[Role.PASSAGE, e.text])
            for e in cache.entries
            if e.role is Role.PASSAGE and e.source == found.source
        ]
        assert sum(score > found.negative_score for score in scores) < depth
    assert mine_negatives(cache, positives, margin=margin, depth=depth) == mined  # the chunk size changes nothing
    assert mine_negatives(random_cache(1)[0], positives, margin=margin, depth=depth) != mined


def test_add_negatives_moves_each_mined_pair_once_and_only_within_its_source() -> None:
    from datasets import Dataset, DatasetDict

    mined = mine_negatives(handmade_cache(), POSITIVES, margin=0.02, depth=10)
    groups = DatasetDict(
        {
            "a": Dataset.from_dict({"anchor": ["q1", "q2"], "positive": ["p1", "p2"]}),
            "b": Dataset.from_dict({"anchor": ["q1"], "positive": ["other positive"]}),  # mined in source a
        }
    )
    result = add_negatives(groups, mined)
    assert {name: result[name].to_list() for name in result} == {
        "a": [{"anchor": "q2", "positive": "p2"}],
        "a+mined": [{"anchor": "q1", "positive": "p1", "negative": "hard"}],
        "b": [{"anchor": "q1", "positive": "other positive"}],
    }
    mixed = add_negatives(Dataset.from_dict({"anchor": ["q1", "q2"], "positive": ["other positive", "p2"]}), mined)
    assert {name: len(mixed[name]) for name in mixed} == {"all": 1, "all+mined": 1}
    assert mixed["all+mined"]["negative"] == ["near"]


def test_mnrl_batches_carry_the_mined_negative_column(tokenizer: Tokenizer, tmp_path: Path, monkeypatch) -> None:
    """Batches of the ``+mined`` dataset give the loss three columns, the others two; no batch mixes them."""
    pytest.importorskip("accelerate", reason="ST's trainer needs `accelerate` (pip install accelerate==1.15.0)")
    from datasets import Dataset, DatasetDict

    from sse_demo.train import trainer

    columns: list[int] = []
    real_loss = trainer.matryoshka_loss

    class Recording(torch.nn.Module):
        def __init__(self, model, dims, **rungs) -> None:
            super().__init__()
            self.inner = real_loss(model, dims, **rungs)

        def forward(self, sentence_features, labels):
            columns.append(len(sentence_features))
            return self.inner(sentence_features, labels)

    monkeypatch.setattr(trainer, "matryoshka_loss", Recording)
    pairs = {"anchor": [f"tokyo {i}" for i in range(8)], "positive": [f"capital {i}" for i in range(8)]}
    with_negatives = {**pairs, "negative": [f"sushi {i}" for i in range(8)]}
    dataset = DatasetDict({"x": Dataset.from_dict(pairs), "x+mined": Dataset.from_dict(with_negatives)})
    table = np.random.default_rng(0).standard_normal((tokenizer.get_vocab_size(), 64)).astype(np.float32)
    model = sse_demo.SSEModel.from_arrays(tokenizer, table, device="cpu")
    train(model, dataset, tmp_path, stages=[Stage(batch_size=4, learning_rate=0.01, warmup_ratio=0.0)], dims=(64,))
    assert sorted(columns) == [2, 2, 3, 3]
