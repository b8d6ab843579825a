"""The demand points as one GeoParquet file (``demand.parquet``), styled for QGIS by ``demand.qml``.

A city's demand table is its largest: 100,000+ points × about 45 columns (per tier the time to
and id of the nearest facility, whether it is covered …). It used to be written twice, as
``demand.csv`` (32 MB at Hohhot scale) and as the GeoPackage layer ``demand`` (28 MB and a 9 MB
R-tree), which took most of the export's time and a third of the output folder. It is now
written once, columnar and compressed (5.6 MB at Hohhot scale, a twelfth of the two):

* **GeoParquet 1.0** (``geo`` metadata; geometry as WKB points, EPSG:4326 lon/lat), zstd
  compressed, one row group: QGIS ≥ 3.26 (GDAL's Parquet driver), GDAL/ogr2ogr, geopandas
  (``geopandas.read_parquet``), pandas/pyarrow, R (``arrow``, ``sfarrow``) and DuckDB read it.
  ``lon``/``lat`` columns (7 decimals, about 1 cm, as the CSV had them) serve readers without a
  geometry type (a spreadsheet after ``duckdb -c "COPY (FROM 'demand.parquet') TO 'demand.csv'"``).
* **Values as in memory**: travel times beyond the search limit stay ``inf`` (as they were in
  the GeoPackage), booleans stay booleans, ids stay text.
* **No spatial index**: a point file is read whole; QGIS draws 100,000 points without one.
* **Styled**: ``demand.qml`` beside it is the layer's default style (QGIS loads the ``.qml`` of
  a file's own name), the style the GeoPackage layer had.
* **Deterministic**: the same table gives the same bytes (no timestamps, no pandas metadata,
  one Arrow type per kind of column whatever pandas dtype held it).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from carecover.outputs.gpkg import plain_columns
from carecover.outputs.qml import layer_qml
from carecover.utils import atomic_path, atomic_write

__all__ = ["COMPRESSION", "GEOPARQUET_VERSION", "arrow_table", "write_geoparquet"]

#: Parquet compression codec (zstd: smallest of the codecs every reader above supports).
COMPRESSION = "zstd"
#: GeoParquet version of the ``geo`` metadata.
GEOPARQUET_VERSION = "1.0.0"
_TYPE_NAMES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
               7: "GeometryCollection"}


def _canonical(t):
    """One Arrow type per kind of column, whatever pandas dtype held it (object or ``str``,
    ``int32`` or ``int64`` …): equal tables give equal bytes however they were computed."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    return t


def arrow_table(gdf: gpd.GeoDataFrame, table: pd.DataFrame | None = None):
    """The layer as an Arrow table: attribute columns in canonical types, the geometry as WKB in
    a column ``geometry``, and GeoParquet's ``geo`` metadata (no pandas metadata).

    Parameters
    ----------
    gdf
        The layer (lists and dicts in object columns become JSON text).
    table
        Its attributes as written, row for row (e.g. with ``lon``/``lat`` columns); ``None``:
        the layer's own columns.

    Returns
    -------
    pyarrow.Table
    """
    import pyarrow as pa

    geom = gdf.geometry
    attrs = plain_columns(gdf.drop(columns=geom.name) if table is None else table)
    out = pa.Table.from_pandas(pd.DataFrame(attrs, copy=False), preserve_index=False)
    for i, f in enumerate(out.schema):  # column by column: a column of the canonical type is not copied
        if _canonical(f.type) != f.type:
            out = out.set_column(i, f.name, out.column(i).cast(_canonical(f.type)))
    table = out
    geoms = np.asarray(geom.values, dtype=object)
    table = table.append_column("geometry", pa.array(shapely.to_wkb(geoms, output_dimension=2), pa.binary()))
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = sorted({_TYPE_NAMES[int(k)] for k in np.unique(shapely.get_type_id(geoms[ok]))})
    column = {"encoding": "WKB", "geometry_types": types}
    if gdf.crs is not None:  # by its EPSG code when it has one: one text however the CRS was made
        epsg = gdf.crs.to_epsg()
        column["crs"] = (gdf.crs if epsg is None else CRS.from_epsg(epsg)).to_json_dict()
    if ok.any():
        column["bbox"] = [float(v) for v in shapely.total_bounds(geoms[ok])]
    geo = {"version": GEOPARQUET_VERSION, "primary_column": "geometry", "columns": {"geometry": column}}
    return table.replace_schema_metadata({"geo": json.dumps(geo, sort_keys=True)})


def write_geoparquet(gdf: gpd.GeoDataFrame, path: str | Path, *, style_name: str | None = None,
                     table: pd.DataFrame | None = None) -> list[Path]:
    """Write a layer as GeoParquet (atomically) and its QGIS style as a ``.qml`` beside it.

    Parameters
    ----------
    gdf
        The layer (EPSG:4326), columns and rows in the order written.
    path
        The ``.parquet`` file.
    style_name
        The layer name whose QML style (:func:`~carecover.outputs.qml.layer_qml`) is written to
        ``path`` with the suffix ``.qml``; ``None``: no style.
    table
        The attributes written, row for row with ``gdf`` (:func:`arrow_table`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    data = arrow_table(gdf, table)
    with atomic_path(path) as tmp:
        pq.write_table(data, tmp, compression=COMPRESSION, row_group_size=max(1, data.num_rows))
    written = [path]
    qml = layer_qml(style_name, gdf) if style_name else None
    if qml is not None:
        qml_path = path.with_suffix(".qml")
        with atomic_write(qml_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(qml)
        written.append(qml_path)
    return written
