"""The map's layer per mobility profile (issue 24): who each group reaches from one walk tier,
each its own toggleable layer with a bilingual plain-words name, checked in headless Chromium on
the synthetic city with a quarter of its ways made steps."""

from __future__ import annotations

from pathlib import Path

import carecover
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from browser import chromium_path, open_page

LABELS_JS = """[...document.querySelectorAll('.leaflet-control-layers-overlays label')]
  .map(l => l.innerText.trim()).filter(t => t.includes(' Reached '))"""


def _toggle(text: str) -> str:
    return (f"(() => {{ for (const l of document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            f" if (l.innerText.includes({text!r})) {{ l.querySelector('input').click(); return true; }}"
            " return false; })()")


def _dots(colour: str) -> str:
    return f"document.querySelectorAll('path.leaflet-interactive[fill=\"{colour}\"]').length"


@pytest.fixture(scope="module")
def published(tmp_path_factory, synthetic_city_factory) -> tuple[Path, object]:
    from carecover.network.readers import StreetData
    from carecover.network.readers.streets import write

    c = synthetic_city_factory()
    net, folder = c.net, tmp_path_factory.mktemp("map_profiles")
    lon, lat = (np.asarray(a) for a in net.to_wgs84().transform(net.node_x, net.node_y))
    highway = net.seg_highway.astype(object).copy()
    highway[np.arange(net.n_segments) % 4 == 0] = "steps"
    streets = write(folder / "city.streets.npz", StreetData(
        pd.DataFrame({"id": net.node_id, "lon": lon, "lat": lat}),
        pd.DataFrame({"highway": highway, "u": net.node_id[net.seg_a], "v": net.node_id[net.seg_b]})))
    fac = c.facilities_frame
    register = gpd.GeoDataFrame({"编号": fac["fid"], "名称": fac["name"], "层级": fac["tier"]},
                                geometry=fac.geometry, crs=4326)
    plan = carecover.run_plan(streets, register, population=c.demand.points[["pop", "elderly", "geometry"]],
                              elderly_field="elderly", profiles="elderly,step_free,winter", cache=False, workers=1)
    out = folder / "out"
    plan.publish(out)
    return out, plan


def test_demand_columns_are_the_profile_figures(published) -> None:
    out, plan = published
    demand = pd.read_parquet(out / "demand.parquet")
    cols = sorted(c for c in demand.columns if c.startswith("profile_covered__"))
    assert cols == ["profile_covered__street_centre__elderly", "profile_covered__street_centre__step_free__optimistic",
                    "profile_covered__street_centre__step_free__pessimistic", "profile_covered__street_centre__winter"]
    figs = plan.profile_figures.fillna({"tags": ""}).set_index(["tier", "profile", "tags"])
    for col in cols:
        name, _, tags = col.split("__", 2)[2].partition("__")
        want = figs.loc[("street_centre", name, tags), "covered_elderly"]
        assert demand.loc[demand[col].astype(bool), "elderly"].sum() == pytest.approx(want, abs=0.1)
    # steps cut the step-free walkers off: fewer residents reached than on foot
    assert demand[cols[2]].sum() < demand[cols[0]].sum()


def test_a_layer_per_profile_in_the_browser(published, tmp_path: Path) -> None:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    out, _ = published
    demand = pd.read_parquet(out / "demand.parquet")
    res = open_page(out / "map.html", final_screenshot=tmp_path / "map_step_free.png", evaluate={
        "labels": LABELS_JS, "before": _dots("#cc79a7"),
        "on": _toggle("轮椅/助行器使用者可达（悲观）"), "after": _dots("#cc79a7"),
        "legend": "document.body.innerText.includes('轮椅/助行器使用者可达（悲观）：老年人')"})
    assert res.js_errors == [] and res.console_errors == []
    v = res.values
    assert v["labels"] == [
        "一般老年步行者可达 Reached by the average older walker · 街道级养老服务中心",
        "轮椅/助行器使用者可达（乐观） Reached step-free by wheelchair or rollator (optimistic) · 街道级养老服务中心",
        "轮椅/助行器使用者可达（悲观） Reached step-free by wheelchair or rollator (pessimistic) · 街道级养老服务中心",
        "冬季冰雪时可达 Reached in winter ice and snow · 街道级养老服务中心"]
    # hidden at start; switched on, one dot per resident the step-free walkers reach
    reached = int(demand["profile_covered__street_centre__step_free__pessimistic"].astype(bool).sum())
    assert v["on"] is True and v["before"] == 0 and v["after"] == reached > 0 and v["legend"] is True
