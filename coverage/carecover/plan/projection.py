"""Stage — projected demand (``--year``): the elderly of the projected year at today's travel
times, beside today's. Without ``--year`` nothing is computed and the outputs are unchanged;
with it, ``summary.json`` gains ``"projection"`` (the record and the figures), the report a
table "today vs {year} (projected)", and the console a line."""

from __future__ import annotations

from typing import Any

import numpy as np

from carecover import notices
from carecover.analysis.projection import projected_elderly, projection_figures, projection_gaps
from carecover.inputs.demand import Demand
from carecover.params import RunParams
from carecover.plan.figures import Figures
from carecover.plan.gaps import Gaps
from carecover.plan.siting import Siting
from carecover.plan.travel import Travel
from carecover.tiers import TIERS
from carecover.utils import log


def compute(params: RunParams, demand: Demand, travel: Travel, figs: Figures,
            gaps: Gaps | None = None, sites: Siting | None = None) -> dict[str, Any] | None:
    """The projection's record and figures (``None`` without ``--year``).

    Parameters
    ----------
    params
        ``projection`` (:class:`~carecover.config.projection.Projection`).
    demand
        Demand points with today's elderly.
    travel
        Travel times per tier (the same for both years).
    figs
        The reporting areas (all, urban/rural and counties are used).
    gaps
        Today's gap zones (each given its projected elderly; ``None``: none).
    sites
        The suggested sites (``--suggest``): their planned scenario is evaluated for the
        projected elderly too (the sites are those chosen for today's elderly).

    Returns
    -------
    dict or None
        ``{"year", "label", "record", "elderly_today", "elderly_projected",
        "not_projected_elderly", "figures", "gaps"}``.
    """
    proj = params.projection
    if proj is None:
        return None
    points = demand.points
    future, done = projected_elderly(points, proj)
    today = np.nan_to_num(points["elderly"].to_numpy(float), nan=0.0)
    areas = {k: m for k, m in figs.areas.items() if ":" not in k}
    tiers = {k: (tt.time_s, tt.tier.threshold_min, tt.tier.mode) for k, tt in travel.tiers.items()}
    rows = projection_figures(points, proj, tiers, areas)
    if sites is not None and sites.after_time_s:
        planned = {k: (t, params.tiers[k].threshold_min, params.tiers[k].mode) for k, t in sites.after_time_s.items()}
        rows += projection_figures(points, proj, planned, areas, scenario="planned")
    out = {"year": proj.year, "label": f"{proj.year} 年预测 / {proj.year} (projected)", "record": proj.to_dict(),
           "elderly_today": round(float(today.sum()), 1), "elderly_projected": round(float(future.sum()), 1),
           "not_projected_elderly": round(float(today[~done].sum()), 1), "figures": rows,
           "gaps": projection_gaps(gaps.members, gaps.zones, today, future) if gaps is not None else []}
    log(f"预测 {proj.year} 年老年人口 {out['elderly_projected']:,.0f}（现状 {out['elderly_today']:,.0f}；"
        f"来源：{proj.source}）/ projected elderly in {proj.year}: {out['elderly_projected']:,.0f} "
        f"(today {out['elderly_today']:,.0f}) — a projection, not a count")
    if out["not_projected_elderly"] > 0:
        n = out["not_projected_elderly"]
        notices.warn("projection_incomplete",
                     f"{n:,.0f} 名老年人所在区县没有 {proj.year} 年预测值，按今天计 / {n:,.0f} elderly are in areas "
                     f"without a {proj.year} value and are counted as today (add [projection.all] or their county)",
                     file=params.config.path if params.config is not None else None, field="projection.all",
                     value=n)
    for r in rows:
        if r["area"] == "all" and r["scenario"] == "current" and r["share_projected"] is not None:
            t = TIERS.get(r["tier"])
            name = f"{t.name_zh} / {t.name_en}" if t is not None else r["tier"]
            log(f"  {name}: {r['threshold_min']:g} 分钟内 {r['covered_projected']:,.0f} 人 "
                f"({r['share_projected']:.1%}) — {proj.year} 年预测 / {proj.year} projected; "
                f"未覆盖 / uncovered {r['uncovered_projected']:,.0f} (today {r['uncovered_today']:,.0f})")
    return out
