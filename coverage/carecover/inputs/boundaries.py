"""Boundary files (study area, counties, street/township units): one reader, one CRS policy.

边界文件（研究区、旗县区、街道/乡镇）：唯一的读取入口，唯一的坐标系规则。

Every boundary the package reads — ``--boundary``, ``--units``, the clip polygon of
``carecover fetch`` and ``fetch-network --polygon``, the study area given to the register and
population readers — goes through :func:`read_boundaries` (files) or :func:`boundary_geometry`
(files, frames, geometries, boxes), so all of them follow the same rules:

* a file that declares its CRS is reprojected to WGS-84 (EPSG:4326);
* a file **without** a CRS is accepted only where its coordinates are plausible
  longitude/latitude (then read as WGS-84); otherwise it is an error naming the file — a file in
  metres without its ``.prj`` cannot be placed, and guessing would put it anywhere;
* every feature must be a polygon or multipolygon (an error names the first other one);
* invalid polygons (self-intersections) are repaired with ``shapely.make_valid``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from carecover.errors import InputError
from carecover.filelimits import not_special

__all__ = ["read_boundaries", "boundary_geometry", "buffered", "is_lonlat_bounds"]

WGS84 = "EPSG:4326"
_POLYGONAL = ("Polygon", "MultiPolygon")


def is_lonlat_bounds(bounds) -> bool:
    """Whether ``(minx, miny, maxx, maxy)`` can be longitude/latitude degrees.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)``.

    Returns
    -------
    bool
        All finite, x within [-180, 180] and y within [-90, 90], min <= max.
    """
    b = np.asarray(bounds, float)
    return bool(np.isfinite(b).all() and -180 <= b[0] <= b[2] <= 180 and -90 <= b[1] <= b[3] <= 90)


def _bounds_text(bounds) -> str:
    return "(" + ", ".join(f"{float(v):.1f}" for v in bounds) + ")"


def to_wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Apply the CRS policy of the module docstring."""
    if gdf.crs is None:
        if not is_lonlat_bounds(gdf.total_bounds):
            raise InputError(
                f"coordinates {_bounds_text(gdf.total_bounds)} are not lon/lat and no CRS is declared "
                "/ 边界文件未声明坐标系且坐标不是经纬度", file=name, field="crs",
                expected="WGS-84 longitude/latitude, or projected coordinates with their CRS declared "
                         "(e.g. the .prj of a Shapefile)")
        return gdf.set_crs(WGS84)
    out = gdf if CRS(gdf.crs).equals(CRS(WGS84), ignore_axis_order=True) else gdf.to_crs(WGS84)
    if len(out) and not is_lonlat_bounds(out.total_bounds):
        raise InputError(
            f"coordinates {_bounds_text(out.total_bounds)} are not longitude/latitude in the "
            f"declared CRS {gdf.crs.to_string()} / 边界坐标系声明错误", file=name, field="crs",
            expected="a CRS that matches the coordinates")
    return out


def check_polygons(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    geom = gdf.geometry
    bad = geom.isna().to_numpy() | geom.is_empty.to_numpy() | ~geom.geom_type.isin(_POLYGONAL).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "empty" if geom.iloc[i] is None or geom.iloc[i].is_empty else geom.iloc[i].geom_type
        raise InputError(f"feature {i + 1} is {kind}, not a polygon / 第 {i + 1} 个要素不是多边形 "
                         f"({int(bad.sum())} of {len(gdf)} features)", file=name, row=i + 1,
                         field="geometry", expected="Polygon or MultiPolygon features")
    invalid = ~geom.is_valid.to_numpy()
    if invalid.any():
        gdf = gdf.copy()
        fixed = shapely.make_valid(geom.values[invalid])
        # make_valid may return a collection holding lines as well: keep its polygonal parts
        fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
        gdf.loc[gdf.index[invalid], gdf.geometry.name] = fixed
    return gdf


def _polygonal_part(geom):
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def read_boundaries(path: str | Path, *, role: str = "boundary") -> gpd.GeoDataFrame:
    """Read a boundary file into WGS-84 polygons, one row per unit.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile … (anything GDAL reads).
    role
        What the file is for, used in messages (``boundary``, ``units``, ``polygon``).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, with ``name`` (``unit 1``, ``unit 2`` … when the file has none) and ``level``
        (``county`` when absent) columns.

    Raises
    ------
    InputError
        File missing or unreadable, no features, a feature that is not a polygon, no CRS with
        coordinates that are not longitude/latitude, or a declared CRS that does not fit.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{role} file not found / 找不到边界文件", file=path)
    if path.is_dir() and path.suffix.lower() not in (".gdb",):
        raise InputError(f"{role} path is a folder, not a file / 边界路径是文件夹", file=path,
                         expected="a GeoJSON, GeoPackage or Shapefile")
    not_special(path, f"{role} file / 边界文件", folder_suffixes=(".gdb",))
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(f"cannot read {role} file: {exc} / 无法读取边界文件", file=path) from exc
    if len(gdf) == 0:
        raise InputError(f"{role} file has no features / 边界文件为空", file=path)
    gdf = check_polygons(to_wgs84(gdf, str(path)), str(path))
    if "name" not in gdf:
        gdf["name"] = [f"unit {i + 1}" for i in range(len(gdf))]
    gdf["name"] = gdf["name"].fillna("").astype(str)
    if "level" not in gdf:
        gdf["level"] = "county"
    return gdf.reset_index(drop=True)


def boundary_geometry(source: Any, *, role: str = "boundary") -> shapely.Geometry | None:
    """One WGS-84 (multi)polygon from a path, GeoDataFrame/GeoSeries, shapely geometry or a
    ``(west, south, east, north)`` box; ``None`` stays ``None``.

    Frames and files follow the CRS policy of the module docstring; a bare geometry or box is
    taken to be WGS-84 like every coordinate this package is given.

    Parameters
    ----------
    source
        File path, GeoDataFrame, GeoSeries, shapely (multi)polygon, a 4-tuple box, or None.
    role
        What the area is for, used in messages.

    Returns
    -------
    shapely.Geometry or None
        The union of all polygons (repaired where invalid).

    Raises
    ------
    InputError
        Unsupported type, a box that is not W,S,E,N degrees, a geometry that is not lon/lat,
        a non-polygon feature, or an empty result; file errors as :func:`read_boundaries`.
    """
    if source is None:
        return None
    name = str(source) if isinstance(source, (str, Path)) else role
    if isinstance(source, (list, tuple)) and len(source) == 4:
        west, south, east, north = map(float, source)
        if not (is_lonlat_bounds((west, south, east, north)) and west < east and south < north):
            raise InputError(f"box {tuple(source)} is not west,south,east,north in degrees", field=role,
                             expected="W,S,E,N with W < E and S < N (WGS-84)")
        return shapely.box(west, south, east, north)
    if isinstance(source, (str, Path)):
        frame = read_boundaries(source, role=role)
    elif isinstance(source, gpd.GeoSeries):
        frame = check_polygons(to_wgs84(gpd.GeoDataFrame(geometry=source), name), name)
    elif isinstance(source, gpd.GeoDataFrame):
        frame = check_polygons(to_wgs84(source, name), name)
    elif isinstance(source, shapely.Geometry):
        if not is_lonlat_bounds(source.bounds):
            raise InputError(f"{role} coordinates {_bounds_text(source.bounds)} are not longitude/latitude",
                             field=role, expected="a WGS-84 polygon")
        frame = check_polygons(gpd.GeoDataFrame(geometry=[source], crs=WGS84), name)
    else:
        raise InputError(f"unsupported {role} type {type(source).__name__} / 无法识别的边界类型",
                         field=role, expected="a file path, GeoDataFrame, GeoSeries, polygon or box")
    geom = shapely.union_all(frame.geometry.values)
    if geom is None or geom.is_empty:
        raise InputError(f"{role} is empty / 边界为空", file=name, expected="a polygon")
    return geom


def buffered(geom: shapely.Geometry, metres: float) -> shapely.Geometry:
    """``geom`` (WGS-84) grown by ``metres`` on the ground (buffered in its local UTM zone).

    Parameters
    ----------
    geom
        A WGS-84 geometry.
    metres
        Distance to grow by (negative shrinks).

    Returns
    -------
    shapely.Geometry
        The buffered geometry in WGS-84.
    """
    series = gpd.GeoSeries([geom], crs=WGS84)
    utm = series.estimate_utm_crs()
    return series.to_crs(utm).buffer(float(metres)).to_crs(WGS84).iloc[0]
