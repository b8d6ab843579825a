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
* **Deterministic**: the same table gives the same bytes (no timestamps in the file).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from carecover.outputs.gpkg import plain_columns
from carecover.outputs.qml import layer_qml
from carecover.utils import atomic_path, atomic_write

__all__ = ["COMPRESSION", "write_geoparquet"]

#: Parquet compression codec (zstd: smallest of the codecs every reader above supports).
COMPRESSION = "zstd"


def write_geoparquet(gdf: gpd.GeoDataFrame, path: str | Path, *, style_name: str | None = None) -> list[Path]:
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

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    path = Path(path)
    g = plain_columns(gdf).reset_index(drop=True)
    with atomic_path(path) as tmp:
        g.to_parquet(tmp, index=False, compression=COMPRESSION, schema_version="1.0.0", write_covering_bbox=False)
    written = [path]
    qml = layer_qml(style_name, gdf) if style_name else None
    if qml is not None:
        qml_path = path.with_suffix(".qml")
        with atomic_write(qml_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(qml)
        written.append(qml_path)
    return written
