"""``chatterbot-corpus``: English and Japanese dialogue turns as question -> answer pairs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from sse_demo.train.pair import Pair, Source


def chatterbot_pairs() -> Iterator[Pair]:
    """Question-to-answer pairs from the English and Japanese chatterbot-corpus dialogues."""
    import chatterbot_corpus
    import yaml

    root = Path(chatterbot_corpus.__file__).parent / "data"
    for lang_dir in ("english", "japanese"):
        for path in sorted((root / lang_dir).glob("*.yml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for turns in doc.get("conversations", []):
                texts = [str(t).strip() for t in turns if t is not None and str(t).strip()]
                for question, answer in itertools.pairwise(texts):
                    yield Pair(question, answer, Source.CHATTERBOT)
