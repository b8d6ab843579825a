"""Coverage per mobility profile through the front door (issue 24): ``run_plan(profiles=…)``
and ``carecover plan --profiles … --dem …`` on the synthetic city, with a GeoTIFF DEM in the
city's UTM zone (a plane rising 8 % to the east) and a quarter of its paths turned into steps."""

from __future__ import annotations

import json
from pathlib import Path

import carecover
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from carecover import cli
from carecover.errors import InputError


@pytest.fixture(scope="module")
def city(tmp_path_factory, synthetic_city_factory):
    import rasterio
    from affine import Affine
    from carecover.network.readers import StreetData
    from carecover.network.readers.streets import write

    c = synthetic_city_factory()
    net, folder = c.net, tmp_path_factory.mktemp("profiles")
    lon, lat = (np.asarray(a) for a in net.to_wgs84().transform(net.node_x, net.node_y))
    highway = net.seg_highway.astype(object).copy()
    highway[np.arange(net.n_segments) % 4 == 0] = "steps"
    streets = write(folder / "city.streets.npz", StreetData(
        pd.DataFrame({"id": net.node_id, "lon": lon, "lat": lat}),
        pd.DataFrame({"highway": highway, "u": net.node_id[net.seg_a], "v": net.node_id[net.seg_b]})))
    x0, y1 = net.node_x.min() - 500, net.node_y.max() + 500
    w, h = int((net.node_x.max() + 500 - x0) / 30) + 1, int((y1 - net.node_y.min() + 500) / 30) + 1
    cols = x0 + 30 * (np.arange(w) + 0.5)
    z = np.tile(0.08 * (cols - x0), (h, 1)).astype("float32")
    dem = folder / "plane.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=net.crs.to_wkt(), transform=Affine(30, 0, x0, 0, -30, y1), nodata=-9999) as ds:
        ds.write(z, 1)
    fac = c.facilities_frame
    register = gpd.GeoDataFrame({"编号": fac["fid"], "名称": fac["name"], "层级": fac["tier"]},
                                geometry=fac.geometry, crs=4326)
    return streets, register, c.demand.points[["pop", "elderly", "geometry"]], dem


def test_profiles_side_by_side(city, tmp_path: Path, monkeypatch) -> None:
    streets, register, population, dem = city
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    plan = carecover.run_plan(streets, register, population=population, elderly_field="elderly",
                              profiles="elderly,step_free,winter,slope", dem=dem, cache=False, workers=1)
    prof = plan.summary.data["profiles"]
    assert prof["direction"].startswith("resident → facility")
    figs = plan.profile_figures
    assert set(figs.profile) == {"elderly", "step_free", "winter", "slope"}
    share = {(r.profile, r.tags or "", r.tier): r.covered_elderly_share
             for r in figs.fillna({"tags": ""}).itertuples()}
    for tier in set(figs.tier):
        flat = share["elderly", "", tier]
        assert 0 < flat <= 1
        # the average older walker is the run's own walk figure (flat walking is symmetric)
        f = plan.figures
        main = f[(f.kind == "population") & (f.population == "elderly") & (f.area == "all") & (f.tier == tier)
                 & (f.scenario == "current") & (f.speed_mps == plan.params.walk_speed_mps)]
        assert main.value.iloc[0] == pytest.approx(flat, abs=1e-4)
        assert share["winter", "", tier] < flat
        assert share["slope", "", tier] < flat
        assert share["step_free", "pessimistic", tier] <= share["step_free", "optimistic", tier] < flat
    # a quarter of the synthetic ways were made steps; no step-free tags at all
    present = prof["tags_present"]
    assert present["steps"] > present["segments"] // 5 and present["surface"] == present["kerb"] == 0
    winter = next(p for p in prof["profiles"] if p["name"] == "winter")
    assert winter["winter"]["speed_factor"] == 0.85 and "10-20 %" in winter["winter"]["source"]
    slope = next(p for p in prof["profiles"] if p["name"] == "slope")
    assert slope["network"]["dem"]["covered_share"] == 1.0
    assert slope["network"]["dem"]["max_grade"] == pytest.approx(0.08, abs=0.005)
    # street arrays written without bridge/tunnel columns: unknown, and said
    assert slope["network"]["dem"]["structure_tags_unknown"] == ["bridge", "tunnel"]
    assert slope["network"]["dem"]["structure_segments"] == 0
    # claims may name a profile: tested on that profile's figure (step-free: the pessimistic one)
    from carecover.analysis.claims import evaluate_claims, load_claims
    from carecover.plan.profiles import claim_figures

    tier = figs.tier.iloc[0]
    lo = share["step_free", "pessimistic", tier]
    claims_file = tmp_path / "claims.toml"
    claims_file.write_text(
        f'[[claim]]\nid = "sf"\nkind = "population"\ntiers = ["{tier}"]\nop = ">="\n'
        f'value = {lo}\nprofile = "step_free"\n'
        f'[[claim]]\nid = "sf_hi"\nkind = "population"\ntiers = ["{tier}"]\nop = ">="\n'
        f'value = {min(1.0, lo + 0.002)}\nprofile = "step_free"\n'
        f'[[claim]]\nid = "flat"\nkind = "population"\ntiers = ["{tier}"]\nop = ">="\nvalue = 0.0\n'
        f'[[claim]]\nid = "icy"\nkind = "population"\ntiers = ["{tier}"]\nop = ">="\nvalue = 0.0\n'
        f'profile = "winter+step_free"\n', encoding="utf-8")
    table = evaluate_claims(load_claims(claims_file), list(plan.summary.figures)
                            + claim_figures(plan.params, prof), tiers=dict(plan.params.tiers),
                            walk_speed_mps=plan.params.walk_speed_mps).set_index("id")
    assert table.loc["sf", "result"] == "PASS" and table.loc["sf", "computed"] == pytest.approx(lo)
    assert table.loc["sf_hi", "result"] == "FAIL"
    assert table.loc["flat", "computed"] == pytest.approx(share["elderly", "", tier], abs=1e-4)
    assert pd.isna(table.loc["flat", "profile"])
    assert table.loc["icy", "result"] == "NOT EVALUATED" and "--profiles" in table.loc["icy", "reason"]
    # the published summary names every figure's profile; without --profiles there is no key
    plan.publish(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert written["profiles"]["figures"] == prof["figures"]
    pd.testing.assert_frame_equal(carecover.read_plan(tmp_path / "out").profile_figures, figs)
    # the report's table: a row per profile, step-free as a range, the direction stated
    md = next((tmp_path / "out").glob("report*.md")).read_text(encoding="utf-8")
    table = md[md.index("Coverage by mobility profile"):]
    assert "wheelchair and rollator users" in table and "in winter" in table and "on slopes" in table
    assert "from the resident to the facility" in table
    # a range where the two tag assumptions differ (low to high), one value where they agree
    differ = any(share["step_free", "pessimistic", t] != share["step_free", "optimistic", t] for t in set(figs.tier))
    assert ("% – " in table) == differ
    # the workbook's sheet and the CSV table
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "out" / "carecover.xlsx", read_only=True)
    assert "出行能力档案 profiles" in wb.sheetnames
    csv = pd.read_csv(tmp_path / "out" / "profiles.csv")
    assert len(csv) == len(figs) and set(csv.profile) == set(figs.profile)
    assert "does not say which ways are bridges or tunnels" in md  # the slope note, under the table
    plain = carecover.run_plan(streets, register, population=population, elderly_field="elderly",
                               cache=False, workers=1)
    assert "profiles" not in plain.summary.data and plain.profile_figures.empty


def test_cli_profiles_need_a_dem_and_refuse_unknown_names(city, tmp_path: Path, capsys) -> None:
    streets, register, population, _ = city
    reg = tmp_path / "reg.geojson"
    register.to_file(reg)
    base = ["--quiet", "plan", "--network", str(streets), "--facilities", str(reg), "--out", str(tmp_path / "o")]
    assert cli.main([*base, "--profiles", "slope"]) == 2
    assert "needs a DEM" in capsys.readouterr().err
    assert cli.main([*base, "--profiles", "wheelchair"]) == 2
    assert "unknown mobility profile" in capsys.readouterr().err
    with pytest.raises(InputError, match="unknown mobility profile"):
        carecover.run_plan(streets, register, profiles=["elderly", "icy"], cache=False)


def test_profiles_from_the_city_config(tmp_path: Path, helsinki_pbf) -> None:
    """``profiles``, ``dem`` and the winter factors in the config, resolved once; the option wins."""
    import shutil

    from carecover.config import load_config
    from carecover.plan import PlanOptions, resolve

    sample = Path(cli.__file__).resolve().parent / "sample"
    head = (sample / "helsinki.toml").read_text(encoding="utf-8").split("[census]")[0]
    head = head.replace('claims = "helsinki_claims.toml"\n', "").replace(
        'facilities = "helsinki_facilities.csv"', f'facilities = "{(sample / "helsinki_facilities.csv").as_posix()}"')
    tile = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dem" / "N43E007.hgt.zip"
    if not tile.exists():
        pytest.skip(f"{tile} absent")
    shutil.copy(tile, tmp_path / "N43E007.hgt.zip")
    text = ('profiles = ["step_free+winter", "slope"]\ndem = "N43E007.hgt.zip"\n'
            "winter_speed_factor = 0.9\n")
    cfg_file = tmp_path / "city.toml"
    cfg_file.write_text(head + text + "\n[census]\npopulation = 20000\n", encoding="utf-8")
    p = resolve(PlanOptions(network=helsinki_pbf, config=load_config(cfg_file)))
    assert [(x.name, x.tags) for x in p.profiles] == [
        ("step_free+winter", "optimistic"), ("step_free+winter", "pessimistic"), ("slope", "optimistic")]
    assert p.profiles[0].winter_factor == 0.9 and p.dem == tmp_path / "N43E007.hgt.zip"
    assert [x.name for x in resolve(PlanOptions(network=helsinki_pbf, config=load_config(cfg_file),
                                                profiles="elderly")).profiles] == ["elderly"]
    cfg_file.write_text(head + 'profiles = "slope"\n' + "\n[census]\npopulation = 20000\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs a DEM"):
        resolve(PlanOptions(network=helsinki_pbf, config=load_config(cfg_file)))


def test_claims_file_profile_key_is_checked(tmp_path: Path) -> None:
    from carecover.analysis.claims import load_claims

    f = tmp_path / "claims.toml"
    base = '[[claim]]\nid = "a"\nkind = "{kind}"\ntiers = ["street_centre"]\nop = ">="\nvalue = 0.5\n'
    f.write_text(base.format(kind="population") + 'profile = "Winter + step_free"\n', encoding="utf-8")
    assert load_claims(f)[0].profile == "step_free+winter"
    f.write_text(base.format(kind="population") + 'profile = "icy"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"claim\[0\]\.profile'?: unknown mobility profile 'icy'"):
        load_claims(f)
    f.write_text(base.format(kind="administrative") + 'profile = "winter"\n', encoding="utf-8")
    with pytest.raises(InputError, match="applies to population claims only"):
        load_claims(f)
