"""Tiles of large areas and which area and tile each resident belongs to.

大区域切分为网格瓦片；每位居民只属于一个区域、一个瓦片。

A tiled area is covered by a square grid in its own UTM zone, anchored at the area's
south-west corner; a tile is a grid cell that meets the area. Cells are half-open
(``x0 + i·s ≤ x < x0 + (i+1)·s``), so every point lies in exactly one tile.

A resident belongs to the first area in file order whose polygon covers it (``covers``: the
border counts), so a point on a border shared by two areas is counted once, in the earlier
one; a point its population reader gave to an area although no polygon covers it (a pixel
centre on the edge) stays with the nearest area of that reader's group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from carecover.errors import InputError
from carecover.inputs.boundaries import buffered
from carecover.network.build import utm_crs

#: Most grid cells an area's tiling looks at (bounds every loop over tiles).
MAX_GRID_CELLS = 20_000

__all__ = ["MAX_GRID_CELLS", "Grid", "Tile", "grid_of", "tiles_of", "tile_index", "clip_polygon", "owner_index"]


@dataclass(frozen=True)
class Grid:
    """A square tile grid in a projected CRS: origin ``(x0, y0)`` and cell size (m)."""

    crs_wkt: str
    x0: float
    y0: float
    size_m: float

    @property
    def crs(self) -> CRS:
        return CRS.from_wkt(self.crs_wkt)


@dataclass(frozen=True)
class Tile:
    """One tile: grid position and its square (grid CRS)."""

    i: int
    j: int
    box: Any

    @property
    def label(self) -> str:
        return f"{self.i}_{self.j}"


def grid_of(geometry: Any, size_m: float) -> Grid:
    """The tile grid of an area: its UTM zone, anchored at its south-west corner."""
    c = geometry.centroid
    crs = utm_crs(float(c.x), float(c.y))
    proj = _project(geometry, crs)
    minx, miny, _, _ = proj.bounds
    return Grid(crs.to_wkt(), float(minx), float(miny), float(size_m))


def _project(geometry: Any, crs: CRS) -> Any:
    tf = Transformer.from_crs(4326, crs, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(tf.transform(xy[:, 0], xy[:, 1])))


def tiles_of(geometry: Any, grid: Grid) -> list[Tile]:
    """The tiles of an area: grid cells that meet its polygon, in row-major order."""
    proj = _project(shapely.segmentize(geometry, 0.001), grid.crs)
    minx, miny, maxx, maxy = proj.bounds
    ni = int(np.floor((maxx - grid.x0) / grid.size_m)) + 1
    nj = int(np.floor((maxy - grid.y0) / grid.size_m)) + 1
    if ni * nj > MAX_GRID_CELLS:
        raise InputError(f"区域需 {ni * nj:,} 个瓦片，超过上限 {MAX_GRID_CELLS:,} / the area needs {ni * nj:,} tiles, "
                         f"more than the limit of {MAX_GRID_CELLS:,}", field="tile_km",
                         expected="a larger tile_km")
    out = []
    for j in range(nj):
        for i in range(ni):
            box = shapely.box(grid.x0 + i * grid.size_m, grid.y0 + j * grid.size_m,
                              grid.x0 + (i + 1) * grid.size_m, grid.y0 + (j + 1) * grid.size_m)
            if proj.intersects(box):
                out.append(Tile(i, j, box))
    return out


def tile_index(grid: Grid, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell ``(i, j)`` of every WGS-84 point (half-open cells)."""
    x, y = Transformer.from_crs(4326, grid.crs, always_xy=True).transform(np.asarray(lon, float),
                                                                         np.asarray(lat, float))
    return (np.floor((np.asarray(x) - grid.x0) / grid.size_m).astype(np.int64),
            np.floor((np.asarray(y) - grid.y0) / grid.size_m).astype(np.int64))


def clip_polygon(area_geometry: Any, halo_m: float, grid: Grid | None = None, tile: Tile | None = None) -> Any:
    """WGS-84 polygon of what a task reads: the tile's square (or the whole area) grown by
    ``halo_m``."""
    if tile is None or grid is None:
        return buffered(area_geometry, halo_m)
    grown = shapely.segmentize(tile.box.buffer(halo_m, join_style="mitre"), 200.0)
    tf = Transformer.from_crs(grid.crs, 4326, always_xy=True)
    return shapely.transform(grown, lambda xy: np.column_stack(tf.transform(xy[:, 0], xy[:, 1])))


def owner_index(lon: np.ndarray, lat: np.ndarray, polygons: Sequence[tuple[int, Any]],
                group: Sequence[tuple[int, Any]]) -> np.ndarray:
    """The area each point belongs to (the rule of the module docstring).

    Parameters
    ----------
    lon, lat
        WGS-84 points (read by one group's population reader).
    polygons
        ``(area index, polygon)`` of every area that may hold the points (any group).
    group
        ``(area index, polygon)`` of the areas of the group that read the points (fallback
        when no polygon covers a point).

    Returns
    -------
    numpy.ndarray
        Area index per point.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    owner = np.full(len(lon), -1, np.int64)
    for idx, poly in sorted(polygons, key=lambda p: p[0]):
        free = owner < 0
        if not free.any():
            break
        hit = np.zeros(len(lon), bool)
        hit[free] = shapely.intersects_xy(poly, lon[free], lat[free])  # a point: intersects = covers
        owner[hit] = idx
    loose = np.flatnonzero(owner < 0)
    if len(loose):
        pts = shapely.points(lon[loose], lat[loose])
        dist = np.column_stack([shapely.distance(poly, pts) for _, poly in group])
        owner[loose] = np.asarray([g for g, _ in group])[np.argmin(dist, axis=1)]
    return owner
