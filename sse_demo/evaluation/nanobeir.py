"""NanoBEIR (English and Japanese) through sentence-transformers' NanoBEIREvaluator; needs the Hugging Face hub
(or a local datasets cache of it), unlike the offline BEIR-folder evaluator."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Any


class NanoBEIRLanguage(StrEnum):
    """NanoBEIR collections the published SSE models report."""

    EN = "en"
    JA = "ja"


DATASET_IDS = {
    NanoBEIRLanguage.EN: "sentence-transformers/NanoBEIR-en",
    NanoBEIRLanguage.JA: "LiquidAI/NanoBEIR-ja",  # the 13 NanoBEIR sets translated, in the layout ST expects
}


class HubUnavailableError(ConnectionError):
    """The NanoBEIR datasets cannot be fetched from the Hugging Face hub and are not in the local cache.

    A ``ConnectionError`` (an ``OSError``), so callers that report I/O failures report this one too.
    """


def _hub_unavailable(dataset_id: str, reason: str) -> HubUnavailableError:
    return HubUnavailableError(
        f"NanoBEIR ({dataset_id}) needs the Hugging Face hub, which is unreachable ({reason}). "
        "Evaluate offline on a local BEIR folder instead: `python -m sse_demo eval --beir DIR`."
    )


def _hub_reachable(timeout: float = 5.0) -> bool:
    """A quick probe: datasets itself retries for about half a minute per file before giving up."""
    import httpx
    from huggingface_hub import constants

    try:
        httpx.head(constants.ENDPOINT, timeout=timeout)
    except httpx.HTTPError:
        return False
    return True


def nanobeir_evaluate(
    model: Any,
    language: NanoBEIRLanguage | str = NanoBEIRLanguage.EN,
    *,
    dim: int | None = None,
    dataset_names: list[str] | None = None,
    batch_size: int = 1024,
) -> dict[str, dict[str, float]]:
    """Metrics per NanoBEIR set plus their ``"mean"``: ``{"NanoNFCorpus": {"ndcg@10": ...}, ..., "mean": {...}}``.

    ``model`` is a SentenceTransformer or an SSE model (converted with ``to_sentence_transformer``).
    With ``HF_HUB_OFFLINE=1`` only a locally cached copy is used.
    """
    from huggingface_hub import is_offline_mode
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import NanoBEIREvaluator

    dataset_id = DATASET_IDS[NanoBEIRLanguage(language)]
    offline = is_offline_mode() or os.environ.get("HF_DATASETS_OFFLINE") == "1"
    if not offline and not _hub_reachable():
        raise _hub_unavailable(dataset_id, "no connection")
    try:
        evaluator = NanoBEIREvaluator(
            dataset_names=dataset_names,
            dataset_id=dataset_id,
            precision_recall_at_k=[10, 100],
            batch_size=batch_size,
            truncate_dim=dim,
            write_csv=False,
        )
    except ValueError as e:
        if isinstance(e.__cause__, OSError):  # datasets raises ConnectionError when offline
            raise _hub_unavailable(
                dataset_id, "offline mode and no cached copy" if offline else str(e.__cause__)
            ) from e
        raise
    if not isinstance(model, SentenceTransformer):
        from sse_demo.model.st import to_sentence_transformer

        model = to_sentence_transformer(model)
    results = evaluator(model)

    def metrics_of(name: str) -> dict[str, float]:
        head = f"{name}_{model.similarity_fn_name}_"  # ST's keys: "NanoNFCorpus_256_cosine_ndcg@10"
        return {key.removeprefix(head): float(value) for key, value in results.items() if key.startswith(head)}

    per_set = {sub.name.removesuffix(f"_{dim}"): metrics_of(sub.name) for sub in evaluator.evaluators}
    return {**per_set, "mean": metrics_of(evaluator.name)}
