"""Fixtures of the outputs tests: run parameters for bundles built by hand, and bundles.

* ``make_params(**changes)`` — a real :class:`~carecover.params.RunParams` from the
  :mod:`carecover.settings` defaults and :data:`carecover.tiers.TIERS`, any field changed, and
  ``tier_changes={"street_centre": {"threshold_min": 10.0}}`` to change single tiers.
* ``monaco_bundle`` — a small but real :class:`~carecover.outputs.bundle.PlanBundle` from the
  Monaco OSM extract: real facilities (POIs), real building footprints as demand, real streets
  buffered as stand-in isochrones. Travel times are straight-line × 1.3 (a placeholder until the
  tests switch to the output of ``carecover plan``). Its summary states ``params.to_dict()``
  as ``summary.json`` does.
* ``hohhot_bundle(lang)`` — one facility in Hohhot (for the GCJ-02 test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover.outputs.bundle import PlanBundle
from carecover.params import RunParams

# ---------------------------------------------------------------------------------------
# Run parameters
# ---------------------------------------------------------------------------------------

#: Monaco's stand-in tiers (all walk, 15 min, as in TIERS).
MONACO_TIERS = ("street_centre", "community_centre", "meal_point")
MONACO_TITLE = "摩纳哥 Monaco 一刻钟养老服务圈覆盖分析 / Monaco: 15-minute elderly-care coverage"


def run_params(*, tier_changes: dict[str, dict[str, Any]] | None = None, **changes: Any) -> RunParams:
    """:meth:`RunParams.defaults` (settings' defaults and ``TIERS``) with ``changes`` applied.

    Parameters
    ----------
    tier_changes
        Tier key -> fields of :class:`~carecover.tiers.Tier` to change (``mode``,
        ``threshold_min``).
    **changes
        Any field of :class:`RunParams`.
    """
    test = {"inline_assets": False, "cache": False, "title": ""}
    return RunParams.defaults(**{**test, **changes}, tiers=tier_changes or {})


def with_params(bundle: PlanBundle, **changes: Any) -> PlanBundle:
    """``bundle`` with its parameters changed (:func:`run_params` keywords)."""
    tier_changes = changes.pop("tier_changes", None)
    params = dataclasses.replace(bundle.params, **changes)
    if tier_changes:
        tiers = dict(params.tiers)
        for key, change in tier_changes.items():
            tiers[key] = dataclasses.replace(tiers[key], **change)
        params = dataclasses.replace(params, tiers=MappingProxyType(tiers))
    return dataclasses.replace(bundle, params=params)


@pytest.fixture(scope="session")
def make_params() -> Callable[..., RunParams]:
    """:func:`run_params`."""
    return run_params


@pytest.fixture(scope="session")
def change_params() -> Callable[..., PlanBundle]:
    """:func:`with_params`."""
    return with_params


# ---------------------------------------------------------------------------------------
# Hohhot: one facility
# ---------------------------------------------------------------------------------------

HOHHOT = (111.670801, 40.818311)  # 呼和浩特 city centre, WGS-84


@pytest.fixture(scope="session")
def hohhot_bundle() -> Callable[..., PlanBundle]:
    """``hohhot_bundle(lang="zh")``: a hand-made bundle with one facility in Hohhot."""
    def make(lang: str = "zh") -> PlanBundle:
        fac = gpd.GeoDataFrame({"fid": ["F2"], "name": ["新华街道养老服务中心"], "tier": ["street_centre"],
                                "status": ["ok"], "address": ["新华大街"]},
                               geometry=[shapely.Point(*HOHHOT)], crs=4326)
        cell = shapely.Point(HOHHOT[0] + 0.002, HOHHOT[1])
        dem = gpd.GeoDataFrame({"cell_id": [0], "pop": [100.0], "elderly": [20.0], "county": ["新城区"],
                                "area_m2": [10000.0], "time_s__street_centre": [200.0],
                                "covered__street_centre": [True]}, geometry=[cell], crs=4326)
        iso = gpd.GeoDataFrame({"tier": ["street_centre"], "band_min": [15.0], "fid": [""]},
                               geometry=[shapely.Point(*HOHHOT).buffer(0.005)], crs=4326)
        return PlanBundle(facilities=fac, isochrones=iso, demand=dem, summary={}, lang=lang,
                          params=run_params(lang=lang))

    return make


# ---------------------------------------------------------------------------------------
# Monaco: a real small bundle
# ---------------------------------------------------------------------------------------

#: OSM amenity -> tier used for the test facilities.
AMENITY_TIER = {"townhall": "street_centre", "post_office": "street_centre",
                "community_centre": "street_centre", "social_facility": "street_centre",
                "pharmacy": "community_centre", "doctors": "community_centre", "clinic": "community_centre",
                "restaurant": "meal_point"}
SPEED = 1.0
DETOUR = 1.3
TIMESTAMP = "2025-06-25T00:00:00+00:00"
UTM = "EPSG:32632"


@pytest.fixture(scope="session")
def monaco_bundle(monaco_pbf: Path) -> PlanBundle:
    """The Monaco bundle (see the module docstring); Chinese first."""
    return build_monaco_bundle(str(monaco_pbf))


def build_monaco_bundle(pbf: str, lang: str = "zh") -> PlanBundle:
    """A :class:`PlanBundle` built from real Monaco data (see the module docstring)."""
    import pyrosm

    osm = pyrosm.OSM(pbf)
    params = run_params(lang=lang, title=MONACO_TITLE, network=Path(pbf),
                        command=f"carecover plan --osm {pbf} --out out")
    fac = _monaco_facilities(osm, pbf)
    bnd = osm.get_boundaries()
    quarters = bnd[bnd["admin_level"] == "10"][["name", "geometry"]]
    communes = bnd[bnd["admin_level"] == "8"][["name", "geometry"]]
    dem, cent = _monaco_demand(osm, communes, quarters)
    fac_u = fac[fac["status"] == "ok"].to_crs(UTM)
    _monaco_times(dem, cent, fac_u)
    iso = _monaco_isochrones(osm, fac_u)
    gaps, gap_hulls = _monaco_gaps(dem, cent)
    boundaries = pd.concat([communes.assign(level="city"), quarters.assign(level="county")])
    boundaries = gpd.GeoDataFrame(boundaries[["name", "level", "geometry"]], geometry="geometry", crs=4326)
    boundaries = boundaries[boundaries["name"] == "Monaco"].pipe(lambda x: pd.concat([x, boundaries[boundaries["level"] == "county"]]))
    boundaries = gpd.GeoDataFrame(boundaries.reset_index(drop=True), geometry="geometry", crs=4326)
    return PlanBundle(facilities=fac, isochrones=iso, demand=dem, gaps=gaps, sites=_monaco_sites(gaps),
                      boundaries=boundaries, summary=_monaco_summary(pbf, params, dem, cent, fac_u),
                      lang=lang, title="", gap_hulls=gap_hulls, params=params)


def _monaco_facilities(osm, pbf: str) -> gpd.GeoDataFrame:
    """POIs as facilities, plus one record without coordinates and one outside the area."""
    pois = osm.get_pois(custom_filter={"amenity": list(AMENITY_TIER)})
    pois = pois[pois["name"].notna()].sort_values("id").reset_index(drop=True)
    pois = pd.concat([pois[pois["amenity"] != "restaurant"], pois[pois["amenity"] == "restaurant"].head(15)])
    pois = pois.reset_index(drop=True)
    pts = gpd.GeoSeries(pois.geometry.values, crs=4326).to_crs(UTM).representative_point().to_crs(4326)
    fac = gpd.GeoDataFrame({
        "fid": [f"N{int(i)}" for i in pois["id"]],
        "name": pois["name"].astype(str).values,
        "tier": [AMENITY_TIER[a] for a in pois["amenity"]],
        "tier_raw": pois["amenity"].astype(str).values,
        "address": (pois.get("addr:street", pd.Series("", index=pois.index)).fillna("").astype(str)).values,
        "street": "", "township": "", "county": "", "source": "osm", "source_file": Path(pbf).name,
        "row": np.arange(1, len(pois) + 1), "crs_in": "wgs84",
        "lon_in": pts.x.values, "lat_in": pts.y.values, "status": "ok", "note": "",
    }, geometry=pts.values, crs=4326)
    # one record without coordinates and one outside the area: both must survive into outputs
    extra = gpd.GeoDataFrame({
        "fid": ["X1", "X2"], "name": ["无坐标站点", "Outside point"], "tier": ["community_centre", "street_centre"],
        "tier_raw": ["社区养老服务站", "街道级"], "address": ["", ""], "street": "", "township": "", "county": "",
        "source": "register", "source_file": "register.csv", "row": [2, 3], "crs_in": "wgs84",
        "lon_in": [np.nan, 7.60], "lat_in": [np.nan, 43.80], "status": ["missing_coords", "outside_area"],
        "note": ["no coordinates", "outside the network area"],
    }, geometry=[None, shapely.Point(7.60, 43.80)], crs=4326)
    fac = pd.concat([fac, extra], ignore_index=True)
    return gpd.GeoDataFrame(fac, geometry="geometry", crs=4326)


def _monaco_demand(osm, communes, quarters) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """Building footprints, one resident per 40 m2 of footprint, 25% aged 60+; and the
    buildings' points in UTM."""
    b = osm.get_buildings()
    b = b[b.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].sort_values("id").reset_index(drop=True)
    bu = gpd.GeoSeries(b.geometry.values, crs=4326).to_crs(UTM)
    area = bu.area.to_numpy()
    pop = np.round(area / 40.0, 2)
    cent = bu.representative_point()
    cent_ll = cent.to_crs(4326)
    dem = gpd.GeoDataFrame({"cell_id": np.arange(len(b)), "pop": pop, "elderly": np.round(pop * 0.25, 2),
                            "area_m2": np.round(area, 1)}, geometry=cent_ll.values, crs=4326)
    county = pd.Series("", index=dem.index, dtype=object)
    for layer in (communes, quarters):  # finest level wins
        j = gpd.sjoin(dem[["geometry"]], layer, how="left", predicate="within")
        j = j[~j.index.duplicated(keep="first")]
        county = county.where(j["name"].isna(), j["name"])
    dem["county"] = county.fillna("").astype(str).values
    return dem, cent


def _monaco_times(dem: gpd.GeoDataFrame, cent: gpd.GeoSeries, fac_u: gpd.GeoDataFrame) -> None:
    """``time_s__<tier>`` (straight line × DETOUR, ``inf`` beyond 30 min) and ``covered__<tier>``."""
    for t in MONACO_TIERS:
        src = fac_u[fac_u["tier"] == t].geometry
        d = np.full(len(dem), np.inf)
        for g in src:
            d = np.minimum(d, cent.distance(g).to_numpy())
        tt = np.round(d * DETOUR / SPEED, 1)
        tt[tt > 1800] = np.inf  # bounded search: beyond twice the threshold is "not reached"
        dem[f"time_s__{t}"] = tt
        dem[f"covered__{t}"] = tt <= 900


def _monaco_isochrones(osm, fac_u: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Real streets within reach of each facility, buffered 25 m; per-tier unions per band."""
    streets = osm.get_network("walking")
    st = gpd.GeoSeries(streets.geometry.values, crs=4326).to_crs(UTM)
    rows = []
    bands = (5.0, 10.0, 15.0)
    for t in MONACO_TIERS:
        src = fac_u[fac_u["tier"] == t]
        full = {}  # fid -> buffered streets within the 15-min radius
        for fid, g in zip(src["fid"], src.geometry, strict=True):
            circle = g.buffer(15 * 60 * SPEED / DETOUR)
            near = st.values[st.sindex.query(circle, predicate="intersects")]
            full[fid] = shapely.union_all(shapely.buffer(shapely.intersection(near, circle), 25, quad_segs=2))
            rows.append({"tier": t, "band_min": 15.0, "fid": fid, "geometry": full[fid]})
        for band in bands:  # smaller bands: the 15-min streets cut by the smaller radius
            radius = band * 60 * SPEED / DETOUR
            polys = [full[fid].intersection(g.buffer(radius + 25))
                     for fid, g in zip(src["fid"], src.geometry, strict=True)]
            rows.append({"tier": t, "band_min": band, "fid": "", "geometry": shapely.union_all(polys)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=UTM).to_crs(4326)


def _monaco_gaps(dem: gpd.GeoDataFrame, cent: gpd.GeoSeries) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """Uncovered buildings (street tier) summed on a 300 m grid: gap points and zone hulls."""
    unc = ~dem["covered__street_centre"].to_numpy()
    cu = cent[unc]
    ix = np.floor(cu.x.to_numpy() / 300).astype(int)
    iy = np.floor(cu.y.to_numpy() / 300).astype(int)
    g = pd.DataFrame({"ix": ix, "iy": iy, "pop": dem["pop"].to_numpy()[unc],
                      "elderly": dem["elderly"].to_numpy()[unc], "area_m2": dem["area_m2"].to_numpy()[unc],
                      "county": dem["county"].to_numpy()[unc],
                      "t": dem["time_s__street_centre"].to_numpy()[unc], "geom": cu.values})
    gaps_rows, hulls = [], []
    for (gx, gy), grp in g.groupby(["ix", "iy"], sort=True):
        if grp["elderly"].sum() < 20:
            continue
        hull = shapely.MultiPoint(list(grp["geom"])).convex_hull.buffer(20)
        gaps_rows.append({"gap_id": f"G{gx}_{gy}", "pop": round(grp["pop"].sum(), 2),
                          "elderly": round(grp["elderly"].sum(), 2), "area_m2": round(hull.area, 1),
                          "county": grp["county"].mode().iloc[0], "time_to_nearest_s": float(grp["t"].min()),
                          "geometry": hull.representative_point()})
        hulls.append(hull)
    gaps = gpd.GeoDataFrame(gaps_rows, geometry="geometry", crs=UTM).to_crs(4326)
    return gaps, gpd.GeoSeries(hulls, crs=UTM).to_crs(4326)


def _monaco_sites(gaps: gpd.GeoDataFrame) -> pd.DataFrame:
    """The three largest gaps (greedy) and the same set in another order (exact)."""
    order = gaps.sort_values(["elderly", "gap_id"], ascending=[False, True]).reset_index(drop=True)
    top = order.head(3)
    srows = []
    for method, idx in (("greedy", [0, 1, 2]), ("exact", [1, 0, 2])):
        for rank, i in enumerate(idx, start=1):
            r = top.iloc[i]
            srows.append({"rank": rank, "tier": "street_centre", "method": method,
                          "gain_elderly": r["elderly"], "gain_pop": r["pop"], "lon": round(r.geometry.x, 6),
                          "lat": round(r.geometry.y, 6), "county": r["county"], "gap_id": r["gap_id"]})
    return pd.DataFrame(srows)


def _monaco_figures(dem: gpd.GeoDataFrame, cent: gpd.GeoSeries, fac_u: gpd.GeoDataFrame) -> list[dict]:
    """Population figures at three speeds and the 1,000 m circle figure, per tier."""
    figures = []
    tot_e = float(dem["elderly"].sum())
    for t in MONACO_TIERS:
        for speed in (0.8, 1.0, 1.2):
            cov = dem[f"time_s__{t}"].to_numpy() * SPEED / speed <= 900
            figures.append({"kind": "population", "tiers": [t], "population": "elderly", "area": "all",
                            "threshold_min": 15.0, "speed_mps": speed, "mode": "walk",
                            "value": float(dem["elderly"][cov].sum() / tot_e), "covered": float(dem["elderly"][cov].sum()),
                            "total": tot_e})
        dist = np.minimum.reduce([cent.distance(gg).to_numpy() for gg in fac_u[fac_u["tier"] == t].geometry])
        cov = dist <= 1000
        figures.append({"kind": "circle", "tiers": [t], "population": "elderly", "area": "all",
                        "threshold_min": 15.0, "speed_mps": None, "mode": "circle_1000m",
                        "value": float(dem["elderly"][cov].sum() / tot_e), "covered": float(dem["elderly"][cov].sum()),
                        "total": tot_e})
    return figures


def _monaco_claims(figures: list[dict]) -> list[dict]:
    """Two claims, with the columns of carecover.analysis.claims.evaluate_claims (one FAIL)."""
    street = next(f for f in figures if f["tiers"] == ["street_centre"] and f["speed_mps"] == 1.0)
    return [{"id": "street-100", "claim_zh": "街道级养老服务中心覆盖率100%",
             "claim_en": "street-level coverage 100%", "kind": "population", "tiers": "street_centre",
             "population": "elderly", "area": "all", "threshold_min": 15.0, "speed_mps": 1.0,
             "scenario": "current", "op": ">=", "target": 1.0, "computed": street["value"],
             "result": "PASS" if street["value"] >= 1.0 else "FAIL", "reason": "", "source": "test"},
            {"id": "community-90", "claim_zh": "社区级覆盖率90%以上", "claim_en": "community coverage > 90%",
             "kind": "population", "tiers": "community_centre", "population": "elderly", "area": "all",
             "threshold_min": 15.0, "speed_mps": 1.0, "scenario": "current", "op": ">=",
             "target": 0.9, "computed": 0.5, "result": "FAIL", "reason": "", "source": "test"}]


def _monaco_summary(pbf: str, params: RunParams, dem: gpd.GeoDataFrame, cent: gpd.GeoSeries,
                    fac_u: gpd.GeoDataFrame) -> dict:
    """The summary as ``summary.json`` states it (parameters: ``params.to_dict()``)."""
    from carecover.utils import file_sha256

    figures = _monaco_figures(dem, cent, fac_u)
    return {
        "parameters": params.to_dict(),
        "inputs": [{"path": pbf, "sha256": file_sha256(pbf), "date": "", "osm_replication_timestamp": None}],
        "figures": figures,
        "claims": _monaco_claims(figures),
        "sensitivity": [{"tier": f["tiers"][0], "speed_mps": f["speed_mps"], "value": f["value"]}
                        for f in figures if f["kind"] == "population"],
        "fidelity": {"street_centre": {"buffer_m": 25.0, "method": "field (raster 5 m)",
                                       "bands": [{"band_min": 15.0, "area_km2": 1.2, "samples": 500,
                                                  "false_share": 0.02, "unsnapped_share": 0.0}]}},
        "software": {"carecover": "0.1.0"},
        "command": params.command,
        "generated_at": TIMESTAMP,
    }
