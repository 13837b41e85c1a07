"""Resolving a model name: the bundled checkpoints, a local folder, or a Hugging Face hub id.

Hub repos are read as plain files (safetensors, the 4-bit table, tokenizer.json): no code from the repo runs and
no ``trust_remote_code`` is needed.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from sse_demo.errors import ModelNotFoundError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "assets"
BUNDLED_FP32 = BUNDLED_DIR / "sse-bilingual-small"
BUNDLED_Q4 = BUNDLED_DIR / "sse-bilingual-small-q4"

PUBLISHED_FP32 = "RikkaBotan/stable-static-embedding-fast-retrieval-mrl-bilingual-ja-en"
PUBLISHED_Q4 = "RikkaBotan/quantized-stable-static-embedding-fast-retrieval-mrl-bilingual-ja-en"

HUB_FILES = [
    "model.safetensors",
    "model_rest.safetensors",
    "embedding.q4_k_m.bin",
    "tokenizer.json",
    "modules.json",
]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HUB_PROBE_TIMEOUT_S = 3.0  # how long start-up waits for the hub before choosing offline models


def resolve(name_or_path: str | Path | None, *, quantized: bool = False) -> Path:
    """The local folder to load for a name: ``None`` is the bundled model (its 4-bit twin if ``quantized``)."""
    if name_or_path is None:
        folder = BUNDLED_Q4 if quantized else BUNDLED_FP32
        if not folder.is_dir():
            raise ModelNotFoundError(
                f"the bundled model is not installed at {folder}; reinstall the package (pip install .) "
                f"or pass a local checkpoint folder"
            )
        return folder
    if not str(name_or_path).strip():
        raise ModelNotFoundError("the model name is empty: pass a checkpoint folder, a hub id, or nothing (bundled)")
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    name = str(name_or_path)
    if not _HUB_ID.match(name):
        raise ModelNotFoundError(
            f"{name!r} is neither an existing folder nor a hub id like 'owner/name'. Pass a checkpoint folder, "
            f"or nothing for the bundled model"
        )
    return download(name)


def download(repo_id: str, patterns: list[str] | None = None, *, offline_hint: str | None = None) -> Path:
    """Fetch a hub repo's files matching ``patterns`` (default: a checkpoint's, ``HUB_FILES``), or reuse the local
    cache, and return the snapshot folder; any failure is a ``ModelNotFoundError`` that says what to use offline."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, allow_patterns=HUB_FILES if patterns is None else patterns))
    except Exception as error:  # offline, unknown repo, auth: all end the same way for the user
        hint = offline_hint or (
            f"Offline alternatives: load_model() for the bundled model ({BUNDLED_FP32.name}), "
            "load_model(quantized=True) for its 4-bit twin, or load_model('path/to/folder') for a checkpoint folder "
            "you downloaded"
        )
        raise ModelNotFoundError(
            f"could not fetch {repo_id!r} from the Hugging Face hub ({type(error).__name__}: {error}). "
            f"The hub may be unreachable from here. {hint}"
        ) from error


def hub_unreachable(repo_id: str, *, timeout_s: float = HUB_PROBE_TIMEOUT_S) -> str:
    """Why the hub cannot serve ``repo_id`` right now, or ``""`` when it answers for it.

    ``HF_HUB_OFFLINE`` skips the request. The request runs in a daemon thread joined for ``timeout_s``, so even a
    stalled DNS lookup (which a socket timeout does not bound) costs start-up at most that long.
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    url = f"{constants.ENDPOINT}/api/models/{repo_id}"
    answer: list[str] = []

    def probe() -> None:
        import httpx2  # huggingface_hub's HTTP client
        from huggingface_hub import get_session

        try:
            status = get_session().get(url, timeout=timeout_s).status_code
        except httpx2.TimeoutException:  # the same answer as the join's, whichever comes first
            answer.append(f"the Hugging Face hub did not answer within {timeout_s:g} s")
            return
        except Exception as error:  # no network, refused: all mean "use what is here"
            answer.append(f"the Hugging Face hub did not answer ({type(error).__name__})")
            return
        answer.append("" if status == 200 else f"the Hugging Face hub answered HTTP {status} for {repo_id}")

    thread = threading.Thread(target=probe, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return answer[0] if answer else f"the Hugging Face hub did not answer within {timeout_s:g} s"
