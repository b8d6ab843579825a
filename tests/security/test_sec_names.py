"""Class 4 of issue 26: names that lie on screen.

A facility name with a bidi override (``站\\u202egpj.exe``) reaches the map and the report
isolated (``<bdi>``), checked in a real headless Chromium for the map; a tier name with a
zero-width space (or in full-width letters) is the tier it looks like; a tier that is still
unknown shows its invisible characters in the note (``\\u200b``).

Network: pyrosm's small real extract ``test.osm.pbf``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pyrosm
import pytest
from browser import chromium_path, open_page
from carecover import cli
from carecover.tiers import tier_key

PBF = Path(pyrosm.get_data("test_pbf"))
LIAR = "站\u202egpj.exe"
ROWS = [("B0", LIAR, "社区养老服务站"), ("B1", "普通站", "社区养老服务\u200b站"),
        ("B2", "全角站", "ｃｏｍｍｕｎｉｔｙ ｓｔａｔｉｏｎ"), ("B3", "未知站", "不存在\u200b的层级")]


def test_tier_names_are_normalised_before_lookup():
    from carecover.tiers import visible

    assert tier_key("社区养老服务\u200b站") == "community_centre"
    assert tier_key("\ufeff街道级") == "street_centre"
    assert tier_key("ｓｔｒｅｅｔ ｃｅｎｔｒｅ") == "street_centre"
    assert tier_key("街道\u202e级") == "street_centre"
    assert tier_key("不存在\u200b的层级") is None
    assert visible("a\u200bb\u202ec") == "a\\u200bb\\u202ec"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("names")
    reg = d / "reg.csv"
    with open(reg, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "名称", "层级", "经度", "纬度", "地址"])
        for i, (fid, name, tier) in enumerate(ROWS):
            w.writerow([fid, name, tier, 26.945 + 0.002 * i, 60.53, name])
    out = d / "out"
    assert cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(reg),
                     "--total-population", "5000", "--offline-map", "--out", str(out)]) == 0
    return out


def test_invisible_characters_in_tiers(out: Path):
    fac = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig", dtype=str).set_index("fid")
    assert fac.loc["B1", "tier"] == "community_centre" and fac.loc["B2", "tier"] == "community_centre"
    note = fac.loc["B3", "note"]
    assert "不存在\\u200b的层级" in note and "\u200b" not in note


def test_report_tables_isolate_input_text():
    from carecover.outputs.report.document import Table
    from carecover.outputs.report.render import html_table

    html = html_table(Table(["名称", "覆盖"], [[LIAR, "12%"], ["区" + LIAR, "FAIL"]], note=""))
    hits = list(re.finditer(re.escape(LIAR), html))
    assert len(hits) == 2
    for m in hits:
        before = html[:m.start()]
        assert before.rfind("<bdi>") > before.rfind("<td"), html  # inside the cell's own <bdi>


@pytest.mark.browser
def test_map_isolates_names_in_chromium(out: Path):
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    res = open_page(out / "map.html", evaluate={"found": (
        "(() => { const out = []; for (const layer of Object.values(window.ccMap.overlays)) {"
        " if (!window.ccMap.map.hasLayer(layer)) continue; layer.eachLayer(l => {"
        " for (const kind of ['Popup', 'Tooltip']) { const p = l['get' + kind] && l['get' + kind](); if (!p) continue;"
        " l['open' + kind](); const el = p.getElement();"
        " const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let n;"
        f" while ((n = walker.nextNode())) {{ if (n.nodeValue.includes({LIAR!r})) out.push([kind,"
        " n.parentElement.closest('bdi') !== null && n.parentElement.closest('bdi').textContent.trim() === n.nodeValue.trim()]); }"
        " l['close' + kind](); } }); } return out; })()")})
    assert res.js_errors == [], res.js_errors
    found = res.values["found"]
    kinds = {k for k, _ in found}
    assert kinds == {"Popup", "Tooltip"}, found
    assert all(ok for _, ok in found), found
