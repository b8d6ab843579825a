"""Facility load: one layer per tier with capacity, markers sized by places and coloured by load
(elderly assigned per place), with its legend entry (shown while the layer is on). Hidden at
start (the facility layers show the same places); every text from the inputs is escaped."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from carecover.outputs.bundle import tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import point_xy
from carecover.outputs.maps.jsdata import PointLayer
from carecover.outputs.maps.popups import bdi, esc, fmt
from carecover.outputs.maps.style import dot_swatch

__all__ = ["LOAD_CLASSES", "add_load", "load_color", "load_layer_name", "load_radius"]

#: Load classes (upper bound, colour, label zh, label en): underused → overloaded (RdYlBu reversed).
LOAD_CLASSES: tuple[tuple[float, str, str, str], ...] = (
    (0.5, "#2c7bb6", "利用不足 < 0.5", "underused < 0.5"),
    (1.0, "#abd9e9", "0.5–1 正常", "0.5–1 within capacity"),
    (1.5, "#fdae61", "1–1.5 超载", "1–1.5 overloaded"),
    (np.inf, "#d7191c", "> 1.5 严重超载", "> 1.5 heavily overloaded"),
)
NO_LOAD_COLOR = "#999999"


def load_layer_name(key: str, lang: str) -> str:
    """The layer control's name of a tier's load layer."""
    return tr(f"负荷：{tier_name(key, lang, both=False)}", f"Load: {tier_name(key, lang, both=False)}", lang)


def load_color(load: float) -> str:
    """Colour of a load value (grey when unknown)."""
    if load is None or not np.isfinite(load):
        return NO_LOAD_COLOR
    for hi, color, _, _ in LOAD_CLASSES:
        if load < hi:
            return color
    return LOAD_CLASSES[-1][1]


def load_radius(capacity: np.ndarray) -> np.ndarray:
    """Marker radius (px): area proportional to places, 4–18 px, the median facility 8 px."""
    cap = np.asarray(capacity, float)
    ok = np.isfinite(cap) & (cap > 0)
    ref = float(np.median(cap[ok])) if ok.any() else 1.0
    r = 8.0 * np.sqrt(np.where(ok, cap, 0.0) / ref)
    return np.clip(np.where(ok, r, 4.0), 4.0, 18.0)


def load_rows(r: pd.Series, lang: str) -> list[tuple[str, str]]:
    """Popup rows of a facility's load: name, tier, places and their source, elderly assigned,
    load, id (``(label, value HTML)`` pairs, input text escaped)."""
    return [(tr("名称", "Name", lang), bdi(str(r.get("name", "") or ""))),
            (tr("层级", "Tier", lang), esc(tier_name(r.get("tier"), lang))),
            (tr("容量(名额)", "Places", lang), fmt(r.get("capacity"), 1)),
            (tr("容量来源", "Capacity source", lang), esc(str(r.get("capacity_source", "") or ""))),
            (tr("分配老年人口", "Elderly assigned", lang), fmt(r.get("assigned_elderly"), 1)),
            (tr("负荷(人/名额)", "Load (elderly/place)", lang), fmt(r.get("load"), 2)),
            (tr("编号", "ID", lang), bdi(str(r.get("fid", ""))))]


def load_legend(lang: str) -> tuple[str, str]:
    """The legend entry of a load layer: a swatch of the load classes' colours and its label."""
    swatch = "".join(dot_swatch(c) for _, c, _, _ in LOAD_CLASSES) + dot_swatch(NO_LOAD_COLOR)
    label = tr("负荷（老年人/名额）：<0.5 / 0.5–1 / 1–1.5 / >1.5 / 无容量；圆大小 = 名额",
               "Load (elderly per place): <0.5 / 0.5–1 / 1–1.5 / >1.5 / unknown; size = places", lang)
    return swatch, label


def add_load(m: folium.Map, ctx: MapContext) -> list[str]:
    """Draw the load layer of every tier with a ``load`` column value, each with its legend entry.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.

    Returns
    -------
    list of str
        Tiers that got a load layer.
    """
    fac = ctx.bundle.facilities
    if "load" not in fac or "capacity" not in fac:
        return []
    lang = ctx.lang
    drawn = []
    for key in ctx.tiers:
        t = fac[(fac["tier"] == key) & fac["assigned_elderly"].notna() & fac.geometry.notna()]
        if not len(t):
            continue
        t = t.sort_values("fid", kind="stable")
        name = load_layer_name(key, lang)
        group = folium.FeatureGroup(name=esc(name), show=False)
        radius = load_radius(t["capacity"].to_numpy(float))
        pts = []
        for r, rad in zip(t.to_dict("records"), radius, strict=True):
            lat, lon = point_xy(r["geometry"], ctx.fn)
            tip = bdi(r.get('name', '') or r.get('fid', '')) + esc(f": {tr('负荷', 'load', lang)} {fmt(r.get('load'), 2)}")
            pts.append((lat, lon, tip, load_rows(r, lang),
                        {"radius": float(round(rad, 1)), "fillColor": load_color(r.get("load"))}))
        PointLayer(pts, style={"color": "#222", "weight": 1, "fillOpacity": 0.85,
                               "className": f"cc-load cc-load-{key}"}, max_width=320).add_to(group)
        group.add_to(m)
        ctx.add_legend(name, *load_legend(lang))
        drawn.append(key)
    return drawn
