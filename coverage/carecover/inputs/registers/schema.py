"""The Facilities contract of a register: columns, statuses, and an empty table.

设施表契约：列、状态及空表。Columns and statuses are described in ``docs/ARCHITECTURE.md`` and
``docs/register_schema.md``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.inputs.facilities import USABLE

__all__ = ["COLUMNS", "MEASURE_COLUMNS", "STATUSES", "USABLE", "empty_facilities"]

#: Columns of the Facilities GeoDataFrame, in order (docs/ARCHITECTURE.md).
COLUMNS: tuple[str, ...] = (
    "fid", "name", "tier", "tier_raw", "address", "street", "township", "county", "source",
    "source_file", "row", "crs_in", "lon_in", "lat_in", "status", "note",
    "capacity_persons", "beds", "floor_area_m2", "meal_seats", "geometry",
)
#: The supply measures as given (float, NaN where not given); see carecover.config.capacity.
MEASURE_COLUMNS: tuple[str, ...] = ("capacity_persons", "beds", "floor_area_m2", "meal_seats")

#: Status values, in the order validation tables list them, with Chinese and English labels.
STATUSES: dict[str, tuple[str, str]] = {
    "ok": ("正常", "ok"),
    "swapped_fixed": ("经纬度颠倒已纠正", "lat/lon swapped, fixed"),
    "outside_area": ("位于研究区域外", "outside the study area"),
    "missing_coords": ("缺少或无效坐标", "missing or invalid coordinates"),
    "duplicate": ("重复记录", "duplicate record"),
    "unknown_tier": ("无法识别的设施层级", "unknown tier"),
    "unsnapped": ("距道路过远，未接入路网", "too far from any street, not routed"),
}


def empty_facilities() -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with the Facilities columns (EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        No rows; the columns of :data:`COLUMNS` with the contract's dtypes.
    """
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS if c != "geometry"})
    df["row"] = df["row"].astype(np.int64)
    df["lon_in"] = df["lon_in"].astype(float)
    df["lat_in"] = df["lat_in"].astype(float)
    for col in MEASURE_COLUMNS:
        df[col] = df[col].astype(float)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
