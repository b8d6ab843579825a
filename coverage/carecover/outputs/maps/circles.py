"""Residents inside a tier's straight-line circle whom the street network does not reach
(hidden at start)."""

from __future__ import annotations

import folium

from carecover.outputs.bundle import tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import feature_collection, prep

#: Most demand points drawn in a "inside the circle but not reachable" layer.
MAX_CIRCLE_POINTS = 5000


def add_circles(m: folium.Map, ctx: MapContext) -> None:
    """Draw, per tier, the demand points flagged ``circle_not_reached__<tier>`` (the most
    elderly first, at most :data:`MAX_CIRCLE_POINTS`).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    """
    demand = ctx.bundle.demand
    for key in ctx.tiers:
        col = f"circle_not_reached__{key}"
        if col not in demand or not demand[col].any():
            continue
        pts = demand[demand[col].astype(bool)]
        pts = pts.sort_values("elderly", ascending=False, kind="stable").head(MAX_CIRCLE_POINTS)
        geoms = prep(pts.geometry.values, ctx.fn)
        props = [{"e": round(float(e), 1)} for e in pts["elderly"].fillna(0)]
        fg = folium.FeatureGroup(name=ctx.names[f"circle__{key}"], show=False)
        folium.GeoJson(feature_collection(geoms, props),
                       marker=folium.CircleMarker(radius=3, color="#6a3d9a", fill=True, fill_opacity=0.8,
                                                  weight=0),
                       tooltip=folium.GeoJsonTooltip(["e"], aliases=[tr("老年人口", "Elderly", ctx.lang)])
                       ).add_to(fg)
        fg.add_to(m)
