"""Snapping points onto the street network by projection onto the nearest segment.

A point is moved perpendicularly onto the nearest street segment (not merely to the nearest
node); the straight access leg from the point to the street is walked/driven at the segment's
speed. Points farther than the snap limit are reported as unsnapped, never silently moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from carecover import settings
from carecover.network.spatial import segment_index
from carecover.network.streets import StreetNetwork


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
        """A new ``Snapped`` for a boolean mask or index array."""
        return Snapped(self.seg[mask_or_idx], self.frac[mask_or_idx], self.dist[mask_or_idx],
                       self.ok[mask_or_idx], self.on_dropped[mask_or_idx], self.x[mask_or_idx],
                       self.y[mask_or_idx], self.max_snap_m)

    def status(self) -> np.ndarray:
        """Per point: ``ok``, ``unsnapped`` or ``unsnapped_dropped_component``."""
        out = np.where(self.ok, "ok", "unsnapped").astype(object)
        out[~self.ok & self.on_dropped] = "unsnapped_dropped_component"
        return out


def _nearest(tree: shapely.STRtree, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest geometry per point, ties broken by the lowest index (deterministic)."""
    (ip, ig), d = tree.query_nearest(pts, all_matches=True, return_distance=True)
    order = np.lexsort((ig, ip))
    ip, ig, d = ip[order], ig[order], d[order]
    first = np.ones(len(ip), bool)
    first[1:] = ip[1:] != ip[:-1]
    seg = np.full(len(pts), -1, np.int64)
    dist = np.full(len(pts), np.inf)
    seg[ip[first]] = ig[first]
    dist[ip[first]] = d[first]
    return seg, dist


def snap_xy(net: StreetNetwork, x, y, max_snap_m: float | None = None) -> Snapped:
    """Snap projected coordinates (the network's CRS) to the nearest segment."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    limit = settings.max_snap_m if max_snap_m is None else float(max_snap_m)
    n = len(x)
    finite = np.isfinite(x) & np.isfinite(y)
    seg = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    if finite.any() and net.n_segments:
        s, d = _nearest(segment_index(net), shapely.points(x[finite], y[finite]))
        seg[finite], dist[finite] = s, d
    has = seg >= 0
    frac = np.zeros(n)
    a, b = net.seg_a[seg[has]], net.seg_b[seg[has]]
    ax, ay = net.node_x[a], net.node_y[a]
    dx, dy = net.node_x[b] - ax, net.node_y[b] - ay
    l2 = dx * dx + dy * dy
    t = ((x[has] - ax) * dx + (y[has] - ay) * dy) / np.where(l2 > 0, l2, 1.0)
    frac[has] = np.clip(t, 0.0, 1.0)
    # exact distance to the projected point (the tree's distance agrees up to rounding)
    px, py = ax + frac[has] * dx, ay + frac[has] * dy
    dist[has] = np.hypot(x[has] - px, y[has] - py)
    ok = has & (dist <= limit)
    on_dropped = np.zeros(n, bool)
    if len(net.dropped_segments) and finite.any():
        ds = net.dropped_segments
        lines = shapely.linestrings(np.stack([ds[:, :2], ds[:, 2:]], axis=1))
        dtree = shapely.STRtree(lines)
        _, dd = _nearest(dtree, shapely.points(x[finite], y[finite]))
        on_dropped[finite] = dd < dist[finite]
    return Snapped(seg, frac, dist, ok, on_dropped, x, y, limit)


def snap_lonlat(net: StreetNetwork, lon, lat, max_snap_m: float | None = None) -> Snapped:
    """Snap WGS-84 lon/lat arrays to the network."""
    x, y = net.project_lonlat(lon, lat)
    return snap_xy(net, x, y, max_snap_m)


def snap_points(net: StreetNetwork, gdf, max_snap_m: float | None = None) -> Snapped:
    """Snap the point geometries of a GeoDataFrame (any CRS; empty/None geometries unsnapped)."""
    geoms = gdf.geometry.to_crs(net.crs) if gdf.crs is not None else gdf.geometry
    g = geoms.values
    missing = shapely.is_missing(g) | shapely.is_empty(g)
    x = np.full(len(g), np.nan)
    y = np.full(len(g), np.nan)
    if (~missing).any():
        pts = shapely.get_coordinates(shapely.centroid(g[~missing]))
        x[~missing], y[~missing] = pts[:, 0], pts[:, 1]
    return snap_xy(net, x, y, max_snap_m)
