"""The study area's streets as plain lines, for pictures drawn without basemap tiles (the
report's static overview map): the walking network's segments, the largest street classes kept
first when there are more than a picture needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

if TYPE_CHECKING:
    from carecover.network.streets import StreetNetwork

#: Street classes from the most to the least prominent (``_link`` counts as its road).
CLASS_ORDER = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
               "living_street", "pedestrian", "service", "road", "track", "footway", "path", "cycleway",
               "bridleway", "steps", "corridor")

#: Most segments kept (a city of a million segments draws in seconds with this many).
MAX_SEGMENTS = 100_000


def street_lines(net: StreetNetwork, max_segments: int = MAX_SEGMENTS) -> gpd.GeoDataFrame:
    """The network's segments as lines in EPSG:4326, thinned by street class.

    Parameters
    ----------
    net
        A street network (projected CRS).
    max_segments
        Most segments kept: the most prominent classes first (:data:`CLASS_ORDER`), ties in
        network order, so equal networks give equal lines.

    Returns
    -------
    GeoDataFrame
        ``highway`` and a two-point LineString per segment (coordinates rounded to 1e-6°, about
        0.1 m), EPSG:4326.
    """
    hw = pd.Series(np.asarray(net.seg_highway).astype(str))
    keep = np.arange(len(hw))
    if len(hw) > max_segments:
        base = hw.str.removesuffix("_link")
        rank = base.map({c: i for i, c in enumerate(CLASS_ORDER)}).fillna(len(CLASS_ORDER)).to_numpy()
        keep = np.sort(np.lexsort((keep, rank))[:max_segments])
    a, b = np.asarray(net.seg_a)[keep], np.asarray(net.seg_b)[keep]
    to_wgs = Transformer.from_crs(net.crs, 4326, always_xy=True)
    xa, ya = to_wgs.transform(np.asarray(net.node_x)[a], np.asarray(net.node_y)[a])
    xb, yb = to_wgs.transform(np.asarray(net.node_x)[b], np.asarray(net.node_y)[b])
    coords = np.round(np.stack([np.column_stack([xa, ya]), np.column_stack([xb, yb])], axis=1), 6)
    lines = shapely.linestrings(coords) if len(keep) else np.array([], dtype=object)
    return gpd.GeoDataFrame({"highway": hw.to_numpy()[keep]}, geometry=lines, crs=4326)
