"""What every view's formatting shares: pandas tables, byte sizes, text previews, visitor text made safe to show
in Markdown, HTML and plotly labels, and the (deferred) plotly import."""

from __future__ import annotations

import html
import re

TEXT_PREVIEW = 160  # characters of a passage shown in a results table
# Characters that can start Markdown or HTML markup (emphasis, code, links, images, tags, entities, tables,
# strike-through, LaTeX) or an autolink (``http:``, ``a@b.c``): CommonMark shows each literally after a backslash.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~:@$&])")
_WWW = re.compile(r"(?i)(www)\.")


def markdown_text(text: object) -> str:
    """``text`` from a visitor (a passage, an id, a file name, an error message quoting them) shown literally in
    Markdown: no tags, links, images or emphasis, and on one line (line breaks become spaces)."""
    one_line = " ".join(str(text).splitlines())
    return _WWW.sub(r"\1\\.", _MARKDOWN_SPECIAL.sub(r"\\\1", one_line))


def html_text(text: object) -> str:
    """``text`` from a visitor shown literally where HTML renders (a toast, a plotly label): tags become text."""
    return html.escape(str(text), quote=False)


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
