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


#: Geometry types read as a facility's place: a point, or an area (a point inside it).
_PLACE_TYPES = {"Point", "Polygon", "MultiPolygon"}


def _points(geom) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """lon, lat of each geometry (NaN without one); polygons → a point inside them. A line, a
    MultiPoint of several points or a collection is no one place: NaN, and its cause by index."""
    lon = np.full(len(geom), np.nan)
    lat = np.full(len(geom), np.nan)
    has = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    causes: dict[int, str] = {}
    kind = np.array([g.geom_type if h else "" for g, h in zip(geom, has, strict=True)], dtype=object)
    single_multi = (kind == "MultiPoint") & (shapely.get_num_geometries(geom) == 1)
    for i in np.flatnonzero(has & ~np.isin(kind, list(_PLACE_TYPES)) & ~single_multi):
        causes[int(i)] = (f"几何类型 {kind[i]} 不是一个点或面，未定位 / the geometry is a {kind[i]}, not one point or "
                          "area: not placed (give each facility one point)")
    use = has & ~np.isin(np.arange(len(geom)), list(causes))
    if use.any():
        pts = np.asarray(geom[use], dtype=object)
        pts = np.where(single_multi[use], shapely.get_geometry(pts, 0), pts)
        is_pt = shapely.get_type_id(pts) == 0
        pts = np.where(is_pt, pts, shapely.point_on_surface(pts))
        lon[use], lat[use] = shapely.get_x(pts), shapely.get_y(pts)
    return lon, lat, causes


def _layer(path: Path, layer: str | int | None) -> str | int | None:
    """The layer to read: as asked, the only one, or refused naming the layers to choose from."""
    if layer is not None or path.suffix.lower() != ".gpkg":
        return layer
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - unreadable: read_file below names the cause
        return None
    if len(layers) > 1:
        raise InputError(f"GeoPackage 有 {len(layers)} 个图层 / the GeoPackage has {len(layers)} layers: "
                         + ", ".join(layers), file=path, field="--sheet",
                         expected="the layer to read, e.g. --sheet " + layers[0])
    return None


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
        in WGS-84; ``info``: ``layer``, when the file was in another CRS ``reprojected_from``,
        and ``geometry_notes`` (feature index → why it has no place: a line, several points).

    Raises
    ------
    InputError
        The file cannot be read, or it is a GeoPackage of several layers and none was chosen
        (the message lists them).
    """
    layer = _layer(path, layer)
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
    lon, lat, causes = _points(gdf.geometry.values)
    if causes:
        info["geometry_notes"] = causes
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for c in df.columns:
        df[c] = df[c].map(cell_text).astype(str)
    df.columns = [str(c) for c in df.columns]
    return RawTable(df, np.arange(1, len(df) + 1), info, lon, lat)
