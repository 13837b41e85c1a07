"""What every view's formatting shares: pandas tables, byte sizes, text previews and the (deferred) plotly import."""

from __future__ import annotations

TEXT_PREVIEW = 160  # characters of a passage shown in a results table


def frame(rows: list[dict], columns: list[str]):
    """A pandas table with these columns in this order (an empty table keeps its headers)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def human_bytes(n: float) -> str:
    """A byte count in B / KB / MB / GB (powers of 1000)."""
    if n < 1000:
        return f"{n:,.0f} B"
    for unit in ("KB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:,.1f} {unit}"
    return f"{n / 1000:,.1f} GB"


def plotly():
    """``plotly.graph_objects``, imported on first use: it costs a second of start-up."""
    import plotly.graph_objects as go

    return go
