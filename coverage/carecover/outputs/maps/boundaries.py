"""Administrative boundaries layer."""

from __future__ import annotations

import folium

from carecover.outputs.bundle import tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import prep, total_bounds
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json
from carecover.outputs.maps.popups import bdi, esc
from carecover.outputs.maps.style import line_swatch


def add_boundaries(m: folium.Map, ctx: MapContext) -> None:
    """Draw the bundle's boundaries (city solid grey, counties lighter; dashed, unfilled).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context (its bounds grow by the boundaries').
    """
    b = ctx.bundle.boundaries
    if b is None or not len(b):
        return
    b = b[b.geometry.notna()].sort_values(["level", "name"], kind="stable") if "level" in b else b
    geoms = prep(b.geometry.values, ctx.fn, simplify_deg=1e-5)
    # tooltips set innerHTML: boundary names from the input file are escaped here; counties lighter
    props = [{"name": bdi(r.get("name", "")), "lc": "#888" if str(r.get("level", "")) == "county" else "#444",
              "lw": 1 if str(r.get("level", "")) == "county" else 2} for _, r in b.iterrows()]
    name = ctx.names["boundaries"]
    fg = folium.FeatureGroup(name=name, show=True)
    GeoLayer(feature_collection_json(geoms, props), style={"dashArray": "6 4", "fill": False},
             style_props={"color": "lc", "weight": "lw"}, tooltip=["name"]).add_to(fg)
    fg.add_to(m)
    ctx.bounds.append(total_bounds(geoms))
    ctx.add_legend(name, line_swatch("#444", 2, dash=True), tr("行政区划界线", "Administrative boundary", ctx.lang))
