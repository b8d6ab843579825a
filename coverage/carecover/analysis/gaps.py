"""Uncovered areas (服务盲区): uncovered demand points grouped into ranked gap zones.

Uncovered demand points with people in them are joined by single linkage: two points closer than
``link_m`` (projected metres) belong to the same zone. For a raster grid use about 1.5 × the cell
size so the 8 neighbours of a cell join. Zones are ranked by uncovered elderly, then population,
then smallest ``cell_id`` (deterministic).

With ``split_m`` (the tier's reach, e.g. 15 min × 1.0 m/s = 900 m) a zone too wide for one centre
is cut into parts one centre could serve: square tiles of side ``split_m × √2`` (every point of a
tile lies within ``split_m`` of its centre), anchored at the zone's south-west corner, one part
per tile. "Everything south of the centre" becomes pieces a planner can site one centre in each.

A zone's polygon (``hull``) is the union of its cells when the demand points are the centres of a
regular grid in the demand's CRS (a population raster read as is: ``pixel_size`` given), drawn
in one pass over the grid of zone labels (``rasterio.features.shapes``); otherwise the union of
its points' own cells: the Voronoi cell of each uncovered point among every covered and
uncovered point, cut to a disc of ``link_m / 2`` around it. Either way a zone's outline holds
no covered point, so the map never draws a gap over covered people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from carecover.analysis.gap_outlines import grid_outlines, own_cell_outlines
from carecover.errors import InputError

__all__ = ["find_gaps", "gap_members", "GapResult", "GAP_COLUMNS"]

#: Columns of the gap-zone table, in order (``geometry`` is the representative point).
GAP_COLUMNS = [
    "gap_id", "n_cells", "pop", "elderly", "area_m2", "county", "time_to_nearest_s",
    "min_cell_id", "rep_cell_id", "geometry", "hull",
]



@dataclass(frozen=True)
class GapResult:
    """Gap zones of one tier.

    Attributes
    ----------
    zones
        One row per zone, columns :data:`GAP_COLUMNS` (``geometry`` the representative point,
        ``hull`` the zone polygon), in the demand's CRS, ranked (``gap_id`` 1 = most uncovered
        elderly).
    member
        Per demand point (input order): its ``gap_id``, 0 outside every gap.
    info
        ``link_m``, ``hull_buffer_m``, ``work_crs``, the point counts (``n_points``,
        ``n_covered``, ``n_gap_points``, ``n_no_population``) and how the zone polygons were
        drawn (``hull``: ``cells``, ``buffers`` or ``none``).
    """

    zones: gpd.GeoDataFrame
    member: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.zones)


_REQUIRED = ("cell_id", "pop", "elderly", "time_s", "covered")

#: Zones up to this size get an exact elderly-weighted medoid; larger ones a close approximation.
_EXACT_MEDOID_MAX = 3000
#: Zones up to this size have every member's cost evaluated at once (cheaper than the pruned search).
_ALL_COSTS_MAX = 400


def _validate(demand: gpd.GeoDataFrame, link_m: float) -> None:
    if not isinstance(demand, gpd.GeoDataFrame):
        raise InputError("demand must be a GeoDataFrame / 需求点须为 GeoDataFrame", field="demand",
                         expected="GeoDataFrame")
    missing = [c for c in _REQUIRED if c not in demand.columns]
    if missing:
        raise InputError(f"demand lacks column(s) {missing} / 需求点缺少字段 {missing}",
                         field=missing[0], expected=", ".join(_REQUIRED))
    if demand.crs is None:
        raise InputError("demand has no CRS / 需求点未设置坐标参考系", field="geometry",
                         expected="EPSG:4326 or a projected CRS")
    if not (np.isfinite(link_m) and link_m > 0):
        raise InputError(f"link_m must be > 0, got {link_m} / 连接距离须大于 0", field="link_m",
                         expected="> 0 metres")
    if demand["cell_id"].duplicated().any():
        dup = demand.loc[demand["cell_id"].duplicated(), "cell_id"].iloc[0]
        raise InputError(f"duplicate cell_id {dup} / cell_id 重复", field="cell_id",
                         expected="unique ids")
    geom = np.asarray(demand.geometry.values)
    bad = (shapely.get_type_id(geom) != shapely.GeometryType.POINT) | shapely.is_empty(geom)  # missing: -1
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"demand geometry {i} is not a point / 第 {i} 个需求点几何不是点",
                         field="geometry", expected="Point")
    cov = demand["covered"]
    if cov.dtype != bool and (cov.isna().any() or not set(pd.unique(cov.astype(object))) <= {True, False}):
        # 0/1 compare equal to False/True
        raise InputError("covered must be true/false for every point / covered 字段须为布尔值",
                         field="covered", expected="bool")
    for col in ("pop", "elderly"):
        v = demand[col].to_numpy(dtype=float)
        if np.any(~np.isfinite(v)) or np.any(v < 0):
            raise InputError(f"{col} must be finite and >= 0 / {col} 须为非负有限数", field=col,
                             expected="finite >= 0")


def _work_crs(demand: gpd.GeoDataFrame):
    """Projected CRS for distances: the demand's own if projected, else its UTM zone."""
    return demand.crs if demand.crs.is_projected else demand.estimate_utm_crs()


def _projected(points, crs, work) -> np.ndarray:
    """Coordinates of ``points`` in the work CRS (what ``GeoSeries.to_crs`` gives, without
    building new geometries)."""
    from pyproj import Transformer

    xy = shapely.get_coordinates(points) if len(points) else np.zeros((0, 2))
    if not len(xy) or crs == work:
        return xy
    x, y = Transformer.from_crs(crs, work, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _split(xy: np.ndarray, lab: np.ndarray, split_m: float | None) -> np.ndarray:
    """Zone labels with every zone wider than one tile (side ``split_m × √2``) cut into one part
    per tile, anchored at the zone's own south-west corner; other zones keep their label."""
    if split_m is None or not len(xy) or not (np.isfinite(split_m) and split_m > 0):
        return lab
    side = float(split_m) * np.sqrt(2.0)
    order = np.argsort(lab, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(lab[order]) != 0])
    lo = np.minimum.reduceat(xy[order], starts, axis=0)
    hi = np.maximum.reduceat(xy[order], starts, axis=0)
    zone = np.searchsorted(lab[order][starts], lab)
    tile = np.floor((xy - lo[zone]) / side).astype(np.int64)
    wide = ((hi - lo) > side).any(axis=1)[zone]
    tile[~wide] = 0
    # one integer per (label, tile column, tile row), in the same order as the triples
    span = tile.max(axis=0) + 1
    key = (lab * span[0] + tile[:, 0]) * span[1] + tile[:, 1]
    return np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)


def _labels(xy: np.ndarray, link_m: float) -> np.ndarray:
    """Single-linkage component labels of points within ``link_m`` of each other."""
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    g = coo_matrix((np.ones(len(pairs), dtype=bool), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64)


def _costs(xy: np.ndarray, w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Σ w·distance from each point ``rows`` (an array of coordinates) to all of ``xy``."""
    n = len(xy)
    out = np.empty(len(rows))
    # blocks of rows small enough to stay in cache (a multiple of 4 rows)
    step = max(4, min(512, (1 << 21) // max(1, n) // 4 * 4))
    for s in range(0, len(rows), step):
        out[s:s + step] = cdist(rows[s:s + step], xy) @ w
    return out


def _weiszfeld(xy: np.ndarray, w: np.ndarray, iterations: int = 12) -> np.ndarray:
    """A point near the weighted geometric median (Weiszfeld's iteration from the centroid)."""
    x = (xy * w[:, None]).sum(0) / w.sum()
    for _ in range(iterations):
        d = np.maximum(np.hypot(*(xy - x).T), 1e-9)
        q = w / d
        x = (xy * q[:, None]).sum(0) / q.sum()
    return x


def _grouped(xy: np.ndarray, w: np.ndarray, centre: np.ndarray, s: float,
             div: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Points merged into weighted centroids, finer near ``centre``: exact within 2·``s``,
    then on grids of cell 2^k·s/``div`` for the points 2^k·s to 2^(k+1)·s away.

    Σ_i w_i·|q − p_i| ≥ W_g·|q − c_g| within each group (triangle inequality), so the cost of
    the groups is a lower bound of the cost of the points at any q; close to it for q near the
    centre, because every group is small against its distance from there.
    """
    keep = w > 0
    xy, w = xy[keep], w[keep]
    d = np.hypot(*(xy - centre).T)
    level = np.floor(np.log2(np.maximum(d / s, 1.0))).astype(np.int64)
    cell = np.exp2(level) * s / div
    gx = np.floor((xy[:, 0] - centre[0]) / cell).astype(np.int64) + (1 << 19)
    gy = np.floor((xy[:, 1] - centre[1]) / cell).astype(np.int64) + (1 << 19)
    key = np.where(d < 2 * s, -1 - np.arange(len(xy)), (level << 40) + (gx << 20) + gy)
    _, g = np.unique(key, return_inverse=True)
    gw = np.bincount(g, w)
    gxy = np.column_stack([np.bincount(g, w * xy[:, 0]), np.bincount(g, w * xy[:, 1])]) / gw[:, None]
    return gxy, gw


def _outside_bound(xy: np.ndarray, w: np.ndarray, centre: np.ndarray, f_centre: float, s: float,
                   samples: int = 256) -> float:
    """A lower bound of Σ w·distance at every point at least ``s`` from ``centre``.

    The cost is convex and Lipschitz with constant Σ w. On a circle of radius ``s`` it is at
    least the smallest lower bound (:func:`_grouped`) of ``samples`` points spread on it minus
    Σ w times the largest distance to the nearest of them. If the centre costs no more than
    that, no point outside the circle costs less: the circle point between it and the centre
    would lie above the chord of a convex function. Returns ``-inf`` when the centre costs more.
    """
    gxy, gw = _grouped(xy, w, centre, s)
    a = 2 * np.pi * np.arange(samples) / samples
    ring = centre + s * np.column_stack([np.cos(a), np.sin(a)])
    low = _costs(gxy, gw, ring).min() - gw.sum() * s * np.pi / samples
    low -= 1e-9 * abs(low) + 1e-9  # rounding of the sums
    return low if f_centre <= low else -np.inf


def _medoid(xy: np.ndarray, w: np.ndarray, ids: np.ndarray) -> int:
    """Index (into ``xy``) of the weighted medoid: the member minimising Σ w·distance.

    Ties go to the smallest id. Zones up to ``_ALL_COSTS_MAX`` evaluate every member; larger ones
    search outwards from the geometric median. Zones larger than ``_EXACT_MEDOID_MAX`` evaluate only the 256
    members nearest to the weighted centroid (the medoid lies close to it). Either way members
    are evaluated only until a lower bound shows the others cost more than the best so far
    (beyond the tie tolerance): the same medoid as evaluating every one, at a fraction of the work.
    """
    n = len(xy)
    if n == 1:
        return 0
    if w.sum() <= 0:
        w = np.ones(n)
    if n <= _ALL_COSTS_MAX:
        cost = _costs(xy, w, xy)
        tie = np.flatnonzero(cost <= cost.min() * (1 + 1e-12) + 1e-9)
        return int(tie[np.argmin(ids[tie])])
    centre = _weiszfeld(xy, w)
    if n > _EXACT_MEDOID_MAX:
        c = (xy * w[:, None]).sum(0) / w.sum()
        cand, cost = _few_costs(xy, w, np.argsort(np.hypot(*(xy - c).T), kind="stable")[:256], centre)
    else:
        cand, cost = _outward_costs(xy, w, centre)
    best = cost.min()
    tie = cand[cost <= best * (1 + 1e-12) + 1e-9]
    return int(tie[np.argmin(ids[tie])])


def _outward_costs(xy: np.ndarray, w: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every member's cost, evaluated outwards from ``centre`` until the convexity bound
    (:func:`_outside_bound`) shows that every member further out costs more (those: ``inf``)."""
    r = np.hypot(*(xy - centre).T)
    cand = np.argsort(r, kind="stable")
    r = r[cand]
    f_centre = float(_costs(xy, w, centre[None])[0])
    cost = np.full(cand.size, np.inf)
    done, k = 0, 32
    while done < cand.size:
        # every candidate within the radius of the k-th nearest (ties included)
        end = int(np.searchsorted(r, r[min(k, cand.size) - 1], side="right"))
        cost[done:end] = _costs(xy, w, xy[cand[done:end]])
        done, k = end, 4 * k
        best = cost[:done].min()
        if done < cand.size and _outside_bound(xy, w, centre, f_centre, r[done - 1]) > best * (1 + 1e-12) + 1e-9:
            break
    return cand, cost


def _few_costs(xy: np.ndarray, w: np.ndarray, cand: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The costs of the candidates ``cand``, evaluated in the order of a cheap lower bound (the
    cost of the points merged into groups, :func:`_grouped`) until the next bound exceeds the
    best cost found (those left: ``inf``)."""
    r = np.sort(np.hypot(*(xy[cand] - centre).T))
    gxy, gw = _grouped(xy, w, centre, max(float(r[min(31, len(r) - 1)]), 1.0))
    low = _costs(gxy, gw, xy[cand])
    low -= 1e-9 * np.abs(low) + 1e-9  # rounding of the sums
    order = np.argsort(low, kind="stable")
    cost = np.full(cand.size, np.inf)
    for s in range(0, cand.size, 16):
        blk = order[s:s + 16]
        cost[blk] = _costs(xy, w, xy[cand[blk]])
        if s + 16 < cand.size and low[order[s + 16]] > cost.min() * (1 + 1e-12) + 1e-9:
            break
    return cand, cost


def _gap_mask(demand: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    covered = demand["covered"].to_numpy().astype(bool)
    has_people = (demand["pop"].to_numpy(dtype=float) > 0) | (demand["elderly"].to_numpy(dtype=float) > 0)
    return ~covered & has_people, covered


def gap_members(demand: gpd.GeoDataFrame, *, link_m: float, split_m: float | None = None) -> pd.DataFrame:
    """Gap zone of every demand point.

    Returns
    -------
    DataFrame with one row per demand point (input order): ``cell_id``, ``gap_id`` (nullable
    int; <NA> when not in a gap) and ``status``: ``gap``, ``covered`` or ``no_population``
    (uncovered but nobody lives there, so not a gap).
    """
    _validate(demand, link_m)
    zones, labels_full = _zones(demand, link_m, _work_crs(demand), split_m)
    mask, covered = _gap_mask(demand)
    status = np.where(covered, "covered", np.where(mask, "gap", "no_population"))
    gap_id = pd.array(labels_full, dtype="Int64")
    gap_id[labels_full == 0] = pd.NA
    return pd.DataFrame({"cell_id": demand["cell_id"].to_numpy(), "gap_id": gap_id, "status": status})


def _zones(demand: gpd.GeoDataFrame, link_m: float, work, split_m: float | None = None
           ) -> tuple[list[dict], np.ndarray]:
    """Zone records (ranked) and the gap id of every point (0 outside gaps)."""
    mask, _ = _gap_mask(demand)
    idx = np.flatnonzero(mask)
    # Work in cell_id order so sums and ties do not depend on the row order of the input.
    idx = idx[np.argsort(demand["cell_id"].to_numpy()[idx], kind="stable")]
    xy = _projected(demand.geometry.values[idx], demand.crs, work)
    lab = _split(xy, _labels(xy, link_m), split_m)
    ids = demand["cell_id"].to_numpy()[idx]
    pop = demand["pop"].to_numpy(dtype=float)[idx]
    eld = demand["elderly"].to_numpy(dtype=float)[idx]
    area = (demand["area_m2"].to_numpy(dtype=float)[idx] if "area_m2" in demand.columns
            else np.full(idx.size, np.nan))
    tsec = demand["time_s"].to_numpy(dtype=float)[idx]
    # counties as codes in alphabetical order of their names
    code, names = (pd.factorize(demand["county"].fillna("").astype(str), sort=True) if "county" in demand.columns
                   else (np.zeros(len(demand), np.int64), np.array([""], dtype=object)))
    code = np.asarray(code)[idx]
    order = np.argsort(lab, kind="stable")
    # zones are runs of ``order``; a run's slice holds the same values, in the same order, as
    # the zone's members taken one by one (the same sums)
    starts = np.flatnonzero(np.r_[True, np.diff(lab[order]) != 0]) if idx.size else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], idx.size][:starts.size].astype(np.int64)
    pop_o, eld_o, area_o = pop[order], eld[order], area[order]
    zeld = np.array([eld_o[a:b].sum() for a, b in zip(starts, ends, strict=True)])
    w_o = np.where(np.repeat(zeld > 0, ends - starts), eld_o, pop_o)  # elderly, else population
    majority = _majority(np.repeat(np.arange(starts.size), ends - starts), code[order], np.asarray(names), w_o)
    zones = []
    for z, (a, b) in enumerate(zip(starts, ends, strict=True)):
        m = order[a:b]
        k = m[_medoid(xy[m], w_o[a:b], ids[m])]
        zones.append({
            "members": m, "n_cells": int(m.size), "pop": float(pop_o[a:b].sum()),
            "elderly": float(zeld[z]), "area_m2": float(area_o[a:b].sum()),
            "county_majority": majority[z],
            "time_to_nearest_s": float(tsec[k]), "min_cell_id": ids[m].min(),
            "rep_cell_id": ids[k], "rep": int(k),
        })
    zones.sort(key=lambda z: (-z["elderly"], -z["pop"], z["min_cell_id"]))
    labels_full = np.zeros(len(demand), dtype=np.int64)
    for rank, z in enumerate(zones, start=1):
        z["gap_id"] = rank
        labels_full[idx[z["members"]]] = rank
    # Keep what find_gaps needs for geometry.
    for z in zones:
        z["_xy"] = xy[z["members"]]
        z["_idx"] = idx[z["members"]]
        z["_rep_index"] = int(idx[z["rep"]])
    return zones, labels_full


def _majority(zone: np.ndarray, code: np.ndarray, names: np.ndarray, w: np.ndarray) -> list[str]:
    """Each zone's county by majority of ``w`` (ties: alphabetical), for rows grouped by zone;
    ``code`` indexes ``names``, which are in alphabetical order.

    One grouped sum over every (zone, county) pair: pandas adds each pair's rows in row order
    (compensated), as a sum per zone would.
    """
    if not zone.size:
        return []
    key = zone * len(names) + code
    sums = pd.Series(w).groupby(key, sort=True).sum()
    k, v = sums.index.to_numpy(), sums.to_numpy()
    z = k // len(names)
    first = np.flatnonzero(np.r_[True, np.diff(z) != 0])
    top = np.maximum.reduceat(v, first)
    at_top = np.flatnonzero(v == np.repeat(top, np.diff(np.r_[first, len(v)])))
    pick = at_top[np.r_[True, np.diff(z[at_top]) != 0]]  # the first (alphabetical) at the top
    return [str(n) for n in names[k[pick] % len(names)]]


def find_gaps(demand: gpd.GeoDataFrame, *, link_m: float, admin: gpd.GeoDataFrame | None = None,
              admin_name_col: str = "name", hull_buffer_m: float | None = None,
              pixel_size: tuple[float, float] | None = None, work_crs=None,
              split_m: float | None = None) -> GapResult:
    """Group uncovered demand into gap zones, ranked by uncovered elderly.

    Parameters
    ----------
    demand
        Demand GeoDataFrame (see ARCHITECTURE.md) with ``time_s`` (travel seconds to the nearest
        facility of the tier, inf when unreachable) and ``covered`` (bool). Uncovered points with
        ``pop`` and ``elderly`` both 0 are not gaps (status ``no_population`` in :func:`gap_members`).
    link_m
        Single-linkage distance in metres; for a raster of cell size c use about 1.5 × c.
    admin
        Optional county-level polygons; a zone's ``county`` is the unit containing its
        representative point (else the majority of elderly by ``demand["county"]``).
    admin_name_col
        Name column of ``admin``.
    hull_buffer_m
        Radius of the buffers unioned into the ``hull`` polygon (default ``link_m / 2``).
    pixel_size
        Cell width and height, in the demand CRS's units, when the points are the centres of a
        regular grid in that CRS (a population raster): each ``hull`` is then the union of its
        zone's cells. Ignored (buffers are used) when the points are not such centres.
    work_crs
        Projected CRS for distances (default: the demand's own if projected, else its UTM
        zone); give it to skip estimating it again for every tier.
    split_m
        The reach of one centre (m): zones wider than a tile of side ``split_m × √2`` are cut
        into one part per tile (see the module docstring); ``None`` keeps them whole.

    Returns
    -------
    GapResult
        ``zones`` in the demand's CRS, one row per zone, columns :data:`GAP_COLUMNS`: ``gap_id``
        (1 = most uncovered elderly), ``n_cells``, ``pop``, ``elderly``, ``area_m2``,
        ``county``, ``time_to_nearest_s`` (at the elderly-weighted medoid), ``min_cell_id``,
        ``rep_cell_id``, ``geometry`` (the medoid point, active geometry) and ``hull`` (polygon,
        same CRS: the union of the zone's cells with ``pixel_size``, else of buffers around its
        points); ``member`` the zone of every demand point (0 outside gaps), from the same
        clustering as :func:`gap_members`; ``info`` the parameters, the point counts and
        ``hull`` (``cells``, ``buffers`` or ``none``).
    """
    _validate(demand, link_m)
    if admin is not None and admin_name_col not in admin.columns:
        raise InputError(f"admin lacks column {admin_name_col!r} / 行政区划缺少名称字段",
                         field=admin_name_col, expected="a name column")
    buf = float(link_m) / 2 if hull_buffer_m is None else float(hull_buffer_m)
    work = _work_crs(demand) if work_crs is None else work_crs
    zones, labels_full = _zones(demand, link_m, work, split_m)

    hull_kind = "none"
    if not zones:
        out = gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS if c not in ("geometry", "hull")},
                               geometry=gpd.GeoSeries([], crs=demand.crs), crs=demand.crs)
        out["hull"] = gpd.GeoSeries([], crs=demand.crs)
    else:
        rep = demand.geometry.iloc[[z["_rep_index"] for z in zones]].reset_index(drop=True)
        hull, hull_kind = _hulls(demand, zones, buf, work, pixel_size)
        out = gpd.GeoDataFrame(
            {
                "gap_id": [z["gap_id"] for z in zones],
                "n_cells": [z["n_cells"] for z in zones],
                "pop": [z["pop"] for z in zones],
                "elderly": [z["elderly"] for z in zones],
                "area_m2": [z["area_m2"] for z in zones],
                "county": [z["county_majority"] for z in zones],
                "time_to_nearest_s": [z["time_to_nearest_s"] for z in zones],
                "min_cell_id": [z["min_cell_id"] for z in zones],
                "rep_cell_id": [z["rep_cell_id"] for z in zones],
            },
            geometry=rep.values, crs=demand.crs,
        )
        out["hull"] = hull.values
        out = out.set_geometry("geometry")
        if admin is not None and len(admin):
            adm = admin.to_crs(demand.crs) if admin.crs is not None else admin.set_crs(demand.crs)
            j = gpd.sjoin(out[["gap_id", "geometry"]], adm[[admin_name_col, "geometry"]],
                          how="left", predicate="within")
            # A point on a shared border can match two units: keep the first name alphabetically.
            j = j.sort_values(["gap_id", admin_name_col]).drop_duplicates("gap_id")
            name = j.set_index("gap_id")[admin_name_col].reindex(out["gap_id"]).to_numpy()
            out["county"] = [str(n) if isinstance(n, str) and n else c
                             for n, c in zip(name, out["county"], strict=True)]
        out = out[GAP_COLUMNS]
    mask, covered = _gap_mask(demand)
    info = {"link_m": float(link_m), "split_m": None if split_m is None else float(split_m),
            "hull_buffer_m": buf, "work_crs": str(work),
            "n_points": int(len(demand)), "n_covered": int(covered.sum()),
            "n_gap_points": int(mask.sum()), "n_no_population": int((~covered & ~mask).sum())}
    info["hull"] = hull_kind
    return GapResult(out, labels_full, info)


def _hulls(demand: gpd.GeoDataFrame, zones: list[dict], buf: float, work,
           pixel_size) -> tuple[gpd.GeoSeries, str]:
    """Zone polygons in the demand's CRS and how they were drawn: ``cells`` (unions of grid
    cells) or ``buffers`` (unions of point buffers)."""
    if pixel_size is not None:
        idx = np.concatenate([z["_idx"] for z in zones])
        zone = np.repeat(np.arange(len(zones)), [len(z["_idx"]) for z in zones])
        cells = grid_outlines(shapely.get_coordinates(demand.geometry.values[idx]), zone, len(zones), pixel_size)
        if cells is not None:
            return gpd.GeoSeries(cells, crs=demand.crs), "cells"
    mask, covered = _gap_mask(demand)
    own = own_cell_outlines(demand, mask, covered, zones, buf, work)
    if own is not None:
        return gpd.GeoSeries(own, crs=work).to_crs(demand.crs), "own_cells"
    hulls_work = [shapely.union_all(shapely.buffer(shapely.points(z["_xy"]), buf, quad_segs=4)) for z in zones]
    return gpd.GeoSeries(hulls_work, crs=work).to_crs(demand.crs), "buffers"
