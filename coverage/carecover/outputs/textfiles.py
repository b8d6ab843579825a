"""CSV and GeoJSON files of the exported tables and layers, written column- and geometry-wise.

* **CSV**: UTF-8 with a byte-order mark (Excel opens Chinese text correctly), CRLF line ends,
  missing and non-finite values as empty cells, lists as JSON text, and text a spreadsheet
  would run as a formula prefixed with an apostrophe (:func:`carecover.cells.csv_safe`).
  Numbers are written as Python writes them (shortest round-trip form). Each column is turned
  into text at once (numpy), not cell by cell.
* **GeoJSON**: one FeatureCollection, coordinates rounded to 7 decimals (about 1 cm), no
  ``Infinity``/``NaN`` tokens (``null`` instead). Geometries are rounded and encoded by
  from their coordinate arrays (numpy), properties with :func:`json.dumps`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.cells import FORMULA_START
from carecover.utils import atomic_write

__all__ = ["plain", "write_csv", "write_geojson"]

#: Decimal places of GeoJSON coordinates.
GEOJSON_DIGITS = 7


def plain(v: Any) -> Any:
    """A value for CSV/GeoJSON: no inf/NaN (``None``), lists as JSON text, numpy scalars as Python."""
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _text_cell(v: Any) -> str:
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, str):
        return "'" + v if v.startswith(FORMULA_START) else v
    return str(v)


def csv_column(s: pd.Series) -> pd.Series:
    """One column as CSV text (see the module docstring)."""
    if s.dtype == bool:
        return s.map({True: "True", False: "False"})
    if s.dtype.kind == "f":
        v = s.to_numpy(float)
        out = pd.Series(v.astype(str), index=s.index, dtype=object)
        out[~np.isfinite(v)] = ""
        return out
    if s.dtype.kind in "iu":
        return s.astype(str)
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # text with gaps: vectorised
        out = s.where(s.notna(), "").astype(str)
        risky = out.str.startswith(FORMULA_START)
        return out.where(~risky, "'" + out)
    return s.map(_text_cell)


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV (atomically; see the module docstring).

    Parameters
    ----------
    df
        The table (column order and rows as written).
    path
        The ``.csv`` file.
    """
    text = pd.DataFrame({c: csv_column(df[c]) for c in df.columns}, index=df.index)
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        text.to_csv(fh, index=False, lineterminator="\r\n")


_TYPE_NAMES = {shapely.GeometryType.POINT: "Point", shapely.GeometryType.LINESTRING: "LineString",
               shapely.GeometryType.POLYGON: "Polygon", shapely.GeometryType.MULTIPOINT: "MultiPoint",
               shapely.GeometryType.MULTILINESTRING: "MultiLineString",
               shapely.GeometryType.MULTIPOLYGON: "MultiPolygon"}


def _geometry_json(geoms: np.ndarray) -> list[str | None]:
    """GeoJSON geometry objects of shapely geometries, coordinates rounded to
    :data:`GEOJSON_DIGITS` decimals.

    The coordinates of a layer come out of GEOS as one array (:func:`shapely.to_ragged_array`),
    are rounded at once, nested per ring and part with list slices and encoded by
    :func:`json.dumps` (shortest round-trip numbers). A polygon in a layer of multipolygons
    stays a ``Polygon``. A layer mixing geometry families is encoded geometry by geometry.
    """
    out: list[str | None] = [None] * len(geoms)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out
    sub = geoms[idx]
    try:
        kind, coords, offsets = shapely.to_ragged_array(sub, include_z=False)
    except ValueError:  # a mix of families: one geometry at a time
        for i, g in zip(idx, sub, strict=True):
            out[i] = _geometry_json(np.array([g], dtype=object))[0]
        return out
    level = np.round(coords, GEOJSON_DIGITS).tolist()
    for off in offsets:  # innermost first: rings, then polygons, then parts
        off = np.asarray(off).tolist()
        level = [level[i:j] for i, j in zip(off[:-1], off[1:], strict=True)]
    name = _TYPE_NAMES[kind]
    single = shapely.get_type_id(sub) != int(kind)  # a Polygon (LineString, Point) among multi-parts
    for i, c, one in zip(idx, level, single, strict=True):
        t, c = (name[5:], c[0]) if one else (name, c)
        out[i] = json.dumps({"type": t, "coordinates": c}, separators=(",", ":"))
    return out


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write a layer as one GeoJSON FeatureCollection (atomically; see the module docstring).

    Parameters
    ----------
    gdf
        The layer (EPSG:4326).
    path
        The ``.geojson`` file.
    """
    geom_col = gdf.geometry.name
    props_cols = [c for c in gdf.columns if c != geom_col]
    geoms = _geometry_json(gdf.geometry.to_numpy())
    parts = []
    for row, g in zip(gdf[props_cols].itertuples(index=False, name=None), geoms, strict=True):
        props = json.dumps({c: plain(v) for c, v in zip(props_cols, row, strict=True)}, ensure_ascii=False,
                           separators=(",", ":"))
        parts.append(f'{{"type":"Feature","properties":{props},"geometry":{"null" if g is None else g}}}')
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}")
