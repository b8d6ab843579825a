"""Time :func:`carecover.outputs.maps.build_map` on a Hohhot-scale bundle (issue 14: each map
≤ 5 s), without running the routing: the bundle is made directly.

* streets: :func:`carecover.bench.synthetic.synthetic_city` (about 250,000 nodes) through
  :func:`~carecover.network.streetlines.street_lines` (timed too);
* 1,105 facilities in Hohhot's tier counts (:func:`~carecover.bench.synthetic.synthetic_facilities`);
* demand: one point per populated 100 m cell (about 130,000), elderly 15-25 %; per tier the
  straight-line time × 1.3 to the nearest facility (``time_s__``, ``covered__``,
  ``nearest_fid__``), and for two planned tiers the after-plan columns;
* isochrones: per tier and band, the union of discs around the tier's facilities (the map
  simplifies every isochrone layer to 200,000 vertices in all, so their shape matters little);
* about 1,500 gaps with hulls, 15 suggested sites, five county boxes.

Usage::

    python scripts/bench_map.py            # prints the timings (median of 3 builds per basemap)
                                           # and the load time in headless Chromium
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "coverage"))
sys.path.insert(0, str(ROOT / "tests"))

TIERS = {"city_centre": 1, "county_institution": 5, "district_centre": 4, "street_centre": 31,
         "township_centre": 31, "community_centre": 304, "village_station": 302, "happiness_home": 69,
         "meal_point": 358}
PLANNED = ("street_centre", "township_centre")


def make_bundle(seed: int = 20250625):
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities
    from carecover.network.streetlines import street_lines
    from carecover.outputs.bundle import PlanBundle
    from outputs.conftest import run_params

    rng = np.random.default_rng(seed)
    net = synthetic_city(250_000, seed)
    t = time.process_time()
    streets = street_lines(net)
    t_streets = time.process_time() - t
    fx, fy = synthetic_facilities(net, sum(TIERS.values()), seed)
    tiers = np.repeat(list(TIERS), list(TIERS.values()))
    to_wgs = gpd.GeoSeries(gpd.points_from_xy(fx, fy), crs=net.crs).to_crs(4326)
    fac = gpd.GeoDataFrame({"fid": [f"F{i:04d}" for i in range(len(fx))], "name": [f"设施{i}" for i in range(len(fx))],
                            "tier": tiers, "status": "ok", "address": ""}, geometry=to_wgs.values, crs=4326)
    # demand: 100 m cells over the network, populated near streets
    gx = np.arange(net.node_x.min(), net.node_x.max(), 100.0)
    gy = np.arange(net.node_y.min(), net.node_y.max(), 100.0)
    xx, yy = (a.ravel() + 50 for a in np.meshgrid(gx, gy))
    near, _ = cKDTree(np.column_stack([net.node_x, net.node_y])).query(np.column_stack([xx, yy]))
    keep = near < 80
    xx, yy = xx[keep], yy[keep]
    pop = rng.gamma(2.0, 15.0, len(xx))
    dem = gpd.GeoDataFrame({"cell_id": np.arange(len(xx)), "pop": pop, "elderly": pop * rng.uniform(0.15, 0.25, len(xx)),
                            "county": "", "area_m2": 10_000.0},
                           geometry=gpd.GeoSeries(gpd.points_from_xy(xx, yy), crs=net.crs).to_crs(4326).values, crs=4326)
    iso_rows = []
    for key in TIERS:
        sel = tiers == key
        d, i = cKDTree(np.column_stack([fx[sel], fy[sel]])).query(np.column_stack([xx, yy]))
        tt = d * 1.3 / 1.0
        tt[tt > 1800] = np.inf
        dem[f"time_s__{key}"] = tt
        dem[f"covered__{key}"] = tt <= 900
        dem[f"nearest_fid__{key}"] = np.where(np.isfinite(tt), fac["fid"].to_numpy()[sel][i], "")
        for band in (5.0, 10.0, 15.0):
            disc = shapely.union_all(shapely.buffer(shapely.points(fx[sel], fy[sel]), band * 60 / 1.3, quad_segs=8))
            iso_rows.append({"tier": key, "band_min": band, "fid": "", "geometry": disc})
    iso = gpd.GeoDataFrame(iso_rows, geometry="geometry", crs=net.crs).to_crs(4326)
    # gaps: uncovered street-tier cells summed on a 500 m grid
    unc = ~dem["covered__street_centre"].to_numpy()
    key = (np.floor(xx[unc] / 500) * 1e6 + np.floor(yy[unc] / 500)).astype(np.int64)
    g = pd.DataFrame({"k": key, "e": dem["elderly"].to_numpy()[unc], "p": pop[unc], "x": xx[unc], "y": yy[unc]})
    agg = g.groupby("k").agg(e=("e", "sum"), p=("p", "sum"), x=("x", "mean"), y=("y", "mean")).reset_index()
    hulls = gpd.GeoSeries(shapely.buffer(shapely.points(agg["x"], agg["y"]), 240, quad_segs=4), crs=net.crs).to_crs(4326)
    gaps = gpd.GeoDataFrame({"gap_id": (np.arange(len(agg)) + 1).astype(str), "pop": agg["p"], "elderly": agg["e"],
                             "area_m2": 250_000.0, "county": "", "time_to_nearest_s": 1000.0, "tier": "street_centre"},
                            geometry=hulls.representative_point().values, crs=4326)
    top = gaps.sort_values("elderly", ascending=False).head(15)
    sites = pd.DataFrame({"rank": np.r_[1:9, 1:8], "tier": ["street_centre"] * 8 + ["township_centre"] * 7,
                          "method": "exact", "gain_elderly": top["elderly"].to_numpy(), "gain_pop": top["pop"].to_numpy(),
                          "lon": top.geometry.x.to_numpy(), "lat": top.geometry.y.to_numpy(), "county": "",
                          "gap_id": top["gap_id"].to_numpy(), "candidate": [f"node/{i}" for i in range(15)]})
    for tier in PLANNED:
        s = sites[sites["tier"] == tier]
        sx, sy = (gpd.GeoSeries(gpd.points_from_xy(s["lon"], s["lat"]), crs=4326).to_crs(net.crs).x.to_numpy(),
                  gpd.GeoSeries(gpd.points_from_xy(s["lon"], s["lat"]), crs=4326).to_crs(net.crs).y.to_numpy())
        d, i = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([xx, yy]))
        serves = (d * 1.3 <= 900) & (d * 1.3 < dem[f"time_s__{tier}"].to_numpy())
        dem[f"after_site__{tier}"] = np.where(serves, s["candidate"].to_numpy()[i], "")
        dem[f"covered_after__{tier}"] = dem[f"covered__{tier}"].to_numpy() | (d * 1.3 <= 900)
    b = net.crs and gpd.GeoSeries(shapely.box(net.node_x.min(), net.node_y.min(), net.node_x.max(),
                                              net.node_y.max()), crs=net.crs).to_crs(4326).total_bounds
    cx = np.linspace(b[0], b[2], 6)
    counties = gpd.GeoDataFrame({"name": [f"区县{i}" for i in range(5)], "level": "county"},
                                geometry=[shapely.box(cx[i], b[1], cx[i + 1], b[3]) for i in range(5)], crs=4326)
    bundle = PlanBundle(facilities=fac, isochrones=iso, demand=dem, gaps=gaps, gap_hulls=hulls, sites=sites,
                        boundaries=counties, summary={"generated_at": "2025-06-25T00:00:00+00:00"},
                        params=run_params(), streets=streets)
    return bundle, t_streets


def main() -> int:
    from carecover.outputs.maps import build_map

    t = time.perf_counter()
    bundle, t_streets = make_bundle()
    print(f"bundle made in {time.perf_counter() - t:.1f} s: {len(bundle.demand):,} demand points, "
          f"{len(bundle.facilities):,} facilities, {len(bundle.gaps):,} gaps; street_lines {t_streets:.2f} s CPU")
    with tempfile.TemporaryDirectory() as tmp:
        for basemap in ("osm", "gaode"):
            times, cpu = [], []
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                path = build_map(bundle, Path(tmp) / f"map_{basemap}.html", basemap=basemap)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            print(f"build_map {basemap}: CPU median {statistics.median(cpu):.2f} s, wall median "
                  f"{statistics.median(times):.2f} s ({', '.join(f'{x:.2f}' for x in times)}), "
                  f"{path.stat().st_size / 1e6:.1f} MB")
            print(f"  in Chromium: {open_in_chromium(path)}")
    return 0


def open_in_chromium(path: Path, repeats: int = 3) -> str:
    """The map's load time in headless Chromium at 1280×720 (the page's ``loadEventEnd``: every
    inline script has run and drawn its layers), median of ``repeats`` openings."""
    from browser import chromium_path, open_page

    if chromium_path() is None:
        return "skipped (Chromium not installed)"
    loads, values = [], {}
    for _ in range(repeats):
        res = open_page(path, width=1280, height=720, timeout=120, evaluate={
            "load_ms": "performance.getEntriesByType('navigation')[0].loadEventEnd",
            "facilities": "document.querySelectorAll('path.cc-facility').length"})
        loads.append(res.values["load_ms"] / 1000)
        values = {"facility markers": res.values["facilities"], "JS errors": len(res.js_errors)}
    return (f"loaded in {statistics.median(loads):.2f} s (median of {repeats}: "
            f"{', '.join(f'{x:.2f}' for x in loads)}), {values}")


if __name__ == "__main__":
    raise SystemExit(main())
