"""``carecover rankings`` and ``scripts/export_rankings.py`` on a real plan output."""

from __future__ import annotations

import csv

import pytest
from carecover import cli
from carecover.meeting import rankings
from carecover.meeting.common import summary_figure
from carecover.siting.state import load_state

TIER = "street_centre"


def _cells(path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {name: list(wb[name].iter_rows(values_only=True)) for name in wb.sheetnames}


def test_workbook(meeting_out, tmp_path, capsys):
    from openpyxl import load_workbook

    path = tmp_path / "排名.xlsx"
    assert rankings.main(["--out", str(meeting_out), "--xlsx", str(path)]) == 0
    wb = load_workbook(path)
    with open(meeting_out / "gaps.csv", encoding="utf-8-sig") as fh:
        gaps = list(csv.DictReader(fh))
    tiers = sorted({g["tier"] for g in gaps})
    assert sorted(n for n in wb.sheetnames if n.startswith("空白区")) == sorted(f"空白区 {t}" for t in tiers)
    assert wb.sheetnames.count(f"选址 {TIER}") == 1
    for t in tiers:
        ws = wb[f"空白区 {t}"]
        head = [c.value for c in ws[2]]
        assert "老年人口(60岁以上)" in head and "本层级排序" in head
        body = list(ws.iter_rows(min_row=3, values_only=True))
        assert len(body) == sum(g["tier"] == t for g in gaps)
        eld = [r[head.index("老年人口(60岁以上)")] for r in body]
        assert eld == sorted(eld, reverse=True)  # largest uncovered elderly population first
    ws = wb[f"选址 {TIER}"]
    head = [c.value for c in ws[2]]
    body = [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    exact = [r for r in body if r["方法"] == "精确(HiGHS)"]
    st = load_state(meeting_out, TIER)
    assert [r["候选点序号(whatif)"] for r in exact] == st.chosen.tolist()
    # the plan's sites by ★rank and street; people whole, shares as percentages
    assert [r["站点"].split()[0] for r in exact] == [f"★{i}" for i in range(1, len(exact) + 1)]
    assert all(r["所在道路"] and r["站点"].endswith(r["所在道路"]) for r in exact)
    cols = {c.value: c.column for c in ws[2]}
    assert ws.cell(3, cols["新增覆盖老年人口"]).number_format == "#,##0"
    assert ws.cell(3, cols["累计老年人覆盖率"]).number_format == "0.0%"
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")
    planned = summary_figure(st.summary, TIER, "planned").value
    assert exact[-1]["累计老年人覆盖率"] == pytest.approx(planned, abs=1e-6)


def test_carecover_rankings_writes_the_same_workbook(meeting_out, tmp_path, capsys):
    assert rankings.main(["--out", str(meeting_out), "--xlsx", str(tmp_path / "a.xlsx")]) == 0
    assert cli.main(["rankings", "--out", str(meeting_out), "--xlsx", str(tmp_path / "b.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "工作表 / sheets" in out and "表头对照 Headers" in out
    assert _cells(tmp_path / "a.xlsx") == _cells(tmp_path / "b.xlsx")


def test_no_tables_is_an_input_error(tmp_path, capsys):
    assert cli.main(["rankings", "--out", str(tmp_path)]) == 2
    assert "gaps.csv" in capsys.readouterr().err
