"""Candidate-site files: parcels the city can build on (CSV with lon/lat, or any vector file).

候选地块文件：CSV（经度/纬度列）或任意点/面矢量文件（WGS-84 或自带坐标系）。
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.errors import InputError
from carecover.filelimits import MAX_TABLE_BYTES, regular_file

_LON = ("lon", "lng", "longitude", "经度", "x")
_LAT = ("lat", "latitude", "纬度", "y")
_ID = ("id", "编号", "name", "名称")


@dataclass(frozen=True)
class CandidateFile:
    """Candidate sites as read: WGS-84 positions and ids (``C1``, ``C2`` … without an id column)."""

    lon: np.ndarray
    lat: np.ndarray
    ids: tuple[str, ...]


def _read_csv(path: Path) -> CandidateFile:
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise InputError(f"候选点文件不是 UTF-8 文本 / the candidates file is not UTF-8 text (byte {exc.start})",
                         file=path, expected="a CSV saved as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"候选点文件无法读取 / cannot read the candidates file: {exc}", file=path) from None
    cols = {c.strip().lower(): c for c in df.columns}
    lon_c = next((cols[c] for c in _LON if c in cols), None)
    lat_c = next((cols[c] for c in _LAT if c in cols), None)
    if lon_c is None or lat_c is None:
        raise InputError("candidates need lon/lat columns / 候选点缺少经纬度列", file=path,
                         field="lon/lat", expected="columns lon,lat or 经度,纬度")
    lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))
    if len(bad):
        raise InputError("coordinate is not a number / 坐标不是数字", file=path, row=int(bad[0]) + 2,
                         field=f"{lon_c}/{lat_c}")
    bad = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if len(bad):
        raise InputError(f"坐标超出范围 / coordinate out of range ({lon[bad[0]]}, {lat[bad[0]]})", file=path,
                         row=int(bad[0]) + 2, field=f"{lon_c}/{lat_c}", expected="longitude -180..180, latitude -90..90")
    id_c = next((cols[c] for c in _ID if c in cols), None)
    ids = df[id_c].astype(str).tolist() if id_c else [f"C{i + 1}" for i in range(len(df))]
    return CandidateFile(lon, lat, tuple(ids))


def _read_vector(path: Path) -> CandidateFile:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(f"候选点文件无法读取 / cannot read the candidates file: {exc}", file=path) from None
    gdf = gdf.set_crs(4326) if gdf.crs is None else gdf.to_crs(4326)
    pts = gdf.geometry.representative_point()
    return CandidateFile(pts.x.to_numpy(), pts.y.to_numpy(), tuple(f"C{i + 1}" for i in range(len(gdf))))


def read_candidates(path: str | Path) -> CandidateFile:
    """Read a candidate-sites file.

    Parameters
    ----------
    path
        CSV/TXT with ``lon``/``lat`` (or 经度/纬度) columns and an optional ``id``/编号 column,
        or a point/polygon vector file (polygons are represented by a point inside).

    Returns
    -------
    CandidateFile
        WGS-84 positions and ids of the candidate sites.

    Raises
    ------
    InputError
        File missing, no coordinate columns, or a coordinate that is not a number (row named).
    """
    path = regular_file(path, "candidates file / 候选点文件", MAX_TABLE_BYTES,
                        missing="candidates file not found / 找不到候选点文件")
    return _read_csv(path) if path.suffix.lower() in (".csv", ".txt") else _read_vector(path)
