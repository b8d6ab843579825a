"""Coverage map: content, determinism, GCJ-02 for Gaode, offline assets, parameters from the
run's RunParams, and a real browser."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import chromium_path, open_page
from carecover.crs import wgs84_to_gcj02
from carecover.errors import InputError
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.maps import build_map, layer_names, map_stats
from carecover.outputs.maps.controls import legend_names, panel_html
from carecover.outputs.maps.gaps import drawn_mask
from carecover.outputs.maps.jsdata import point_layers
from carecover.outputs.maps.popups import esc, kv_table

HOHHOT = (111.670801, 40.818311)  # 呼和浩特 city centre, WGS-84 (the hohhot_bundle fixture's facility)


@pytest.fixture(scope="module")
def bundle(monaco_bundle: PlanBundle) -> PlanBundle:
    return monaco_bundle


def _drawn_facilities(b: PlanBundle) -> int:
    return int((b.facilities.geometry.notna() & ~b.facilities.geometry.is_empty).sum())


def _title_block(text: str) -> str:
    """The text of the map's title block (tags removed)."""
    block = panel_html(text, "cc-title")
    assert block, "no title block"
    return re.sub(r"<[^>]+>", " ", block)


def _marker_latlons(text: str) -> list[tuple[float, float]]:
    """Where the map puts its facility markers (from the layers' data arrays)."""
    return [(float(p[0]), float(p[1])) for d in point_layers(text)
            if d.get("s", {}).get("className", "").startswith("cc-facility ") for p in d["p"]]


def test_layers_markers_and_determinism(bundle: PlanBundle, tmp_path: Path) -> None:
    a = build_map(bundle, tmp_path / "a.html")
    b = build_map(bundle, tmp_path / "b.html")
    text = a.read_text(encoding="utf-8")
    assert text == b.read_text(encoding="utf-8")  # ids are a counter, not random
    assert "2025-06-25 08:00 (北京时间, UTC+08:00)" in text  # the one stated time, in the city's zone
    # one marker per facility with coordinates; the record without coordinates is stated
    assert map_stats(a)["facility_markers"] == _drawn_facilities(bundle) == len(bundle.facilities) - 1
    assert "1 个设施无坐标" in text
    names = layer_names(bundle)
    for key in ("facilities__street_centre", "isochrones__meal_point", "population", "gaps", "unused"):
        assert json.dumps(names[key]) in text, key  # the layer control's JSON keys
    assert "街道级养老服务中心 Street-level centre" == names["facilities__street_centre"]
    # Chinese first by default, English only when asked
    en = dataclasses.replace(bundle, lang="en")
    build_map(en, tmp_path / "en.html")
    assert "Street-level centre" in layer_names(en)["facilities__street_centre"]
    assert "街道" not in layer_names(en)["facilities__street_centre"]


def test_gcj02_on_gaode_wgs84_on_osm(hohhot_bundle, tmp_path: Path) -> None:
    b = hohhot_bundle()
    osm = _marker_latlons(build_map(b, tmp_path / "osm.html").read_text(encoding="utf-8"))
    gd_text = build_map(b, tmp_path / "gaode.html", basemap="gaode").read_text(encoding="utf-8")
    gaode = _marker_latlons(gd_text)
    glon, glat = wgs84_to_gcj02(*HOHHOT)
    assert osm == [(HOHHOT[1], HOHHOT[0])]
    assert gaode == [(round(float(glat), 6), round(float(glon), 6))]
    # the shift is hundreds of metres in Hohhot, so the test tells the two apart
    dx = (gaode[0][1] - osm[0][1]) * 111320 * np.cos(np.radians(HOHHOT[1]))
    dy = (gaode[0][0] - osm[0][0]) * 110540
    assert 100 < np.hypot(dx, dy) < 1000
    assert "autonavi.com" in gd_text and "tile.openstreetmap.org" not in gd_text
    # isochrone polygons are shifted too
    ring = re.search(r'"coordinates":\s*\[\[\[([-\d.]+),\s*([-\d.]+)\]', gd_text)
    assert ring is not None
    assert abs(float(ring.group(1)) - (HOHHOT[0] + 0.005)) > 1e-4


def test_population_aggregated_to_max_cells(bundle: PlanBundle, tmp_path: Path) -> None:
    small = build_map(bundle, tmp_path / "small.html", max_cells=300)
    text = small.read_text(encoding="utf-8")
    n_cells = len(re.findall(r'"c":\s*"#', text))
    assert 0 < n_cells <= 300
    assert bundle.demand["elderly"].gt(0).sum() > 300  # it really had to aggregate
    assert re.search(r"人口格网已汇总为 \d+ 米方格", text)
    big = build_map(bundle, tmp_path / "big.html")
    assert map_stats(big)["bytes"] < 20e6


def test_bad_basemap_raises(bundle: PlanBundle, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        build_map(bundle, tmp_path / "x.html", basemap="baidu")
    assert not (tmp_path / "x.html").exists()


def test_offline_by_default(bundle: PlanBundle, tmp_path: Path) -> None:
    text = build_map(bundle, tmp_path / "off.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*src=\"?https?://", text)
    assert not re.search(r"<link[^>]*href=\"?https?://", text)
    from carecover.outputs.maps import ASSETS

    assert (ASSETS / "leaflet.js").read_text(encoding="utf-8")[-300:] in text  # vendored copy inlined
    assert "data:image/png;base64," in text  # layer-control icon from leaflet.css, inlined too
    assert "<title>" + bundle.params.title + "</title>" in text
    # no web font, icon font, Bootstrap or awesome-markers either (folium's other defaults)
    assert not re.search(r"bootstrap|font-awesome|awesome-markers|googleapis|cdnjs", text, flags=re.I)
    online = build_map(bundle, tmp_path / "on.html", inline_assets=False).read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net/npm/leaflet@" in online


@pytest.mark.browser
def test_map_in_headless_chromium(bundle: PlanBundle, tmp_path: Path) -> None:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    path = build_map(bundle, tmp_path / "map.html")
    shot = tmp_path / "map.png"
    res = open_page(path, screenshot=shot, evaluate={
        "overlays": "[...document.querySelectorAll('.leaflet-control-layers-overlays label input + span')]"
                    ".map(s => s.textContent.trim())",
        "bases": "[...document.querySelectorAll('.leaflet-control-layers-base label input + span')]"
                 ".map(s => s.textContent.trim())",
        "facilities": "document.querySelectorAll('path.cc-facility').length",
        "gap_labels": "document.querySelectorAll('.leaflet-marker-pane .cc-gap').length",
        "sites": "document.querySelectorAll('.cc-site').length",
        "title": "document.getElementById('cc-title') && document.getElementById('cc-title').textContent",
        "scale": "[...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.innerText)",
        "base_checked": "[...document.querySelectorAll('.leaflet-control-layers-base input')].map(i => i.checked)",
        # a popup as the browser builds it from a layer's data: the table kv_table writes
        "table": "ccTable(" + json.dumps([esc("名称 <&>")]) + ", [[0, '<b>1</b>'], [0, '2']])",
    })
    assert res.js_errors == [] and res.console_errors == []
    names = layer_names(bundle)
    for key in ("boundaries", "population", "gaps", "sites_exact", "sites_greedy", "unused",
                "facilities__street_centre", "facilities__community_centre", "facilities__meal_point",
                "isochrones__street_centre"):
        assert names[key] in res.values["overlays"], key
    assert res.values["bases"] == ["OpenStreetMap", "浅色底图 Light (CartoDB Positron)"]
    assert res.values["base_checked"] == [True, False]  # OpenStreetMap shown first
    assert res.values["table"] == kv_table([("名称 <&>", "<b>1</b>"), ("名称 <&>", "2")])
    assert res.values["facilities"] == _drawn_facilities(bundle)
    # the gaps above the least share, and the gaps of suggested sites
    keep = set(pd.DataFrame(bundle.sites)["gap_id"].astype(str))
    drawn = drawn_mask(bundle.gaps, bundle.params.map_min_gap_share, keep)
    assert res.values["gap_labels"] == int(drawn.sum()) < len(bundle.gaps)
    # the greedy layer is hidden when an exact solution exists
    assert res.values["sites"] == int((pd.DataFrame(bundle.sites)["method"] == "exact").sum())
    assert "步行速度" in res.values["title"]
    assert len(res.values["scale"]) == 1 and res.values["scale"][0].endswith("m")  # metric only
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("CARECOVER_SCREENSHOT_DIR")  # to look at it afterwards
    if keep:
        shutil.copy(shot, Path(keep) / "test_map_chromium.png")


# ----------------------------------------------------------------------------- parameters

def test_title_block_states_the_bundles_params(bundle: PlanBundle, change_params, tmp_path: Path) -> None:
    default = _title_block(build_map(bundle, tmp_path / "default.html").read_text(encoding="utf-8"))
    assert "1.0 m/s" in default and "0.8 m/s, 1.2 m/s" in default
    assert "街道级养老服务中心: 15.0 min 步行 walk" in default
    assert bundle.params.title in default
    changed = change_params(bundle, walk_speed_mps=0.7, sensitivity_speeds_mps=(0.6, 0.9),
                            tier_changes={"street_centre": {"threshold_min": 10.0},
                                          "meal_point": {"mode": "drive", "threshold_min": 5.0}},
                            title="另一个标题 Another title")
    text = _title_block(build_map(changed, tmp_path / "changed.html").read_text(encoding="utf-8"))
    assert "步行速度 Walking speed" in text and "0.7 m/s" in text and "1.0 m/s" not in text
    assert "0.6 m/s, 0.9 m/s" in text
    assert "街道级养老服务中心: 10.0 min 步行 walk" in text
    assert "老年助餐点: 5.0 min 车行 drive" in text
    assert "社区养老服务中心/站: 15.0 min 步行 walk" in text  # unchanged tier as before
    assert "另一个标题 Another title" in text and bundle.params.title not in text
    # the summary still says 1.0 m/s: the map does not read it
    assert bundle.summary["parameters"]["speed_mps"] == 1.0


def test_map_does_not_read_summary_parameters(bundle: PlanBundle, tmp_path: Path) -> None:
    without = dataclasses.replace(bundle, summary={k: v for k, v in bundle.summary.items() if k != "parameters"})
    wrong = dataclasses.replace(bundle, summary={**bundle.summary, "parameters": {
        "city": "Nowhere", "speed_mps": 9.9, "sensitivity_speeds_mps": [9.8],
        "tiers": {"street_centre": {"mode": "drive", "threshold_min": 99.0}}}})
    for basemap in ("osm", "gaode"):
        ref = build_map(bundle, tmp_path / f"ref_{basemap}.html", basemap=basemap).read_bytes()
        assert build_map(without, tmp_path / f"without_{basemap}.html", basemap=basemap).read_bytes() == ref
        assert build_map(wrong, tmp_path / f"wrong_{basemap}.html", basemap=basemap).read_bytes() == ref


def test_map_needs_params_layer_names_do_not(bundle: PlanBundle, tmp_path: Path) -> None:
    bare = dataclasses.replace(bundle, params=None)
    with pytest.raises(InputError, match="params"):
        build_map(bare, tmp_path / "bare.html")
    assert not (tmp_path / "bare.html").exists()
    assert layer_names(bare) == layer_names(bundle)  # names come from the tables and the language


# ----------------------------------------------------------------------------- legend, gaps

def test_legend_lists_exactly_the_layers_drawn(bundle: PlanBundle, tmp_path: Path) -> None:
    text = build_map(bundle, tmp_path / "m.html").read_text(encoding="utf-8")
    overlays = re.search(r"overlays :  \{(.*?)\},\s*\};", text, flags=re.S).group(1)
    drawn = [json.loads(n) for n in re.findall(r'^\s*("(?:[^"\\]|\\.)*") :', overlays, flags=re.M)]
    assert sorted(legend_names(text)) == sorted(drawn)
    names = layer_names(bundle)
    assert names["sites_greedy"] in drawn and names["gaps"] in drawn
    # a bundle without gaps or sites draws neither, and its legend has no entry for them
    bare = dataclasses.replace(bundle, gaps=None, gap_hulls=None, sites=None)
    bare_text = build_map(bare, tmp_path / "bare.html").read_text(encoding="utf-8")
    assert not {names["gaps"], names["sites_exact"], names["sites_greedy"]} & set(legend_names(bare_text))
    assert names["population"] in legend_names(bare_text)


def test_gaps_drawn_above_the_least_share(bundle: PlanBundle, change_params, tmp_path: Path) -> None:
    gaps = bundle.gaps
    e = gaps["elderly"].to_numpy(float)
    share = float(np.sort(e)[::-1][4] / e.sum())  # exactly the five largest reach it
    few = change_params(dataclasses.replace(bundle, sites=None), map_min_gap_share=share)
    text = build_map(few, tmp_path / "few.html").read_text(encoding="utf-8")
    assert map_stats(tmp_path / "few.html")["gap_labels"] == 5
    assert f"绘制 5 个（共 {len(gaps)} 个）" in text and "gaps.csv" in text
    everything = change_params(dataclasses.replace(bundle, sites=None), map_min_gap_share=0.0)
    all_text = build_map(everything, tmp_path / "all.html").read_text(encoding="utf-8")
    assert map_stats(tmp_path / "all.html")["gap_labels"] == len(gaps) and "绘制" not in panel_html(all_text, "cc-legend")
    # a gap a suggested site serves is drawn however small
    smallest = gaps.sort_values("elderly").iloc[0]
    sites = pd.DataFrame([{"rank": 1, "tier": "street_centre", "method": "exact", "gain_elderly": 1.0,
                           "gain_pop": 4.0, "lon": smallest.geometry.x, "lat": smallest.geometry.y,
                           "county": "", "gap_id": smallest["gap_id"]}])
    kept = change_params(dataclasses.replace(bundle, sites=sites), map_min_gap_share=share)
    assert map_stats(build_map(kept, tmp_path / "kept.html"))["gap_labels"] == 6
