"""The GeoPackage (``carecover.gpkg``): GeoPackage 1.2, written through Arrow, styled for QGIS.

* **Version 1.2.** GDAL writes GeoPackage 1.4 by default; the QGIS long-term releases still in
  use on government desktops ship GDAL builds that warn on a 1.4 file, so the file is created
  with ``VERSION=1.2`` (``application_id`` ``GPKG``, ``user_version`` 10200).
* **Fast.** Layers are written by pyogrio with ``use_arrow=True`` (columnar, no per-feature
  Python), which matters for the 100,000+ demand points of a city.
* **Styled.** A ``layer_styles`` table in the schema QGIS creates itself
  (``QgsOgrProviderMetadata::saveStyle``: ``f_table_catalog``, ``f_table_schema``,
  ``f_table_name``, ``f_geometry_column``, ``styleName``, ``styleQML``, ``styleSLD``,
  ``useAsDefault``, ``description``, ``owner``, ``ui``, ``update_time``) holds one default QML
  style per layer (:mod:`carecover.outputs.qml`), so every layer opens styled.
* **Deterministic.** ``gpkg_contents.last_change`` and the styles' ``update_time`` are the
  run's timestamp (``SOURCE_DATE_EPOCH`` when set).

GeoPackage reserves ``fid`` for its integer key: the key is named ``gpkg_fid`` so that our string
facility id keeps its column name. Travel times beyond the search limit stay ``inf`` (SQLite REAL).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from carecover.outputs.qml import layer_qml
from carecover.utils import atomic_path, run_datetime

__all__ = ["GPKG_VERSION", "GEOMETRY_COLUMN", "plain_columns", "write_gpkg"]

#: GeoPackage version written (see the module docstring).
GPKG_VERSION = "1.2"
#: Name of the geometry column in every layer (GDAL's default for GeoPackage).
GEOMETRY_COLUMN = "geom"


def plain_columns(gdf: pd.DataFrame) -> pd.DataFrame:
    """Lists/dicts in object columns as JSON text (GeoPackage has no list type); ``gdf`` itself
    when it has none."""
    out = gdf
    geom = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    for c in gdf.columns:
        if c == geom or gdf[c].dtype != object or \
                pd.api.types.infer_dtype(gdf[c], skipna=True) in ("string", "empty", "boolean"):
            continue
        if gdf[c].map(lambda v: isinstance(v, (list, tuple, dict))).any():
            if out is gdf:
                out = gdf.copy()
            out[c] = gdf[c].map(lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True)
                                if isinstance(v, (list, tuple, dict)) else v)
    return out


def styles_table(lays: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """The ``layer_styles`` rows: one default QML style per layer that has one.

    Parameters
    ----------
    lays
        Layer name -> layer, as written.

    Returns
    -------
    DataFrame
        QGIS's ``layer_styles`` columns (``update_time``: the run's timestamp).
    """
    stamp = pd.Timestamp(run_datetime()).tz_convert("UTC").tz_localize(None)
    rows = []
    for name, gdf in lays.items():
        qml = layer_qml(name, gdf)
        if qml is None:
            continue
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": GEOMETRY_COLUMN, "styleName": name, "styleQML": qml,
                     "styleSLD": "", "useAsDefault": True,
                     "description": "carecover 默认样式 / carecover default style", "owner": "",
                     "ui": "", "update_time": stamp})
    df = pd.DataFrame(rows, columns=["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                                     "styleName", "styleQML", "styleSLD", "useAsDefault", "description",
                                     "owner", "ui", "update_time"])
    df["useAsDefault"] = df["useAsDefault"].astype(bool)
    df["update_time"] = pd.to_datetime(df["update_time"])
    return df


def write_gpkg(lays: dict[str, gpd.GeoDataFrame], path: str | Path, *, styles: bool = True) -> None:
    """Write the layers (and their QGIS styles) into one GeoPackage 1.2 file, atomically.

    Parameters
    ----------
    lays
        Layer name -> EPSG:4326 GeoDataFrame, written in this order.
    path
        The ``.gpkg`` file.
    styles
        Add the ``layer_styles`` table.
    """
    import pyogrio

    # GDAL stamps gpkg_contents.last_change with the time of writing unless told the date
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": run_datetime().strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        with atomic_path(path) as tmp:
            first = True
            for name, gdf in lays.items():
                g = plain_columns(gdf)
                pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG", use_arrow=True,
                                        layer_options={"FID": "gpkg_fid", "GEOMETRY_NAME": GEOMETRY_COLUMN},
                                        dataset_options={"VERSION": GPKG_VERSION} if first else None)
                first = False
            if styles:
                st = styles_table(lays)
                if len(st):
                    pyogrio.write_dataframe(st, tmp, layer="layer_styles", driver="GPKG", use_arrow=True,
                                            layer_options={"FID": "id"},
                                            dataset_options={"VERSION": GPKG_VERSION} if first else None)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
