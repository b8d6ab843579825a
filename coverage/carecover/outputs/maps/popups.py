"""Popup and tooltip text: escaping, number formatting and key/value tables.

folium puts popup and tooltip HTML inside JavaScript template literals (`` `…` ``): HTML
escaping alone would let a backtick end the literal (blanking the map) and ``${…}`` run as
script. :func:`esc` therefore also turns `` ` ``, ``$`` and ``\`` into HTML character
references, which the browser shows as the same characters once the HTML is parsed.
"""

from __future__ import annotations

import html
import math
from typing import Any


_JS_SAFE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def esc(text: Any) -> str:
    """Text from an input, safe inside HTML and inside a JavaScript template literal.

    Parameters
    ----------
    text
        Any value (shown as ``str(text)``).

    Returns
    -------
    str
        HTML-escaped text with `` ` ``, ``$`` and ``\`` as character references.
    """
    return html.escape(str(text)).translate(_JS_SAFE)


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
        return esc(x)


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
        f"<tr><td style='color:#555;padding-right:6px'>{esc(k)}</td><td>{v}</td></tr>"
        for k, v in rows) + "</table>"
