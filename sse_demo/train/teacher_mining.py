"""Hard negatives mined by the teacher from its cache, for the contrastive stages (MNRL's third column).

For each cached anchor (an entry of role query) and each of its pairs whose positive is cached too, the teacher
ranks the cached passages of the anchor's source (exact search: one matrix product per source, in chunks). The
negative is the best-ranked passage among the teacher's top ``depth`` that is not a known positive of the anchor
(any pair of ``pairs.jsonl``), not the anchor's own text, and scores at least ``margin`` below the pair's positive:
the margin filters false negatives (texts the teacher rates as close as the positive are often relevant too, e.g.
"sadness; sorrow; grief" for 悲観 / "pessimism"), the depth keeps only passages the teacher rates highly, so where the
teacher ranks the positive low (KANJIDIC, chatterbot) most anchors get no negative rather than a random one.
The result is deterministic: ties go to the earlier cache entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sse_demo.search.exact import top_k
from sse_demo.train.teacher import Role, TeacherCache

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

DEFAULT_MARGIN = 0.02
"""Cosine points below the positive; e5's cosines are compressed (pairs ~0.83-0.90, unrelated texts ~0.80)."""

DEFAULT_DEPTH = 20
"""How far down the teacher's ranking a negative may come from."""

MINED_SUFFIX = "+mined"
"""Name suffix of the DatasetDict entries whose rows carry a mined negative."""


@dataclass(frozen=True)
class MinedNegative:
    """A hard negative for the pair ``(anchor, positive)`` of ``source``, with the teacher's scores."""

    anchor: str
    positive: str
    negative: str
    source: str
    positive_score: float
    negative_score: float


def known_positives(pairs: Iterable[tuple[str, str, str]]) -> dict[str, set[str]]:
    """Every positive of every anchor in ``(anchor, positive, source)`` pairs: what a negative must never be."""
    positives: dict[str, set[str]] = {}
    for anchor, positive, _ in pairs:
        positives.setdefault(anchor, set()).add(positive)
    return positives


def mine_negatives(
    cache: TeacherCache,
    positives: Mapping[str, set[str]],
    *,
    margin: float = DEFAULT_MARGIN,
    depth: int = DEFAULT_DEPTH,
    chunk: int = 2048,
) -> dict[tuple[str, str], MinedNegative]:
    """One teacher-mined negative per cached ``(anchor, positive)`` pair that has one, keyed by the pair."""
    if margin < 0 or depth < 1:
        raise ValueError(f"the margin must be at least 0 and the depth at least 1, got {margin} and {depth}")
    passage_row: dict[str, int] = {}
    queries: dict[str, list[int]] = {}
    passages: dict[str, list[int]] = {}
    for index, entry in enumerate(cache.entries):
        if entry.role is Role.PASSAGE:
            passage_row.setdefault(entry.text, index)
        (queries if entry.role is Role.QUERY else passages).setdefault(entry.source, []).append(index)
    vectors = cache.vectors
    mined: dict[tuple[str, str], MinedNegative] = {}
    for source in sorted(queries.keys() & passages.keys()):
        candidates = np.asarray(passages[source])
        texts = [cache.entries[i].text for i in candidates]
        corpus = vectors[candidates].astype(np.float32)
        top = min(depth, len(candidates))
        for start in range(0, len(queries[source]), chunk):
            rows = queries[source][start : start + chunk]
            scores = vectors[rows].astype(np.float32) @ corpus.T
            for row, score, ranked in zip(rows, scores, top_k(scores, top).tolist(), strict=True):
                anchor = cache.entries[row].text
                own = positives.get(anchor, set())
                for positive in sorted(own & passage_row.keys()):
                    positive_score = float(vectors[row].astype(np.float32) @ vectors[passage_row[positive]])
                    negative = next(
                        (
                            j
                            for j in ranked
                            if texts[j] not in own and texts[j] != anchor and score[j] < positive_score - margin
                        ),
                        None,
                    )
                    if negative is not None:
                        mined[anchor, positive] = MinedNegative(
                            anchor, positive, texts[negative], source, positive_score, float(score[negative])
                        )
    return mined


def add_negatives(dataset: Dataset | DatasetDict, mined: Mapping[tuple[str, str], MinedNegative]) -> DatasetDict:
    """Move the pairs that have a mined negative into their own ``NAME+mined`` datasets with a ``negative`` column.

    Every pair stays exactly once; a batch draws from one dataset, so it holds pairs of one source either all with a
    hard negative or all without (MNRL needs the same columns across a batch). In a DatasetDict (one dataset per
    source) a pair takes only a negative mined from its own source; a single Dataset becomes ``all``/``all+mined``.
    """
    from datasets import Dataset, DatasetDict

    groups = dataset if isinstance(dataset, DatasetDict) else DatasetDict({"all": dataset})
    by_source = isinstance(dataset, DatasetDict)
    result: dict[str, Dataset] = {}
    for name, group in groups.items():
        plain: dict[str, list[str]] = {"anchor": [], "positive": []}
        hard: dict[str, list[str]] = {"anchor": [], "positive": [], "negative": []}
        for anchor, positive in zip(group["anchor"], group["positive"], strict=True):
            found = mined.get((anchor, positive))
            if found is not None and (found.source == name or not by_source):
                hard["negative"].append(found.negative)
                target = hard
            else:
                target = plain
            target["anchor"].append(anchor)
            target["positive"].append(positive)
        for key, columns in ((name, plain), (name + MINED_SUFFIX, hard)):
            if columns["anchor"]:
                result[key] = Dataset.from_dict(columns)
    return DatasetDict(result)
