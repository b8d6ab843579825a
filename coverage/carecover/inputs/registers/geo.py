"""Geographic registers (GeoJSON, GeoPackage, Shapefile, FlatGeobuf): attributes and points.

地理数据登记表：点几何（面取内部一点）；投影坐标系自动转为经纬度；属性按表头规则匹配。
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.errors import InputError
from carecover.inputs.registers.table import RawTable, cell_text

__all__ = ["SUFFIXES", "read_geo"]

#: File name endings read with GDAL.
SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".shp", ".fgb"})


def _points(geom) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat of each geometry (NaN without one); polygons → a point inside them."""
    lon = np.full(len(geom), np.nan)
    lat = np.full(len(geom), np.nan)
    has = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    if has.any():
        pts = np.asarray(geom[has], dtype=object)
        is_pt = shapely.get_type_id(pts) == 0
        pts = np.where(is_pt, pts, shapely.point_on_surface(pts))
        lon[has], lat[has] = shapely.get_x(pts), shapely.get_y(pts)
    return lon, lat


def read_geo(path: Path, layer: str | int | None = None) -> RawTable:
    """Read a geographic register into the table contract.

    Parameters
    ----------
    path
        Any vector file GDAL reads (points, or polygons represented by a point inside).
    layer
        Layer of a multi-layer file (GeoPackage).

    Returns
    -------
    RawTable
        Attributes as text, ``rows`` = feature index + 1, ``lon``/``lat`` from the geometry
        in WGS-84; ``info``: ``layer`` and, when the file was in another CRS,
        ``reprojected_from``.

    Raises
    ------
    InputError
        The file cannot be read.
    """
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"无法读取地理数据文件 / cannot read the file: {exc}", file=path,
                         expected="GeoJSON, GeoPackage or Shapefile of points") from None
    info: dict = {"layer": layer}
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        # Projected or national geographic CRS (e.g. CGCS2000, EPSG:4490): reproject to lon/lat.
        info["reprojected_from"] = gdf.crs.to_string()
        gdf = gdf.to_crs("EPSG:4326")
    lon, lat = _points(gdf.geometry.values)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for c in df.columns:
        df[c] = df[c].map(cell_text).astype(str)
    df.columns = [str(c) for c in df.columns]
    return RawTable(df, np.arange(1, len(df) + 1), info, lon, lat)
