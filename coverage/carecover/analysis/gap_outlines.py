"""Outlines of gap zones (:mod:`carecover.analysis.gaps`): the union of a zone's raster cells
(:func:`grid_outlines`), or of its points' own cells — each uncovered point's Voronoi cell among
every covered and uncovered point, cut to a disc (:func:`own_cell_outlines`). Neither holds a
covered point, so a gap is never drawn over covered people."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["grid_outlines", "own_cell_outlines"]

#: Largest grid (cells of the gap points' bounding box) drawn as pixels; larger: buffers.
_GRID_MAX_CELLS = 50_000_000


def _polygons_of(rings_per_polygon: list) -> np.ndarray:
    """Polygons from GeoJSON-style coordinate lists (shell, then holes), built in one call."""
    rings = [np.asarray(r, dtype=float) for rs in rings_per_polygon for r in rs]
    if not rings:
        return np.array([], dtype=object)
    ring_of = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    poly_of = np.repeat(np.arange(len(rings_per_polygon)), [len(rs) for rs in rings_per_polygon])
    return shapely.polygons(shapely.linearrings(np.concatenate(rings), indices=ring_of), indices=poly_of)


def grid_outlines(xy: np.ndarray, zone: np.ndarray, n_zones: int, pixel_size) -> list | None:
    """Per zone, the union of its grid cells (``None`` when the points are not one grid's centres).

    Parameters
    ----------
    xy
        Cell centres in the demand's CRS.
    zone
        Zone index (0-based) of each point.
    n_zones
        Number of zones.
    pixel_size
        Cell width and height in the demand's CRS units.
    """
    from collections import defaultdict

    from rasterio.features import shapes
    from rasterio.transform import Affine

    a, e = (abs(float(v)) for v in pixel_size)
    if not len(xy) or not (a > 0 and e > 0):
        return None
    x0, y1 = xy[:, 0].min(), xy[:, 1].max()
    fc, fr = (xy[:, 0] - x0) / a, (y1 - xy[:, 1]) / e
    col, row = np.rint(fc), np.rint(fr)
    if max(np.abs(fc - col).max(), np.abs(fr - row).max()) > 1e-3:
        return None  # not centres of a grid of this cell size
    col, row = col.astype(np.int64), row.astype(np.int64)
    h, w = int(row.max()) + 1, int(col.max()) + 1
    if h * w > _GRID_MAX_CELLS:
        return None
    grid = np.zeros((h, w), dtype=np.int32)
    grid[row, col] = zone + 1
    if np.count_nonzero(grid) != len(xy):
        return None  # two points in one cell: not a grid's centres
    # 4-connected pieces: pieces of one zone that touch only at a corner stay separate polygons
    found = list(shapes(grid, mask=grid > 0, connectivity=4,
                        transform=Affine(a, 0.0, x0 - a / 2, 0.0, -e, y1 + e / 2)))
    polys = _polygons_of([g["coordinates"] for g, _ in found])
    parts: dict[int, list] = defaultdict(list)
    for poly, (_, value) in zip(polys, found, strict=True):
        parts[int(value) - 1].append(poly)
    return [p[0] if len(p) == 1 else shapely.multipolygons(p) for p in (parts[k] for k in range(n_zones))]


def own_cell_outlines(demand: gpd.GeoDataFrame, mask: np.ndarray, covered: np.ndarray, zones: list[dict],
                      buf: float, work) -> list | None:
    """Per zone, the union of its points' own cells: each point's Voronoi cell among every
    covered point and every uncovered point with people, cut to a disc of ``buf`` around it.

    A covered point lies in its own cell, so no zone's outline holds one. Points at one
    position count once (covered if any of them is). ``None`` when GEOS cannot build the
    tessellation (the caller falls back to buffers). ``mask`` marks the uncovered points with
    people, ``covered`` the covered ones; ``zones`` carry their members' rows as ``_idx``.
    """
    keep = np.flatnonzero(mask | covered)
    xy = np.column_stack(shapely.get_coordinates(
        gpd.GeoSeries(demand.geometry.values[keep], crs=demand.crs).to_crs(work).values).T)
    uniq, inv = np.unique(np.round(xy, 3), axis=0, return_inverse=True)
    inv = inv.ravel()
    cov_at = np.zeros(len(uniq), dtype=bool)
    np.logical_or.at(cov_at, inv, covered[keep])
    pos = np.full(len(demand), -1, dtype=np.int64)
    pos[keep] = inv
    zone_at = np.zeros(len(uniq), dtype=np.int64)
    for k, z in enumerate(zones, start=1):
        zone_at[pos[z["_idx"]]] = k
    zone_at[cov_at] = 0
    pts = shapely.points(uniq)
    discs = shapely.buffer(pts, buf, quad_segs=8)
    if len(uniq) < 2:
        cells = discs
    else:
        try:
            cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(uniq), ordered=True))
        except shapely.errors.GEOSException:
            return None
        if len(cells) != len(uniq):
            return None
        cells = shapely.intersection(cells, discs)
    order = np.argsort(zone_at, kind="stable")
    starts = np.searchsorted(zone_at[order], np.arange(1, len(zones) + 2))
    return [shapely.union_all(cells[order[starts[k]:starts[k + 1]]]) for k in range(len(zones))]
