"""HTML and Markdown report of a :class:`~carecover.outputs.bundle.PlanBundle`, with PNG charts.

Both formats are made from the same list of sections (heading + tables + images), Chinese first
when ``lang == "zh"``. Charts use matplotlib's Agg backend and a CJK font when one is installed
(e.g. Debian ``fonts-noto-cjk``); without one, chart labels are English.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carecover.outputs.bundle import PlanBundle, sites_frame, tier_name, tr
from carecover.utils import atomic_path, atomic_write


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Section:
    title: str
    blocks: list[Table | str] = field(default_factory=list)  # str: paragraph, "img:<file>": image


# ---------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------

def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return f"{100 * f:.1f}%" if math.isfinite(f) else "–"


def _num(v: Any, nd: int = 0) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "" if v is None else str(v)
    return f"{f:,.{nd}f}" if math.isfinite(f) else "–"


def _cell(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    if isinstance(v, float):
        return _num(v, 4) if abs(v) < 10 else _num(v, 1)
    return "" if v is None else str(v)


def _generic(obj: Any, lang: str) -> Table | str:
    """A table for a list of dicts or a dict (for sections whose structure may vary)."""
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        cols = list(dict.fromkeys(k for r in obj for k in r))
        return Table(cols, [[_cell(r.get(c)) for c in cols] for r in obj])
    if isinstance(obj, dict) and obj:
        return Table([tr("项目", "Item", lang), tr("值", "Value", lang)],
                     [[str(k), _cell(v)] for k, v in obj.items()])
    return tr("（无数据）", "(no data)", lang)


# ---------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------

def _tiers_label(t: Any, lang: str) -> str:
    keys = t if isinstance(t, (list, tuple)) else [t]
    return " + ".join(tier_name(k, lang, both=False) for k in keys)


def _figures_section(b: PlanBundle) -> Section:
    lang = b.lang
    # the headline areas here; per county below, every area in coverage.csv
    figs = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict)
            and str(f.get("area", "all")) in ("all", "urban", "rural")]
    cols = [tr("情景", "Scenario", lang), tr("层级", "Tier", lang), tr("类型", "Kind", lang),
            tr("人口口径", "Population", lang), tr("范围", "Area", lang),
            tr("阈值(分钟)", "Threshold (min)", lang), tr("速度(米/秒)", "Speed (m/s)", lang),
            tr("方式", "Mode", lang), tr("覆盖率", "Coverage", lang), tr("覆盖", "Covered", lang),
            tr("总数", "Total", lang)]
    scen = {"current": tr("现状", "current", lang), "planned": tr("规划后", "planned", lang)}
    rows = [[scen.get(f.get("scenario", "current"), f.get("scenario", "")), _tiers_label(f.get("tiers"), lang),
             f.get("kind", ""), f.get("population", "") or "", f.get("area", ""),
             _num(f.get("threshold_min"), 0), _num(f.get("speed_mps"), 1) if f.get("speed_mps") else "–",
             f.get("mode", "") or "", _pct(f.get("value")), _num(f.get("covered")), _num(f.get("total"))]
            for f in figs]
    return Section(tr("覆盖率", "Coverage figures", lang),
                   [tr("空间/人口覆盖率：阈值时间内可沿路网到达设施的人口比例；每个数字均注明速度与阈值。",
                       "Population coverage: share of residents who reach a facility on the street network "
                       "within the threshold; every figure states its speed and threshold.", lang),
                    Table(cols, rows)])


def _county_coverage(b: PlanBundle) -> pd.DataFrame:
    """Elderly coverage per county and tier (before, and after suggested sites where known)."""
    d = b.demand
    out = []
    sites = sites_frame(b.sites)
    for key in b.tiers_present():
        col = f"covered__{key}"
        if col not in d:
            continue
        g = d.groupby(d["county"].fillna("").astype(str), sort=True)
        tot = g["elderly"].sum()
        cov = d["elderly"].where(d[col], 0.0).groupby(d["county"].fillna("").astype(str), sort=True).sum()
        after_col = f"covered_after__{key}"
        if after_col in d:
            after = d["elderly"].where(d[after_col], 0.0).groupby(d["county"].fillna("").astype(str)).sum()
            exact_after = True
        else:
            gain = pd.Series(0.0, index=tot.index)
            if sites is not None and len(sites):
                s = sites[sites["tier"] == key]
                methods = set(s["method"].astype(str)) if "method" in s else set()
                if "exact" in methods:
                    s = s[s["method"] == "exact"]
                gain = s.groupby(s["county"].fillna("").astype(str))["gain_elderly"].sum().reindex(tot.index, fill_value=0.0)
            after = (cov + gain).clip(upper=tot)
            exact_after = False
        for county in tot.index:
            out.append({"county": county, "tier": key, "total": float(tot[county]), "covered": float(cov[county]),
                        "after": float(after[county]), "after_exact": exact_after})
    return pd.DataFrame(out)


def _county_section(b: PlanBundle, cc: pd.DataFrame) -> Section:
    lang = b.lang
    cols = [tr("旗县区", "County", lang), tr("层级", "Tier", lang), tr("老年人口", "Elderly", lang),
            tr("已覆盖", "Covered", lang), tr("覆盖率", "Coverage", lang),
            tr("新增站点后", "After suggested sites", lang)]
    rows = [[r.county or tr("（未知）", "(unknown)", lang), tier_name(r.tier, lang, both=False), _num(r.total),
             _num(r.covered), _pct(r.covered / r.total if r.total else float("nan")),
             _pct(r.after / r.total if r.total else float("nan"))] for r in cc.itertuples()]
    note = ""
    if len(cc) and not cc["after_exact"].all():
        note = tr("“新增站点后”为近似值：站点的新增覆盖计入站点所在旗县区。",
                  "'After' is approximate: a site's gain is counted in the site's county.", lang)
    return Section(tr("分旗县区覆盖率", "Coverage by county", lang), [Table(cols, rows, note)])


def _sensitivity_section(b: PlanBundle) -> Section:
    lang = b.lang
    figs = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict) and f.get("kind") == "population"
            and f.get("speed_mps") and f.get("scenario", "current") == "current" and f.get("area", "all") == "all"]
    speeds = sorted({float(f["speed_mps"]) for f in figs})
    by: dict[tuple, dict[float, Any]] = {}
    for f in figs:
        k = (_tiers_label(f.get("tiers"), lang), f.get("population", ""), f.get("threshold_min"))
        by.setdefault(k, {})[float(f["speed_mps"])] = f.get("value")
    cols = [tr("层级", "Tier", lang), tr("人口口径", "Population", lang), tr("阈值(分钟)", "Threshold (min)", lang)]
    cols += [f"{s:g} m/s" for s in speeds]
    rows = [[k[0], k[1], _num(k[2])] + [_pct(v.get(s)) for s in speeds] for k, v in by.items()]
    blocks: list[Table | str] = [Table(cols, rows, tr(
        "步行时间按速度精确换算（各路段同一步行速度）。",
        "Walking times rescale exactly with speed (one walking speed on every segment).", lang))]
    return Section(tr("步行速度敏感性", "Sensitivity to walking speed", lang), blocks)


def _circle_section(b: PlanBundle) -> Section:
    lang = b.lang
    figs = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict)]
    circles = [f for f in figs if f.get("kind") == "circle"]
    speed = (b.summary.get("parameters") or {}).get("speed_mps", 1.0)
    rows = []
    for c in circles:
        net = next((f for f in figs if f.get("kind") == "population" and f.get("tiers") == c.get("tiers")
                    and f.get("population") == c.get("population") and f.get("speed_mps") == speed
                    and f.get("scenario", "current") == "current" and f.get("area", "all") == "all"), None)
        rows.append([_tiers_label(c.get("tiers"), lang), c.get("mode", ""), _pct(c.get("value")),
                     _pct(net.get("value")) if net else "–",
                     _pct(float(c["value"]) - float(net["value"])) if net and c.get("value") is not None else "–"])
    cols = [tr("层级", "Tier", lang), tr("圆圈", "Circle", lang), tr("直线圆圈覆盖率", "Circle coverage", lang),
            tr("路网覆盖率", "Network coverage", lang), tr("高估", "Overstatement", lang)]
    return Section(tr("直线圆圈与路网比较", "Circle vs network", lang),
                   [Table(cols, rows) if rows else tr("（无数据）", "(no data)", lang)])


def _claims_section(b: PlanBundle) -> Section:
    lang = b.lang
    claims = [c for c in b.summary.get("claims") or [] if isinstance(c, dict)]
    if not claims:
        return Section(tr("声明核验", "Claim checks", lang), [tr("（无声明文件）", "(no claims file)", lang)])
    cols = [tr("编号", "Id", lang), tr("声明", "Claim", lang), tr("目标", "Target", lang),
            tr("计算值", "Computed", lang), tr("结果", "Result", lang), tr("口径", "Parameters", lang),
            tr("说明", "Reason", lang), tr("来源", "Source", lang)]
    rows = []
    for c in claims:
        text = c.get("claim_zh") if lang == "zh" else c.get("claim_en")
        other = c.get("claim_en") if lang == "zh" else c.get("claim_zh")
        params = ", ".join(str(v) for v in (c.get("kind"), c.get("population"), c.get("area"),
                                             f"{_num(c.get('threshold_min'), 0)} min" if c.get("threshold_min") else None,
                                             f"{_num(c.get('speed_mps'), 1)} m/s" if c.get("speed_mps") else None,
                                             c.get("scenario")) if v)
        rows.append([c.get("id", ""), f"{text or ''} / {other or ''}".strip(" /"),
                     f"{c.get('op', '')} {_pct(c.get('target'))}", _pct(c.get("computed")),
                     c.get("result", ""), params, c.get("reason") or "", c.get("source") or ""])
    return Section(tr("声明核验", "Claim checks", lang), [Table(cols, rows)])


def _gaps_section(b: PlanBundle, top: int = 30) -> Section:
    lang = b.lang
    if b.gaps is None or not len(b.gaps):
        return Section(tr("未覆盖区域", "Uncovered gaps", lang), [tr("（无）", "(none)", lang)])
    g = b.gaps.copy()
    if "rank" not in g:
        g = g.sort_values(["elderly", "pop", "gap_id"], ascending=[False, False, True], kind="stable")
        g["rank"] = np.arange(1, len(g) + 1)
    g = g.sort_values("rank")
    cols = [tr("排序", "Rank", lang), tr("层级", "Tier", lang), tr("编号", "ID", lang),
            tr("老年人口", "Elderly", lang), tr("总人口", "Population", lang), tr("面积(公顷)", "Area (ha)", lang),
            tr("旗县区", "County", lang), tr("到最近设施(分钟)", "To nearest (min)", lang)]
    rows = [[int(r["rank"]), tier_name(r.get("tier"), lang, both=False) if r.get("tier") else "", r["gap_id"],
             _num(r["elderly"]), _num(r["pop"]), _num(r["area_m2"] / 1e4, 1),
             r.get("county", ""), _num(float(r["time_to_nearest_s"]) / 60, 1)] for _, r in g.head(top).iterrows()]
    note = tr(f"前 {min(top, len(g))} 个，共 {len(g)} 个（全部见 gaps.csv）",
              f"top {min(top, len(g))} of {len(g)} (all in gaps.csv)", lang)
    return Section(tr("未覆盖区域排序", "Ranked gaps", lang), [Table(cols, rows, note)])


def _fidelity_section(b: PlanBundle) -> Section:
    lang = b.lang
    fid = b.summary.get("fidelity") or {}
    cols = [tr("层级", "Tier", lang), tr("时段(分钟)", "Band (min)", lang), tr("面积(km²)", "Area (km²)", lang),
            tr("抽样点", "Samples", lang), tr("误含比例", "Falsely included", lang),
            tr("缓冲(米)", "Buffer (m)", lang), tr("方法", "Method", lang)]
    rows = []
    for key, f in fid.items():
        if not isinstance(f, dict):
            continue
        for band in f.get("bands", []):
            rows.append([tier_name(key, lang, both=False), _num(band.get("band_min"), 0),
                         _num(band.get("area_km2"), 2), _num(band.get("samples")),
                         _pct(band.get("false_share")), _num(f.get("buffer_m"), 0), f.get("method", "")])
    text = tr("在等时圈内均匀随机抽样，按与人口点相同的规则（投影到最近道路、接入段按速度计时）计算真实路网时间；"
              "超过时段或无法到达的点计为“误含”。", "Points sampled uniformly inside each isochrone are routed "
              "like population points (projected onto the nearest street, access leg at the street's speed); "
              "those beyond the band, or unreachable, count as falsely included.", lang)
    return Section(tr("等时圈多边形精度", "Polygon fidelity", lang),
                   [text, Table(cols, rows) if rows else tr("（无数据）", "(no data)", lang)])


def _sites_section(b: PlanBundle) -> Section:
    lang = b.lang
    s = sites_frame(b.sites)
    if s is None or not len(s):
        return Section(tr("建议新增站点", "Suggested sites", lang), [tr("（无）", "(none)", lang)])
    s = s.sort_values(["tier", "method", "rank"], kind="stable")
    cols = [tr("层级", "Tier", lang), tr("方法", "Method", lang), tr("序号", "Rank", lang),
            tr("新增老年人口", "Elderly gained", lang), tr("新增总人口", "Population gained", lang),
            tr("经度", "Lon", lang), tr("纬度", "Lat", lang), tr("旗县区", "County", lang), tr("缺口", "Gap", lang)]
    rows = [[tier_name(r["tier"], lang, both=False), r["method"], int(r["rank"]), _num(r["gain_elderly"]),
             _num(r["gain_pop"]), f"{r.geometry.x:.6f}", f"{r.geometry.y:.6f}", r.get("county", ""),
             r.get("gap_id", "")] for _, r in s.iterrows()]
    tot = s.groupby(["tier", "method"], sort=True)[["gain_elderly", "gain_pop"]].sum().reset_index()
    trows = [[tier_name(r.tier, lang, both=False), r.method, _num(r.gain_elderly), _num(r.gain_pop)]
             for r in tot.itertuples()]
    tcols = [tr("层级", "Tier", lang), tr("方法", "Method", lang), tr("合计新增老年人口", "Total elderly gained", lang),
             tr("合计新增总人口", "Total population gained", lang)]
    return Section(tr("建议新增站点（贪心与精确）", "Suggested sites (greedy vs exact)", lang),
                   [Table(tcols, trows), Table(cols, rows)])


def _repro_section(b: PlanBundle) -> Section:
    lang, s = b.lang, b.summary
    blocks: list[Table | str] = []
    inputs = [i for i in s.get("inputs", []) or [] if isinstance(i, dict)]
    blocks.append(Table([tr("输入文件", "Input", lang), "SHA-256", tr("日期", "Date", lang),
                         tr("OSM复制时间戳", "OSM replication timestamp", lang)],
                        [[str(i.get("path", "")), str(i.get("sha256", "")), str(i.get("date", "") or ""),
                          str(i.get("osm_replication_timestamp") or "")] for i in inputs]))
    blocks.append(tr("参数", "Parameters", lang))
    blocks.append(_generic(s.get("parameters") or {}, lang))
    blocks.append(tr("软件版本", "Software", lang))
    blocks.append(_generic(s.get("software") or {}, lang))
    blocks.append(tr("命令", "Command", lang) + f": `{s.get('command', '')}`")
    blocks.append(tr("生成时间", "Generated", lang) + f": {s.get('generated_at', '')}")
    return Section(tr("可复现信息", "Reproducibility", lang), blocks)


# ---------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------

def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei")

    def find() -> str | None:
        for f in font_manager.fontManager.ttflist:
            if any(k in f.name for k in names):
                return f.name
        return None

    found = find()
    if found is None:  # matplotlib's font cache may predate the font's installation
        for path in sorted(font_manager.findSystemFonts()):
            if any(k in Path(path).name for k in ("NotoSansCJK", "wqy", "SourceHan", "simhei")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = find()
    return found


def _charts(b: PlanBundle, cc: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    zh = font is not None and b.lang == "zh"

    def lab(z: str, e: str) -> str:
        return f"{z} {e}" if zh else e

    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "svg.hashsalt": "carecover",
          "axes.unicode_minus": False}
    out: dict[str, Path] = {}
    d = b.demand
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
        for key in b.tiers_present():
            col = f"time_s__{key}"
            if col not in d:
                continue
            t = d[col].to_numpy(float) / 60
            w = d["elderly"].to_numpy(float)
            order = np.argsort(t, kind="stable")
            cum = np.cumsum(w[order]) / max(w.sum(), 1e-12)
            x = t[order]
            finite = np.isfinite(x)
            ax.step(x[finite], cum[finite], where="post", label=tier_name(key, "zh" if zh else "en", both=False))
        thr = (b.summary.get("parameters") or {}).get("threshold_min", 15.0)
        ax.axvline(float(thr), color="#888", ls="--", lw=1)
        ax.set_xlabel(lab("出行时间（分钟）", "Travel time (min)"))
        ax.set_ylabel(lab("老年人口累计比例", "Cumulative share of elderly"))
        ax.set_ylim(0, 1)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        out["travel_time_cdf"] = _save(fig, out_dir / "chart_travel_time_cdf.png")
        plt.close(fig)

        if len(cc):
            keys = list(dict.fromkeys(cc["tier"]))
            fig, axes = plt.subplots(len(keys), 1, figsize=(7, 1.2 + 0.35 * cc["county"].nunique() * len(keys)),
                                     dpi=110, squeeze=False)
            for ax, key in zip(axes[:, 0], keys, strict=True):
                sub = cc[cc["tier"] == key].sort_values("county")
                names = [c or lab("（未知）", "(unknown)") for c in sub["county"]]
                y = np.arange(len(sub))
                tot = sub["total"].replace(0, np.nan)
                ax.barh(y + 0.2, (sub["covered"] / tot).fillna(0), height=0.4, label=lab("现状", "Now"))
                ax.barh(y - 0.2, (sub["after"] / tot).fillna(0), height=0.4, label=lab("新增站点后", "With sites"))
                ax.set_yticks(y, names, fontsize=8)
                ax.set_xlim(0, 1)
                ax.set_title(tier_name(key, "zh" if zh else "en", both=False), fontsize=9)
                ax.grid(axis="x", alpha=0.3)
            axes[0, 0].legend(fontsize=8, loc="lower right")
            axes[-1, 0].set_xlabel(lab("老年人口覆盖率", "Elderly coverage"))
            fig.tight_layout()
            out["county_coverage"] = _save(fig, out_dir / "chart_county_coverage.png")
            plt.close(fig)
    return out


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------

def _md_table(t: Table) -> str:
    def esc(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in t.rows]
    if t.note:
        lines.append(f"\n_{t.note}_")
    return "\n".join(lines)


def _html_table(t: Table) -> str:
    def td(v: Any) -> str:
        s = str(v)
        cls = " class='pass'" if s == "PASS" else " class='fail'" if s == "FAIL" else ""
        return f"<td{cls}>{html.escape(s)}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(td(v) for v in r) + "</tr>" for r in t.rows)
    note = f"<p class='note'>{html.escape(t.note)}</p>" if t.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


_CSS = """body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}th{background:#f3f3f3}
td.pass{background:#dff0d8;font-weight:bold}td.fail{background:#f2dede;font-weight:bold}
.note{color:#666;font-size:12px}img{max-width:100%}code{background:#f5f5f5}"""


def write_report(bundle: PlanBundle, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and the PNG charts into ``out_dir``.

    Returns
    -------
    dict
        ``html``, ``md`` and one entry per chart -> path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lang = bundle.lang
    cc = _county_coverage(bundle)
    charts = _charts(bundle, cc, out_dir)
    fidelity = _fidelity_section(bundle)
    sections = [_figures_section(bundle), _county_section(bundle, cc), _sensitivity_section(bundle),
                _circle_section(bundle), _claims_section(bundle), _gaps_section(bundle), _sites_section(bundle),
                fidelity]
    chart_sec = Section(tr("图表", "Charts", lang), [f"img:{p.name}" for p in charts.values()])
    sections.append(chart_sec)
    sections.append(_repro_section(bundle))

    title = bundle.display_title()
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for sec in sections:
        md += [f"## {sec.title}", ""]
        body.append(f"<h2>{html.escape(sec.title)}</h2>")
        for blk in sec.blocks:
            if isinstance(blk, Table):
                md += [_md_table(blk), ""]
                body.append(_html_table(blk))
            elif blk.startswith("img:"):
                name = blk[4:]
                md += [f"![{name}]({name})", ""]
                body.append(f"<p><img src='{html.escape(name)}' alt='{html.escape(name)}'></p>")
            else:
                md += [blk, ""]
                body.append(f"<p>{html.escape(blk).replace('`', '')}</p>")
    doc = (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
           + "\n".join(body) + "</body></html>\n")
    paths = {"html": out_dir / "report.html", "md": out_dir / "report.md"}
    with atomic_write(paths["html"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write(doc)
    with atomic_write(paths["md"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(md))
    paths.update(charts)
    return paths
