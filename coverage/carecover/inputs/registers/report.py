"""Validation summaries of a register: counts per status, and the per-record report.

校验报告：按状态计数；逐条记录（含转换后的 WGS-84 经纬度、状态和说明）的 CSV。
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.cells import csv_safe
from carecover.inputs.registers.schema import STATUSES
from carecover.utils import atomic_write

__all__ = ["SWAP_NOTE", "swapped_rows", "validation_lines", "validation_table", "write_validation_report"]

_REPORT_ORDER = ("row", "fid", "name", "tier", "tier_raw", "status", "status_zh", "note",
                 "lon", "lat", "crs_in", "lon_in", "lat_in", "address", "street",
                 "township", "county", "source", "source_file")


def _percent(count: int, total: int) -> float:
    return round(100.0 * count / total, 2) if total else 0.0


def validation_table(facilities: pd.DataFrame) -> pd.DataFrame:
    """Count of records per status (every status listed, zeros included, plus a total row).

    Parameters
    ----------
    facilities
        A Facilities frame (any frame with a ``status`` column).

    Returns
    -------
    pandas.DataFrame
        Columns ``status``, ``label_zh``, ``label_en``, ``count``, ``percent``: the statuses of
        :data:`~carecover.inputs.registers.STATUSES` in order, then any others, then ``total``.
    """
    counts = facilities["status"].value_counts() if len(facilities) else pd.Series(dtype=int)
    total = int(len(facilities))
    rows = []
    for key, (zh, en) in STATUSES.items():
        c = int(counts.get(key, 0))
        rows.append((key, zh, en, c, _percent(c, total)))
    for key in sorted(set(counts.index) - set(STATUSES)):
        c = int(counts[key])
        rows.append((key, key, key, c, _percent(c, total)))
    rows.append(("total", "合计", "total", total, 100.0 if total else 0.0))
    return pd.DataFrame(rows, columns=["status", "label_zh", "label_en", "count", "percent"])


def write_validation_report(facilities: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write every record with its status and note as CSV (UTF-8 with BOM for Excel), atomically.

    Parameters
    ----------
    facilities
        A Facilities frame.
    path
        The CSV to write (folders are created).

    Returns
    -------
    pathlib.Path
        ``path``. The file adds ``lon``/``lat`` (WGS-84 after conversion and swap fixes) and
        ``status_zh`` to the Facilities columns.
    """
    path = Path(path)
    df = pd.DataFrame(facilities.drop(columns=facilities.geometry.name))
    geom = facilities.geometry.values
    has = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    lon = np.full(len(df), np.nan)
    lat = np.full(len(df), np.nan)
    lon[has], lat[has] = shapely.get_x(geom[has]), shapely.get_y(geom[has])
    df["lon"], df["lat"] = np.round(lon, 7), np.round(lat, 7)
    df["status_zh"] = df["status"].map({k: v[0] for k, v in STATUSES.items()}).fillna(df["status"])
    order = [c for c in _REPORT_ORDER if c in df.columns]
    df = df[order + [c for c in df.columns if c not in order]]
    df = df.map(csv_safe)  # register text never becomes a live formula in Excel
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        df.to_csv(fh, index=False)
    return path


#: The note of a row whose latitude and longitude were swapped (its status may be another one).
SWAP_NOTE = "latitude and longitude were swapped; fixed"


def swapped_rows(facilities: pd.DataFrame) -> int:
    """Rows whose latitude and longitude were swapped and fixed, whatever their final status."""
    return int(facilities["note"].astype(str).str.contains(SWAP_NOTE, regex=False).sum())


def validation_lines(facilities: pd.DataFrame, vocabulary=None) -> list[str]:
    """What ``carecover validate`` says under its table: the statuses that occur, the swapped
    rows fixed, and each unknown tier name once with the closest known names and the config key.

    Parameters
    ----------
    facilities
        A Facilities frame.
    vocabulary
        The city's extra tier names (:meth:`carecover.config.CityConfig.vocabulary`).

    Returns
    -------
    list of str
        ``中文 / English`` lines.
    """
    from carecover.tiers import unknown_names_message

    counts = facilities["status"].astype(str).value_counts()
    text = ", ".join(f"{s} {int(counts[s])}" for s in STATUSES if s in counts)
    out = [f"按状态 / by status ({len(facilities)} 行 / rows): {text}",
           f"经纬度颠倒已纠正 / swapped rows fixed: {swapped_rows(facilities)}"]
    unknown = facilities.loc[facilities["status"] == "unknown_tier", "tier_raw"].astype(str).value_counts()
    if len(unknown):
        out.append(unknown_names_message({k: int(v) for k, v in unknown.items()}, vocabulary))
    return out
