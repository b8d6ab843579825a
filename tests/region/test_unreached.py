"""Region runs where an area has no street (real Monaco streets, a real population raster on
a real LocalCluster): every resident stays in the region's totals, stated as unsnapped; and the
area merges run as their own tasks on the workers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from carecover.region.options import RegionOptions
from carecover.region.run import run_region

pytestmark = pytest.mark.slow

# a raster of 0.001° cells: 10 people in every cell of west Monaco and of a patch of sea far
# off the coast (no street within its 15-minute halo)
WEST, NORTH, CELL, NCOL, NROW = 7.405, 43.748, 0.001, 70, 90
LAND = (7.405, 43.727, 7.418, 43.748)
SEA = (7.44, 43.662, 7.46, 43.672)


def _raster(path: Path) -> float:
    import rasterio
    from rasterio.transform import from_origin

    lon = WEST + (np.arange(NCOL) + 0.5) * CELL
    lat = NORTH - (np.arange(NROW) + 0.5) * CELL
    x, y = np.meshgrid(lon, lat)
    arr = np.zeros((NROW, NCOL), "float32")
    for w, s, e, n in (LAND, SEA):
        arr[(x > w) & (x < e) & (y > s) & (y < n)] = 10.0
    with rasterio.open(path, "w", driver="GTiff", height=NROW, width=NCOL, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(WEST, NORTH, CELL, CELL), nodata=-1) as dst:
        dst.write(arr, 1)
    return float(arr.sum())


@pytest.fixture(scope="module")
def sea_run(region_inputs: Path, monaco_pbf: Path, cluster_client, tmp_path_factory):
    from distributed import get_task_stream

    d = tmp_path_factory.mktemp("sea")
    total = _raster(d / "pop.tif")

    def box(b):
        return "[" + ", ".join(str(v) for v in b) + "]"

    (d / "areas.toml").write_text(f"""[shared]
network = "{monaco_pbf}"
population = "pop.tif"
facilities = ["{region_inputs / 'west.csv'}"]
[[areas]]
name = "land"
bbox = {box(LAND)}
[[areas]]
name = "sea"
bbox = {box(SEA)}
""", encoding="utf-8")
    opts = RegionOptions(areas=d / "areas.toml", out=d / "out", cache=d / "cache", dashboard=False)
    with get_task_stream(cluster_client) as stream:
        run = run_region(opts, client=cluster_client)
    return run, total, stream.data, d / "out"


def test_area_without_streets_keeps_its_residents(sea_run):
    run, total, _, _ = sea_run
    land, sea = run.areas
    assert sea.area == "sea" and len(sea.points) == 200
    assert not sea.points["snapped"].any()
    assert land.points["snapped"].all()
    # the sea states the tiers routed in the region, every resident not reached
    assert sea.tiers == land.tiers == ("community_centre", "meal_point")
    assert np.isinf(sea.points["time_community_centre"]).all()
    figs = [f for f in sea.figures if f["kind"] == "population" and f["area"] == "all" and f["population"] == "total"]
    assert figs and all(f["covered"] == 0 and f["total"] == pytest.approx(2000.0) for f in figs)
    assert sum(a.points["pop"].sum() for a in run.areas) == pytest.approx(total)


def test_region_totals_count_every_resident(sea_run):
    import pandas as pd

    _, total, _, out = sea_run
    region = pd.read_csv(out / "region.csv", encoding="utf-8-sig")
    tot = region[region["population"] == "total"]
    assert len(tot) == 2 and np.allclose(tot["total"], total)
    assert (tot["areas"] == 2).all()


def test_unsnapped_residents_are_stated(sea_run):
    _, _, _, out = sea_run
    found = json.loads((out / "region_summary.json").read_text(encoding="utf-8"))["notices"]
    said = [n for n in found if n["code"] == "region_unreached"]
    assert len(said) == 1 and said[0]["value"] == "sea"
    assert "200" in said[0]["message"] and "2,000" in said[0]["message"] and "没有道路" in said[0]["message"]


def test_merges_run_as_tasks_on_the_workers(sea_run, cluster_client):
    _, _, stream, _ = sea_run
    workers = set(cluster_client.scheduler_info()["workers"])
    ran = {str(t["key"]): t["worker"] for t in stream}
    for i in (0, 1):
        for step in ("parts", "view", "figures", "area"):
            assert ran.get(f"carecover-{step}-{i}") in workers, (i, step)
        # each gap tier reads its own view of the area
        assert ran.get(f"carecover-view-{i}-0") in workers and ran.get(f"carecover-gaps-{i}-0") in workers, i
    # the sea lacked the region's tiers: merged again with them, on the workers too
    assert ran.get("carecover-area-all-1") in workers and ran.get("carecover-gaps-all-1-0") in workers
