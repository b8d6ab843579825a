"""Demand points binned to a regular square grid in the local UTM CRS (totals conserved).

将需求点汇总到规则格网（UTM 投影，边长 cell_m 米），总人口守恒。
Method notes: ``docs/population.md`` §5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from carecover.errors import InputError
from carecover.inputs.demand import Demand
from carecover.inputs.population.common import (
    WGS84,
    check_conservation,
    demand_frame,
    is_wgs84,
    utm_for,
)

__all__ = ["aggregate_grid"]


@dataclass(frozen=True)
class _Cells:
    """Which cell each point falls in: ``inv`` indexes ``cells`` (row-major ids, row 0 north);
    ``ix, iy`` are the points' column and row in multiples of the cell size."""

    cells: np.ndarray
    inv: np.ndarray
    ix: np.ndarray
    iy: np.ndarray

    def sum(self, v: np.ndarray) -> np.ndarray:
        # numpy group sums (bincount) rather than pandas groupby: ~1.5 M points in about a second
        return np.bincount(self.inv, weights=v, minlength=len(self.cells))


def _utm_xy(points: gpd.GeoDataFrame) -> tuple[CRS, np.ndarray, np.ndarray]:
    pts = points.geometry if is_wgs84(points.crs) else points.geometry.to_crs(WGS84)
    utm = utm_for(pts)
    # transform coordinates, not geometries (several times faster at a million points)
    to_utm = Transformer.from_crs(WGS84, utm, always_xy=True)
    x, y = to_utm.transform(shapely.get_x(pts.values), shapely.get_y(pts.values))
    return utm, np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")


def _bin(x: np.ndarray, y: np.ndarray, cell_m: float) -> _Cells:
    """Cells aligned to multiples of ``cell_m`` (same input → same cells)."""
    ix = np.floor(x / cell_m).astype("int64")
    iy = np.floor(y / cell_m).astype("int64")
    ncols = int(ix.max() - ix.min() + 1)
    cid = (iy.max() - iy) * ncols + (ix - ix.min())
    cells, inv = np.unique(cid, return_inverse=True)
    return _Cells(cells, inv, ix, iy)


def _weighted_centres(g: _Cells, x, y, pop) -> tuple[np.ndarray, np.ndarray]:
    """Population-weighted mean of each cell's members (plain mean where nobody lives): it
    stays where people are, where the cell centre can fall in a river or a park."""
    w = np.where(pop > 0, pop, 0.0)
    sw = g.sum(w)
    n = np.bincount(g.inv, minlength=len(g.cells))
    has_w = sw > 0
    safe = np.where(has_w, sw, 1.0)
    return (np.where(has_w, g.sum(w * x) / safe, g.sum(x) / n),
            np.where(has_w, g.sum(w * y) / safe, g.sum(y) / n))


def _majority_county(g: _Cells, county: pd.Series, pop: np.ndarray) -> np.ndarray:
    """The county holding most of each cell's population (ties: first name in sorted order)."""
    k = len(g.cells)
    codes, uniq = pd.factorize(county.fillna("").astype(str).to_numpy(), sort=True)
    nc = max(len(uniq), 1)
    by = np.bincount(g.inv * nc + codes, weights=np.where(pop > 0, pop, 0.0),
                     minlength=k * nc).reshape(k, nc)
    return np.asarray(uniq, dtype=object)[by.argmax(axis=1)] if len(uniq) else np.full(k, "", dtype=object)


def _cell_boxes(g: _Cells, cell_m: float) -> np.ndarray:
    first = np.zeros(len(g.cells), dtype="int64")
    first[g.inv] = np.arange(len(g.inv))  # any member: all share the cell's ix, iy
    x0 = g.ix[first] * cell_m
    y0 = g.iy[first] * cell_m
    return shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)


def aggregate_grid(demand: Demand, cell_m: float) -> Demand:
    """Aggregate demand points to a regular square grid in the local UTM CRS.

    将需求点汇总到规则格网（UTM 投影，边长 cell_m 米），总人口守恒。

    Cells are aligned to multiples of ``cell_m`` in UTM metres (so the same inputs always give
    the same cells). Each cell's point is the population-weighted mean of its members
    (stays near where people are; the cell centre would put it in a river as readily as in a
    block); ``area_m2`` = ``cell_m²``; ``county`` = the county holding most of the cell's
    population; ``elderly`` is summed (NaN only when all members are NaN). ``cell_id`` is the
    row-major index in the grid spanning the points (row 0 = north).

    Parameters
    ----------
    demand
        Demand points (any CRS).
    cell_m
        Cell side in metres.

    Returns
    -------
    Demand
        One point per occupied cell; ``cell_polygons`` the squares; ``source["aggregated"]``
        says how.

    Raises
    ------
    InputError
        ``cell_m`` not a positive number, or no points.
    ConservationError
        Totals of pop or elderly changed (a bug, never expected).
    """
    # bin → sums → points and counties → check totals → record
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise InputError(f"格网边长无效 / invalid cell size {cell_m!r}", expected="metres > 0")
    points = demand.points
    if len(points) == 0:
        raise InputError("没有需求点可汇总 / no demand points to aggregate")
    utm, x, y = _utm_xy(points)
    g = _bin(x, y, cell_m)
    k = len(g.cells)
    pop = points["pop"].to_numpy(dtype="float64")
    eld = points["elderly"].to_numpy(dtype="float64")
    cpop = g.sum(pop)
    n_eld = np.bincount(g.inv, weights=np.isfinite(eld).astype(float), minlength=k)
    celd = np.where(n_eld > 0, g.sum(np.where(np.isfinite(eld), eld, 0.0)), np.nan)
    px, py = _weighted_centres(g, x, y, pop)
    county = _majority_county(g, points["county"], pop)
    boxes = _cell_boxes(g, cell_m)
    total_in, total_out = float(pop.sum()), float(cpop.sum())
    check_conservation(total_in, total_out)
    check_conservation(float(np.nansum(eld)), float(np.nansum(celd)), what="elderly")
    ps = dict(demand.source)
    ps["aggregated"] = {"cell_m": float(cell_m), "crs": utm.to_string(),
                        "points_in": len(points), "cells_out": k,
                        "total_in": total_in, "total_out": total_out,
                        "point": "population-weighted mean of members"}
    lon, lat = Transformer.from_crs(utm, WGS84, always_xy=True).transform(px, py)
    polys = gpd.GeoSeries(boxes, crs=utm).to_crs(WGS84).values
    return demand_frame(g.cells, cpop, celd, county, np.full(k, float(cell_m) ** 2),
                         gpd.points_from_xy(lon, lat), WGS84, ps, polys)
