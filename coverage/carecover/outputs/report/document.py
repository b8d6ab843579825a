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


@dataclass
class Section:
    """A section of the report: a heading and its blocks.

    Attributes
    ----------
    title
        Heading.
    blocks
        Tables and text: a ``str`` is a paragraph, ``"img:<file>"`` an image.
    """

    title: str
    blocks: list[Table | str] = field(default_factory=list)


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
