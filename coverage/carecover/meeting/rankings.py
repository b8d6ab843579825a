"""``carecover rankings``: the gap and site rankings of a plan in one workbook, Chinese headers.

导出排名：覆盖空白区排名与建议站点排名，每个层级各一张工作表，表头为中文。Sheets are described in
:data:`carecover.meeting.cli.RANKINGS_DESCRIPTION` and ``docs/meetings.md``; the cumulative
coverage after each site comes from :class:`carecover.siting.whatif.Session`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from carecover.errors import InputError
from carecover.meeting.common import command_start, run_main, tier_label
from carecover.siting.prepared import PreparedState
from carecover.siting.whatif import Session

__all__ = ["candidate_index", "gap_sheets", "main", "run", "site_sheets", "write_workbook", "zh"]

#: Headers of the columns this command adds (others come from
#: :func:`carecover.outputs.export.header_zh`).
EXTRA_ZH = {"tier_rank": "本层级排序", "candidate_index": "候选点序号(whatif)", "candidate": "候选点编号",
            "unit": "所属单元", "cum_elderly_share": "累计老年人覆盖率",
            "cum_pop_share": "累计总人口覆盖率", "n_cells": "人口单元数", "rep_cell_id": "代表单元编号",
            "min_cell_id": "最小单元编号", "osm_node": "OSM节点编号", "node": "路网节点序号",
            "objective": "目标值(覆盖老年人口)", "gap": "最优性差距", "time_to_nearest_min": "到最近设施时间(分钟)"}
METHOD_ZH = {"exact": "精确(HiGHS)", "greedy": "贪心"}
#: Decimal places per column (people to 0.1, areas to 1 m², coordinates to 1e-7°).
DIGITS = {"pop": 1, "elderly": 1, "gain_elderly": 1, "gain_pop": 1, "objective": 1, "area_m2": 0,
          "time_to_nearest_s": 1, "lon": 7, "lat": 7}


def zh(col: str, kind: str = "") -> str:
    """Chinese header of a column.

    Parameters
    ----------
    col
        Column name.
    kind
        ``"gaps"`` or ``"sites"`` (the sheet the column is on).
    """
    from carecover.outputs.export import header_zh

    if kind == "gaps" and col == "rank":
        return "总排序"  # gaps.csv ranks the gaps of all tiers together
    return EXTRA_ZH.get(col) or header_zh(col)


def _read(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except Exception as exc:
        raise InputError(f"cannot read: {exc}", file=path) from exc


def gap_sheets(out_dir: Path) -> dict[str, pd.DataFrame]:
    """``{tier: gaps ranked}`` from ``gaps.csv`` (largest uncovered elderly population first)."""
    gaps = _read(out_dir / "gaps.csv")
    if gaps is None or len(gaps) == 0 or "tier" not in gaps:
        return {}
    out = {}
    for tier, g in gaps.groupby("tier", sort=False):
        g = g.sort_values(["rank", "gap_id"], kind="stable").drop(columns=["tier"])
        g.insert(0, "tier_rank", np.arange(1, len(g) + 1))  # "rank" is across all tiers
        if "time_to_nearest_s" in g:
            g.insert(g.columns.get_loc("time_to_nearest_s") + 1, "time_to_nearest_min",
                     (g["time_to_nearest_s"] / 60).round(1))
        out[str(tier)] = g.reset_index(drop=True)
    return out


def candidate_index(st: PreparedState, sites: pd.DataFrame) -> list[int]:
    """Index of each site row among the state's candidates (what ``whatif --add-candidate`` takes).

    Parameters
    ----------
    st
        The tier's prepared state.
    sites
        Rows of ``sites.csv`` (``candidate``, ``node``, ``lon``, ``lat``).

    Returns
    -------
    list of int
        By candidate id, else by network node, else by position; -1 when not found.
    """
    out = []
    by_id = {str(c): k for k, c in enumerate(st.cand_id)} if st.cand_id is not None else {}
    by_node = {int(n): k for k, n in enumerate(st.cand_node) if int(n) >= 0}
    for _, r in sites.iterrows():
        k = by_id.get(str(r.get("candidate", "")), -1)
        if k < 0 and "node" in r and pd.notna(r["node"]):
            k = by_node.get(int(r["node"]), -1)
        if k < 0 and pd.notna(r.get("lon")) and pd.notna(r.get("lat")):
            d = np.hypot(st.cand_lon - float(r["lon"]), st.cand_lat - float(r["lat"]))
            k = int(np.argmin(d)) if len(d) and d.min() < 1e-6 else -1
        out.append(int(k))
    return out


def cumulative_shares(st: PreparedState, indices) -> tuple[list[float], list[float]]:
    """Covered shares after opening each candidate in turn on today's facilities.

    Parameters
    ----------
    st
        The tier's prepared state.
    indices
        Candidate indices in order (an index < 0, not found, adds nothing).

    Returns
    -------
    (elderly, total)
        Shares over the whole study area, rounded to 1e-6, one per index.
    """
    s = Session(st)
    cum_e, cum_p = [], []
    for k in indices:
        if k >= 0 and not s.engine.is_open(st.candidate_row(int(k))):
            s.add_candidate(int(k))
        f = s.figures()
        cum_e.append(round(f["elderly"]["share"], 6))
        cum_p.append(round(f["total"]["share"], 6))
    return cum_e, cum_p


def site_sheets(out_dir: Path, summary: dict) -> dict[str, pd.DataFrame]:
    """``{tier: suggested sites}`` from ``sites.csv`` with candidate index and cumulative shares.

    Parameters
    ----------
    out_dir
        The plan's output folder.
    summary
        Its ``summary.json``.
    """
    from carecover.siting.state import load_state, state_files

    sites = _read(out_dir / "sites.csv")
    if sites is None or len(sites) == 0 or "tier" not in sites:
        return {}
    have = state_files(out_dir)
    out = {}
    for tier, s in sites.groupby("tier", sort=False):
        s = s.sort_values(["method", "rank"], ascending=[True, True], kind="stable").drop(columns=["tier"])
        s = s.reset_index(drop=True)
        if tier in have:
            st = load_state(out_dir, str(tier), summary=summary)
            s.insert(0, "candidate_index", candidate_index(st, s))
            cum_e, cum_p = [], []
            for _, grp in s.groupby("method", sort=False):
                e, p = cumulative_shares(st, grp["candidate_index"])
                cum_e += e
                cum_p += p
            s["cum_elderly_share"] = cum_e
            s["cum_pop_share"] = cum_p
        if "method" in s:
            s["method"] = s["method"].map(lambda m: f"{METHOD_ZH.get(m, m)} {m}")
        out[str(tier)] = s
    return out


def _value(v, col: str = ""):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if not np.isfinite(v):
            return None
        return round(v, DIGITS.get(col, 6))
    if v is pd.NA:
        return None
    return v


def _sheet(wb, label: str, kind: str, tier: str, df: pd.DataFrame) -> str:
    """One ranking sheet: a title row, Chinese headers, the rows; returns its name."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    title = f"{label} {tier}"[:31]
    ws = wb.create_sheet(title)
    tz, te = tier_label(tier)
    note = "（到最近设施时间为空 = 超出搜索范围 / empty time = beyond the search limit）" \
        if label == "空白区" else "（精确解为规划方案 / the exact solution is the plan）"
    ws.append([f"{tz} / {te} — {label}排名 {note}"])
    ws["A1"].font = Font(bold=True)
    ws.append([zh(c, kind) for c in df.columns])
    for c in ws[2]:
        c.font = Font(bold=True)
    for row in df.itertuples(index=False, name=None):
        ws.append([_value(v, c) for v, c in zip(row, df.columns, strict=True)])
    if len(df) == 0:
        ws.append(["无 / none"])
    ws.freeze_panes = "A3"
    for i, c in enumerate(df.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(36, len(zh(c, kind)) * 2 + 2))
    return title


def write_workbook(path: Path, gaps: dict[str, pd.DataFrame], sites: dict[str, pd.DataFrame],
                   summary: dict) -> list[str]:
    """Write the workbook (fixed document dates: equal inputs give equal files).

    Returns
    -------
    list of str
        The sheet names.
    """
    import datetime as dt

    from openpyxl import Workbook

    from carecover.utils import atomic_path

    wb = Workbook()
    wb.remove(wb.active)
    parts = [("空白区", "gaps", t, df) for t, df in gaps.items()] + \
            [("选址", "sites", t, df) for t, df in sites.items()]
    names = [_sheet(wb, label, kind, tier, df) for label, kind, tier, df in parts]
    ws = wb.create_sheet("表头对照 Headers")
    names.append(ws.title)
    ws.append(["表 sheet", "列 column", "中文表头 Chinese header"])
    for label, kind, tier, df in parts:
        for c in df.columns:
            ws.append([f"{label} {tier}"[:31], c, zh(c, kind)])
    if summary.get("sample_data"):
        ws.append([])
        ws.append([str(summary["sample_data"])])
    stamp = dt.datetime(2000, 1, 1)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return names


def run(args: argparse.Namespace) -> int:
    """Run ``rankings`` on parsed arguments (see :func:`carecover.meeting.cli.rankings_arguments`).

    Returns
    -------
    int
        0; input errors raise :class:`~carecover.errors.InputError` (exit status 2).
    """
    from carecover.siting.state import load_summary

    t0 = command_start()
    out_dir = Path(args.out)
    if not (out_dir / "gaps.csv").exists() and not (out_dir / "sites.csv").exists():
        raise InputError("no gaps.csv or sites.csv: run `carecover plan` first / 请先运行 plan",
                         file=out_dir)
    summary = load_summary(out_dir)
    gaps = gap_sheets(out_dir)
    sites = site_sheets(out_dir, summary)
    path = args.xlsx or out_dir / "rankings.xlsx"
    sheets = write_workbook(path, gaps, sites, summary)
    print(f"工作表 / sheets: {', '.join(sheets)}")
    print(f"→ {path}")
    print(f"用时 / elapsed: {time.perf_counter() - t0:.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``scripts/export_rankings.py``: parse ``argv``, run, and map input errors to exit status 2."""
    from carecover.meeting.cli import build_parser

    return run_main(build_parser("rankings"), run, argv)
