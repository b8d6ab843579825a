"""The report's building blocks (sections of paragraphs, tables and images) and how numbers
are written in them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from carecover.outputs.bundle import tier_name, tr


@dataclass
class Table:
    """A table of the report.

    Attributes
    ----------
    columns
        Column headers.
    rows
        Cell values (written with ``str``).
    note
        A line under the table ("" for none).
    """

    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass(frozen=True)
class Image:
    """A picture of the report (a chart or the static map): embedded in ``report.html`` as a
    data URI, written beside ``report.md`` as its PNG file.

    Attributes
    ----------
    name
        File name of the PNG beside the report (e.g. ``chart_travel_time_street_centre.png``).
    png
        The PNG's bytes (no date or software metadata: equal inputs, equal bytes).
    caption
        What it shows (alt text and the line under it).
    """

    name: str
    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class Para:
    """A paragraph set apart: ``muted`` for the English twin of a Chinese sentence.

    Attributes
    ----------
    text
        The text.
    muted
        Shown smaller and grey in HTML.
    """

    text: str
    muted: bool = False


@dataclass
class Section:
    """A section of the report: a heading and its blocks.

    Attributes
    ----------
    title
        Heading.
    blocks
        Tables, images and text: a ``str`` is a paragraph, or a sub-heading when it starts
        with ``"### "``.
    key
        Anchor of the section in ``report.html`` (``id``), e.g. ``"summary"``; "" for none.
    """

    title: str
    blocks: list[Table | Image | Para | str] = field(default_factory=list)
    key: str = ""


def pct(v: Any) -> str:
    """A share as a percentage with one decimal ("–" when not a finite number).

    Parameters
    ----------
    v
        Share (0..1).

    Returns
    -------
    str
        E.g. ``"87.5%"``.
    """
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return f"{100 * f:.1f}%" if math.isfinite(f) else "–"


def num(v: Any, nd: int = 0) -> str:
    """A number with thousands separators ("–" when infinite; other values as text).

    Parameters
    ----------
    v
        The value.
    nd
        Decimals.

    Returns
    -------
    str
        E.g. ``"12,345"``.
    """
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "" if v is None else str(v)
    return f"{f:,.{nd}f}" if math.isfinite(f) else "–"


def cell(v: Any) -> str:
    """Any value as table text (lists joined, dicts as JSON, floats rounded).

    Parameters
    ----------
    v
        The value.

    Returns
    -------
    str
        Text.
    """
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    if isinstance(v, float):
        return num(v, 4) if abs(v) < 10 else num(v, 1)
    return "" if v is None else str(v)


def generic(obj: Any, lang: str) -> Table | str:
    """A table of a list of dicts (one row each) or of a dict (item, value).

    Parameters
    ----------
    obj
        The data (for blocks whose structure may vary).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    Table or str
        The table, or "(no data)".
    """
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        cols = list(dict.fromkeys(k for r in obj for k in r))
        return Table(cols, [[cell(r.get(c)) for c in cols] for r in obj])
    if isinstance(obj, dict) and obj:
        return Table([tr("项目", "Item", lang), tr("值", "Value", lang)],
                     [[str(k), cell(v)] for k, v in obj.items()])
    return tr("（无数据）", "(no data)", lang)


def tiers_label(t: Any, lang: str) -> str:
    """The tier (or tiers, joined with " + ") of a figure.

    Parameters
    ----------
    t
        A tier key or a list of them.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Display names.
    """
    keys = t if isinstance(t, (list, tuple)) else [t]
    return " + ".join(tier_name(k, lang, both=False) for k in keys)


def threshold_text(threshold_min: float, mode: str | None, speed_mps: float | None, lang: str) -> str:
    """A tier's threshold as the report states it, e.g. "步行 5 分钟（1.0 m/s）" or
    "5 min walk at 1.0 m/s"; drive tiers without a speed ("驾车 30 分钟").

    Parameters
    ----------
    threshold_min
        The tier's threshold.
    mode
        ``"walk"``, ``"drive"`` or ``None`` (not known).
    speed_mps
        The walking speed (walk tiers only).
    lang
        ``"zh"`` (Chinese only, for labels inside a Chinese sentence) or ``"en"``.

    Returns
    -------
    str
    """
    minutes = f"{float(threshold_min):g}"
    if lang == "zh":
        how = {"walk": "步行 ", "drive": "驾车 "}.get(mode or "", "")
        speed = f"（{float(speed_mps):.1f} m/s）" if mode == "walk" and speed_mps else ""
        return f"{how}{minutes} 分钟{speed}"
    how = {"walk": " walk", "drive": " drive"}.get(mode or "", "")
    speed = f" at {float(speed_mps):.1f} m/s" if mode == "walk" and speed_mps else ""
    return f"{minutes} min{how}{speed}"


def points(v: Any) -> str:
    """A change of a share in percentage points with its sign, e.g. ``"+36.6"``.

    Parameters
    ----------
    v
        Change of a share (0..1 scale).

    Returns
    -------
    str
        Signed, one decimal ("–" when not a finite number).
    """
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return f"{100 * f:+.1f}" if math.isfinite(f) else "–"
