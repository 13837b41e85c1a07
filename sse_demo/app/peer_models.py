"""Which static peers the Peers tab puts beside SSE, chosen by ``--peer`` (repeatable) or ``SSE_PEERS``.

- ``--peer NAME`` flags win; else ``SSE_PEERS`` (comma-separated; empty or ``none`` means no peers);
- else, where the hub can be counted on (a Space), the two 1024-dim peers of SSE's model card;
- else (offline, the default here) none.

A name is anything ``sse_demo.load_peer`` takes: a sentence-transformers ``StaticEmbedding`` or model2vec folder,
or a hub id. Peers are loaded on the tab's first use, not at start-up (a hub download must not delay the page).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

PEERS_ENV = "SSE_PEERS"
SEED_PEERS = ("sentence-transformers/static-retrieval-mrl-en-v1", "hotchpotch/static-embedding-japanese")
NO_PEERS = ("", "none")


def hub_expected(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the hub can be counted on: not ``HF_HUB_OFFLINE``, and it answers within the bounded time of the
    default model's check (the same question: ``sse_demo.model.hub.hub_unreachable`` for the published model)."""
    from sse_demo.model.hub import PUBLISHED_FP32, hub_unreachable

    environ = os.environ if environ is None else environ
    if environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    return not hub_unreachable(PUBLISHED_FP32)


def requested_peers(
    flags: Sequence[str] | None, environ: Mapping[str, str] | None = None, *, online: bool | None = None
) -> tuple[str, ...]:
    """The peer names to compare with (see the module docstring), stripped and without repeats.

    ``online`` defaults to :func:`hub_expected`.
    """
    environ = os.environ if environ is None else environ
    if flags:
        names = list(flags)
    elif PEERS_ENV in environ:
        names = environ[PEERS_ENV].split(",")
    else:
        names = list(SEED_PEERS) if (hub_expected(environ) if online is None else online) else []
    cleaned = (name.strip() for name in names)
    return tuple(dict.fromkeys(name for name in cleaned if name.lower() not in NO_PEERS))
