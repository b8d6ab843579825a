"""One name per suggested site (issue 21 item 4): ``★1 碑亭巷`` — rank and nearest street —
in sites.csv, the GeoPackage, report.html, map.html, the workbook and ``carecover whatif``."""

from __future__ import annotations

import html
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from carecover import cli
from carecover.vocab import UNNAMED_STREET, site_label


def test_site_label_forms() -> None:
    assert site_label(1, "碑亭巷") == "★1 碑亭巷"
    assert site_label(2, "华侨路、石鼓路") == "★2 华侨路"
    assert site_label(3, "碑亭巷", "长江路小学旁 / next to Changjiang Road Primary School") == (
        "★3 长江路小学旁 / next to Changjiang Road Primary School")
    assert site_label(1, "") == f"★1{UNNAMED_STREET}" == "★1（无名道路 / unnamed street）"
    assert site_label(4, float("nan"), float("nan")) == "★4（无名道路 / unnamed street）"


def test_unnamed_label_names_the_candidate(nanjing_demo_out: Path) -> None:
    from carecover.siting.state import load_state

    st = load_state(nanjing_demo_out, "community_centre")
    assert st.find_candidate(site_label(1, "")) == int(st.chosen[0])


def _first_site(out: Path) -> pd.Series:
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert "site_label" in sites.columns
    exact = sites[(sites["method"] == "exact") & (sites["tier"] == "community_centre")]
    return exact.sort_values("rank").iloc[0]


def test_same_label_everywhere(nanjing_demo_out: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    first = _first_site(nanjing_demo_out)
    label = first["site_label"]
    assert label == site_label(1, first["place"]) and label.startswith("★1 ") and len(label) > 3
    gpkg = gpd.read_file(nanjing_demo_out / "carecover.gpkg", layer="sites")
    assert label in set(gpkg["site_label"])
    report = html.unescape((nanjing_demo_out / "report.html").read_text(encoding="utf-8"))
    assert f"<td><bdi>{label}</bdi></td>" in report  # the sites table
    assert f"：{label}、★2 " in report  # the executive summary's recommendation
    page = (nanjing_demo_out / "map.html").read_text(encoding="utf-8")
    # popup and tooltip of the marker (the layer's data: "<" written as \u003c)
    assert f"<bdi>{label}</bdi>".replace("<", "\\u003c").replace(">", "\\u003e") in page
    book = pd.read_excel(nanjing_demo_out / "carecover.xlsx", sheet_name=None)
    sheet = next(df for name, df in book.items() if name.endswith("sites"))
    assert label in set(sheet["站点"])
    assert not any(str(v).startswith("新站点") for df in book.values() for v in df.to_numpy().ravel())
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main(["whatif", "--out", str(nanjing_demo_out), "--tier", "community_centre",
                     "--add-candidate", "★1"]) == 0
    assert label in capsys.readouterr().out
