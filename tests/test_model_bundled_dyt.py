"""The bundled model's DyT works in its working range (issue 14): short texts saturate some dimensions, long
passages hardly any, and the app's DyT tab shows saturated dimensions for its own example texts."""

from __future__ import annotations

from pathlib import Path

import pytest

import sse_demo
from sse_demo.app.corpus import DEMO_QUERIES, load_demo_corpus
from sse_demo.app.saturation import SATURATION_EXAMPLE, DyTParams, saturation
from sse_demo.evaluation.beir import load_beir
from sse_demo.evaluation.report import beir_folders


@pytest.fixture(scope="module", params=["fp32", "q4"])
def bundled(request: pytest.FixtureRequest) -> sse_demo.SSEModel:
    return sse_demo.load_model(quantized=request.param == "q4")


@pytest.mark.parametrize("text", [SATURATION_EXAMPLE, *DEMO_QUERIES])
def test_the_app_examples_saturate_some_dimensions(bundled: sse_demo.SSEModel, text: str) -> None:
    assert saturation(bundled.pooled([text])[0], DyTParams.of(bundled)).count >= 1


def test_long_passages_saturate_less_than_short_queries(bundled: sse_demo.SSEModel) -> None:
    params = DyTParams.of(bundled)
    queries = saturation(bundled.pooled([SATURATION_EXAMPLE, *DEMO_QUERIES]), params).fraction
    passages = saturation(bundled.pooled(load_demo_corpus().texts), params).fraction
    assert passages < queries / 2


def test_at_least_one_percent_of_eval_query_entries_saturate(bundled: sse_demo.SSEModel, eval_dir: Path) -> None:
    """The issue's measure: the first 300 queries of every set, share of (query, dim) entries with |u| > 2."""
    queries = [q for folder in beir_folders([eval_dir]) for q in list(load_beir(folder).queries.values())[:300]]
    assert len(queries) >= 1000
    assert saturation(bundled.pooled(queries), DyTParams.of(bundled)).fraction >= 0.01
