"""Facility registers (CSV/XLSX/GeoJSON/GeoPackage) → facilities GeoDataFrame with validation.

Registers compiled by planners are messy: Chinese or English headers, GBK-encoded CSV saved by
Excel, a title row above the header, coordinates picked from Amap/Baidu (GCJ-02/BD-09), latitude
and longitude swapped, text in number cells, the same facility listed twice. :func:`read_facilities`
reads all of that into the Facilities contract of ``docs/ARCHITECTURE.md``: **one row per input
record**, each with a ``status`` and a human-readable ``note``; nothing is silently dropped.
The accepted headers are documented in ``docs/register_schema.md`` (generated from
:data:`FIELD_ALIASES`).

Not records (and therefore not rows): completely empty lines, and comment lines whose first
cell starts with ``#`` (the template's example rows). Their count is kept in the
:class:`~carecover.inputs.facilities.Register` that :func:`read_register` returns.

=============  =============================================================================
module         concern
=============  =============================================================================
``headers``    accepted header names, :func:`map_columns`, header row, required fields
``csv``        delimited text: encoding and delimiter detection
``xlsx``       workbooks: sheet choice
``geo``        GeoJSON / GeoPackage / Shapefile: attributes and points
``table``      :class:`~carecover.inputs.registers.table.RawTable`, what every reader returns
``validate``   coordinates, systems, swaps, study area, duplicates, tiers, ids, strict mode
``report``     :func:`validation_table`, :func:`write_validation_report`
``crscheck``   :func:`crs_plausibility`
``schema``     :data:`COLUMNS`, :data:`STATUSES`, :func:`empty_facilities`
``area``       inside the study area (or China)
=============  =============================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from carecover import crs as crsmod
from carecover.errors import InputError
from carecover.filelimits import MAX_TABLE_BYTES, regular_file
from carecover.inputs.facilities import Register
from carecover.inputs.registers import csv, geo, xlsx
from carecover.inputs.registers.area import study_area
from carecover.inputs.registers.crscheck import crs_plausibility
from carecover.inputs.registers.headers import FIELD_ALIASES, REQUIRED, map_columns, require_fields
from carecover.inputs.registers.report import validation_table, write_validation_report
from carecover.inputs.registers.schema import COLUMNS, STATUSES, USABLE, empty_facilities
from carecover.inputs.registers.table import RawTable
from carecover.inputs.registers.validate import DUPLICATE_RADIUS_M, validate

__all__ = [
    "COLUMNS", "STATUSES", "USABLE", "FIELD_ALIASES", "REQUIRED", "DUPLICATE_RADIUS_M",
    "read_register", "read_facilities", "validation_table", "write_validation_report",
    "crs_plausibility", "empty_facilities", "map_columns",
]


def _checked_path(path: str | Path) -> Path:
    """A register path: a regular file of at most :data:`~carecover.filelimits.MAX_TABLE_BYTES`."""
    return regular_file(path, "register / 名录", MAX_TABLE_BYTES, missing="文件不存在 / file not found")


def _crs_argument(crs: str | None, path: Path) -> str | None:
    """The ``crs=`` argument as a canonical system name (an unknown name is an error)."""
    if crs is None:
        return None
    try:
        return crsmod.normalize_crs_name(crs)
    except ValueError as exc:
        raise InputError(str(exc), file=path, field="crs") from None


def _read_table(path: Path, sheet: str | int | None) -> RawTable:
    """The format's reader, chosen by the file name's ending."""
    suffix = path.suffix.lower()
    if suffix in geo.SUFFIXES:
        return geo.read_geo(path, sheet)
    if suffix in xlsx.SUFFIXES:
        return xlsx.read_xlsx(path, sheet)
    if suffix in csv.SUFFIXES:
        return csv.read_csv(path)
    if suffix == ".xls":
        raise InputError("不支持旧版 .xls 文件 / old .xls workbooks are not supported", file=path,
                         expected="save as .xlsx or .csv")
    raise InputError(f"不支持的文件类型 / unsupported file type '{suffix}'", file=path,
                     expected=".csv, .xlsx, .geojson or .gpkg")


def _require_records(raw: RawTable, path: Path) -> None:
    if len(raw.table) == 0:
        extra = ("（以 # 开头的示例行不计入 / lines starting with # are examples and are not read）"
                 if raw.info.get("skipped_comment") else "")
        raise InputError("没有数据记录 / the file has no data records" + extra
                         + xlsx.sheet_hint(raw.info), file=path)


def _read_info(raw: RawTable, path: Path, *, records: int, crs: str | None, hint: str | None,
               crs_default: str, cols: dict[str, int], area: Any) -> dict:
    """How the file was read (``Register.info``, copied into summary.json)."""
    info = dict(raw.info)
    info.update({
        "file": str(path), "format": path.suffix.lower().lstrip("."), "records": records,
        "skipped_rows": raw.skipped, "crs": crs_default,
        "crs_source": "argument" if crs else ("header" if hint else "default"),
        "columns": {f: str(raw.table.columns[p]) for f, p in cols.items()},
        "boundary": area is not None,
    })
    return info


def read_facilities(path: str | Path, *, crs: str | None = None, boundary: Any = None,
                    sheet: str | int | None = None, strict: bool = False,
                    vocabulary: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """The Facilities GeoDataFrame of a register (``read_register(...).frame``).

    Parameters and errors: see :func:`read_register`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input record with the columns of :data:`COLUMNS`.
    """
    return read_register(path, crs=crs, boundary=boundary, sheet=sheet, strict=strict,
                         vocabulary=vocabulary).frame


def read_register(path: str | Path, *, crs: str | None = None, boundary: Any = None,
                  sheet: str | int | None = None, strict: bool = False,
                  vocabulary: Mapping[str, str] | None = None) -> Register:
    """Read a facility register into the Facilities contract (EPSG:4326).

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` (UTF-8, UTF-8 with BOM, UTF-16 or GBK/GB18030; delimiter
        comma, tab or semicolon), ``.xlsx``, or ``.geojson``/``.gpkg``/``.shp`` (points; polygons
        are represented by a point inside them).
    crs
        Coordinate system of the coordinates ("wgs84", "gcj02", "bd09" or an alias such as
        "高德", "百度"). ``None``: a system named in the coordinate header (``经度（高德）``),
        else WGS-84. A 坐标系/crs column overrides it per row.
    boundary
        Study area (shapely geometry, GeoSeries/GeoDataFrame, or a file path; WGS-84 — convert
        Amap-derived GCJ-02 boundaries first with :func:`carecover.crs.transform_geometry`).
        Records outside it get ``outside_area``; without it, records outside China do.
    sheet
        Worksheet (name or 0-based index) of a workbook, or layer of a GeoPackage.
    strict
        Raise :class:`InputError` at the first record that is not ``ok`` instead of flagging it.
    vocabulary
        A city's extra tier names (:meth:`carecover.config.CityConfig.vocabulary`).

    Returns
    -------
    Register
        ``frame``: one row per input record with the columns of :data:`COLUMNS` (see
        docs/ARCHITECTURE.md); ``info``: how the file was read (encoding, header row, column
        mapping, coordinate system, rows skipped as blank or comment).

    Raises
    ------
    InputError
        Unreadable, undecodable or empty file; a required column (name, tier, coordinates)
        missing (the message lists the accepted headers); in ``strict`` mode, any problem row.
    """
    # file → table by format → records → columns → study area → validated rows → how read
    path = _checked_path(path)
    crs = _crs_argument(crs, path)
    raw = _read_table(path, sheet)
    _require_records(raw, path)
    has_geometry = raw.lon is not None and bool(np.isfinite(raw.lon).any())
    cols, hint = require_fields(raw.table.columns, has_geometry=has_geometry, path=path,
                                hint=xlsx.sheet_hint(raw.info))
    crs_default = crs or hint or "wgs84"
    area = study_area(boundary)
    frame = validate(raw, cols, file=path, crs_default=crs_default, area=area, strict=strict,
                     vocabulary=vocabulary)
    return Register(frame, _read_info(raw, path, records=len(frame), crs=crs, hint=hint,
                                      crs_default=crs_default, cols=cols, area=area))
