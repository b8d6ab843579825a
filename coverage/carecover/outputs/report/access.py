"""The report's capacity section: places per 1,000 elderly, share below the standard and Gini per
tier and area, the capacity rules behind them, the most overloaded and most underused
facilities, and one Lorenz chart of accessibility over the elderly per tier."""

from __future__ import annotations

import pandas as pd

from carecover.analysis.access import lorenz, weighted_gini
from carecover.outputs.bundle import PlanBundle, tier_name, tr
from carecover.outputs.report.document import Section, Table, num, pct
from carecover.vocab import GINI_NOTE, plain_text, term

__all__ = ["access_section", "load_tables", "lorenz_figure"]

#: Facilities listed as most overloaded and most underused, per tier.
TOP = 5


def _figures(b: PlanBundle) -> list[dict]:
    return [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict) and f.get("kind") == "access"]


def figure_rows(b: PlanBundle, areas: tuple[str, ...] | None = None) -> list[list[str]]:
    """One row per tier, method and area: places per 1,000, share below the standard, Gini."""
    lang = b.lang
    rows: dict[tuple, dict] = {}
    for f in _figures(b):
        area = str(f.get("area", "all"))
        if areas is not None and area not in areas:
            continue
        key = (tuple(f.get("tiers") or ()), f.get("method"), area)
        rows.setdefault(key, {"f": f})[f.get("measure")] = f.get("value")
    out = []
    for (tiers, method, area), r in rows.items():
        f = r["f"]
        std = f.get("standard_per_1000")
        out.append([tier_name(tiers[0], lang) if tiers else "", term(method, "method", lang), term(area, "area", lang),
                    num(f.get("threshold_min"), 0), num(f.get("speed_mps"), 1) if f.get("speed_mps") else "–",
                    num(r.get("places_per_1000"), 1), num(std, 0) if std is not None else "–",
                    pct(r.get("share_below_standard")) if std is not None else "–", num(r.get("gini"), 3),
                    num(f.get("total"))])
    return out


def load_tables(b: PlanBundle, top: int = TOP) -> list[Table | str]:
    """Per tier: the most overloaded and the most underused facilities (load = assigned elderly
    per place)."""
    lang = b.lang
    fac = b.facilities
    if "load" not in fac:
        return []
    cols = [tr("编号", "Id", lang), tr("名称", "Name", lang), tr("容量(名额)", "Places", lang),
            tr("容量来源", "Capacity source", lang), tr("分配老年人口", "Elderly assigned", lang),
            tr("负荷(人/名额)", "Load (elderly/place)", lang)]
    blocks: list[Table | str] = []
    for key in b.tiers_present():
        t = fac[(fac["tier"] == key) & fac["load"].notna()]
        if not len(t):
            continue
        order = t.sort_values(["load", "fid"], ascending=[False, True], kind="stable")

        def rows(frame: pd.DataFrame) -> list[list[str]]:
            return [[str(r.fid), str(r.name), num(r.capacity, 1), plain_text(r.capacity_source, lang),
                     num(r.assigned_elderly, 1),
                     num(r.load, 2)] for r in frame.itertuples(index=False)]

        if len(order) <= top:
            blocks.append(Table(cols, rows(order), note=tr(f"{tier_name(key, lang)}：全部设施按负荷排序",
                                                          f"{tier_name(key, lang)}: every facility by load", lang)))
            continue
        blocks.append(Table(cols, rows(order.head(top)),
                            note=tr(f"{tier_name(key, lang)}：负荷最高（超载 > 1）", f"{tier_name(key, lang)}: most "
                                    "overloaded (load > 1: more elderly than places)", lang)))
        under = order.iloc[::-1].head(top)
        blocks.append(Table(cols, rows(under),
                            note=tr(f"{tier_name(key, lang)}：负荷最低（利用不足 ≪ 1）", f"{tier_name(key, lang)}: most "
                                    "underused (load ≪ 1: few elderly within reach)", lang)))
    return blocks


def access_section(b: PlanBundle) -> Section | None:
    """Capacity-aware accessibility and facility load; ``None`` when no tier has a capacity rule."""
    lang = b.lang
    info = (b.summary.get("access") or {}).get("tiers") or {}
    if not info:
        return None
    cols = [tr("层级", "Tier", lang), tr("方法", "Method", lang), tr("范围", "Area", lang),
            tr("阈值(分钟)", "Threshold (min)", lang), tr("速度(米/秒)", "Speed (m/s)", lang),
            tr("每千名老人名额", "Places per 1,000 elderly", lang), tr("标准", "Standard", lang),
            tr("低于标准的老年人比例", "Elderly below standard", lang), tr("基尼系数", "Gini", lang),
            tr("老年人口", "Elderly", lang)]
    rules = [f"{tier_name(k, lang)}: {plain_text(v.get('capacity_text', ''), lang)}; "
             + tr(f"{v.get('facilities', 0)} 个设施，共 {num(v.get('places'), 0)} 个名额（"
                  f"{v.get('facilities_without_capacity', 0)} 个无容量数据）；E2SFCA 衰减：",
                  f"{v.get('facilities', 0)} facilities, {num(v.get('places'), 0)} places "
                  f"({v.get('facilities_without_capacity', 0)} without capacity); E2SFCA decay: ", lang)
             + str((v.get("decay") or {}).get("text", "")) for k, v in info.items()]
    intro = tr("两步移动搜索法（2SFCA，阈值内二元服务范围）与增强两步移动搜索法（E2SFCA，距离衰减），按路网精确出行时间计算，"
               "单位为每千名老年人可获得的名额；负荷 = 按 E2SFCA 权重分配到设施的老年人数 ÷ 名额（> 1 超载，≪ 1 利用不足）。"
               + GINI_NOTE[0],
               "Two-step floating catchment (2SFCA: binary catchment at the threshold) and enhanced 2SFCA (E2SFCA: "
               "distance decay) on the exact network times, in places per 1,000 elderly; load = elderly assigned to a "
               "facility by the E2SFCA weights ÷ its places (> 1 overloaded, ≪ 1 underused). " + GINI_NOTE[1], lang)
    blocks: list[Table | str] = [intro, *rules,
                                 Table(cols, figure_rows(b, ("all", "urban", "rural")),
                                       note=tr("各区县与街道/乡镇的数值见 access.csv。",
                                               "Figures per county and unit are in access.csv.",
                                               lang))]
    blocks += load_tables(b)
    return Section(tr("供给能力与可达性", "Capacity and accessibility", lang), blocks)


def lorenz_figure(b: PlanBundle, zh: bool):
    """Lorenz curves of E2SFCA accessibility over the elderly, one line per tier, Gini in the
    legend (a matplotlib figure, drawn inside :func:`~.charts.chart_style`); ``None`` when no
    tier has accessibility."""
    import matplotlib.pyplot as plt

    d = b.demand
    keys = [k for k in b.tiers_present() if f"access_e2sfca__{k}" in d]
    if not keys:
        return None
    w = d["elderly"].to_numpy(float)
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    ax.plot([0, 1], [0, 1], color="#888", ls="--", lw=1, label="equality / 完全均衡" if zh else "equality")
    for key in keys:
        v = d[f"access_e2sfca__{key}"].to_numpy(float)
        x, y = lorenz(v, w)
        g = weighted_gini(v, w)
        ax.plot(x, y, label=f"{tier_name(key, 'zh' if zh else 'en', both=False)} (Gini {g:.2f})")
    ax.set_xlabel("老年人口累计比例 / cumulative share of elderly" if zh else "Cumulative share of elderly")
    ax.set_ylabel("名额累计比例 / cumulative share of places (E2SFCA)" if zh else "Cumulative share of places (E2SFCA)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
