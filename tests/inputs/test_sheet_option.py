"""``--sheet`` / ``--layer`` choose a register's worksheet or GeoPackage layer (issue 11, item 13):
the hint of a multi-sheet workbook names an option that exists."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyrosm
import pytest
import shapely
from carecover import cli

PBF = Path(pyrosm.get_data("test_pbf"))
ROWS = [["A1", "站1", "社区养老服务站", 26.95, 60.53], ["A2", "站2", "老年助餐点", 26.94, 60.525]]


def _workbook(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本表为填写说明 / how to fill in"])
    reg = wb.create_sheet("名录")
    reg.append(["编号", "名称", "层级", "经度", "纬度"])
    for r in ROWS:
        reg.append(r)
    wb.save(path)
    return path


def _geopackage(path: Path) -> Path:
    pts = [shapely.Point(r[3], r[4]) for r in ROWS]
    gpd.GeoDataFrame({"note": ["x", "y"]}, geometry=pts, crs=4326).to_file(path, layer="other", driver="GPKG")
    gpd.GeoDataFrame({"编号": [r[0] for r in ROWS], "名称": [r[1] for r in ROWS], "层级": [r[2] for r in ROWS]},
                     geometry=pts, crs=4326).to_file(path, layer="facilities", driver="GPKG")
    return path


def _plan(reg: Path, out: Path, *extra: str) -> int:
    return cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(reg),
                     "--total-population", "5000", "--out", str(out), *extra])


class TestRealWorld:
    def test_first_sheet_fails_with_a_hint_that_exists(self, tmp_path: Path, capsys) -> None:
        reg = _workbook(tmp_path / "reg.xlsx")
        assert _plan(reg, tmp_path / "out") == 2
        err = capsys.readouterr().err
        assert "--sheet" in err and "名录" in err and "sheet=" not in err

    @pytest.mark.parametrize("sheet", ["名录", "1"])
    def test_sheet_by_name_or_index(self, tmp_path: Path, sheet: str, capsys) -> None:
        reg = _workbook(tmp_path / "reg.xlsx")
        assert _plan(reg, tmp_path / "out", "--sheet", sheet) == 0, capsys.readouterr().err
        fac = gpd.read_file(tmp_path / "out" / "carecover.gpkg", layer="facilities")
        assert sorted(fac["fid"]) == ["A1", "A2"]

    def test_validate_takes_sheet(self, tmp_path: Path, capsys) -> None:
        reg = _workbook(tmp_path / "reg.xlsx")
        assert cli.main(["validate", str(reg), "--sheet", "名录"]) == 0
        out = capsys.readouterr().out
        total = next(ln for ln in out.splitlines() if ln.strip().startswith("total"))
        assert " 2 " in total  # both records of the chosen sheet
        assert cli.main(["validate", str(reg)]) == 2  # the first sheet holds no register

    def test_geopackage_layer(self, tmp_path: Path, capsys) -> None:
        reg = _geopackage(tmp_path / "reg.gpkg")
        assert _plan(reg, tmp_path / "out", "--layer", "facilities") == 0, capsys.readouterr().err
        fac = gpd.read_file(tmp_path / "out" / "carecover.gpkg", layer="facilities")
        assert sorted(fac["fid"]) == ["A1", "A2"]
