"""Which two models the page compares (fp32 and 4-bit), chosen by a flag or ``SSE_MODEL``, and their sizes.

- nothing asked for: the published pair when the Hugging Face hub answers (a Space), else the bundled pair;
- ``bundled``: the bundled fp32 checkpoint and its bundled 4-bit twin (offline);
- one of the two published RikkaBotan ids: the published fp32 and 4-bit bilingual models;
- any other folder or hub id: that checkpoint, and the same quantised to 4-bit on load.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from sse_demo.app.inputs import Precision

ENV_VAR = "SSE_MODEL"
BUNDLED_NAMES = ("", "bundled", "default", "none")


class ModelSource(StrEnum):
    """Where the models come from."""

    BUNDLED = "bundled"
    LOCAL = "local folder"
    HUB = "hub"


@dataclass(frozen=True)
class ModelRef:
    """Arguments for ``sse_demo.load_model``: a name (``None`` = bundled) and whether to load as 4-bit."""

    name: str | None
    quantized: bool

    @property
    def label(self) -> str:
        name = self.name or "bundled"
        return f"{name} (4-bit)" if self.quantized and not _is_published_q4(self.name) else name

    @property
    def api_id(self) -> str:
        """The stable id the OpenAI-compatible API serves this model under (``sse_demo.api.model_id``)."""
        from sse_demo.api.models import model_id

        return model_id(self.name, quantized=self.quantized)


@dataclass(frozen=True)
class ModelChoice:
    """The fp32 / 4-bit pair the page loads, and a one-line banner saying which and why."""

    source: ModelSource
    fp32: ModelRef
    q4: ModelRef
    banner: str = ""

    def ref(self, precision: Precision) -> ModelRef:
        return self.fp32 if precision is Precision.FP32 else self.q4


def requested_model(flag: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The model name asked for: the ``--model`` flag wins over ``SSE_MODEL``; blank or ``bundled`` is ``None``."""
    environ = os.environ if environ is None else environ
    name = flag if flag is not None else environ.get(ENV_VAR)
    if name is None or name.strip().lower() in BUNDLED_NAMES:
        return None
    return name.strip()


def app_models(
    flag: str | None, environ: dict[str, str] | None = None, *, timeout_s: float | None = None
) -> ModelChoice:
    """What ``app.py`` loads: the model ``--model`` or ``SSE_MODEL`` asks for (``bundled`` included); with neither,
    the published pair when the hub answers for it within ``timeout_s``, else the bundled pair."""
    from sse_demo.model.hub import HUB_PROBE_TIMEOUT_S, PUBLISHED_FP32, hub_unreachable

    environ = os.environ if environ is None else environ
    asked = flag if flag is not None else environ.get(ENV_VAR)
    if asked is not None and asked.strip():
        choice = choose_models(requested_model(flag, environ))
        return replace(choice, banner=f"Model / モデル: `{choice.fp32.label}`, chosen with --model or {ENV_VAR}.")
    why = hub_unreachable(PUBLISHED_FP32, timeout_s=HUB_PROBE_TIMEOUT_S if timeout_s is None else timeout_s)
    if why:
        return replace(
            choose_models(None),
            banner=f"Model / モデル: the bundled `sse-bilingual-small` pair, because {why}; set {ENV_VAR} to choose "
            "another. / Hub に接続できないため、同梱モデルを使っています。",
        )
    return replace(
        choose_models(PUBLISHED_FP32),
        banner=f"Model / モデル: the published SSE pair from the Hugging Face hub (`{PUBLISHED_FP32}`), because the "
        f"hub answered; set {ENV_VAR} to choose another. / Hub の公開モデルを使っています。",
    )


def choose_models(name: str | None) -> ModelChoice:
    """The fp32 / 4-bit pair for a requested model name (see the module docstring)."""
    from sse_demo.model.hub import PUBLISHED_FP32, PUBLISHED_Q4

    if name is None:
        return ModelChoice(ModelSource.BUNDLED, ModelRef(None, False), ModelRef(None, True))
    if name in (PUBLISHED_FP32, PUBLISHED_Q4):
        return ModelChoice(ModelSource.HUB, ModelRef(PUBLISHED_FP32, False), ModelRef(PUBLISHED_Q4, True))
    source = ModelSource.LOCAL if Path(name).expanduser().exists() else ModelSource.HUB
    return ModelChoice(source, ModelRef(name, False), ModelRef(name, True))


def _is_published_q4(name: str | None) -> bool:
    from sse_demo.model.hub import PUBLISHED_Q4

    return name == PUBLISHED_Q4


def checkpoint_bytes(vocab_size: int, dim: int, *, quantized: bool) -> int:
    """Size of the weight files of a checkpoint in the published format (tokenizer.json not counted).

    fp32: ``vocab * dim * 4`` plus three DyT vectors; 4-bit: ``vocab * (dim / 2 + 4)`` (codes and one float32
    scale per row) plus the same three vectors. Safetensors headers (a few hundred bytes) are left out.
    """
    dyt = 3 * dim * 4
    table = vocab_size * (dim // 2 + 4) if quantized else vocab_size * dim * 4
    return table + dyt


def files_bytes(ref: ModelRef) -> int | None:
    """Bytes of the checkpoint folder's files when this model is read from a local folder in its own format.

    ``None`` for hub ids (the cache layout is the hub library's business) and for an fp32 folder quantised on
    load (no 4-bit files exist for it).
    """
    from sse_demo.model.checkpoint import FP32_WEIGHTS, Q4_TABLE
    from sse_demo.model.hub import BUNDLED_FP32, BUNDLED_Q4

    bundled = BUNDLED_Q4 if ref.quantized else BUNDLED_FP32
    folder = bundled if ref.name is None else Path(ref.name).expanduser()
    weights = Q4_TABLE if ref.quantized else FP32_WEIGHTS
    if not (folder / weights).is_file():
        return None
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
