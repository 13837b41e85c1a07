"""MultipleNegativesRankingLoss with its own similarity scale per Matryoshka rung.

sentence-transformers' ``MatryoshkaLoss`` hands every rung's truncated embeddings to one inner loss, so all rungs
share MNRL's scale (20 in the published recipe). A short prefix is a coarser summary whose in-batch cosines are
noisier; a softer softmax there (a lower scale) lifted the 128-dim rung without costing the 512-dim one (measured:
docs/teacher.md, "The 128-dim rung"). ``--matryoshka-scales`` sets the scales.
"""

from __future__ import annotations

from collections.abc import Mapping

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from torch import Tensor

from sse_demo.train.trainer import MNRL_SCALE


class RungScaledMNRL(MultipleNegativesRankingLoss):
    """MNRL whose scale follows the width of the embeddings it is given: ``scales[width]``, else ``default``."""

    def __init__(self, model: SentenceTransformer, scales: Mapping[int, float], default: float = MNRL_SCALE) -> None:
        super().__init__(model, scale=default)
        self.scales, self.default = dict(scales), default

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        self.scale = self.scales.get(embeddings[0].shape[-1], self.default)
        return super().compute_loss_from_embeddings(embeddings, labels)
