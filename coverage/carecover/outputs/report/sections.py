"""The report's sections, one function each: figures, counties, sensitivity, circles vs
network, claims, gaps, sites, fidelity, reproducibility.

Results (figures, claims, gaps, sites, fidelity, inputs) come from the bundle's tables and
summary; parameters (the walking speed a comparison is made at, the parameters table) from the
run's :class:`~carecover.params.RunParams`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from carecover.analysis.claims import format_value
from carecover.outputs.bundle import PlanBundle, ranked_gaps, sites_frame, tier_name, tr
from carecover.outputs.report.document import (
    Section,
    Table,
    generic,
    num,
    pct,
    threshold_text,
    tiers_label,
)
from carecover.outputs.report.plainparams import generated_text, plain_parameters
from carecover.outputs.report.profiles import measured_paragraphs, profile_suffix, siting_paragraphs
from carecover.vocab import site_labels, term

if TYPE_CHECKING:
    from carecover.params import RunParams


def warnings_section(b: PlanBundle) -> Section | None:
    """The run's warnings and findings (a tier with no usable facility, unusual values, inputs
    read only in part), first in the report; ``None`` when there are none.

    Parameters
    ----------
    b
        The results (``summary["warnings"]``).

    Returns
    -------
    Section or None
    """
    lang = b.lang
    found = [w for w in b.summary.get("warnings", []) or [] if isinstance(w, dict)]
    if not found:
        return None
    kinds = {"reduction": tr("发现", "Finding", lang), "warning": tr("警告", "Warning", lang)}
    rows = [[kinds.get(str(w.get("kind")), str(w.get("kind"))),
             " ".join(str(x) for x in (w.get("file"), w.get("field")) if x) or "–", str(w.get("message", ""))]
            for w in found]
    cols = [tr("类型", "Kind", lang), tr("来源", "Where", lang), tr("内容", "What", lang)]
    return Section(tr("⚠ 须知：警告与发现", "⚠ Read first: warnings and findings", lang), [Table(cols, rows)])


def figures_section(b: PlanBundle) -> Section:
    """Headline coverage figures (all, urban and rural areas), each with its speed and threshold.

    Parameters
    ----------
    b
        The results.

    Returns
    -------
    Section
    """
    lang = b.lang
    # the headline areas here; per county below, every area in coverage.csv
    figs = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict)
            and str(f.get("area", "all")) in ("all", "urban", "rural") and f.get("kind") != "access"]
    cols = [tr("情景", "Scenario", lang), tr("层级", "Tier", lang), tr("类型", "Kind", lang),
            tr("人口口径", "Population", lang), tr("范围", "Area", lang),
            tr("阈值(分钟)", "Threshold (min)", lang), tr("速度(米/秒)", "Speed (m/s)", lang),
            tr("方式", "Mode", lang), tr("覆盖率", "Coverage", lang), tr("覆盖", "Covered", lang),
            tr("总数", "Total", lang)]
    scen = {"current": tr("现状", "current", lang), "planned": tr("规划后", "planned", lang)}
    rows = [[scen.get(f.get("scenario", "current"), f.get("scenario", "")),
             tiers_label(f.get("tiers"), lang) + profile_suffix(f, lang),
             term(f.get("kind"), "kind", lang), term(f.get("population"), "population", lang),
             term(f.get("area"), "area", lang),
             num(f.get("threshold_min"), 0), num(f.get("speed_mps"), 1) if f.get("speed_mps") else "–",
             term(f.get("mode"), "mode", lang), pct(f.get("value")), num(f.get("covered")), num(f.get("total"))]
            for f in figs]
    return Section(tr("覆盖率", "Coverage figures", lang),
                   [tr("空间/人口覆盖率：阈值时间内可沿路网到达设施的人口比例；每个数字均注明速度与阈值。",
                       "Population coverage: share of residents who reach a facility on the street network "
                       "within the threshold; every figure states its speed and threshold.", lang),
                    *measured_paragraphs(b), Table(cols, rows)])


def county_coverage(b: PlanBundle) -> pd.DataFrame:
    """Elderly coverage per county and tier (before, and after suggested sites where known).

    Parameters
    ----------
    b
        The results (``demand`` with ``covered__<tier>``, optionally ``covered_after__<tier>``).

    Returns
    -------
    pandas.DataFrame
        ``county``, ``tier``, ``total``, ``covered``, ``after`` (elderly) and ``after_exact``
        (``False`` when "after" adds each site's gain to its own county).
    """
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


def county_section(b: PlanBundle, cc: pd.DataFrame) -> Section:
    """Elderly coverage per county and tier, before and after the suggested sites.

    Parameters
    ----------
    b
        The results.
    cc
        :func:`county_coverage`.

    Returns
    -------
    Section
    """
    lang = b.lang
    cols = [tr("旗县区", "County", lang), tr("层级", "Tier", lang), tr("老年人口", "Elderly", lang),
            tr("已覆盖", "Covered", lang), tr("覆盖率", "Coverage", lang),
            tr("新增站点后", "After suggested sites", lang)]
    rows = [[r.county or tr("（未知）", "(unknown)", lang), tier_name(r.tier, lang, both=False), num(r.total),
             num(r.covered), pct(r.covered / r.total if r.total else float("nan")),
             pct(r.after / r.total if r.total else float("nan"))] for r in cc.itertuples()]
    note = ""
    if len(cc) and not cc["after_exact"].all():
        note = tr("“新增站点后”为近似值：站点的新增覆盖计入站点所在旗县区。",
                  "'After' is approximate: a site's gain is counted in the site's county.", lang)
    return Section(tr("分旗县区覆盖率", "Coverage by county", lang), [Table(cols, rows, note)])


def sensitivity_section(b: PlanBundle) -> Section:
    """Population coverage at every walking speed of the run, side by side.

    Parameters
    ----------
    b
        The results.

    Returns
    -------
    Section
    """
    lang = b.lang
    figs = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict) and f.get("kind") == "population"
            and f.get("speed_mps") and f.get("scenario", "current") == "current" and f.get("area", "all") == "all"]
    speeds = sorted({float(f["speed_mps"]) for f in figs})
    by: dict[tuple, dict[float, Any]] = {}
    for f in figs:
        k = (tiers_label(f.get("tiers"), lang), term(f.get("population", ""), "population", lang), f.get("threshold_min"))
        by.setdefault(k, {})[float(f["speed_mps"])] = f.get("value")
    cols = [tr("层级", "Tier", lang), tr("人口口径", "Population", lang), tr("阈值(分钟)", "Threshold (min)", lang)]
    cols += [f"{s:g} m/s" for s in speeds]
    rows = [[k[0], k[1], num(k[2])] + [pct(v.get(s)) for s in speeds] for k, v in by.items()]
    blocks: list[Table | str] = [Table(cols, rows, tr(
        "步行时间按速度精确换算（各路段同一步行速度）。",
        "Walking times rescale exactly with speed (one walking speed on every segment).", lang))]
    return Section(tr("步行速度敏感性", "Sensitivity to walking speed", lang), blocks)


def circle_section(b: PlanBundle, params: RunParams) -> Section:
    """Straight-line circle coverage against network coverage at the run's walking speed.

    Parameters
    ----------
    b
        The results.
    params
        The run's parameters (its walking speed picks the network figure).

    Returns
    -------
    Section
    """
    lang = b.lang
    figs = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict)]
    circles = [f for f in figs if f.get("kind") == "circle"]
    speed = params.walk_speed_mps  # the network figure each circle is compared with
    rows = []
    for c in circles:
        net = next((f for f in figs if f.get("kind") == "population" and f.get("tiers") == c.get("tiers")
                    and f.get("population") == c.get("population") and f.get("speed_mps") == speed
                    and f.get("scenario", "current") == "current" and f.get("area", "all") == "all"), None)
        radius = c.get("radius_m")
        source = tr("配置", "config", lang) if c.get("radius_source") == "config" else \
            tr("阈值×速度", "threshold × speed", lang)
        rows.append([tiers_label(c.get("tiers"), lang),
                     f"{num(radius)} m ({source})" if radius is not None else str(c.get("mode", "")),
                     f"{float(c.get('threshold_min') or 0):g} min @ {speed:g} m/s",
                     pct(c.get("value")),
                     pct(net.get("value")) if net else "–",
                     pct(float(c["value"]) - float(net["value"])) if net and c.get("value") is not None else "–",
                     # a row per population: without it the elderly and total rows look like repeats
                     tr("老年人口", "older residents", lang) if c.get("population") == "elderly"
                     else tr("全部居民", "all residents", lang)])
    cols = [tr("层级", "Tier", lang), tr("圆半径", "Circle radius", lang), tr("路网阈值", "Network threshold", lang),
            tr("直线圆圈覆盖率", "Circle coverage", lang),
            tr("路网覆盖率", "Network coverage", lang), tr("高估", "Overstatement", lang), tr("人口", "Population", lang)]
    return Section(tr("直线圆圈与路网比较", "Circle vs network", lang),
                   [Table(cols, rows) if rows else tr("（无数据）", "(no data)", lang)])


def claims_section(b: PlanBundle) -> Section:
    """Each claim with its target, the computed figure, PASS/FAIL and what it was computed for.

    Parameters
    ----------
    b
        The results.

    Returns
    -------
    Section
    """
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
        measure = c.get("measure") if isinstance(c.get("measure"), str) else None
        stated = ", ".join(str(v) for v in (
            term(c.get("kind"), "kind", lang),
            measure and f"{term(measure, 'measure', lang)} ({term(c.get('method'), 'method', lang)})",
            term(c.get("population"), "population", lang), term(c.get("area"), "area", lang),
            (f"{num(c.get('threshold_min'), 0)} 分钟" if lang == "zh" else f"{num(c.get('threshold_min'), 0)} min")
            if c.get("threshold_min") else None,
            f"{num(c.get('speed_mps'), 1)} m/s" if c.get("speed_mps") else None,
            term(c.get("mode"), "mode", lang) if c.get("mode") else None,
            term(c.get("scenario"), "scenario", lang)) if v)
        rows.append([c.get("id", ""), f"{text or ''} / {other or ''}".strip(" /"),
                     f"{c.get('op', '')} {format_value(c.get('target'), measure)}",
                     format_value(c.get("computed"), measure),
                     c.get("result", ""), stated, c.get("reason") or "", c.get("source") or ""])
    return Section(tr("声明核验", "Claim checks", lang), [Table(cols, rows)])


def gaps_section(b: PlanBundle, params: RunParams | None = None, top: int = 10) -> Section:
    """The ``top`` gap zones of each tier by rank, one table per tier (gaps of another tier's
    threshold are never mixed in).

    Parameters
    ----------
    b
        The results.
    params
        The run's parameters (each tier's threshold in its table's heading).
    top
        Most rows per tier (all of them are in ``gaps.csv``).

    Returns
    -------
    Section
    """
    lang = b.lang
    title = tr("未覆盖区域排序（分层级）", "Ranked gaps by tier", lang)
    if b.gaps is None or not len(b.gaps):
        return Section(title, [tr("（无）", "(none)", lang)], key="gaps")
    g = ranked_gaps(b.gaps).sort_values("rank", kind="stable")
    cols = [tr("缺口", "Gap", lang), tr("位置（最近的街道）", "Where (nearest streets)", lang),
            tr("老年人口", "Elderly", lang),
            tr("总人口", "Population", lang), tr("面积(公顷)", "Area (ha)", lang), tr("旗县区", "County", lang),
            tr("到最近设施(分钟)", "To nearest (min)", lang), tr("总排序", "Overall rank", lang)]
    order = b.tiers_present()  # tables in tier order, unknown tiers last
    keys = sorted(dict.fromkeys(g["tier"]), key=lambda k: (order.index(k) if k in order else len(order), str(k))) \
        if "tier" in g else [None]
    groups = [(k, g[g["tier"] == k] if k is not None else g) for k in keys]
    blocks: list[Table | str] = []
    for key, sub in groups:
        if key is not None:
            thr = params.tiers[key] if params is not None and key in params.tiers else None
            rule = f" · {threshold_text(thr.threshold_min, thr.mode, params.walk_speed_mps, lang)}" if thr else ""
            blocks.append(f"### {tier_name(key, lang, both=False)}{rule}")
        rows = [[f"缺口 {r['gap_id']}" if lang == "zh" else f"gap {r['gap_id']}",
                 str(r.get("place") or "–"), num(r["elderly"]), num(r["pop"]), num(r["area_m2"] / 1e4, 1),
                 "" if r.get("county") is None or r.get("county") != r.get("county") else r.get("county"),
                 num(float(r["time_to_nearest_s"]) / 60, 1), int(r["rank"])] for _, r in sub.head(top).iterrows()]
        blocks.append(Table(cols, rows, tr(
            f"前 {min(top, len(sub))} 个，共 {len(sub)} 个（全部见 gaps.csv）；“–”：超出计算的出行时间范围。",
            f"top {min(top, len(sub))} of {len(sub)} (all in gaps.csv); '–': beyond the travel times computed.", lang)))
    return Section(title, blocks, key="gaps")


def fidelity_section(b: PlanBundle) -> Section:
    """How well the isochrone polygons stand for network reach (falsely included share per band).

    Parameters
    ----------
    b
        The results.

    Returns
    -------
    Section
    """
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
            rows.append([tier_name(key, lang, both=False), num(band.get("band_min"), 0),
                         num(band.get("area_km2"), 2), num(band.get("samples")),
                         pct(band.get("false_share")), num(f.get("buffer_m"), 0), f.get("method", "")])
    text = tr("在等时圈内均匀随机抽样，按与人口点相同的规则（投影到最近道路、接入段按速度计时）计算真实路网时间；"
              "超过时段或无法到达的点计为“误含”。", "Points sampled uniformly inside each isochrone are routed "
              "like population points (projected onto the nearest street, access leg at the street's speed); "
              "those beyond the band, or unreachable, count as falsely included.", lang)
    return Section(tr("等时圈多边形精度", "Polygon fidelity", lang),
                   [text, Table(cols, rows) if rows else tr("（无数据）", "(no data)", lang)])


def sites_section(b: PlanBundle) -> Section:
    """Suggested sites per tier and method, with totals (greedy against exact).

    Parameters
    ----------
    b
        The results.

    Returns
    -------
    Section
    """
    lang = b.lang
    s = sites_frame(b.sites)
    if s is None or not len(s):
        return Section(tr("建议新增站点", "Suggested sites", lang), [tr("（无）", "(none)", lang)])
    s = s.sort_values(["tier", "method", "rank"], kind="stable")
    labels = s["site_label"].tolist() if "site_label" in s else site_labels(s)
    cols = [tr("层级", "Tier", lang), tr("方法", "Method", lang), tr("站点", "Site", lang),
            tr("新增老年人口", "Elderly gained", lang), tr("新增总人口", "Population gained", lang),
            tr("经度", "Lon", lang), tr("纬度", "Lat", lang), tr("旗县区", "County", lang), tr("缺口", "Gap", lang)]
    rows = [[tier_name(r["tier"], lang, both=False), _method(r["method"], lang), label, num(r["gain_elderly"]),
             num(r["gain_pop"]), f"{r.geometry.x:.6f}", f"{r.geometry.y:.6f}",
             r.get("county", ""), r.get("gap_id", "")] for label, (_, r) in zip(labels, s.iterrows(), strict=True)]
    tot = s.groupby(["tier", "method"], sort=True)[["gain_elderly", "gain_pop"]].sum().reset_index()
    trows = [[tier_name(r.tier, lang, both=False), _method(r.method, lang), num(r.gain_elderly), num(r.gain_pop)]
             for r in tot.itertuples()]
    tcols = [tr("层级", "Tier", lang), tr("方法", "Method", lang), tr("合计新增老年人口", "Total elderly gained", lang),
             tr("合计新增总人口", "Total population gained", lang)]
    from carecover.outputs.report.colocation import (  # 一老一小
        colocation_paragraphs,
        colocation_table,
    )
    from carecover.outputs.report.served import served_paragraphs  # --objective served|both

    coloc = colocation_table(s, lang)
    return Section(tr("建议新增站点（贪心与精确）", "Suggested sites (greedy vs exact)", lang),
                   [*served_paragraphs(b), *colocation_paragraphs(b), *siting_paragraphs(b), Table(tcols, trows),
                    Table(cols, rows),
                    *([coloc] if coloc is not None else [])])


def _method(m: Any, lang: str) -> str:
    """A siting method's name ("精确(HiGHS) exact (HiGHS)", "贪心 greedy"), from the vocabulary."""
    return term(m, "method", lang, both=lang == "zh")


def repro_section(b: PlanBundle, params: RunParams) -> Section:
    """Inputs with hashes, the run's parameters, software versions, command and time.

    Parameters
    ----------
    b
        The results.
    params
        The run's parameters (stated as ``summary.json`` states them).

    Returns
    -------
    Section
    """
    lang, s = b.lang, b.summary
    blocks: list[Table | str] = []
    inputs = [i for i in s.get("inputs", []) or [] if isinstance(i, dict)]
    blocks.append(Table([tr("输入文件", "Input", lang), "SHA-256", tr("日期", "Date", lang),
                         tr("OSM复制时间戳", "OSM replication timestamp", lang)],
                        [[str(i.get("path", "")), str(i.get("sha256", "")), str(i.get("date", "") or ""),
                          str(i.get("osm_replication_timestamp") or "")] for i in inputs]))
    blocks.append("### " + tr("参数", "Parameters", lang))
    blocks.append(generic(plain_parameters(params.to_dict(), lang), lang))  # summary.json's, in words
    blocks.append("### " + tr("软件版本", "Software", lang))
    blocks.append(generic(s.get("software") or {}, lang))
    blocks.append(tr("命令", "Command", lang) + f": `{s.get('command', '')}`")
    blocks.append(tr("生成时间", "Generated", lang) + f": {generated_text(b)}")
    return Section(tr("可复现信息", "Reproducibility", lang), blocks)
