"""Uncovered areas (服务盲区): uncovered demand points grouped into ranked gap zones.

Uncovered demand points with people in them are joined by single linkage: two points closer than
``link_m`` (projected metres) belong to the same zone. For a raster grid use about 1.5 × the cell
size so the 8 neighbours of a cell join. Zones are ranked by uncovered elderly, then population,
then smallest ``cell_id`` (deterministic).
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
        ``link_m``, ``hull_buffer_m``, ``work_crs`` and the point counts (``n_points``,
        ``n_covered``, ``n_gap_points``, ``n_no_population``).
    """

    zones: gpd.GeoDataFrame
    member: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.zones)


_REQUIRED = ("cell_id", "pop", "elderly", "time_s", "covered")

#: Zones up to this size get an exact elderly-weighted medoid; larger ones a close approximation.
_EXACT_MEDOID_MAX = 3000


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
    geom = demand.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any() or not (geom.geom_type == "Point").all():
        i = int(np.flatnonzero(bad | (geom.geom_type != "Point"))[0])
        raise InputError(f"demand geometry {i} is not a point / 第 {i} 个需求点几何不是点",
                         field="geometry", expected="Point")
    cov = demand["covered"]
    if cov.isna().any() or not set(pd.unique(cov.astype(object))) <= {True, False}:  # 0/1 compare equal
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


def _labels(xy: np.ndarray, link_m: float) -> np.ndarray:
    """Single-linkage component labels of points within ``link_m`` of each other."""
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    g = coo_matrix((np.ones(len(pairs), dtype=bool), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64)


def _medoid(xy: np.ndarray, w: np.ndarray, ids: np.ndarray) -> int:
    """Index (into ``xy``) of the weighted medoid: the member minimising Σ w·distance.

    Ties go to the smallest id. Zones larger than ``_EXACT_MEDOID_MAX`` evaluate only the 256
    members nearest to the weighted centroid (the medoid lies close to it).
    """
    n = len(xy)
    if n == 1:
        return 0
    if w.sum() <= 0:
        w = np.ones(n)
    cand = np.arange(n)
    if n > _EXACT_MEDOID_MAX:
        c = (xy * w[:, None]).sum(0) / w.sum()
        cand = np.argsort(np.hypot(*(xy - c).T), kind="stable")[:256]
    cost = np.empty(cand.size)
    for s in range(0, cand.size, 512):
        blk = cand[s:s + 512]
        d = np.hypot(xy[blk, 0][:, None] - xy[:, 0][None], xy[blk, 1][:, None] - xy[:, 1][None])
        cost[s:s + 512] = d @ w
    best = cost.min()
    tie = cand[cost <= best * (1 + 1e-12) + 1e-9]
    return int(tie[np.argmin(ids[tie])])


def _gap_mask(demand: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    covered = demand["covered"].to_numpy().astype(bool)
    has_people = (demand["pop"].to_numpy(dtype=float) > 0) | (demand["elderly"].to_numpy(dtype=float) > 0)
    return ~covered & has_people, covered


def gap_members(demand: gpd.GeoDataFrame, *, link_m: float) -> pd.DataFrame:
    """Gap zone of every demand point.

    Returns
    -------
    DataFrame with one row per demand point (input order): ``cell_id``, ``gap_id`` (nullable
    int; <NA> when not in a gap) and ``status``: ``gap``, ``covered`` or ``no_population``
    (uncovered but nobody lives there, so not a gap).
    """
    _validate(demand, link_m)
    zones, labels_full = _zones(demand, link_m)
    mask, covered = _gap_mask(demand)
    status = np.where(covered, "covered", np.where(mask, "gap", "no_population"))
    return pd.DataFrame({"cell_id": demand["cell_id"].to_numpy(),
                         "gap_id": pd.array(labels_full, dtype="Int64"), "status": status})


def _zones(demand: gpd.GeoDataFrame, link_m: float) -> tuple[list[dict], list]:
    """Zone records (unranked) and per-point gap ids (None outside gaps), ranked ids filled."""
    mask, _ = _gap_mask(demand)
    idx = np.flatnonzero(mask)
    # Work in cell_id order so sums and ties do not depend on the row order of the input.
    idx = idx[np.argsort(demand["cell_id"].to_numpy()[idx], kind="stable")]
    proj = demand.geometry.iloc[idx].to_crs(_work_crs(demand))
    xy = shapely.get_coordinates(proj.values) if len(idx) else np.zeros((0, 2))
    lab = _labels(xy, link_m)
    ids = demand["cell_id"].to_numpy()[idx]
    pop = demand["pop"].to_numpy(dtype=float)[idx]
    eld = demand["elderly"].to_numpy(dtype=float)[idx]
    area = (demand["area_m2"].to_numpy(dtype=float)[idx] if "area_m2" in demand.columns
            else np.full(idx.size, np.nan))
    tsec = demand["time_s"].to_numpy(dtype=float)[idx]
    county = (demand["county"].fillna("").astype(str).to_numpy()[idx] if "county" in demand.columns
              else np.full(idx.size, "", dtype=object))
    order = np.argsort(lab, kind="stable")
    bounds = np.flatnonzero(np.diff(lab[order])) + 1
    zones = []
    for members in np.split(order, bounds) if idx.size else []:
        m = members
        wm = eld[m] if eld[m].sum() > 0 else pop[m]
        k = m[_medoid(xy[m], wm, ids[m])]
        # County by majority of elderly (population when no elderly), ties: alphabetical.
        cw = pd.Series(wm).groupby(county[m]).sum()
        cw = cw.sort_index()
        zones.append({
            "members": m, "n_cells": int(m.size), "pop": float(pop[m].sum()),
            "elderly": float(eld[m].sum()), "area_m2": float(area[m].sum()),
            "county_majority": str(cw.idxmax()) if len(cw) else "",
            "time_to_nearest_s": float(tsec[k]), "min_cell_id": ids[m].min(),
            "rep_cell_id": ids[k], "rep": int(k),
        })
    zones.sort(key=lambda z: (-z["elderly"], -z["pop"], z["min_cell_id"]))
    labels_full: list = [None] * len(demand)
    for rank, z in enumerate(zones, start=1):
        z["gap_id"] = rank
        for i in idx[z["members"]]:
            labels_full[i] = rank
    # Keep what find_gaps needs for geometry.
    for z in zones:
        z["_xy"] = xy[z["members"]]
        z["_rep_index"] = int(idx[z["rep"]])
    return zones, labels_full


def find_gaps(demand: gpd.GeoDataFrame, *, link_m: float, admin: gpd.GeoDataFrame | None = None,
              admin_name_col: str = "name", hull_buffer_m: float | None = None) -> GapResult:
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

    Returns
    -------
    GapResult
        ``zones`` in the demand's CRS, one row per zone, columns :data:`GAP_COLUMNS`: ``gap_id``
        (1 = most uncovered elderly), ``n_cells``, ``pop``, ``elderly``, ``area_m2``,
        ``county``, ``time_to_nearest_s`` (at the elderly-weighted medoid), ``min_cell_id``,
        ``rep_cell_id``, ``geometry`` (the medoid point, active geometry) and ``hull`` (polygon,
        same CRS); ``member`` the zone of every demand point (0 outside gaps), from the same
        clustering as :func:`gap_members`; ``info`` the parameters and point counts.
    """
    _validate(demand, link_m)
    if admin is not None and admin_name_col not in admin.columns:
        raise InputError(f"admin lacks column {admin_name_col!r} / 行政区划缺少名称字段",
                         field=admin_name_col, expected="a name column")
    buf = float(link_m) / 2 if hull_buffer_m is None else float(hull_buffer_m)
    work = _work_crs(demand)
    zones, labels_full = _zones(demand, link_m)

    if not zones:
        out = gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS if c not in ("geometry", "hull")},
                               geometry=gpd.GeoSeries([], crs=demand.crs), crs=demand.crs)
        out["hull"] = gpd.GeoSeries([], crs=demand.crs)
    else:
        rep = demand.geometry.iloc[[z["_rep_index"] for z in zones]].reset_index(drop=True)
        hulls_work = [shapely.union_all(shapely.buffer(shapely.points(z["_xy"]), buf, quad_segs=4))
                      for z in zones]
        hull = gpd.GeoSeries(hulls_work, crs=work).to_crs(demand.crs)
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
    info = {"link_m": float(link_m), "hull_buffer_m": buf, "work_crs": str(work),
            "n_points": int(len(demand)), "n_covered": int(covered.sum()),
            "n_gap_points": int(mask.sum()), "n_no_population": int((~covered & ~mask).sum())}
    member = np.array([0 if v is None else int(v) for v in labels_full], dtype=np.int64)
    return GapResult(out, member, info)
