"""Text from inputs reaches spreadsheets only as text (issue 11, items 6 and 11): no live formula
in carecover.xlsx, OWASP's leading apostrophe in the CSVs, and control characters in a name do
not crash the workbook export.

Network: pyrosm's small real extract ``test.osm.pbf``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyrosm
import pytest
from carecover import cli
from carecover.cells import csv_safe, xlsx_text

PBF = Path(pyrosm.get_data("test_pbf"))
NAMES = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "@SUM(A1)", "-2+3", "站\x0b名\x1b"]


class TestSynthetic:
    @pytest.mark.parametrize("text, want", [("=1+1", "'=1+1"), ("+86", "'+86"), ("@x", "'@x"), ("-1", "'-1"),
                                            ("\tx", "'\tx"), ("站1", "站1"), ("a=b", "a=b")])
    def test_csv_rule(self, text: str, want: str) -> None:
        assert csv_safe(text) == want
        assert csv_safe(-1.5) == -1.5  # numbers stay numbers

    def test_control_characters_made_visible(self) -> None:
        assert xlsx_text("a\x00b\x0bc\x1bd") == "a\\x00b\\x0bc\\x1bd"
        assert xlsx_text("换行\n可以") == "换行\n可以"


class TestRealWorld:
    def test_hostile_names_stay_text(self, tmp_path: Path) -> None:
        rows = "".join(f'H{i},"{n.replace(chr(34), chr(34) * 2)}",社区养老服务站,26.95,60.53\n'
                       for i, n in enumerate(NAMES))
        reg = tmp_path / "reg.csv"
        reg.write_text("编号,名称,层级,经度,纬度\n" + rows, encoding="utf-8")
        out = tmp_path / "out"
        rc = cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(reg),
                       "--total-population", "5000", "--out", str(out)])
        assert rc == 0
        from openpyxl import load_workbook

        wb = load_workbook(out / "carecover.xlsx")
        sheet = next(ws for ws in wb.worksheets if ws.title.endswith("facilities"))
        header = [c.value for c in sheet[1]]
        col = header.index("名称") + 1 if "名称" in header else header.index("name") + 1
        cells = [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]
        assert all(c.data_type == "s" for c in cells), [(c.value, c.data_type) for c in cells]
        got = sorted(c.value for c in cells)
        assert got == sorted(xlsx_text(n) for n in NAMES)
        with open(out / "facilities.csv", encoding="utf-8-sig", newline="") as fh:
            names = sorted(r["name"] for r in csv.DictReader(fh))
        assert names == sorted(csv_safe(n) for n in NAMES)
