"""Residents inside a tier's straight-line circle whom the street network does not reach
(hidden at start)."""

from __future__ import annotations

import folium

from carecover.outputs.bundle import tr
from carecover.outputs.maps._points import flagged_points
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.style import CIRCLE_COLOR, CIRCLE_RING

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
        _, note = flagged_points(m, ctx, demand[col], ctx.names[f"circle__{key}"], {
            "radius": 3.5, "color": CIRCLE_RING, "fill": True, "fillColor": CIRCLE_COLOR, "fillOpacity": 0.95,
            "weight": 1}, MAX_CIRCLE_POINTS)
        radius, _ = ctx.params.circle_radius_of(ctx.params.tiers[key]) if key in ctx.params.tiers else (None, "")
        r_txt = f"{radius:,.0f} m" if radius is not None else ""
        ctx.add_legend(ctx.names[f"circle__{key}"], "<span class='cc-dot cc-circle-pt'></span>",
                       tr(f"直线 {r_txt} 圆内但路网不可达的居民点", f"Inside the {r_txt} straight-line circle, "
                          "not reached on the street network", ctx.lang),
                       note)

