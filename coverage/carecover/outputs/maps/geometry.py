"""Geometry for display: the basemap's coordinates (GCJ-02 for Gaode), simplification, hole
filling, bounds and GeoJSON features.

Only what is drawn is simplified; the exact polygons are in ``isochrones.geojson`` and
``carecover.gpkg``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

#: ``func(lon, lat) -> (lon, lat)`` into a basemap's coordinates.
Transform = Callable[[Any, Any], tuple[Any, Any]]

#: Isochrone display: holes smaller than this (m²) are filled — in a street grid every block
#: interior is a hole of the street-following polygon; their residents reach the streets around
#: them. The exact polygons are in ``isochrones.geojson``/``carecover.gpkg``.
ISO_MIN_HOLE_M2 = 10_000.0
#: Isochrone display: most vertices over all isochrone layers; the simplification tolerance
#: (from ``ISO_SIMPLIFY_DEG``, about 4 m) doubles until they fit, so a city-scale map stays small.
ISO_MAX_VERTICES = 200_000
ISO_SIMPLIFY_DEG = 5e-5


def display_transform(basemap: str) -> Transform | None:
    """The transform from WGS-84 into a basemap's coordinates.

    Parameters
    ----------
    basemap
        ``"osm"``, ``"light"`` or ``"gaode"``.

    Returns
    -------
    callable or None
        ``func(lon, lat) -> (lon, lat)`` (WGS-84 -> GCJ-02 for Gaode); ``None``: WGS-84 as is.
    """
    if basemap != "gaode":
        return None
    from carecover.crs import wgs84_to_gcj02  # identity outside China, as Gaode's own offset is

    return wgs84_to_gcj02


def prep(geoms: Any, fn: Transform | None, *, simplify_deg: float = 0.0) -> np.ndarray:
    """Geometries ready to draw: simplified, in the basemap's coordinates, rounded.

    Parameters
    ----------
    geoms
        Shapely geometries (WGS-84).
    fn
        Basemap transform (:func:`display_transform`).
    simplify_deg
        Simplification tolerance in degrees (0: none).

    Returns
    -------
    numpy.ndarray
        Geometries with coordinates rounded to 1e-6 degrees (~0.1 m: smaller files, and
        identical text for identical inputs).
    """
    arr = np.asarray(gpd.GeoSeries(geoms).values, dtype=object)
    if simplify_deg:
        arr = shapely.simplify(arr, simplify_deg, preserve_topology=True)
    if fn is not None:
        from carecover.crs import transform_geometry

        arr = transform_geometry(arr, fn)
    return shapely.transform(arr, lambda xy: np.round(xy, 6))


def _polygon_rings(geoms: np.ndarray, min_area_m2: float):
    """The rings of (multi)polygons without the holes smaller than ``min_area_m2``: ``(rings,
    ring -> part, part -> geometry)``, or ``None`` when ``geoms`` holds anything else."""
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    if not (shapely.get_type_id(parts) == 3).all():
        return None
    solid = ~shapely.is_empty(parts)  # an empty part has no rings: it would shift the indices
    parts, pidx = parts[solid], pidx[solid]
    rings, ridx = shapely.get_rings(parts, return_index=True)
    first = np.r_[True, ridx[1:] != ridx[:-1]]  # the exterior comes first
    # a ring's area is at most its bounding box's: only the holes whose box reaches the limit
    # (a few of a street grid's hundreds of thousands of blocks) are measured exactly
    b = shapely.bounds(rings)
    box_m2 = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) * 111_320.0 ** 2
    keep = first | (box_m2 >= min_area_m2)
    check = np.flatnonzero(keep & ~first)
    lat = shapely.get_y(shapely.centroid(rings[check]))
    area = shapely.area(shapely.polygons(rings[check])) * 111_320.0 ** 2 * np.cos(np.radians(lat))
    keep[check] = area >= min_area_m2
    return rings[keep], ridx[keep], pidx


def _assemble(geoms: np.ndarray, rings: np.ndarray, ridx: np.ndarray, pidx: np.ndarray) -> np.ndarray:
    """``geoms`` with each (multi)polygon rebuilt from its rings (:func:`_polygon_rings`)."""
    out = geoms.copy()
    if len(pidx):
        has = np.unique(pidx)
        out[has] = shapely.multipolygons(shapely.polygons(rings, indices=ridx), indices=pidx)[has]
    return out


def fill_small_holes(geoms: np.ndarray, min_area_m2: float) -> np.ndarray:
    """Polygons without their interior rings smaller than ``min_area_m2`` (vectorised).

    Parameters
    ----------
    geoms
        (Multi)polygons in WGS-84; anything else is returned as it is.
    min_area_m2
        Holes smaller than this (approximate m² at the hole's latitude) are filled.

    Returns
    -------
    numpy.ndarray
        The polygons.
    """
    geoms = np.asarray(geoms, dtype=object)
    kept = _polygon_rings(geoms, min_area_m2)
    if kept is None:
        return geoms.copy()  # only plain (multi)polygons are handled; anything else is drawn as it is
    return _assemble(geoms, *kept)


def iso_display(geoms_by_layer: list[np.ndarray],
                max_vertices: int = ISO_MAX_VERTICES) -> tuple[list[np.ndarray], float]:
    """Polygons for display: holes under ``ISO_MIN_HOLE_M2`` filled, then simplified with the
    smallest tolerance (``ISO_SIMPLIFY_DEG`` × 2^k) that keeps all layers within
    ``max_vertices``.

    Each ring is simplified on its own (Douglas-Peucker; a ring that would collapse keeps a
    small ring, as topology-preserving simplification keeps it), so a simplified ring may
    cross another by up to the tolerance, which a map does not show. Simplifying whole
    polygons with their topology preserved took seconds per tolerance at city scale (issue 14).

    Parameters
    ----------
    geoms_by_layer
        One array of polygons (WGS-84) per layer.
    max_vertices
        Most vertices over all layers.

    Returns
    -------
    list of numpy.ndarray, float
        The display polygons per layer, and the tolerance used (degrees).
    """
    if not geoms_by_layer:  # no tier has isochrones (no usable facility)
        return [], ISO_SIMPLIFY_DEG
    # layer by layer: one layer's parts and rings at a time (all of a city's are millions of
    # vertices), only the rings kept (exteriors and large holes) stay for the simplification
    kept = []
    for g in geoms_by_layer:
        rings = _polygon_rings(np.asarray(g, dtype=object), ISO_MIN_HOLE_M2)
        if rings is None:  # not plain (multi)polygons: simplified whole
            del kept
            return _simplify_whole([fill_small_holes(g, ISO_MIN_HOLE_M2) for g in geoms_by_layer], max_vertices)
        kept.append(rings)
    tol = ISO_SIMPLIFY_DEG
    while True:
        shown = [_simplify_rings(rings, tol) for rings, _, _ in kept]
        if sum(int(shapely.get_num_coordinates(s).sum()) for s in shown) <= max_vertices or tol > 0.01:
            break
        tol *= 2
    return [_assemble(np.asarray(g, dtype=object), s, ridx, pidx)
            for g, s, (_, ridx, pidx) in zip(geoms_by_layer, shown, kept, strict=True)], tol


def _simplify_rings(rings: np.ndarray, tol: float) -> np.ndarray:
    """Each ring simplified (Douglas-Peucker); a ring that collapsed (smaller than the
    tolerance) is kept as a small ring instead, as topology-preserving simplification keeps it."""
    shown = shapely.simplify(rings, tol, preserve_topology=False)
    flat = shapely.get_type_id(shown) != 2
    shown[flat] = shapely.simplify(rings[flat], tol, preserve_topology=True)
    return shown


def _simplify_whole(filled: list[np.ndarray], max_vertices: int) -> tuple[list[np.ndarray], float]:
    """:func:`iso_display` for geometries other than (multi)polygons."""
    tol = ISO_SIMPLIFY_DEG
    while True:
        out = [shapely.simplify(g, tol, preserve_topology=True) for g in filled]
        n = sum(int(shapely.get_num_coordinates(g).sum()) for g in out)
        if n <= max_vertices or tol > 0.01:
            return out, tol
        tol *= 2


def total_bounds(geoms: np.ndarray) -> np.ndarray:
    """The bounds of all geometries, without computing their union (costly for city-scale
    isochrones).

    Parameters
    ----------
    geoms
        Shapely geometries.

    Returns
    -------
    numpy.ndarray
        ``[minx, miny, maxx, maxy]`` (NaN when no geometry has finite bounds).
    """
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        return np.full(4, np.nan)
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def point_xy(geom: Any, fn: Transform | None) -> tuple[float, float]:
    """A point's position for Leaflet.

    Parameters
    ----------
    geom
        Shapely point (WGS-84).
    fn
        Basemap transform (:func:`display_transform`).

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in the basemap's coordinates, rounded to 1e-6 degrees.
    """
    x, y = geom.x, geom.y
    if fn is not None:
        x, y = fn(x, y)
    return round(float(y), 6), round(float(x), 6)
