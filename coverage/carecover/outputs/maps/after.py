"""What the plan changes, per planned tier (from the demand's ``after_site__<tier>`` and
``covered_after__<tier>``): the residents newly covered once the suggested sites are built
(shown at start for the tier whose sites are shown), and each suggested site's catchment,
the residents for whom it becomes the nearest facility within the threshold (hidden at start).
Sites are labelled ★rank as on the sites layer (the exact solution's ranks when it has the site)."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from carecover.outputs.bundle import sites_frame, tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import prep
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json
from carecover.outputs.maps.names import focus_tier
from carecover.outputs.maps.popups import bdi, esc, fmt
from carecover.outputs.maps.style import AFTER_COLOR, SITE_COLOR, box_swatch
from carecover.outputs.maps.zones import label_zones


def site_ranks(sites: pd.DataFrame | None, key: str) -> dict[str, int]:
    """Candidate id -> ★rank of a tier's suggested sites (the exact solution's rank first).

    Parameters
    ----------
    sites
        The sites table (``candidate``, ``tier``, ``method``, ``rank``), or ``None``.
    key
        Tier key.

    Returns
    -------
    dict of str to int
        Empty when the table has no ``candidate`` column.
    """
    if sites is None or not len(sites) or "candidate" not in sites:
        return {}
    s = sites[sites["tier"].astype(str) == key] if "tier" in sites else sites
    order = s.assign(_m=(s["method"].astype(str) != "exact") if "method" in s else False)
    order = order.sort_values(["_m", "rank"], kind="stable").drop_duplicates("candidate")
    return {str(c): int(r) for c, r in zip(order["candidate"], order["rank"], strict=True)}


def add_after_plan(m: folium.Map, ctx: MapContext) -> None:
    """Draw, per planned tier, the newly covered residents and the suggested sites' catchments.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    """
    demand, lang = ctx.bundle.demand, ctx.lang
    sites = sites_frame(ctx.bundle.sites)
    planned = [k for k in ctx.tiers if f"after_site__{k}" in demand and f"covered_after__{k}" in demand]
    focus = focus_tier(ctx.bundle, planned)
    for key in planned:
        now = demand[f"covered__{key}"].fillna(False).astype(bool).to_numpy() if f"covered__{key}" in demand \
            else np.zeros(len(demand), bool)
        after = demand[f"covered_after__{key}"].fillna(False).astype(bool).to_numpy()
        _newly_covered(m, ctx, key, np.where(after & ~now, "new", ""), key == focus)
        _site_catchments(m, ctx, key, demand[f"after_site__{key}"].fillna("").astype(str).to_numpy(),
                         site_ranks(sites, key), now)
    if planned:
        ctx.notes.append(tr("规划后覆盖：按精确解（若贪心解更优则按贪心解）建成全部建议站点后",
                            "coverage after the plan: with every suggested site of the best solution built", lang))


def _newly_covered(m: folium.Map, ctx: MapContext, key: str, labels: np.ndarray, show: bool) -> None:
    """The residents a tier's suggested sites newly cover, as one zone."""
    lang, demand = ctx.lang, ctx.bundle.demand
    zones = label_zones(ctx.grid(), labels)
    if not zones.labels:
        return
    e = float(demand["elderly"].fillna(0).to_numpy(float)[labels == "new"].sum())
    total = float(demand["elderly"].fillna(0).sum())
    now = float(demand["elderly"].fillna(0)[demand[f"covered__{key}"].astype(bool)].sum()) \
        if f"covered__{key}" in demand else 0.0
    share = (f"{now / total:.1%} → {(now + e) / total:.1%}" if total > 0 else "")
    tip = tr(f"规划后新增覆盖老年人口 {fmt(e)}（覆盖率 {share}）", f"Newly covered after the plan: {fmt(e)} elderly "
             f"(coverage {share})", lang)
    name = ctx.names[f"after__{key}"]
    fg = folium.FeatureGroup(name=name, show=show)
    GeoLayer(feature_collection_json(prep(zones.geoms, ctx.fn), [{"t": esc(tip)}]),
             style={"color": AFTER_COLOR, "weight": 1, "opacity": 0.8, "fillColor": AFTER_COLOR,
                    "fillOpacity": 0.35}, tooltip=["t"]).add_to(fg)
    fg.add_to(m)
    ctx.add_legend(name, box_swatch(AFTER_COLOR, 0.45, AFTER_COLOR), name,
                   tr("老年人口", "elderly", lang) + f" +{fmt(e)} · {share}")


def _site_catchments(m: folium.Map, ctx: MapContext, key: str, labels: np.ndarray, ranks: dict[str, int],
                     covered_now: np.ndarray) -> None:
    """Each suggested site's catchment: the residents for whom it becomes the nearest."""
    lang, demand = ctx.lang, ctx.bundle.demand
    zones = label_zones(ctx.grid(), labels)
    if not zones.labels:
        return
    e = demand["elderly"].fillna(0).to_numpy(float)
    props = []
    for cand, total in zip(zones.labels, zones.elderly, strict=True):
        new = float(e[(labels == cand) & ~covered_now].sum())
        rank = ranks.get(cand)
        label = f"★{rank}" if rank is not None else cand
        props.append({"site": bdi(label), "e": fmt(total), "new": fmt(new)})  # tooltips set innerHTML
    name = ctx.names[f"site_catchments__{key}"]
    fg = folium.FeatureGroup(name=name, show=False)
    GeoLayer(feature_collection_json(prep(zones.geoms, ctx.fn), props),
             style={"color": SITE_COLOR, "weight": 2, "opacity": 0.9, "fillColor": SITE_COLOR, "fillOpacity": 0.06},
             tooltip=["site", "e", "new"],
             aliases=[tr("建议站点", "Suggested site", lang),
                      tr("以其为最近设施的老年人口", "Elderly for whom it becomes the nearest", lang),
                      tr("其中新增覆盖", "of whom newly covered", lang)]).add_to(fg)
    fg.add_to(m)
    ctx.add_legend(name, box_swatch(SITE_COLOR, 0.06, SITE_COLOR), name,
                   tr("建成后以其为最近设施的居民", "residents for whom it becomes the nearest", lang))
