"""Issue 23: outputs an official can read. The Nanjing demo's report and workbook carry no code
word, its gaps are named and drawn from uncovered cells only, and the console says what it
wrote, report first."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from carecover import cli
from carecover.vocab import CODE_WORDS, gap_label, local_time, recommendation, term


def _visible_text(page: str) -> str:
    page = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
    page = re.sub(r"data:image/[^\"']+", "", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_report_and_workbook_carry_no_code_words(nanjing_demo_out: Path) -> None:
    from openpyxl import load_workbook

    text = _visible_text((nanjing_demo_out / "report.html").read_text(encoding="utf-8"))
    found = {w for w in CODE_WORDS if w in text}
    assert not found, f"report.html shows codes: {sorted(found)}"
    assert '{"' not in text  # no JSON blobs
    wb = load_workbook(nanjing_demo_out / "carecover.xlsx", read_only=True)
    try:
        assert wb.sheetnames[0] == "摘要 Summary"  # the summary first, like the report
        assert not any("_" in n for n in wb.sheetnames)
        hits = set()
        for ws in wb:
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    if isinstance(v, str):
                        hits |= {w for w in CODE_WORDS if w in v}
                        assert not v.startswith('{"'), (ws.title, v[:60])
        assert not hits, f"workbook shows codes: {sorted(hits)}"
    finally:
        wb.close()
    # the machine files keep the codes
    sites = pd.read_csv(nanjing_demo_out / "sites.csv", encoding="utf-8-sig")
    assert set(sites["status"]) >= {"optimal", "heuristic"}


def test_report_names_streets_and_says_the_time_in_beijing_time(nanjing_demo_out: Path) -> None:
    text = _visible_text((nanjing_demo_out / "report.html").read_text(encoding="utf-8"))
    summary = json.loads((nanjing_demo_out / "summary.json").read_text(encoding="utf-8"))
    assert local_time(summary["generated_at"], "Asia/Shanghai") in text
    assert "2025-06-25 08:00 (北京时间, UTC+08:00)" in text
    sites = pd.read_csv(nanjing_demo_out / "sites.csv", encoding="utf-8-sig")
    exact = sites[(sites["method"] == "exact") & (sites["tier"] == "street_centre")].sort_values("rank")
    assert exact["place"].notna().all()
    assert recommendation("街道级养老服务中心", list(exact["site_label"]), len(exact)) in text
    gaps = pd.read_csv(nanjing_demo_out / "gaps.csv", encoding="utf-8-sig")
    top = gaps[gaps["tier"] == "street_centre"].sort_values("rank").iloc[0]
    assert gap_label(top["gap_id"], top["elderly"], top["place"]) in text
    # greedy equal to the proven optimum shows no gap
    comm = sites[sites["tier"] == "community_centre"]
    if np.isclose(comm["objective"].min(), comm["objective"].max()):
        assert (comm["gap"] == 0).all()


def test_every_gap_is_named_and_drawn_over_uncovered_people_only(nanjing_demo_out: Path) -> None:
    gaps = pd.read_csv(nanjing_demo_out / "gaps.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(gaps) and (gaps["place"].str.len() > 0).all()
    zones = pyogrio.read_dataframe(nanjing_demo_out / "carecover.gpkg", layer="gap_zones")
    demand = gpd.read_parquet(nanjing_demo_out / "demand.parquet")
    assert len(zones)
    for tier, sub in zones.groupby("tier"):
        covered = demand.loc[demand[f"covered__{tier}"].astype(bool)].geometry.to_numpy()
        for poly in sub.geometry:
            # a hair inside, for points on a shared cell edge
            assert not shapely.contains(shapely.buffer(poly, -1e-7), covered).any(), tier
    # no gap of a walking tier is wider than one centre's reach (15 min × 1.0 m/s = 900 m) allows
    walk = gaps[gaps["tier"] != "township_centre"]
    assert walk["area_m2"].max() < 2 * 900.0 ** 2 + 1


def test_tier_words() -> None:
    assert term("heuristic", "status") == "近似解（逐个选最优）"
    assert term("places_per_1000", "measure", "en") == "places per 1,000 elderly within reach"
    assert term("all_of", "kind", both=True) == "多层级同时覆盖 within reach of all the tiers"
    assert gap_label(1, 2713.4, "华侨路、石鼓路") == "缺口 1（华侨路、石鼓路附近）：2,713 名老人"
    assert gap_label(1, 2713.4, "", "en") == "gap 1: 2,713 elderly"


def test_console_lists_outputs_report_first_with_full_paths(tmp_path: Path) -> None:
    names = ["summary.json", "coverage.csv", "map.html", "report.html", "map_gaode.html", "gaps.csv"]
    written = {n: tmp_path / n for n in names}
    text = cli.outputs_text(written, tmp_path)
    lines = text.splitlines()
    assert "report.html" in lines[1]
    paths = [ln.strip() for ln in lines if ln.startswith("  /")]
    assert paths[0] == str((tmp_path / "report.html").resolve())
    assert all(Path(p).is_absolute() for p in paths)
    assert "2 more" in text and "6 files" in text
