"""Excel registers (``carecover.inputs.registers.xlsx``): sheets, numbers, title rows."""

from __future__ import annotations

import pytest
from carecover.errors import InputError
from carecover.inputs.registers import read_facilities, read_register


@pytest.fixture
def workbook(tmp_path):
    """A workbook whose first sheet is a note and whose second (设施) holds the register."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本工作簿第二张表为设施名录"])
    ws2 = wb.create_sheet("设施")
    ws2.append(["养老服务设施登记表"])  # title row above the header
    ws2.append(["序号", "机构名称", "设施类型", "经度", "纬度", "旗县区", "乡镇（苏木）"])
    ws2.append([1, "甲中心", "乡镇区域养老服务中心", 111.5012345678, 40.61, "土默特左旗", "察素齐镇"])
    ws2.append([2, "乙站", "幸福院", "111.52", "40.62", "土默特左旗", ""])  # numbers as text
    ws2.append([3, "丙站", "幸福院", "abc", 40.62, "", ""])
    wb.create_sheet("空")
    p = tmp_path / "r.xlsx"
    wb.save(p)
    return p


class TestSynthetic:
    def test_chinese_headers_numbers_and_sheet(self, workbook):
        g = read_facilities(workbook, sheet="设施")
        assert list(g["fid"]) == ["1", "2", "3"]  # integer ids, not "1.0"
        assert list(g["row"]) == [3, 4, 5]
        assert list(g["status"]) == ["ok", "ok", "missing_coords"]
        assert g.loc[0, "lon_in"] == 111.5012345678  # full precision kept
        assert list(g["tier"]) == ["township_centre", "happiness_home", "happiness_home"]
        assert g.loc[0, "county"] == "土默特左旗" and g.loc[0, "township"] == "察素齐镇"

    def test_sheet_by_index_and_info(self, workbook):
        info = read_register(workbook, sheet=1).info
        assert info["sheet"] == "设施" and info["sheets"] == ["说明", "设施", "空"]
        assert info["header_row"] == 2 and info["format"] == "xlsx"


class TestErrors:
    def test_wrong_sheet(self, workbook):
        with pytest.raises(InputError, match="no data records.*设施"):
            read_facilities(workbook)  # first sheet has no register: the message lists the sheets
        with pytest.raises(InputError, match="no sheet"):
            read_facilities(workbook, sheet="不存在")
        with pytest.raises(InputError, match="sheet is empty"):
            read_facilities(workbook, sheet="空")

    def test_corrupt_workbook(self, tmp_path):
        p = tmp_path / "r.xlsx"
        p.write_bytes(b"PK\x03\x04 not really a zip")
        with pytest.raises(InputError, match="cannot read the workbook"):
            read_facilities(p)
