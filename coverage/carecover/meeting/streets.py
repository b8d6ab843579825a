"""The study area's streets for the meeting page: the light street layer of the maps
(:func:`carecover.network.streetlines.street_lines`, simplified harder) as one GeoJSON, drawn on
a canvas under the demand points so that the page reads without basemap tiles (offline, the
default).

The lines come from the warm network of the tier (the one new points are routed on); tiers of
one travel mode share it, so :class:`StreetLayers` builds each mode's layer once, on first
request and outside the room's lock (the tiers keep answering meanwhile).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from carecover.meeting.room import TierRoom
    from carecover.network.streets import StreetNetwork

__all__ = ["MEET_STREET_VERTICES", "StreetLayers", "streets_geojson"]

#: Most vertices of a meeting page's street layer (the maps allow more: the page also carries
#: the demand points and answers clicks).
MEET_STREET_VERTICES = 60_000
#: Decimals of the coordinates sent (1e-5° ≈ 1 m).
DECIMALS = 5


def streets_geojson(net: StreetNetwork, max_vertices: int = MEET_STREET_VERTICES) -> dict:
    """The network's streets as a GeoJSON FeatureCollection (WGS-84): one MultiLineString per
    street class (``properties.kind``: major, minor, path) with the maps' line style.

    Parameters
    ----------
    net
        The routed network.
    max_vertices
        Most vertices over all classes (:func:`~carecover.network.streetlines.street_lines`).

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...], "color": ..., "vertices": n}``;
        each feature's properties hold ``kind``, ``weight`` (px) and ``opacity``.
    """
    import shapely

    from carecover.network.streetlines import street_lines
    from carecover.outputs.maps.streets import STREET_STYLE
    from carecover.outputs.maps.style import STREET_COLOR

    lines = street_lines(net, max_vertices)
    features, total = [], 0
    for kind, geom in zip(lines["kind"].astype(str), lines.geometry.values, strict=True):
        parts = [np.round(shapely.get_coordinates(g), DECIMALS) for g in shapely.get_parts(geom)]
        parts = [p for p in parts if len(p) >= 2]
        total += sum(len(p) for p in parts)
        weight, opacity = STREET_STYLE.get(kind, (0.8, 0.5))
        features.append({"type": "Feature", "properties": {"kind": kind, "weight": weight, "opacity": opacity},
                         "geometry": {"type": "MultiLineString", "coordinates": [p.tolist() for p in parts]}})
    return {"type": "FeatureCollection", "features": features, "color": STREET_COLOR, "vertices": total}


class StreetLayers:
    """Each travel mode's street layer, built once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._layers: dict[str, dict] = {}

    def of(self, t: TierRoom) -> dict:
        """The street layer of a tier's network (built on first call for its mode)."""
        mode = str(t.state.mode or t.state.tier)
        with self._lock:  # one build per mode; other tiers' requests wait only for this one
            if mode not in self._layers:
                self._layers[mode] = streets_geojson(t.state.network())
            return self._layers[mode]
