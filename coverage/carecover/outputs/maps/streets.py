"""The study area's own streets, light and under everything, so that the map orients its
reader when the basemap tiles do not load (offline, or a blocked tile server).

:func:`carecover.network.streetlines.street_lines` turns the routed network into a few merged,
simplified line layers (the plan puts them into ``PlanBundle.streets``); :func:`add_streets` draws
them on a canvas renderer (thousands of lines stay fast) and without interaction.
"""

from __future__ import annotations

import folium

from carecover.outputs.bundle import tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import prep
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json
from carecover.outputs.maps.style import STREET_COLOR, line_swatch

#: Line width (px) and opacity per class.
STREET_STYLE = {"major": (1.8, 0.75), "minor": (0.9, 0.6), "path": (0.6, 0.45)}


def add_streets(m: folium.Map, ctx: MapContext) -> None:
    """Draw ``bundle.streets`` (nothing when the bundle has none).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    """
    streets = ctx.bundle.streets
    if streets is None or not len(streets):
        return
    geoms = prep(streets.geometry.values, ctx.fn)
    props = [{"w": STREET_STYLE.get(k, (0.8, 0.5))[0], "o": STREET_STYLE.get(k, (0.8, 0.5))[1]}
             for k in streets["kind"].astype(str)]
    name = ctx.names["streets"]
    fg = folium.FeatureGroup(name=name, show=True)
    GeoLayer(feature_collection_json(geoms, props), style={"color": STREET_COLOR, "fill": False},
             style_props={"weight": "w", "opacity": "o"}, interactive=False, canvas=True).add_to(fg)
    fg.add_to(m)  # not in the initial view's bounds: the network reaches into the routing margin
    ctx.add_legend(name, line_swatch(STREET_COLOR, 1.5),
                   tr("街道（计算所用路网，已简化）", "Streets (the network routed on, simplified)", ctx.lang))
