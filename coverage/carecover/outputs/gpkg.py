"""The GeoPackage (``carecover.gpkg``): GeoPackage 1.2, written through Arrow, styled for QGIS.

* **Version 1.2.** GDAL writes GeoPackage 1.4 by default; the QGIS long-term releases still in
  use on government desktops ship GDAL builds that warn on a 1.4 file, so the file is created
  with ``VERSION=1.2`` (``application_id`` ``GPKG``, ``user_version`` 10200).
* **Fast.** Layers are written by pyogrio with ``use_arrow=True`` (columnar, no per-feature
  Python), which matters for the 100,000+ demand points of a city.
* **Lean.** Layers are added one at a time (:class:`GpkgWriter`); a large (multi)polygon layer
  (a city's isochrones: millions of vertices) goes through the same Arrow call with its WKB
  made a geometry at a time into one buffer (:func:`write_polygons`), the same bytes with a
  quarter of the memory.
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

import contextlib
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.outputs.qml import layer_qml
from carecover.utils import atomic_path, run_datetime

__all__ = ["GEOMETRY_COLUMN", "GPKG_VERSION", "GpkgWriter", "plain_columns", "style_row", "styles_table", "write_gpkg"]

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


def style_row(name: str, gdf: pd.DataFrame) -> dict | None:
    """The ``layer_styles`` row of one layer (its default QML style; :func:`styles_table` adds
    the ``update_time``), ``None`` when it has no style."""
    qml = layer_qml(name, gdf)
    if qml is None:
        return None
    return {"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
            "f_geometry_column": GEOMETRY_COLUMN, "styleName": name, "styleQML": qml,
            "styleSLD": "", "useAsDefault": True,
            "description": "carecover 默认样式 / carecover default style", "owner": "",
            "ui": ""}


def styles_table(lays: dict[str, gpd.GeoDataFrame] | list[dict]) -> pd.DataFrame:
    """The ``layer_styles`` rows: one default QML style per layer that has one.

    Parameters
    ----------
    lays
        Layer name -> layer, as written; or the rows already made (:func:`style_row`).

    Returns
    -------
    DataFrame
        QGIS's ``layer_styles`` columns (``update_time``: the run's timestamp).
    """
    rows = list(lays) if isinstance(lays, list) else \
        [r for r in (style_row(name, gdf) for name, gdf in lays.items()) if r is not None]
    stamp = pd.Timestamp(run_datetime()).tz_convert("UTC").tz_localize(None)
    rows = [{**r, "update_time": stamp} for r in rows]
    df = pd.DataFrame(rows, columns=["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                                     "styleName", "styleQML", "styleSLD", "useAsDefault", "description",
                                     "owner", "ui", "update_time"])
    df["useAsDefault"] = df["useAsDefault"].astype(bool)
    df["update_time"] = pd.to_datetime(df["update_time"])
    return df


class GpkgWriter:
    """One GeoPackage 1.2 file written a layer at a time (and its QGIS styles at the end),
    atomically: the caller can make each layer, add it and let it go before making the next,
    so that only one layer is held at a time (a city's isochrones are millions of vertices).

    Use as a context manager; the file is in place when the block ends without an error.

    Parameters
    ----------
    path
        The ``.gpkg`` file.
    styles
        Add the ``layer_styles`` table.
    """

    def __init__(self, path: str | Path, *, styles: bool = True) -> None:
        self.path, self.styles = Path(path), styles
        self._rows: list[dict] = []
        self._first = True
        self._tmp: Path | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> GpkgWriter:
        import pyogrio

        # GDAL stamps gpkg_contents.last_change with the time of writing unless told the date
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": run_datetime().strftime("%Y-%m-%dT%H:%M:%S.000Z")})
        self._stack.callback(pyogrio.set_gdal_config_options, {"OGR_CURRENT_DATE": None})
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        return self

    def add(self, name: str, gdf: gpd.GeoDataFrame) -> None:
        """Write one layer (EPSG:4326), after those added before it."""
        self._write(plain_columns(gdf), name, {"FID": "gpkg_fid", "GEOMETRY_NAME": GEOMETRY_COLUMN})
        if self.styles and (row := style_row(name, gdf)) is not None:
            self._rows.append(row)

    def _write(self, df: pd.DataFrame, name: str, layer_options: dict) -> None:
        import pyogrio

        dataset_options = {"VERSION": GPKG_VERSION} if self._first else None
        if not write_polygons(df, self._tmp, name, layer_options=layer_options, dataset_options=dataset_options):
            pyogrio.write_dataframe(df, self._tmp, layer=name, driver="GPKG", use_arrow=True,
                                    layer_options=layer_options, dataset_options=dataset_options)
        self._first = False

    def __exit__(self, *exc) -> bool:
        try:
            if exc[0] is None and self._rows:
                self._write(styles_table(self._rows), "layer_styles", {"FID": "id"})
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self._stack.__exit__(*exc)


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
    with GpkgWriter(path, styles=styles) as gpkg:
        for name, gdf in lays.items():
            gpkg.add(name, gdf)


#: Polygon layers with more vertices than this are written by :func:`write_polygons`.
LEAN_MIN_VERTICES = 100_000


def write_polygons(gdf: pd.DataFrame, path: Path, layer: str, *, layer_options: dict,
                   dataset_options: dict | None) -> bool:
    """Write a large (multi)polygon layer as ``pyogrio.write_dataframe(..., use_arrow=True)``
    writes it, byte for byte, with a fraction of its memory: the WKB of one geometry at a time
    goes into one Arrow buffer (pyogrio makes every polygon a multipolygon, then all the WKB,
    then copies them into Arrow: three more copies of a city's isochrones, +300 MB).

    Parameters
    ----------
    gdf
        The layer (lists and dicts already JSON text, :func:`plain_columns`).
    path
        The GeoPackage being written.
    layer
        Layer name.
    layer_options, dataset_options
        As for ``pyogrio.write_dataframe``.

    Returns
    -------
    bool
        Whether it was written: only a 2-D (multi)polygon layer of more than
        :data:`LEAN_MIN_VERTICES` vertices without missing geometries and with plain columns
        (numbers, booleans, text) is; anything else is left to pyogrio.
    """
    import pyarrow as pa
    from pyogrio.raw import write_arrow

    if not isinstance(gdf, gpd.GeoDataFrame) or not len(gdf) or gdf.crs is None or gdf.crs.to_epsg() is None:
        return False
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    types = set(shapely.get_type_id(geoms).tolist())
    if not types <= {3, 6} or shapely.has_z(geoms).any() or \
            int(shapely.get_num_coordinates(geoms).sum()) <= LEAN_MIN_VERTICES:
        return False
    name = gdf.geometry.name
    if not all(_plain_dtype(gdf[c]) for c in gdf.columns if c != name):
        return False
    multi = types == {3, 6}  # mixed: pyogrio makes the polygons multipolygons (GeoPackage has one type)
    wkb = _wkb_array(geoms, multi)
    if wkb is None:
        return False
    attrs = pd.DataFrame(gdf, copy=False)
    attrs[name] = None  # the geometry column's place; its WKB is set below
    table = pa.Table.from_pandas(attrs, preserve_index=False)
    table = table.set_column(table.schema.get_field_index(name), pa.field(name, pa.binary()), wkb)
    write_arrow(table, path, layer=layer, driver="GPKG", geometry_name=name,
                geometry_type="Polygon" if types == {3} else "MultiPolygon", crs=f"EPSG:{gdf.crs.to_epsg()}",
                encoding=None, append=False, dataset_metadata=None, layer_metadata=None, metadata=None,
                dataset_options=dataset_options, layer_options=layer_options)
    return True


def _plain_dtype(col: pd.Series) -> bool:
    """A column pyogrio hands to Arrow as it is (no datetimes, no mixed objects)."""
    if col.dtype == object:
        return pd.api.types.infer_dtype(col) == "string"
    return pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col) or \
        pd.api.types.is_string_dtype(col)


def _wkb_array(geoms: np.ndarray, multi: bool):
    """The WKB of each geometry (a polygon as a one-part multipolygon when ``multi``), one
    geometry at a time, into one Arrow binary array; ``None`` when over Arrow's 2 GiB."""
    import pyarrow as pa

    data = bytearray()
    offsets = np.zeros(len(geoms) + 1, dtype=np.int64)
    for i, g in enumerate(geoms):
        if multi and shapely.get_type_id(g) == 3:
            g = shapely.multipolygons([g])
        data += shapely.to_wkb(g)
        offsets[i + 1] = len(data)
    if offsets[-1] >= 2**31:
        return None
    return pa.Array.from_buffers(pa.binary(), len(geoms), [None, pa.py_buffer(offsets.astype(np.int32)),
                                                             pa.py_buffer(data)])
