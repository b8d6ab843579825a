"""Uncovered gap zones: dashed zone outlines and rank labels, one layer per tier (ranks restart
per tier; only the focus tier shown at start)."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.outputs.bundle import ranked_gaps, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import feature_collection, iso_display, point_xy, prep
from carecover.outputs.maps.names import focus_tier, tier_order
from carecover.outputs.maps.popups import esc, fmt, kv_table
from carecover.outputs.maps.style import GAP_COLOR

#: Gap zones: most vertices per layer (the isochrones' doubling rule, holes under 1 ha filled).
GAP_MAX_VERTICES = 30_000
#: Most gap labels drawn; all gap zones are drawn, and the legend states the cut.
MAX_GAP_LABELS = 200


def gap_popup(r: pd.Series, lang: str) -> str:
    """Popup of one gap zone: rank, id, residents, area, county, time to the nearest facility.

    Parameters
    ----------
    r
        A row of the ranked gaps.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        HTML.
    """
    t = r.get("time_to_nearest_s")
    t_txt = fmt(float(t) / 60, 1) + " min" if t is not None and pd.notna(t) and math.isfinite(float(t)) else "–"
    return kv_table([(tr("排序", "Rank", lang), str(int(r["rank"]))),
                     (tr("编号", "ID", lang), esc(str(r.get("gap_id", "")))),
                     (tr("老年人口", "Elderly", lang), fmt(r.get("elderly"))),
                     (tr("总人口", "Population", lang), fmt(r.get("pop"))),
                     (tr("面积(公顷)", "Area (ha)", lang), fmt(float(r.get("area_m2", 0) or 0) / 1e4, 1)),
                     (tr("旗县区", "County", lang), esc(str(r.get("county", "") or ""))),
                     (tr("到最近设施", "To nearest facility", lang), t_txt)])


def add_gaps(m: folium.Map, ctx: MapContext) -> str:
    """Draw the gap zones of every tier (or one layer when gaps have no tier).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.

    Returns
    -------
    str
        A legend note when labels were capped at :data:`MAX_GAP_LABELS`, else "".
    """
    gaps, names = ctx.bundle.gaps, ctx.names
    if gaps is None or not len(gaps):
        return ""
    hulls_all = ctx.bundle.gap_hulls
    if "tier" in gaps:
        tier_keys = sorted(gaps["tier"].dropna().unique(), key=tier_order)
        focus = focus_tier(ctx.bundle, tier_keys)
        parts = [(names[f"gaps__{k}"], (gaps["tier"] == k).to_numpy(), k == focus) for k in tier_keys]
    else:
        parts = [(names["gaps"], np.ones(len(gaps), bool), True)]
    gap_note = ""
    for name, sel, show in parts:
        hulls = None
        if hulls_all is not None and len(hulls_all) == len(gaps):
            hulls = gpd.GeoSeries(hulls_all).iloc[np.flatnonzero(sel)]
        gap_note = gap_layer(m, ctx, gaps[sel], hulls, name, show) or gap_note
    return gap_note


def gap_layer(m: folium.Map, ctx: MapContext, gaps: gpd.GeoDataFrame, hulls: gpd.GeoSeries | None,
              name: str, show: bool) -> str:
    """Draw one layer of ranked gap zones.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    gaps
        The gaps of the layer (points: where the label goes).
    hulls
        Their zones' polygons, aligned with ``gaps``, or ``None``.
    name
        Layer name.
    show
        Shown at start.

    Returns
    -------
    str
        A legend note when labels were capped, else "".
    """
    lang = ctx.lang
    g = ranked_gaps(gaps).sort_values("rank", kind="stable")
    fg = folium.FeatureGroup(name=name, show=show)
    if hulls is not None and len(hulls):
        hs = gpd.GeoSeries(hulls)
        hs = hs.set_crs(4326) if hs.crs is None else hs.to_crs(4326)
        (shown,), _ = iso_display([hs.values], GAP_MAX_VERTICES)
        hull_geoms = prep(shown, ctx.fn)
        folium.GeoJson(feature_collection(hull_geoms, [{} for _ in hull_geoms]),
                       style_function=lambda f: {"color": GAP_COLOR, "weight": 1.5, "dashArray": "4 3",
                                                 "fillColor": GAP_COLOR, "fillOpacity": 0.08}).add_to(fg)
    for _, r in g.head(MAX_GAP_LABELS).iterrows():
        if r.geometry is None or r.geometry.is_empty:
            continue
        lat, lon = point_xy(r.geometry.representative_point(), ctx.fn)
        rank = int(r["rank"])
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(html=f"<div class='cc-gap'>{rank}</div>", icon_size=(22, 22),
                                icon_anchor=(11, 11), class_name="cc-gap-icon"),
            tooltip=tr(f"缺口 {rank}", f"Gap {rank}", lang),
            popup=folium.Popup(gap_popup(r, lang), max_width=300),
        ).add_to(fg)
    fg.add_to(m)
    if len(g) > MAX_GAP_LABELS:
        return tr(f"仅标注前 {MAX_GAP_LABELS} 个（共 {len(g)} 个）",
                  f"top {MAX_GAP_LABELS} of {len(g)} labelled", lang)
    return ""
