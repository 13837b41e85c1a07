"""Retrieval evaluation: BEIR folders, ST-identical metrics, BM25 baseline, NanoBEIR through sentence-transformers."""

from sse_demo.evaluation.beir import BeirDataset, BeirFormatError, load_beir
from sse_demo.evaluation.bm25 import bm25_evaluate
from sse_demo.evaluation.evaluate import evaluate_beir
from sse_demo.evaluation.nanobeir import HubUnavailableError, nanobeir_evaluate

__all__ = [
    "BeirDataset",
    "BeirFormatError",
    "HubUnavailableError",
    "bm25_evaluate",
    "evaluate_beir",
    "load_beir",
    "nanobeir_evaluate",
]
