r"""Popup and tooltip text: escaping, number formatting and key/value tables.

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
    r"""Text from an input, safe inside HTML and inside a JavaScript template literal.

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


def bdi(text: Any) -> str:
    """Text from an input, escaped (:func:`esc`) and isolated in ``<bdi>``: a bidi override in a
    name (``站\u202egpj.exe``) stays inside the name and cannot reorder the text around it.

    Parameters
    ----------
    text
        Any value (shown as ``str(text)``).

    Returns
    -------
    str
        ``<bdi>…</bdi>`` HTML.
    """
    return f"<bdi>{esc(text)}</bdi>"


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
    """A two-column HTML table of labels (escaped here) and values (HTML, escaped by the caller):
    a popup as the browser builds it from a layer's data (``ccTable`` in
    :mod:`carecover.outputs.maps.jsdata`; a browser test compares the two).

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


def coord_row(lon: float, lat: float, basemap: str, lang: str) -> tuple[str, str]:
    """The coordinates row of a popup, in the coordinates of the map it is shown on: GCJ-02
    on the Gaode map (so that pasting them into Amap lands on the point), else WGS-84.

    Parameters
    ----------
    lon, lat
        The point in the basemap's coordinates (as drawn).
    basemap
        ``"osm"``, ``"light"`` or ``"gaode"``.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    tuple of str
        ``(label, value HTML)``.
    """
    if basemap == "gaode":
        label = "坐标（GCJ-02，高德） Lon/lat (GCJ-02, Gaode)" if lang == "zh" else "Lon/lat (GCJ-02, Gaode/Amap)"
    else:
        label = "坐标（WGS-84） Lon/lat (WGS-84)" if lang == "zh" else "Lon/lat (WGS-84)"
    return label, f"<span class='cc-coord'>{float(lon):.6f}, {float(lat):.6f}</span>"
