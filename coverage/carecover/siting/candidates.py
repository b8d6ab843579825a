"""Candidate sites for new centres: street junctions or a parcels file, and their constraints.

Candidates are street junctions (degree ≥ 3) thinned on a grid to at most ``max_candidates``,
or the parcels of a candidates file; both restricted to the planned region and optionally to
a minimum distance from existing facilities. With unit boundaries, at most one new centre per
unit that lacks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from carecover import notices
from carecover.network import StreetNetwork
from carecover.network.snap import Snapped
from carecover.tiers import Tier


@dataclass(frozen=True)
class Candidates:
    """Candidate sites of one tier.

    Attributes
    ----------
    x, y
        Projected positions (the tier network's CRS).
    lon, lat
        WGS-84 positions.
    node
        Network node index of each candidate (-1 for candidates from a file).
    ids
        ``node/<osm id>`` for junctions, the file's id for parcels.
    """

    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    node: np.ndarray
    ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.x)


def far_from(x: np.ndarray, y: np.ndarray, existing_xy: np.ndarray, min_dist: float | None) -> np.ndarray:
    """Mask of points at least ``min_dist`` from every existing facility."""
    if not min_dist or not len(existing_xy) or not len(x):
        return np.ones(len(x), bool)
    d, _ = cKDTree(existing_xy).query(np.column_stack([x, y]))
    return d >= min_dist


def _thin(x: np.ndarray, y: np.ndarray, most: int) -> np.ndarray:
    """Indices of at most ``most`` points, one per grid cell (the cell grows until they fit)."""
    if len(x) <= most:
        return np.arange(len(x))
    area = (x.max() - x.min() + 1) * (y.max() - y.min() + 1)
    cell = np.sqrt(area / most)
    for _ in range(20):
        key = np.floor((x - x.min()) / cell).astype(np.int64) * 1_000_003 + np.floor((y - y.min()) / cell).astype(np.int64)
        _, first = np.unique(key, return_index=True)
        if len(first) <= most:
            break
        cell *= 1.15
    return np.sort(first)


def junctions(net: StreetNetwork, region, most: int, existing_xy: np.ndarray,
              min_dist: float | None) -> Candidates:
    """Street junctions (degree ≥ 3) inside ``region``, far enough from existing facilities,
    thinned on a grid to at most ``most``.

    Parameters
    ----------
    net
        The tier's network.
    region
        WGS-84 polygon of the planned region, or ``None`` for everywhere.
    most
        Most candidates.
    existing_xy
        Projected positions of the existing facilities, shape (n, 2).
    min_dist
        Minimum distance (m) from every existing facility, or ``None``.
    """
    deg = np.bincount(np.concatenate([net.seg_a, net.seg_b]), minlength=net.n_nodes)
    idx = np.flatnonzero(deg >= 3)
    if region is not None:
        lon, lat = net.to_wgs84().transform(net.node_x[idx], net.node_y[idx])
        idx = idx[shapely.contains_xy(region, lon, lat)]
    idx = idx[far_from(net.node_x[idx], net.node_y[idx], existing_xy, min_dist)]
    n_junctions = len(idx)
    idx = idx[_thin(net.node_x[idx], net.node_y[idx], most)]
    if len(idx) < n_junctions:  # a reduction of the input is a finding, not a silent default
        notices.warn("reduced_input", f"候选路口 {n_junctions:,} 个按网格抽稀为 {len(idx):,} 个（上限 {most:,}）/ "
                     f"{n_junctions:,} candidate junctions thinned on a grid to {len(idx):,} (limit {most:,}; "
                     "raise it with --max-candidates)", kind="reduction", field="--max-candidates", value=most)
    x, y = net.node_x[idx], net.node_y[idx]
    lon, lat = net.to_wgs84().transform(x, y)
    return Candidates(x, y, np.asarray(lon), np.asarray(lat), idx.astype(np.int64),
                      tuple(f"node/{int(net.node_id[c])}" for c in idx))


def from_file(net: StreetNetwork, lon: np.ndarray, lat: np.ndarray, ids, region, existing_xy: np.ndarray,
              min_dist: float | None) -> Candidates:
    """Parcels of a candidates file inside ``region`` and far enough from existing facilities.

    Parameters
    ----------
    net
        The tier's network (its CRS for the projected positions).
    lon, lat
        WGS-84 positions of the parcels.
    ids
        The file's id of each parcel.
    region
        WGS-84 polygon of the planned region, or ``None`` for everywhere.
    existing_xy
        Projected positions of the existing facilities, shape (n, 2).
    min_dist
        Minimum distance (m) from every existing facility, or ``None``.
    """
    keep = np.ones(len(lon), bool) if region is None else shapely.contains_xy(region, lon, lat)
    x, y = net.project_lonlat(lon, lat)
    x, y = np.asarray(x), np.asarray(y)
    keep &= far_from(x, y, existing_xy, min_dist)
    x, y = x[keep], y[keep]
    lon2, lat2 = net.to_wgs84().transform(x, y)
    return Candidates(x, y, np.asarray(lon2), np.asarray(lat2), np.full(int(keep.sum()), -1, np.int64),
                      tuple(i for i, k in zip(ids, keep, strict=True) if k))


def unit_groups(units: Mapping[str, gpd.GeoDataFrame], tier: Tier, cand: Candidates, net: StreetNetwork,
                sources: Snapped) -> tuple[np.ndarray | None, dict | None]:
    """At most one new centre per unit that lacks one (e.g. one township centre per township
    without a centre), when that tier's unit boundaries were given with ``--units``.

    Returns
    -------
    (groups, caps)
        The unit of each candidate ("" outside every unit) and the cap per unit (0 where a
        centre exists or outside every unit, else 1); ``(None, None)`` without boundaries.
    """
    frame = units.get(tier.unit) if tier.unit else None
    if frame is None:
        return None, None
    names = frame["name"].astype(str).to_numpy()
    groups = np.full(len(cand), "", dtype=object)
    for name, geom in zip(names, frame.geometry, strict=True):
        groups[shapely.contains_xy(geom, cand.lon, cand.lat) & (groups == "")] = name
    fx, fy = net.to_wgs84().transform(sources.x[sources.ok], sources.y[sources.ok])
    has = {name for name, geom in zip(names, frame.geometry, strict=True)
           if len(fx) and shapely.contains_xy(geom, fx, fy).any()}
    caps = {n: (0 if n in has else 1) for n in names}
    caps[""] = 0  # outside every unit
    return groups, caps


def county_of(county_geoms: Mapping[str, object], lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """County holding each point (the first by name where two overlap; "" when none).

    Parameters
    ----------
    county_geoms
        ``{county name: WGS-84 polygon}``.
    lon, lat
        WGS-84 points.
    """
    out = [""] * len(lon)
    for name, g in sorted(county_geoms.items()):
        for i in np.flatnonzero(shapely.contains_xy(g, lon, lat)):
            if not out[i]:
                out[i] = name
    return out
