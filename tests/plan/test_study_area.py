"""The study area: residents, candidates and figures stay inside the boundary (issue 11, item 1).

Monaco with its nine quarters (admin level 10, from OSM via pyrosm) as the boundary and 38,000
residents spread over OSM buildings: before the fix 61% of them landed in France (buildings up to
2 km outside, within the routing margin), the county table showed "(未知)" for most elderly and all
suggested sites lay outside Monaco. Three of the five facilities stand just across the border in
France and must still serve residents inside (only the network keeps the margin).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover import cli

QUARTERS = Path(__file__).resolve().parents[1] / "data" / "monaco" / "quarters.geojson"

# M2 and M4 inside Monaco; M1, M3 and M5 in France within 2 km of the border.
REGISTER = """编号,名称,层级,经度,纬度
M1,社区站1,社区养老服务站,7.4173948,43.7416784
M2,社区站2,社区养老服务站,7.4353233,43.7484545
M3,社区站3,社区养老服务站,7.3995086,43.7358152
M4,助餐点1,老年助餐点,7.4236041,43.7331004
M5,助餐点2,老年助餐点,7.4084608,43.7475079
"""


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def monaco_bounded(monaco_pbf: Path, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("monaco_bounded")
    reg = d / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    out = d / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["--quiet", "plan", "--network", str(monaco_pbf), "--facilities", str(reg),
                       "--boundary", str(QUARTERS), "--total-population", "38000",
                       "--suggest", "community_centre=2", "--exact-time-limit", "10",
                       "--out", str(out)])
    assert rc == 0, err.getvalue()
    return out


@pytest.fixture(scope="module")
def monaco_polygon():
    b = gpd.read_file(QUARTERS)
    return shapely.union_all(b.geometry.values)


class TestRealWorld:
    def test_every_resident_lives_inside_the_boundary(self, monaco_bounded: Path, monaco_polygon) -> None:
        demand = pd.read_parquet(monaco_bounded / "demand.parquet")
        assert demand["pop"].sum() == pytest.approx(38000, rel=1e-6)
        inside = shapely.contains_xy(shapely.buffer(monaco_polygon, 1e-6), demand["lon"], demand["lat"])
        assert inside.all(), f"{(~inside).sum()} of {len(demand)} demand points outside Monaco"

    def test_every_resident_has_a_county(self, monaco_bounded: Path) -> None:
        demand = pd.read_parquet(monaco_bounded / "demand.parquet")
        assert demand["county"].notna().all()
        quarters = set(gpd.read_file(QUARTERS).query("level == 'county'")["name"])
        assert set(demand["county"]) <= quarters
        s = json.loads((monaco_bounded / "summary.json").read_text(encoding="utf-8"))
        areas = {f["area"] for f in s["figures"] if f["kind"] == "population"}
        assert not any("未知" in str(a) or "unknown" in str(a).lower() for a in areas), areas

    def test_suggested_sites_lie_inside_the_boundary(self, monaco_bounded: Path, monaco_polygon) -> None:
        sites = _csv(monaco_bounded / "sites.csv")
        assert len(sites) == 4  # exact and greedy, 2 each
        assert shapely.contains_xy(shapely.buffer(monaco_polygon, 1e-6), sites["lon"], sites["lat"]).all()

    def test_facilities_across_the_border_still_serve(self, monaco_bounded: Path, monaco_polygon) -> None:
        fac = _csv(monaco_bounded / "facilities.csv").set_index("fid")
        assert (fac["status"] == "ok").all()
        outside = ~shapely.contains_xy(monaco_polygon, fac["lon"], fac["lat"])
        assert sorted(fac.index[outside]) == ["M1", "M3", "M5"]
        # a French station reaches residents inside Monaco
        assert (fac.loc[["M1", "M3", "M5"], "reached_elderly"] > 0).any()
        demand = pd.read_parquet(monaco_bounded / "demand.parquet")
        assert np.isfinite(demand["time_s__community_centre"]).any()
