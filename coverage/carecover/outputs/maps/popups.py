"""Popup and tooltip text: number formatting and key/value tables."""

from __future__ import annotations

import html
import math
from typing import Any


def fmt(x: Any, digits: int = 0) -> str:
    """A number with thousands separators ("–" for missing or infinite values).

    Parameters
    ----------
    x
        The value (text that is not a number is shown escaped).
    digits
        Decimals.

    Returns
    -------
    str
        HTML-safe text.
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    try:
        return f"{float(x):,.{digits}f}"
    except (TypeError, ValueError):
        return html.escape(str(x))


def kv_table(rows: list[tuple[str, str]]) -> str:
    """A two-column HTML table of labels (escaped here) and values (HTML, escaped by the caller).

    Parameters
    ----------
    rows
        ``(label, value HTML)`` pairs.

    Returns
    -------
    str
        HTML.
    """
    return "<table>" + "".join(
        f"<tr><td style='color:#555;padding-right:6px'>{html.escape(k)}</td><td>{v}</td></tr>"
        for k, v in rows) + "</table>"
