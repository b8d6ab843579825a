"""Place names from the street network: the named OSM streets nearest a point, so a gap or a
suggested site can be called "华侨路、石鼓路" instead of an id."""

from __future__ import annotations

import numpy as np
import shapely

from carecover.network.spatial import segment_index
from carecover.network.streets import StreetNetwork

__all__ = ["NAME_SEARCH_M", "nearest_street_names", "place_names"]

#: How far from a point named streets are looked for.
NAME_SEARCH_M = 400.0


def nearest_street_names(net: StreetNetwork, lon, lat, k: int = 2,
                         radius_m: float = NAME_SEARCH_M) -> list[list[str]]:
    """The ``k`` distinct named streets nearest each point, nearest first.

    Parameters
    ----------
    net
        A network with way names (:attr:`StreetNetwork.seg_name`).
    lon, lat
        WGS-84 coordinates of the points.
    k
        Most names per point.
    radius_m
        Search radius (m); a point with no named street this close gets no name.

    Returns
    -------
    list of list of str
        One list per point (empty when the network has no names, or none is near).
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    out: list[list[str]] = [[] for _ in range(len(lon))]
    if net.seg_name is None or not len(lon) or net.n_segments == 0:
        return out
    x, y = net.from_wgs84().transform(lon, lat)
    pts = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    tree = segment_index(net)
    names = net.segment_names()
    i, j = tree.query(shapely.buffer(pts, radius_m, quad_segs=4), predicate="intersects")
    keep = names[j] != ""
    i, j = i[keep], j[keep]
    if not len(i):
        return out
    d = shapely.distance(pts[i], tree.geometries.take(j))
    order = np.lexsort((j, d, i))  # per point, nearest first; ties by segment for determinism
    for a, b in zip(i[order].tolist(), j[order].tolist(), strict=True):
        name = str(names[b])
        if len(out[a]) < k and name not in out[a]:
            out[a].append(name)
    return out


def place_names(net: StreetNetwork | None, lon, lat, k: int = 2) -> list[str]:
    """:func:`nearest_street_names` joined with ``、`` ("" where none; all "" without a network)."""
    n = len(np.atleast_1d(lon))
    if net is None:
        return [""] * n
    return ["、".join(names) for names in nearest_street_names(net, lon, lat, k)]
