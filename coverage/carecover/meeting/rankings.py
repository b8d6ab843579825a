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
from carecover.filelimits import not_special
from carecover.meeting.common import command_start, refuse_own_inputs, run_main, tier_label
from carecover.meeting.sites import CRS_LABEL, SiteNamer
from carecover.siting.prepared import PreparedState
from carecover.siting.whatif import Session
from carecover.summary_file import SummaryFile

__all__ = ["EXTRA", "candidate_index", "gap_sheets", "main", "run", "site_sheets", "write_workbook", "zh"]

#: Headers (Chinese, English) of the columns this command adds (others come from
#: :mod:`carecover.outputs.columns`).
EXTRA: dict[str, tuple[str, str]] = {
    "tier_rank": ("本层级排序", "Rank in tier"), "candidate_index": ("候选点序号(whatif)", "Candidate index (whatif)"),
    "site": ("站点", "Site"), "street_name": ("所在道路", "Street"),
    "cum_elderly_share": ("累计老年人覆盖率", "Cumulative elderly coverage"),
    "cum_pop_share": ("累计总人口覆盖率", "Cumulative total coverage"),
    "time_to_nearest_min": ("到最近设施时间(分钟)", "Time to nearest (min)"),
}


def zh(col: str, kind: str = "") -> str:
    """Chinese header of a column.

    Parameters
    ----------
    col
        Column name.
    kind
        ``"gaps"`` or ``"sites"`` (the sheet the column is on).
    """
    from carecover.outputs.columns import header

    if col in EXTRA:
        return EXTRA[col][0]
    return header(col, "zh", kind)


def _read(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    not_special(path, "rankings table / 排名表")
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
            _name_sites(s, st)
        out[str(tier)] = s
    return out


def _name_sites(s: pd.DataFrame, st: PreparedState) -> None:
    """Add each site's label (★rank for the plan's sites), the street it stands on and, when the
    register was not in WGS-84, its coordinates in the register's system (in place)."""
    namer = SiteNamer(st)
    labels, streets = [], []
    for k, lon, lat in zip(s["candidate_index"], s["lon"], s["lat"], strict=True):
        if k >= 0:
            labels.append(namer.candidate(int(k)))
            streets.append(namer.street(float(st.cand_lon[k]), float(st.cand_lat[k]), int(st.cand_node[k])))
        else:
            streets.append(namer.street(float(lon), float(lat)))
            labels.append(streets[-1])
    s.insert(1, "site", labels)
    s.insert(2, "street_name", streets)
    if namer.crs != "wgs84":
        from carecover.crs import from_wgs84

        x, y = from_wgs84(s["lon"].to_numpy(float), s["lat"].to_numpy(float), namer.crs)
        at = s.columns.get_loc("lat") + 1
        s.insert(at, f"lon_{namer.crs}", np.round(x, 7))
        s.insert(at + 1, f"lat_{namer.crs}", np.round(y, 7))


def _headers(df: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Headers of this command's columns (and of register-system coordinates) in ``df``."""
    out = {c: EXTRA[c] for c in df.columns if c in EXTRA}
    for c in df.columns:
        if c.startswith(("lon_", "lat_")) and c[4:] in CRS_LABEL:
            lab = CRS_LABEL[c[4:]]
            out[c] = (f"{'经度' if c.startswith('lon') else '纬度'}({lab})",
                      f"{'Longitude' if c.startswith('lon') else 'Latitude'} ({lab})")
    return out


def sheet_name(label: str, tier: str) -> str:
    """A sheet's name: ``空白区 街道级养老服务中心`` (the tier's Chinese name, never its code; "/"
    is not allowed in sheet names)."""
    return f"{label} {tier_label(tier)[0]}".replace("/", "、")[:31]


def _caption(label: str, tier: str) -> str:
    tz, te = tier_label(tier)
    if label == "空白区":
        return (f"{tz} — 空白区排名（到最近设施时间为空 = 超出搜索范围）/ {te} — gaps ranked "
                "(empty time = beyond the search limit)")
    return f"{tz} — 选址排名（★ = 规划方案的站点，精确解）/ {te} — sites ranked (★ = the plan's sites, exact solution)"


def write_workbook(path: Path, gaps: dict[str, pd.DataFrame], sites: dict[str, pd.DataFrame],
                   summary: dict) -> list[str]:
    """Write the workbook (formatted like ``carecover.xlsx``; fixed dates: equal inputs give
    equal files).

    Returns
    -------
    list of str
        The sheet names.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from carecover.outputs.workbook import add_table_sheet, save_workbook

    wb = Workbook()
    wb.remove(wb.active)
    parts = [("空白区", "gaps", t, df) for t, df in gaps.items()] + \
            [("选址", "sites", t, df) for t, df in sites.items()]
    names = []
    for label, kind, tier, df in parts:
        ws = add_table_sheet(wb, sheet_name(label, tier), kind, df, "zh", caption=_caption(label, tier),
                             headers=_headers(df))
        names.append(ws.title)
    ws = wb.create_sheet("表头对照 Headers")
    names.append(ws.title)
    ws.append(["表 sheet", "列 column", "中文表头 Chinese header", "英文表头 English header"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for label, kind, tier, df in parts:
        heads = _headers(df)
        for c in df.columns:
            from carecover.outputs.columns import header

            zh_en = heads.get(c) or (header(c, "zh", kind), header(c, "en", kind))
            ws.append([sheet_name(label, tier), c, *zh_en])
    for col, w in zip("ABCD", (22, 22, 30, 30), strict=True):
        ws.column_dimensions[col].width = w
    note = SummaryFile.of(summary).sample_data
    if note:
        ws.append([])
        ws.append([note])
    save_workbook(wb, path)
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
        raise InputError("没有 gaps.csv 或 sites.csv，请先运行 plan / no gaps.csv or sites.csv: run "
                         "`carecover plan` first", file=out_dir)
    summary = load_summary(out_dir)
    gaps = gap_sheets(out_dir)
    sites = site_sheets(out_dir, summary)
    path = args.xlsx or out_dir / "rankings.xlsx"
    refuse_own_inputs(path, out_dir)
    sheets = write_workbook(path, gaps, sites, summary)
    print(f"工作表 / sheets: {', '.join(sheets)}")
    print(f"→ {path}")
    print(f"用时 / elapsed: {time.perf_counter() - t0:.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``scripts/export_rankings.py``: parse ``argv``, run, and map input errors to exit status 2."""
    from carecover.meeting.cli import build_parser

    return run_main(build_parser("rankings"), run, argv)
