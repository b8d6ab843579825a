"""A tier measured with a mobility profile and sites chosen for one (issue 24), on a network
small enough to check by hand, and on Monaco's real streets (1,239 steps).

The hand-checked street (1 m/s, a 3-minute threshold = 180 s)::

    E ──100 m── A ══60 m of steps══ D ──150 m── B
                └────────── 1,810 m road ────────┘

10 older residents stand 3 m from E, 100 just past D (3 m towards B). From A: E in 97 s, D in
63 s (by the steps) — 110 covered; from B: D in 147 s, E in 310 s — 100 covered. Without the
steps A reaches E only (D is 1,810 + 147 m away): 10 covered, and B is the better site.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import carecover
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from carecover import cli
from carecover.errors import InputError

LON0, LAT0 = 116.40, 39.90
M_LON, M_LAT = 1 / (111_320 * np.cos(np.radians(LAT0))), 1 / 110_574


def _ll(x: float, y: float) -> tuple[float, float]:
    return LON0 + x * M_LON, LAT0 + y * M_LAT


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    from carecover.network.readers import StreetData
    from carecover.network.readers.streets import write

    folder = tmp_path_factory.mktemp("tier_profiles")
    xy = {1: (0, 0), 2: (100, 0), 3: (160, 0), 4: (310, 0), 5: (100, 800), 6: (310, 800)}  # E A D B P1 P2
    nodes = pd.DataFrame([(i, *_ll(*p)) for i, p in xy.items()], columns=["id", "lon", "lat"])
    segs = pd.DataFrame([("residential", 1, 2), ("steps", 2, 3), ("residential", 3, 4),
                         ("residential", 2, 5), ("residential", 5, 6), ("residential", 6, 4)],
                        columns=["highway", "u", "v"])
    streets = write(folder / "street.streets.npz", StreetData(nodes, segs))
    pop = gpd.GeoDataFrame({"pop": [50.0, 500.0], "elderly": [10.0, 100.0]},
                           geometry=gpd.points_from_xy(*zip(_ll(3, 0), _ll(163, 0), strict=True)), crs=4326)
    cand = folder / "candidates.csv"
    cand.write_text("id,lon,lat\nA,{},{}\nB,{},{}\n".format(*_ll(100, 0), *_ll(310, 0)), encoding="utf-8")
    reg = folder / "register.csv"
    reg.write_text("编号,名称,层级,经度,纬度\nF1,A处社区站,社区养老服务站,{},{}\n".format(*_ll(100, 0)), encoding="utf-8")
    far = folder / "meal_point.csv"  # siting: no community station yet, one meal point far up the road
    far.write_text("编号,名称,层级,经度,纬度\nM1,助餐点,老年助餐点,{},{}\n".format(*_ll(310, 800)), encoding="utf-8")
    return folder, streets, pop, cand, reg, far


def _config(folder: Path, name: str, extra: str = "") -> Path:
    cfg = folder / f"{name}.toml"
    cfg.write_text('city = "toy"\nname_zh = "示例"\nname_en = "Toy"\n'
                   '[tiers.community_centre]\nthreshold_min = 3.0\n' + extra, encoding="utf-8")
    return cfg


def _run(street, cfg: Path, register: Path | None = None, **kw):
    folder, streets, pop, cand, reg, _ = street
    return carecover.run_plan(streets, register or reg, config=cfg, population=pop, elderly_field="elderly",
                              crs_in="wgs84", cache=False, workers=1, **kw)


def _elderly_all(plan, scenario: str = "current") -> pd.Series:
    f = plan.figures
    return f[(f.kind == "population") & (f.population == "elderly") & (f.area == "all") & (f.scenario == scenario)
             & (f.tier == "community_centre") & (f.speed_mps == 1.0)].iloc[0]


def test_a_tier_measured_step_free(street) -> None:
    folder = street[0]
    flat = _elderly_all(_run(street, _config(folder, "flat")))
    assert flat.covered == pytest.approx(110.0) and "profile" not in flat or pd.isna(flat.get("profile"))
    plan = _run(street, _config(folder, "sf", 'profile = "step_free"\n'))
    got = _elderly_all(plan)
    # A reaches E only once the steps are gone (untagged residential streets stay passable)
    assert got.covered == pytest.approx(10.0) and got.profile == "step_free" and got.tags == "pessimistic"
    assert plan.summary.data["parameters"]["tiers"]["community_centre"]["profile"] == "step_free (pessimistic)"
    # every figure of that tier names it; a claim naming no profile is tested on it
    f = plan.figures
    assert set(f.loc[f.tier == "community_centre", "profile"]) == {"step_free"}
    # the report says it in words: the summary's rule, the coverage table's tier, the parameters
    out = folder / "sf_out"
    plan.publish(out)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "步行 3 分钟（1.0 m/s），轮椅/助行器使用者" in md and "社区养老服务中心/站（轮椅/助行器使用者）" in md
    assert "社区养老服务中心/站的覆盖率按「轮椅/助行器使用者（标签缺失的小路按不可通行）」计算" in md


def test_sites_for_step_free_avoid_the_steps(street, tmp_path: Path) -> None:
    folder, cand, far = street[0], street[3], street[5]
    flat = _run(street, _config(folder, "flat_site"), far, suggest={"community_centre": 1}, candidates=cand)
    chosen = flat.sites[flat.sites.method == "exact"]
    assert list(chosen.candidate) == ["A"] and flat.summary.data["sites"]["community_centre"]["covered_after"] == pytest.approx(110.0)
    for how in ({"site_profile": "step_free"}, {"config_extra": '[planned.community_centre]\ncount = 1\nprofile = "step_free"\n'}):
        extra = how.pop("config_extra", "")
        plan = _run(street, _config(folder, "site" + str(len(extra)), extra), far, suggest={"community_centre": 1},
                    candidates=cand, **how)
        s = plan.sites[plan.sites.method == "exact"]
        assert list(s.candidate) == ["B"] and set(s.profile) == {"step_free (pessimistic)"}
        info = plan.summary.data["sites"]["community_centre"]
        assert info["profile"]["name"] == "step_free" and info["covered_after"] == pytest.approx(100.0)
        # "after the sites" is measured the tier's own way (on foot: B reaches D in 147 s), and says
        # what the sites were chosen for
        planned = _elderly_all(plan, "planned")
        assert planned.covered == pytest.approx(100.0) and planned.data["sited_for"] == "step_free (pessimistic)"
        assert "profile" not in plan.figures or pd.isna(planned.get("profile"))
    plan.publish(tmp_path / "out")
    md = next((tmp_path / "out").glob("report*.md")).read_text(encoding="utf-8")
    assert "按「轮椅/助行器使用者（标签缺失的小路按不可通行）」选址" in md and "sites chosen for wheelchair" in md
    assert "按该档案，现状 0 名老年人可达，建成后 100 名" in md
    assert "step_free (pessimistic)" in (tmp_path / "out" / "sites.csv").read_text(encoding="utf-8-sig")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["site_profiles"] == {"community_centre": "step_free (pessimistic)"}
    # who the new site serves, measured the tier's own way like the planned figures
    demand = pd.read_parquet(tmp_path / "out" / "demand.parquet").fillna({"after_site__community_centre": ""})
    demand = demand.sort_values("elderly")
    assert list(demand["covered_after__community_centre"].astype(str)) in (["False", "True"], ["0", "1"])
    assert list(demand["after_site__community_centre"]) == ["", "B"]
    back = carecover.read_plan(tmp_path / "out").params
    assert back.site_profiles["community_centre"] == plan.params.site_profiles["community_centre"]
    assert back.site_net_of("community_centre") == "walk:step_free:pessimistic" and back.net_of("community_centre") == "walk"


def test_unknown_or_misplaced_profiles_are_one_line_errors(street, tmp_path: Path, capsys) -> None:
    folder, streets, _, _, reg, _ = street
    bad = _config(folder, "bad", 'profile = "wheelchairs"\n')
    with pytest.raises(InputError, match="unknown mobility profile 'wheelchairs'") as exc:
        _run(street, bad)
    assert exc.value.field == "tiers.community_centre.profile" and str(bad) in str(exc.value.file)
    drive = folder / "drive.toml"
    drive.write_text('city = "toy"\nname_zh = "示例"\nname_en = "Toy"\n[tiers.township_centre]\nprofile = "winter"\n',
                     encoding="utf-8")
    with pytest.raises(InputError, match="walk tiers only"):
        _run(street, drive)
    assert cli.main(["--quiet", "plan", "--network", str(streets), "--facilities", str(reg), "--config", str(bad),
                     "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.toml" in err[0] and "tiers.community_centre.profile" in err[0]
    with pytest.raises(InputError, match="--site-profile needs a walk tier"):
        _run(street, _config(folder, "none"), site_profile="step_free")
    with pytest.raises(InputError, match="unknown mobility profile"):
        _run(street, _config(folder, "none2"), suggest={"community_centre": 1}, site_profile="ramp")


def test_monaco_sites_for_step_free_cover_demand_measured_step_free(monaco_pbf, tmp_path: Path) -> None:
    """Monaco (1,239 steps): the step-free sites' coverage, recomputed on a step-free network
    built apart from the run, is what the siting says it covers."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from carecover.mobility import make
    from carecover.network import engine, load_network, make_profile
    from carecover.network.covered import covered
    from carecover.network.mobility import reverse
    from carecover.network.mobility_net import apply_profile
    from carecover.network.snap import snap_points
    from golden import MONACO_REGISTER

    reg = tmp_path / "register.csv"
    reg.write_text(MONACO_REGISTER, encoding="utf-8")
    plan = carecover.run_plan(monaco_pbf, reg, total_population=38000, suggest={"community_centre": 2},
                              site_profile="step_free", exact_time_limit_s=20, cache=False, workers=1)
    info = plan.summary.data["sites"]["community_centre"]
    walk = load_network(monaco_pbf, make_profile("walk"), cache=False)
    assert int((walk.seg_highway == "steps").sum()) == 1239
    net, _ = apply_profile(walk, make("step_free", tags="pessimistic"), None)
    net = reverse(net)
    fac = plan.facilities
    existing = fac[(fac.tier == "community_centre") & (fac.status == "ok")]
    sites = plan.sites[plan.sites.method == "exact"]
    points = pd.concat([existing[["geometry"]], sites[["geometry"]]], ignore_index=True)
    src = snap_points(net, gpd.GeoDataFrame(points, crs=4326), 300.0)
    dem = snap_points(net, plan.demand, 300.0)
    nt = engine.nearest(net, src, 15 * 60 * 1.25 * 1.0001)
    t, _ = engine.point_times(net, nt, dem, src)
    eld = plan.demand["elderly"].fillna(0).to_numpy(float)
    assert float(eld[covered(t, 15.0)].sum()) == pytest.approx(info["covered_after"], rel=1e-6)
    # today's stations cover far fewer older residents without steps than on foot (1,108 → 445)
    f = plan.figures
    today = f[(f.kind == "population") & (f.population == "elderly") & (f.area == "all") & (f.scenario == "current")
              & (f.tier == "community_centre") & (f.speed_mps == 1.0)].iloc[0]
    assert "profile" not in f or pd.isna(today.get("profile"))
    assert info["covered_before"] < 0.6 * today.covered


def test_a_tier_measured_on_slopes_is_the_profile_figure(synthetic_city_factory, tmp_path: Path) -> None:
    """A tier measured with ``slope`` (directional, resident → facility) gives exactly the
    ``--profiles slope`` figure of that tier; the other tier keeps today's walk."""
    import rasterio
    from affine import Affine
    from carecover.network.readers import StreetData
    from carecover.network.readers.streets import write

    c = synthetic_city_factory()
    net = c.net
    lon, lat = (np.asarray(a) for a in net.to_wgs84().transform(net.node_x, net.node_y))
    streets = write(tmp_path / "city.streets.npz", StreetData(
        pd.DataFrame({"id": net.node_id, "lon": lon, "lat": lat}),
        pd.DataFrame({"highway": net.seg_highway, "u": net.node_id[net.seg_a], "v": net.node_id[net.seg_b]})))
    x0, y1 = net.node_x.min() - 500, net.node_y.max() + 500
    w, h = int((net.node_x.max() + 500 - x0) / 30) + 1, int((y1 - net.node_y.min() + 500) / 30) + 1
    z = np.tile(0.12 * 30 * np.arange(w), (h, 1)).astype("float32")  # a plane rising 12 % to the east
    with rasterio.open(tmp_path / "plane.tif", "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=net.crs.to_wkt(), transform=Affine(30, 0, x0, 0, -30, y1), nodata=-9999) as ds:
        ds.write(z, 1)
    fac = c.facilities_frame
    register = gpd.GeoDataFrame({"编号": fac["fid"], "名称": fac["name"], "层级": fac["tier"]},
                                geometry=fac.geometry, crs=4326)
    cfg = tmp_path / "city.toml"
    cfg.write_text('city = "x"\nname_zh = "示例"\nname_en = "X"\ndem = "plane.tif"\n'
                   '[tiers.street_centre]\nprofile = "slope"\n', encoding="utf-8")
    plan = carecover.run_plan(streets, register, config=cfg, population=c.demand.points[["pop", "elderly", "geometry"]],
                              elderly_field="elderly", profiles="elderly,slope", cache=False, workers=1)
    f = plan.figures
    main = f[(f.kind == "population") & (f.population == "elderly") & (f.area == "all") & (f.scenario == "current")
             & (f.speed_mps == 1.0)].set_index("tier")
    side = plan.profile_figures.set_index(["profile", "tier"])
    assert main.loc["street_centre", "profile"] == "slope"
    assert main.loc["street_centre", "covered"] == pytest.approx(side.loc[("slope", "street_centre"), "covered_elderly"], abs=0.1)
    assert main.loc["street_centre", "covered"] < side.loc[("elderly", "street_centre"), "covered_elderly"]
    assert pd.isna(main.loc["community_centre", "profile"])
    assert main.loc["community_centre", "covered"] == pytest.approx(
        side.loc[("elderly", "community_centre"), "covered_elderly"], abs=0.1)
