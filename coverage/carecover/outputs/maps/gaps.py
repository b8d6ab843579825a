"""Uncovered gap zones: dashed zone outlines and rank labels, one layer per tier (ranks restart
per tier; only the focus tier shown at start).

Only gaps holding at least ``params.map_min_gap_share`` of their tier's uncovered elderly (the
elderly of all its gaps) are drawn, and every gap a suggested site serves; ranks stay those of
``gaps.csv``, and the legend says how many were drawn. All gaps stay in the tables."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.outputs.bundle import ranked_gaps, sites_frame, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import iso_display, point_xy, prep
from carecover.outputs.maps.jsdata import GeoLayer, PointLayer, feature_collection_json
from carecover.outputs.maps.names import focus_tier, tier_order
from carecover.outputs.maps.popups import bdi, esc, fmt
from carecover.outputs.maps.style import GAP_COLOR, box_swatch

#: Gap zones: most vertices per layer (the isochrones' doubling rule, holes under 1 ha filled).
GAP_MAX_VERTICES = 30_000
#: Most gap labels drawn; all gap zones are drawn, and the legend states the cut.
MAX_GAP_LABELS = 200
#: A gap's label: its rank in a magenta circle (:class:`~carecover.outputs.maps.jsdata.PointLayer`).
GAP_ICON = {"cls": "cc-gap-icon", "pre": "<div class='cc-gap'>", "post": "</div>", "size": [22, 22],
            "anchor": [11, 11]}


def gap_rows(r: pd.Series, lang: str) -> list[tuple[str, str]]:
    """Popup rows of one gap zone: rank, id, residents, area, county, time to the nearest facility.

    Parameters
    ----------
    r
        A row of the ranked gaps.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of tuple
        ``(label, value HTML)`` pairs.
    """
    t = r.get("time_to_nearest_s")
    t_txt = fmt(float(t) / 60, 1) + " min" if t is not None and pd.notna(t) and math.isfinite(float(t)) else "–"
    place = r.get("place")
    place = str(place) if isinstance(place, str) and place else "–"
    return [(tr("排序", "Rank", lang), str(int(r["rank"]))),
                     (tr("编号", "ID", lang), bdi(str(r.get("gap_id", "")))),
                     (tr("位置（最近的街道）", "Where (nearest streets)", lang), bdi(place)),
                     (tr("老年人口", "Elderly", lang), fmt(r.get("elderly"))),
                     (tr("总人口", "Population", lang), fmt(r.get("pop"))),
                     (tr("面积(公顷)", "Area (ha)", lang), fmt(float(r.get("area_m2", 0) or 0) / 1e4, 1)),
                     (tr("旗县区", "County", lang), bdi(str(r.get("county", "") or ""))),
                     (tr("到最近设施", "To nearest facility", lang), t_txt)]


def drawn_mask(gaps: pd.DataFrame, min_share: float, keep_ids: set[str]) -> np.ndarray:
    """Which gaps of one tier the map draws.

    Parameters
    ----------
    gaps
        The tier's gaps (``elderly``, ``gap_id``).
    min_share
        Least share of the tier's uncovered elderly (the sum over its gaps) a drawn gap holds.
    keep_ids
        Gap ids drawn whatever their size (those a suggested site serves).

    Returns
    -------
    numpy.ndarray
        Boolean, aligned with ``gaps``.
    """
    e = gaps["elderly"].fillna(0).to_numpy(float)
    big = e >= min_share * float(e.sum()) - 1e-9 if len(e) else np.zeros(0, bool)
    kept = gaps["gap_id"].astype(str).isin(keep_ids).to_numpy() if "gap_id" in gaps else np.zeros(len(e), bool)
    return big | kept


def add_gaps(m: folium.Map, ctx: MapContext) -> None:
    """Draw the gap zones of every tier (or one layer when gaps have no tier).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context (each layer's legend entry says how many gaps it draws).
    """
    gaps, names = ctx.bundle.gaps, ctx.names
    if gaps is None or not len(gaps):
        return
    hulls_all = ctx.bundle.gap_hulls
    if "tier" in gaps:
        tier_keys = sorted(gaps["tier"].dropna().unique(), key=tier_order)
        focus = focus_tier(ctx.bundle, tier_keys)
        parts = [(names[f"gaps__{k}"], (gaps["tier"] == k).to_numpy(), k == focus) for k in tier_keys]
        name_tier = {names[f"gaps__{k}"]: k for k in tier_keys}
    else:
        parts = [(names["gaps"], np.ones(len(gaps), bool), True)]
        name_tier = {}
    sites = sites_frame(ctx.bundle.sites)
    for name, sel, show in parts:
        tier_key = name_tier.get(name)
        keep = set()
        if sites is not None and len(sites) and "gap_id" in sites:
            st = sites if tier_key is None or "tier" not in sites else sites[sites["tier"] == tier_key]
            keep = {str(v) for v in st["gap_id"].dropna()}
        ranked = ranked_gaps(gaps[sel])
        draw = drawn_mask(ranked, ctx.params.map_min_gap_share, keep)
        hulls = None
        if hulls_all is not None and len(hulls_all) == len(gaps):
            h = gpd.GeoSeries(hulls_all).iloc[np.flatnonzero(sel)]
            h.index = gaps[sel].index
            hulls = h.loc[ranked.index[draw]]
        cap = gap_layer(m, ctx, ranked[draw], hulls, name, show)
        note = drawn_note(int(draw.sum()), len(ranked), ctx.params.map_min_gap_share, ctx.lang)
        ctx.add_legend(name, box_swatch("#ffffff", 0.0, GAP_COLOR, dash=True),
                       tr("未覆盖区域（数字为按老年人口的排序）", "Uncovered gap (number: rank by elderly)", ctx.lang),
                       "; ".join(t for t in (note, cap) if t))


def drawn_note(n_drawn: int, n_all: int, min_share: float, lang: str) -> str:
    """The legend's note on how many gaps of a layer were drawn.

    Parameters
    ----------
    n_drawn, n_all
        Gaps drawn and gaps of the layer.
    min_share
        The drawing threshold (:func:`drawn_mask`).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Text ("" when all were drawn).
    """
    if n_drawn == n_all:
        return ""
    pct = f"{min_share * 100:g}%"
    return tr(f"绘制 {n_drawn} 个（共 {n_all} 个）：占未覆盖老年人口 ≥{pct} 或有建议站点；全部见 gaps.csv",
              f"{n_drawn} of {n_all} drawn: those with ≥{pct} of the uncovered elderly or a suggested "
              "site; all in gaps.csv", lang)


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
        The gaps drawn in the layer, with their ``rank`` (points: where the label goes).
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
    g = gaps.sort_values("rank", kind="stable")
    fg = folium.FeatureGroup(name=name, show=show)
    if hulls is not None and len(hulls):
        hs = gpd.GeoSeries(hulls)
        hs = hs.set_crs(4326) if hs.crs is None else hs.to_crs(4326)
        (shown,), _ = iso_display([hs.values], GAP_MAX_VERTICES)
        hull_geoms = prep(shown, ctx.fn)
        GeoLayer(feature_collection_json(hull_geoms, [{} for _ in hull_geoms]),
                 style={"color": GAP_COLOR, "weight": 2, "dashArray": "5 3", "fill": False}).add_to(fg)
    pts = []
    for _, r in g.head(MAX_GAP_LABELS).iterrows():
        if r.geometry is None or r.geometry.is_empty:
            continue
        lat, lon = point_xy(r.geometry.representative_point(), ctx.fn)
        rank = int(r["rank"])
        pts.append((lat, lon, tr(f"缺口 {rank}", f"Gap {rank}", lang), gap_rows(r, lang), str(rank)))
    if pts:
        PointLayer(pts, icon=GAP_ICON).add_to(fg)
    fg.add_to(m)
    if len(g) > MAX_GAP_LABELS:
        return tr(f"仅标注前 {MAX_GAP_LABELS} 个（共 {len(g)} 个）",
                  f"top {MAX_GAP_LABELS} of {len(g)} labelled", lang)
    return ""
