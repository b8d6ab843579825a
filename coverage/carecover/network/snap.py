"""Snapping points onto the street network by projection onto the nearest segment.

A point is moved perpendicularly onto the nearest street segment (not merely to the nearest
node); the straight access leg from the point to the street is walked/driven at the segment's
speed. Points farther than the snap limit are reported as unsnapped, never silently moved.

The nearest segment is found with the network's spatial index
(:func:`carecover.network.spatial.segment_index`) or, for a handful of points on a network whose
index is not built yet (a what-if site in a meeting), by brute force; both give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from carecover import settings
from carecover.errors import InputError
from carecover.network.spatial import end_tree, has_segment_index, segment_index
from carecover.network.streets import StreetNetwork, project_onto_segments, segment_linestrings


@dataclass
class Snapped:
    """Positions of points on the network.

    Attributes
    ----------
    seg
        Index of the nearest segment (-1 when no segment exists at all).
    frac
        Position along the segment from its node ``a`` (0..1).
    dist
        Distance in metres from the point to the street (the access leg).
    ok
        True where ``dist <= max_snap_m``.
    on_dropped
        True where a segment dropped with a disconnected part lay nearer than the kept one.
    x, y
        Projected coordinates of the original points.
    max_snap_m
        The limit used.
    """

    seg: np.ndarray
    frac: np.ndarray
    dist: np.ndarray
    ok: np.ndarray
    on_dropped: np.ndarray
    x: np.ndarray
    y: np.ndarray
    max_snap_m: float

    def __len__(self) -> int:
        return len(self.seg)

    def subset(self, mask_or_idx) -> Snapped:
        """The positions of some of the points.

        Parameters
        ----------
        mask_or_idx
            Boolean mask or index array over the points.

        Returns
        -------
        Snapped
            A new object (arrays copied by the indexing).
        """
        return Snapped(self.seg[mask_or_idx], self.frac[mask_or_idx], self.dist[mask_or_idx],
                       self.ok[mask_or_idx], self.on_dropped[mask_or_idx], self.x[mask_or_idx],
                       self.y[mask_or_idx], self.max_snap_m)

    def status(self) -> np.ndarray:
        """Snapping status per point.

        Returns
        -------
        numpy.ndarray
            Object array of ``ok``, ``unsnapped`` or ``unsnapped_dropped_component``.
        """
        out = np.where(self.ok, "ok", "unsnapped").astype(object)
        out[~self.ok & self.on_dropped] = "unsnapped_dropped_component"
        return out


#: With ``method="auto"``, up to this many points are snapped by brute force while the network
#: has no spatial index yet (building the index costs more than a brute-force pass per point).
BRUTE_MAX_POINTS = 16

#: Segments within this many metres of the nearest (by numpy's distance) are handed to GEOS to
#: decide, as the index does: the two distances differ in the last bits, far below this margin.
_NEAR_TIE_M = 1e-3

METHODS = ("auto", "index", "brute")


def _first_per_point(n: int, ip: np.ndarray, ig: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point ``ip``, the pair of least distance ``d`` (lowest ``ig`` among equals)."""
    order = np.lexsort((ig, d, ip))
    ip, ig, d = ip[order], ig[order], d[order]
    first = np.ones(len(ip), bool)
    first[1:] = ip[1:] != ip[:-1]
    seg = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    seg[ip[first]] = ig[first]
    dist[ip[first]] = d[first]
    return seg, dist


def _nearest_bounded(tree: shapely.STRtree, ends: np.ndarray, corners, x: np.ndarray,
                     y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`_nearest` gives on ``tree`` (the lines of the segments ``ends``, ``k × 4``),
    found faster: the nearest segment end (``corners``, a KD-tree of them) bounds the distance, the
    segments whose boxes lie within that bound are measured with numpy, and GEOS measures the
    few within :data:`_NEAR_TIE_M` of the least, as the tree would (same segment, same distance)."""
    bound, _ = corners.query(np.column_stack([x, y]))
    r = bound * (1 + 1e-9) + 1e-6  # every segment with a GEOS distance up to the bound, and more
    ip, ig = tree.query(shapely.box(x - r, y - r, x + r, y + r))
    x0, y0, x1, y1 = (c[ig] for c in ends.T)
    dx, dy = x1 - x0, y1 - y0
    l2 = dx * dx + dy * dy
    px, py = x[ip], y[ip]
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / np.where(l2 > 0, l2, 1.0), 0.0, 1.0)
    d = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
    least = np.full(len(x), np.inf)
    np.minimum.at(least, ip, d)
    near = d <= least[ip] + _NEAR_TIE_M
    ip, ig = ip[near], ig[near]
    g = shapely.distance(shapely.points(x[ip], y[ip]), tree.geometries[ig])
    return _first_per_point(len(x), ip, ig, g)


def _nearest_brute(ends: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`_nearest` gives on a tree of the segments ``ends`` (``k × 4``: x0, y0, x1, y1),
    without building the tree: one vectorised pass over all segments per point."""
    x0, y0, x1, y1 = ends.T
    dx, dy = x1 - x0, y1 - y0
    l2 = dx * dx + dy * dy
    safe = np.where(l2 > 0, l2, 1.0)
    seg = np.full(len(x), -1, np.int64)
    dist = np.full(len(x), np.inf)
    for i in range(len(x)):
        t = np.clip(((x[i] - x0) * dx + (y[i] - y0) * dy) / safe, 0.0, 1.0)
        d = np.hypot(x[i] - (x0 + t * dx), y[i] - (y0 + t * dy))
        # the tree ranks by GEOS distance: let GEOS rank the few near-ties the same way
        near = np.flatnonzero(d <= d.min() + _NEAR_TIE_M)
        g = shapely.distance(shapely.Point(x[i], y[i]),
                             segment_linestrings(x0[near], y0[near], x1[near], y1[near]))
        k = int(np.argmin(g))  # the first minimum: the lowest index among equals
        seg[i], dist[i] = near[k], g[k]
    return seg, dist


def _segment_ends(net: StreetNetwork) -> np.ndarray:
    a, b = net.seg_a, net.seg_b
    return np.column_stack([net.node_x[a], net.node_y[a], net.node_x[b], net.node_y[b]])


def _nearer_dropped(ds: np.ndarray, x: np.ndarray, y: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Whether a dropped segment (``ds``, ``k × 4``) lies nearer to each point than ``dist``: the
    distance is measured (as :func:`_nearest_bounded` does) only for the points that have a
    dropped segment's box within ``dist``; every other dropped segment is farther."""
    tree = shapely.STRtree(segment_linestrings(ds[:, 0], ds[:, 1], ds[:, 2], ds[:, 3]))
    cand = ~np.isfinite(dist)
    fin = np.flatnonzero(~cand)
    r = dist[fin] * (1 + 1e-9) + 1e-6
    hit, _ = tree.query(shapely.box(x[fin] - r, y[fin] - r, x[fin] + r, y[fin] + r))
    cand[fin[hit]] = True
    out = np.zeros(len(x), bool)
    if cand.any():
        from scipy.spatial import cKDTree

        ends = cKDTree(np.concatenate([ds[:, :2], ds[:, 2:]]))
        _, dd = _nearest_bounded(tree, ds, ends, x[cand], y[cand])
        out[cand] = dd < dist[cand]
    return out


def _by_index(net: StreetNetwork, n_points: int, method: str) -> bool:
    if method not in METHODS:
        raise InputError(f"unknown snapping method {method!r}", field="method",
                         expected=", ".join(METHODS))
    if method == "auto":
        return has_segment_index(net) or n_points > BRUTE_MAX_POINTS
    return method == "index"


def snap_xy(net: StreetNetwork, x, y, max_snap_m: float | None = None, *,
            method: str = "auto") -> Snapped:
    """Snap projected coordinates (the network's CRS) to the nearest segment.

    Parameters
    ----------
    net
        The network.
    x, y
        Array-likes of coordinates in ``net.crs``; non-finite points are left unsnapped.
    max_snap_m
        Snap limit in metres; default ``settings.max_snap_m``.
    method
        ``"index"``: query the network's spatial index (:func:`~carecover.network.spatial.segment_index`,
        built on first use). ``"brute"``: one pass over all segments per point, no index (cheaper
        for a handful of points on a city network). ``"auto"`` (default): the index if it exists
        or for more than :data:`BRUTE_MAX_POINTS` points, brute force otherwise. All give the same
        result: the nearest segment (lowest index among equally near ones), the exact projection
        onto it, and whether a dropped part lay nearer.

    Returns
    -------
    Snapped
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    limit = settings.max_snap_m if max_snap_m is None else float(max_snap_m)
    n = len(x)
    finite = np.isfinite(x) & np.isfinite(y)
    fx, fy = x[finite], y[finite]
    index = _by_index(net, len(fx), method)
    seg = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    if finite.any() and net.n_segments:
        ends = _segment_ends(net)
        seg[finite], dist[finite] = (_nearest_bounded(segment_index(net), ends, end_tree(net), fx, fy)
                                     if index else _nearest_brute(ends, fx, fy))
    has = seg >= 0
    frac = np.zeros(n)
    # exact distance to the projected point (the nearest search's distance agrees up to rounding)
    frac[has], dist[has] = project_onto_segments(net, seg[has], x[has], y[has])
    ok = has & (dist <= limit)
    on_dropped = np.zeros(n, bool)
    ds = net.dropped_segments
    if len(ds) and finite.any():
        if index:
            on_dropped[finite] = _nearer_dropped(ds, fx, fy, dist[finite])
        else:
            _, dd = _nearest_brute(ds, fx, fy)
            on_dropped[finite] = dd < dist[finite]
    return Snapped(seg, frac, dist, ok, on_dropped, x, y, limit)


def snap_lonlat(net: StreetNetwork, lon, lat, max_snap_m: float | None = None, *,
                method: str = "auto") -> Snapped:
    """Snap WGS-84 lon/lat arrays to the network.

    Parameters
    ----------
    net
        The network.
    lon, lat
        Array-likes of degrees.
    max_snap_m, method
        As for :func:`snap_xy`.

    Returns
    -------
    Snapped
    """
    x, y = net.project_lonlat(lon, lat)
    return snap_xy(net, x, y, max_snap_m, method=method)


def snap_points(net: StreetNetwork, gdf, max_snap_m: float | None = None, *,
                method: str = "auto") -> Snapped:
    """Snap the geometries of a GeoDataFrame (their centroids) to the network.

    Parameters
    ----------
    net
        The network.
    gdf
        GeoDataFrame in any CRS (none: taken as ``net.crs``); empty/None geometries are unsnapped.
    max_snap_m, method
        As for :func:`snap_xy`.

    Returns
    -------
    Snapped
    """
    x, y = points_xy(net, gdf)
    return snap_xy(net, x, y, max_snap_m, method=method)


def points_xy(net: StreetNetwork, gdf) -> tuple[np.ndarray, np.ndarray]:
    """Projected coordinates (``net.crs``) of a GeoDataFrame's geometries (their centroids).

    Parameters
    ----------
    net
        The network.
    gdf
        GeoDataFrame in any CRS (none: taken as ``net.crs``).

    Returns
    -------
    (x, y)
        ``nan`` where a geometry is missing or empty.
    """
    geoms = gdf.geometry.to_crs(net.crs) if gdf.crs is not None else gdf.geometry
    g = geoms.values
    missing = shapely.is_missing(g) | shapely.is_empty(g)
    x = np.full(len(g), np.nan)
    y = np.full(len(g), np.nan)
    if (~missing).any():
        pts = shapely.get_coordinates(shapely.centroid(g[~missing]))
        x[~missing], y[~missing] = pts[:, 0], pts[:, 1]
    return x, y
