"""Site selection with unit boundaries and candidate files, end to end on the real Monaco extract.

Two hand-made "townships" split the extract into West and East. One township centre stands in
West, so the rule "one new centre per township that lacks one" allows a new site in East only.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover import cli
from carecover.network import streets as network


@pytest.fixture(scope="module")
def monaco_run(tmp_path_factory, monaco_pbf):
    tmp = tmp_path_factory.mktemp("units")
    net = network.load_network(monaco_pbf, "walk", cache=tmp / "cache")
    lon, lat = net.to_wgs84().transform(net.node_x, net.node_y)
    mid = float(np.median(lon))
    box = (float(lon.min()) - 0.01, float(lat.min()) - 0.01, float(lon.max()) + 0.01, float(lat.max()) + 0.01)
    units = gpd.GeoDataFrame({"name": ["West", "East"]},
                             geometry=[shapely.box(box[0], box[1], mid, box[3]),
                                       shapely.box(mid, box[1], box[2], box[3])], crs=4326)
    units.to_file(tmp / "townships.geojson", driver="GeoJSON")
    # real street nodes as facility positions, deterministic
    deg = np.bincount(np.concatenate([net.seg_a, net.seg_b]), minlength=net.n_nodes)
    junctions = np.flatnonzero(deg >= 3)
    west = junctions[lon[junctions] < mid]
    east = junctions[lon[junctions] > mid]
    rows = [("T1", "乡镇中心 West", "乡镇区域养老服务中心", lon[west[len(west) // 2]], lat[west[len(west) // 2]])]
    for i, k in enumerate(junctions[:: max(len(junctions) // 3, 1)][:3]):
        rows.append((f"C{i + 1}", f"社区站 {i + 1}", "社区养老服务站", lon[k], lat[k]))
    reg = pd.DataFrame(rows, columns=["编号", "名称", "层级", "经度", "纬度"])
    reg.to_csv(tmp / "register.csv", index=False, encoding="utf-8-sig")
    picks = east[:: max(len(east) // 4, 1)][:4]
    cands = pd.DataFrame({"id": [f"P{i + 1}" for i in range(len(picks))],
                          "lon": lon[picks] + 0.0001, "lat": lat[picks]})
    cands.to_csv(tmp / "parcels.csv", index=False)
    out = tmp / "out"
    common = ["--quiet", "plan", "--network", str(monaco_pbf), "--facilities", str(tmp / "register.csv"),
              "--total-population", "38000", "--units", f"township={tmp / 'townships.geojson'}",
              "--exact-time-limit", "20", "--max-candidates", "300"]
    code = cli.main([*common, "--suggest", "township_centre=2", "--out", str(out)])
    assert code == 0
    out2 = tmp / "out2"
    code2 = cli.main([*common, "--suggest", "community_centre=1", "--candidates", str(tmp / "parcels.csv"),
                      "--out", str(out2)])
    assert code2 == 0
    return out, out2, cands


def test_one_new_township_centre_per_township_lacking_one(monaco_run):
    out, _, _ = monaco_run
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    tc = sites[sites["tier"] == "township_centre"]
    assert len(tc) > 0
    # West already has a centre: no new site there; East at most one per method
    assert set(tc["unit"]) == {"East"}
    assert tc.groupby("method").size().max() == 1


def test_administrative_and_per_unit_figures(monaco_run):
    out, _, _ = monaco_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    adm = [f for f in summary["figures"] if f["kind"] == "administrative" and f.get("unit") == "township"]
    assert adm and adm[0]["covered"] == 1 and adm[0]["total"] == 2 and adm[0]["value"] == pytest.approx(0.5)
    areas = {f["area"] for f in summary["figures"] if f["kind"] == "population"}
    assert {"township:West", "township:East"} <= areas
    # the per-unit populations add up to the total
    figs = [f for f in summary["figures"] if f["kind"] == "population" and f["tiers"] == ["community_centre"]
            and f["population"] == "total" and f.get("speed_mps") == 1.0 and f["scenario"] == "current"]
    by_area = {f["area"]: f["total"] for f in figs}
    assert by_area["township:West"] + by_area["township:East"] == pytest.approx(by_area["all"], rel=1e-9)
    assert by_area["all"] == pytest.approx(38000, rel=1e-3)


def test_candidates_file_sites_come_from_the_file(monaco_run):
    _, out2, cands = monaco_run
    sites = pd.read_csv(out2 / "sites.csv", encoding="utf-8-sig")
    cc = sites[sites["tier"] == "community_centre"]
    assert len(cc) >= 1
    assert set(cc["candidate"]) <= set(cands["id"])
    assert (cc["node"] == -1).all()
    # the chosen parcel's gain equals the planned-minus-current covered elderly
    summary = json.loads((out2 / "summary.json").read_text(encoding="utf-8"))
    cur = next(f for f in summary["figures"] if f["kind"] == "population" and f["tiers"] == ["community_centre"]
               and f["population"] == "elderly" and f["area"] == "all" and f["scenario"] == "current"
               and f["speed_mps"] == 1.0)
    after = next(f for f in summary["figures"] if f["kind"] == "population" and f["tiers"] == ["community_centre"]
                 and f["population"] == "elderly" and f["area"] == "all" and f["scenario"] == "planned")
    exact = cc[cc["method"] == "exact"]
    assert after["covered"] - cur["covered"] == pytest.approx(exact["gain_elderly"].sum(), rel=1e-6, abs=1e-3)
