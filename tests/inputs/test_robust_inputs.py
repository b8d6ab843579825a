"""Issue 27 in the input readers: registers read whole or refused naming what to choose (class 4),
implausible numbers noted (class 3), rasters read in bounded windows with bad values and partial
cover said (classes 1 and 3)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover import notices
from carecover.errors import InputError
from carecover.inputs.population.raster import MAX_READ_PIXELS, from_raster
from carecover.inputs.registers import read_register

HEADER = ["编号", "名称", "层级", "经度", "纬度"]
ROW = ["A1", "站1", "社区养老服务站", 111.67, 40.82]


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


class TestRegisterTables:
    def test_empty_first_sheet_names_the_sheet_with_records(self, tmp_path):
        p = _xlsx(tmp_path / "r.xlsx", {"说明": [], "名录": [HEADER, ROW]})
        with pytest.raises(InputError, match="sheets with data: 名录") as err:
            read_register(p)
        assert err.value.field == "--sheet" and str(p) in str(err.value)
        assert len(read_register(p, sheet="名录").frame) == 1  # chosen: read

    def test_formula_without_cached_value_names_the_cell(self, tmp_path):
        # openpyxl writes formulas without their values, as some export tools do
        p = _xlsx(tmp_path / "r.xlsx", {"名录": [HEADER, ["A1", "站1", "社区养老服务站", "=111.6+0.07", 40.82]]})
        with pytest.raises(InputError, match="cell D2 holds a formula") as err:
            read_register(p)
        assert err.value.row == 2

    def test_header_over_two_rows(self, tmp_path):
        p = _xlsx(tmp_path / "r.xlsx", {"名录": [["编号", "名称", "层级", "坐标", None],
                                                 [None, None, None, "经度", "纬度"], ROW]})
        with pytest.raises(InputError, match="header spans two rows"):
            read_register(p)

    def test_repeated_column(self, tmp_path):
        p = tmp_path / "r.csv"
        p.write_text("编号,名称,层级,经度,纬度,纬度\nA1,站1,社区养老服务站,111.67,40.82,0\n", encoding="utf-8")
        with pytest.raises(InputError, match="columns 5 .* and 6 .* both give 'lat'"):
            read_register(p)

    def test_lines_and_multipoints_get_a_status_naming_the_cause(self, tmp_path):
        geoms = [shapely.Point(111.67, 40.82), shapely.LineString([(111.6, 40.8), (111.7, 40.9)]),
                 shapely.MultiPoint([(111.6, 40.8), (111.7, 40.9)]), shapely.MultiPoint([(111.65, 40.81)])]
        p = tmp_path / "r.geojson"
        gpd.GeoDataFrame({"名称": ["a", "b", "c", "d"], "层级": ["社区养老服务站"] * 4}, geometry=geoms,
                         crs=4326).to_file(p)
        fac = read_register(p).frame.set_index("row")
        assert fac.loc[1, "status"] == "ok" and fac.loc[4, "status"] == "ok"  # one point, even as a MultiPoint
        for row, kind in ((2, "LineString"), (3, "MultiPoint")):
            assert fac.loc[row, "status"] == "missing_coords"
            assert f"geometry is a {kind}" in fac.loc[row, "note"]

    def test_geopackage_of_several_layers_names_them(self, tmp_path):
        p = tmp_path / "r.gpkg"
        for layer in ("名录", "旧名录"):
            gpd.GeoDataFrame({"名称": ["a"], "层级": ["社区养老服务站"]}, geometry=[shapely.Point(111.67, 40.82)],
                             crs=4326).to_file(p, layer=layer)
        with pytest.raises(InputError, match="2 layers: 名录, 旧名录") as err:
            read_register(p)
        assert err.value.field == "--sheet"
        assert len(read_register(p, sheet="旧名录").frame) == 1

    def test_huge_bed_count_is_noted_and_taken_as_missing(self, tmp_path):
        p = tmp_path / "r.csv"
        p.write_text("编号,名称,层级,经度,纬度,床位\nA1,站1,社区养老服务站,111.67,40.82,1e12\n"
                     "A2,站2,社区养老服务站,111.68,40.83,120\n", encoding="utf-8")
        fac = read_register(p).frame.set_index("fid")
        assert np.isnan(fac.loc["A1", "beds"]) and fac.loc["A2", "beds"] == 120
        assert "plausible limit" in fac.loc["A1", "note"]

    def test_device_instead_of_a_file(self):
        with pytest.raises(InputError, match="not a regular file"):
            read_register("/dev/zero")


def _tif(path: Path, data: np.ndarray, origin=(26.93, 60.54), res=0.001, **extra) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(*origin, res, res), **extra) as dst:
        if data.size:
            dst.write(data.astype("float32"), 1)
    return path


class TestRasters:
    def test_huge_declared_raster_read_in_a_window_or_refused(self, tmp_path):
        import rasterio
        from rasterio.transform import from_origin

        p = tmp_path / "huge.tif"
        # 45,000 × 43,000 pixels declared, no block written: a few KB on disk, 7 GiB if read whole
        with rasterio.open(p, "w", driver="GTiff", height=43_000, width=45_000, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(26.0, 61.0, 0.0001, 0.0001), tiled=True,
                           compress="deflate", sparse_ok=True, nodata=-1):
            pass
        with pytest.raises(InputError, match=f"limit of {MAX_READ_PIXELS:,}") as err:
            from_raster(p)  # no study area: the whole raster would be read
        assert str(p) in str(err.value) and "45" not in err.value.message.split("limit")[1]
        # with a study area only its window is read (here it holds nothing but empty pixels)
        box = shapely.box(26.93, 60.52, 26.97, 60.54)
        with pytest.raises(InputError, match="only nodata"):
            from_raster(p, box)

    def test_undeclared_nodata_1e30_refused(self, tmp_path):
        data = np.full((20, 40), 2.0)
        data[3, 4] = 1e30
        p = _tif(tmp_path / "p.tif", data)
        with pytest.raises(InputError, match="1e\\+30 people in one pixel") as err:
            from_raster(p)
        assert "row 3, col 4" in str(err.value)

    def test_raster_covering_a_corner_is_said(self, tmp_path):
        p = _tif(tmp_path / "p.tif", np.full((10, 10), 2.0))  # 0.01° square in the area's corner
        area = shapely.box(26.93, 60.50, 26.99, 60.54)
        with notices.collect() as found:
            d = from_raster(p, area)
        assert len(d.points) == 100
        msg = next(n.message for n in found if n.code == "raster_partial_cover")
        assert "covers only 4%" in msg and str(p) in msg

    def test_elderly_above_total_is_said(self, tmp_path):
        pop = _tif(tmp_path / "p.tif", np.full((10, 10), 2.0))
        old = _tif(tmp_path / "e.tif", np.full((10, 10), 5.0))
        with notices.collect() as found:
            d = from_raster(pop, elderly_raster=old)
        assert float(d.points["elderly"].sum()) == pytest.approx(500)
        msg = next(n.message for n in found if n.code == "elderly_above_total")
        assert "100 pixels hold more elderly than residents" in msg
