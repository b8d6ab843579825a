"""What the workbook shows a person, as opposed to the CSV files: a summary sheet first (the
report's summary table), plain words for the codes, suggested sites by their rank and street
instead of OSM node ids, and no machine-only columns.

:func:`plain_tables` turns the export's tables (raw, as in the CSV files) into the workbook's;
:func:`summary_frame` is the first sheet.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from carecover.vocab import data_text, plain_text, site_labels

__all__ = ["HIDDEN", "plain_tables", "summary_frame"]

#: Columns of the CSV files left out of the workbook (identifiers for programs, not people).
HIDDEN: dict[str, tuple[str, ...]] = {
    "sites": ("candidate", "node"),
    "gaps": ("min_cell_id", "rep_cell_id"),
}
#: Columns whose values are records or rules, written as text.
_DATA_COLUMNS = ("data", "thresholds_min")
_RULE_COLUMNS = ("capacity_rule", "capacity_source", "radius_source")


def _site_labels(sites: pd.DataFrame | None, lang: str) -> dict[tuple[str, str], str]:
    """``(tier, candidate)`` → ``★1 华侨路`` (:func:`carecover.vocab.site_label`) for the plan's
    sites (the exact solution's, else the greedy one's)."""
    if sites is None or not len(sites) or "candidate" not in sites:
        return {}
    out: dict[tuple[str, str], str] = {}
    for tier, sub in sites.groupby("tier", sort=True):
        methods = set(sub["method"].astype(str))
        pick = sub[sub["method"] == ("exact" if "exact" in methods else "greedy")].sort_values("rank")
        labels = pick["site_label"].tolist() if "site_label" in pick else site_labels(pick)
        for cand, label in zip(pick["candidate"].astype(str), labels, strict=True):
            out[(str(tier), cand)] = label
    return out


def plain_tables(tabs: dict[str, pd.DataFrame], lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The export's tables as the workbook shows them.

    Parameters
    ----------
    tabs
        Table name → table, raw (as in the CSV files).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    dict
        The same tables, copied: :data:`HIDDEN` columns dropped, ``after_site__<tier>`` as the
        site's label, records (``data``) and rules as one line of text each.
    """
    labels = _site_labels(tabs.get("sites"), lang)
    out = {}
    for name, df in tabs.items():
        df = df.drop(columns=[c for c in HIDDEN.get(name, ()) if c in df.columns])
        changed: dict[str, Any] = {}
        for col in df.columns:
            if col.startswith("after_site__"):
                tier = col.split("__", 1)[1]
                changed[col] = [labels.get((tier, str(v)), "" if v is None or v != v else str(v))
                                for v in df[col].tolist()]
            elif col in _DATA_COLUMNS:
                changed[col] = [data_text(v, lang) for v in df[col].tolist()]
            elif col in _RULE_COLUMNS:
                changed[col] = [plain_text(v, lang) if isinstance(v, str) else v for v in df[col].tolist()]
        out[name] = df.assign(**changed) if changed else df
    return out


def summary_frame(bundle) -> tuple[pd.DataFrame, dict[str, tuple[str, str]], str] | None:
    """The report's summary table as the workbook's first sheet: the frame, its headers and the
    note under it; ``None`` when the run has no coverage figures.

    Parameters
    ----------
    bundle
        The results (with ``params``).
    """
    from carecover.outputs.report.summary import summary_table, tier_summaries

    params = getattr(bundle, "params", None)
    if params is None:
        return None
    rows = tier_summaries(bundle, params)
    if not rows:
        return None
    table = summary_table(rows, bundle.lang)
    cols = [f"c{i}" for i in range(len(table.columns))]
    frame = pd.DataFrame([[str(v) for v in r] for r in table.rows], columns=cols)
    headers = {c: (h, h) for c, h in zip(cols, table.columns, strict=True)}
    return frame, headers, table.note
