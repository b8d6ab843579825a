"""CSV registers (``carecover.inputs.registers.csv``): encodings, delimiters, header rows,
comment lines, and the hand-checked register with one record per status."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from carecover import crs
from carecover.errors import InputError
from carecover.inputs.registers import COLUMNS, read_facilities, read_register
from carecover.inputs.registers.csv import detect_encoding, read_csv


class TestSynthetic:
    """Registers written by ``write_register`` and the hand-checked ``hand`` register."""

    def test_every_status_hand_checked(self, hand, metres):
        g = read_facilities(hand.path)
        assert list(g.columns) == list(COLUMNS)
        assert g.crs.to_epsg() == 4326
        assert len(g) == len(hand.rows)  # one row per record
        assert list(g["status"]) == hand.expected
        assert list(g["row"]) == list(range(2, 2 + len(hand.rows)))
        assert set(g["source"]) == {"register"} and set(g["source_file"]) == {"reg.csv"}
        by = g.set_index("row")
        # swapped: fixed geometry, coordinates as given kept
        assert by.loc[3, "lon_in"] == 40.8101
        assert by.loc[3, "geometry"].x == pytest.approx(111.6602)
        assert "swapped" in by.loc[3, "note"]
        # missing: no geometry, note quotes the bad text
        assert by.loc[4, "geometry"] is None and by.loc[5, "geometry"] is None
        assert "东经111度" in by.loc[5, "note"]
        assert np.isinf(by.loc[11, "lon_in"]) and by.loc[11, "geometry"] is None
        # duplicates: first kept, later flagged with the first's row; ids stay unique
        assert "row 2" in by.loc[7, "note"] and "row 2" in by.loc[8, "note"]
        assert g["fid"].is_unique and by.loc[2, "fid"] == "1" and by.loc[7, "fid"] != "1"
        # unknown tier kept with tier None and the raw text
        assert by.loc[9, "tier"] is None and by.loc[9, "tier_raw"] == "棋牌室"
        assert by.loc[2, "tier"] == "street_centre" and by.loc[10, "tier"] == "meal_point"
        # per-row GCJ-02 converted to WGS-84 (a few hundred metres)
        assert by.loc[10, "crs_in"] == "gcj02" and by.loc[2, "crs_in"] == "wgs84"
        p = by.loc[10, "geometry"]
        assert 300 < metres(p.x, p.y, 111.70, 40.85) < 900
        ex, ey = crs.gcj02_to_wgs84(111.70, 40.85)
        assert p.x == pytest.approx(float(ex), abs=1e-9) and p.y == pytest.approx(float(ey), abs=1e-9)
        assert by.loc[2, "address"] == "新华大街1号" and by.loc[2, "street"] == "新华街道"
        assert by.loc[2, "note"] == ""

    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
    def test_encodings(self, hand, write_register, encoding):
        p = write_register("r.csv", [hand.header, *hand.rows], encoding=encoding)
        g = read_facilities(p)
        assert list(g["status"]) == hand.expected
        assert g.loc[0, "name"] == "新华街道养老服务中心"
        if encoding == "utf-8-sig":
            assert read_register(p).info["columns"]["fid"] == "编号"  # BOM not glued to the header

    def test_tab_delimited_utf16_as_excel_unicode_text(self, hand, tmp_path):
        p = tmp_path / "r.txt"
        p.write_text("\n".join(line.replace(",", "\t") for line in [hand.header, *hand.rows]) + "\n",
                     encoding="utf-16")
        assert list(read_facilities(p)["status"]) == hand.expected

    def test_semicolons_and_info(self, hand, tmp_path):
        p = tmp_path / "r.csv"
        p.write_text("\n".join(line.replace(",", ";") for line in [hand.header, *hand.rows]) + "\n",
                     encoding="gbk")
        raw = read_csv(p)
        assert raw.info["delimiter"] == ";" and raw.info["encoding"] == "gbk/gb18030"
        assert raw.info["header_row"] == 1 and list(raw.rows) == list(range(2, 2 + len(hand.rows)))
        assert detect_encoding(p) == "gb18030"

    def test_english_headers_title_row_and_comments(self, write_register):
        p = write_register("r.csv", [
            "呼和浩特市养老服务设施名录（2025年）,,,,",
            " ID , Facility Name ,TYPE,Longitude,Latitude",
            "# example row,示例,助餐点,111.6,40.8",
            "a1,甲,Meal point,111.67,40.82",
            ",,,,",
            "a2,乙,street-level centre,111.68,40.83",
        ])
        reg = read_register(p)
        g = reg.frame
        assert list(g["fid"]) == ["a1", "a2"]
        assert list(g["row"]) == [4, 6]  # rows as Excel numbers them
        assert list(g["tier"]) == ["meal_point", "street_centre"]
        info = reg.info
        assert info["header_row"] == 2 and info["skipped_comment"] == 1 and info["skipped_blank"] == 1
        assert info["skipped_rows"] == 2

    def test_missing_id_column_gives_row_ids_and_combined_coordinates(self, write_register):
        p = write_register("r.csv", ['名称,类型,经纬度', '甲,助餐点,"111.67,40.82"', '乙,助餐点,111.68 40.83'])
        g = read_facilities(p)
        assert list(g["fid"]) == ["F2", "F3"]
        assert list(g["status"]) == ["ok", "ok"]
        assert g.geometry.iloc[1].x == pytest.approx(111.68)

    @pytest.mark.slow
    def test_million_row_register_is_fast(self, tmp_path):
        n = 1_000_000
        rng = np.random.default_rng(1)
        tiers = np.array(["社区养老服务站", "助餐点", "街道级养老服务中心", "村级养老服务站"])
        df = pd.DataFrame({
            "编号": np.arange(n).astype(str),
            "名称": np.char.add("设施", np.arange(n).astype(str)),
            "层级": tiers[rng.integers(0, 4, n)],
            "经度": np.round(rng.uniform(110.5, 112.5, n), 6),
            "纬度": np.round(rng.uniform(40.0, 41.5, n), 6),
            "坐标系": np.where(rng.random(n) < 0.5, "高德", ""),
        })
        df.loc[::1000, "经度"] = np.nan  # some missing
        p = tmp_path / "big.csv"
        df.to_csv(p, index=False, encoding="gbk")
        t0 = time.perf_counter()
        g = read_facilities(p)
        elapsed = time.perf_counter() - t0
        assert len(g) == n
        assert (g["status"] == "missing_coords").sum() == 1000
        assert (g["status"] == "ok").sum() == n - 1000
        print(f"100,000-row GBK register read in {elapsed:.1f} s")  # reported, not asserted


class TestErrors:
    def test_undecodable_and_empty_files(self, tmp_path, hand, write_register):
        bad = tmp_path / "bad.csv"
        bad.write_bytes(b"name,tier,lon,lat\n\xff\xfe\xfa\xff,x,1,2\n\x81")
        with pytest.raises(InputError, match="decode|编码|文本"):
            read_facilities(bad)
        empty = tmp_path / "empty.csv"
        empty.write_bytes(b"")
        with pytest.raises(InputError, match="empty") as e:
            read_facilities(empty)
        assert e.value.file == str(empty)
        header_only = write_register("h.csv", [hand.header])
        with pytest.raises(InputError, match="no data records"):
            read_facilities(header_only)
        with pytest.raises(InputError, match="not found"):
            read_facilities(tmp_path / "nope.csv")

    def test_binary_and_malformed(self, tmp_path):
        binary = tmp_path / "bin.csv"
        binary.write_bytes(b"a,b\x00c\n")
        with pytest.raises(InputError, match="not a text"):
            read_facilities(binary)
        ragged = tmp_path / "ragged.csv"
        ragged.write_text("名称,层级,经度,纬度\n甲,助餐点,111.67,40.82\n乙,助餐点,111.68,40.83,x,y\n",
                          encoding="utf-8")
        with pytest.raises(InputError, match="malformed CSV"):
            read_facilities(ragged)

    def test_unsupported_types(self, tmp_path):
        for name, says in (("r.xls", ".xls"), ("r.docx", "unsupported file type '.docx'")):
            p = tmp_path / name
            p.write_bytes(b"PK\x03\x04")
            with pytest.raises(InputError, match=says):
                read_facilities(p)
