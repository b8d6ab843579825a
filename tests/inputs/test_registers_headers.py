"""Register headers (``carecover.inputs.registers.headers``): aliases, mapping, required fields,
and the schema document kept in step with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.errors import InputError
from carecover.inputs.registers import FIELD_ALIASES, STATUSES, map_columns, read_facilities
from carecover.inputs.registers.headers import header_row

ROOT = Path(__file__).resolve().parents[2]


class TestMapping:
    def test_aliases_brackets_and_priority(self):
        cols, hint = map_columns(["序号", "编号", "机构名称", "经度（高德）", "纬度(高德)", "其他",
                                  "乡镇（苏木）", "旗县（市、区）"])
        assert cols == {"fid": 1, "name": 2, "lon": 3, "lat": 4, "township": 6, "county": 7}
        assert hint == "gcj02"
        cols, hint = map_columns([" Facility Name ", "TYPE", "lng", "LAT"])
        assert set(cols) == {"name", "tier_raw", "lon", "lat"} and hint is None

    def test_header_row_skips_titles(self):
        assert header_row([["名录"], ["名称", "层级", "经度"], ["甲", "助餐点", "111"]]) == 1
        assert header_row([["a", "b"], ["c", "d"]]) == 0


class TestErrors:
    def test_missing_required_column_names_field_and_accepted_headers(self, write_register):
        p = write_register("r.csv", ["编号,名称,经度,纬度", "1,甲,111.67,40.82"])
        with pytest.raises(InputError) as e:
            read_facilities(p)
        assert e.value.field == "tier_raw" and e.value.file == str(p)
        assert "层级" in str(e.value) and "tier" in str(e.value) and "类型" in str(e.value)
        p = write_register("r2.csv", ["name,tier", "甲,助餐点"])
        with pytest.raises(InputError, match="lon") as e:
            read_facilities(p)
        assert "经度" in str(e.value)


class TestSchemaDocument:
    def test_schema_doc_and_template_match_the_code(self, tmp_path):
        doc = (ROOT / "docs" / "register_schema.md").read_text(encoding="utf-8")
        for names in FIELD_ALIASES.values():
            for name in names:
                assert f"`{name}`" in doc, name
        for status in STATUSES:
            assert f"`{status}`" in doc
        template = ROOT / "data" / "templates" / "facility_register_template.csv"
        raw = template.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        with pytest.raises(InputError, match="examples"):
            read_facilities(template)  # only example rows
        filled = tmp_path / "filled.csv"
        filled.write_bytes(raw.replace(b"#\xe7\xa4\xba\xe4\xbe\x8b", b"EX"))  # "#示例" → "EX"
        g = read_facilities(filled)
        assert len(g) == 3 and list(g["status"]) == ["ok", "ok", "ok"]
        assert list(g["crs_in"]) == ["gcj02", "gcj02", "wgs84"]
        assert list(g["tier"]) == ["street_centre", "community_centre", "happiness_home"]
