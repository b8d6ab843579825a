"""Validation summaries (``carecover.inputs.registers.report``)."""

from __future__ import annotations

import pandas as pd
from carecover.inputs.registers import (
    STATUSES,
    empty_facilities,
    read_facilities,
    validation_table,
    write_validation_report,
)


class TestReport:
    def test_validation_table_and_report(self, hand, tmp_path):
        g = read_facilities(hand.path)
        t = validation_table(g).set_index("status")
        assert list(t.index) == [*STATUSES, "total"]
        assert t.loc["ok", "count"] == 4 and t.loc["missing_coords", "count"] == 4
        assert t.loc["duplicate", "count"] == 2 and t.loc["unsnapped", "count"] == 0
        assert t.loc["total", "count"] == len(hand.rows)
        out = write_validation_report(g, tmp_path / "out" / "facilities.csv")
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel shows Chinese
        back = pd.read_csv(out, encoding="utf-8-sig", dtype={"fid": str})
        assert len(back) == len(hand.rows) and list(back["status"]) == hand.expected
        assert back.loc[0, "status_zh"] == "正常" and back.loc[0, "name"] == "新华街道养老服务中心"
        assert not list((tmp_path / "out").glob(".*part*"))  # atomic: no temporary left

    def test_empty_and_other_statuses(self, hand):
        t = validation_table(empty_facilities()).set_index("status")
        assert (t["count"] == 0).all() and (t["percent"] == 0).all()
        g = read_facilities(hand.path)
        g.loc[0, "status"] = "later_status"
        t = validation_table(g)
        assert t["status"].tolist()[-2:] == ["later_status", "total"]
        assert t.set_index("status").loc["total", "percent"] == 100.0
