"""``plan``: network → travel times → coverage → gaps/sites → map, report, exports.

Everything is written into a staging folder beside the output folder and moved into place only
when the whole run has succeeded, so a failed or interrupted run leaves the previous outputs (or
none), never half of a new set.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from carecover import __version__, settings
from carecover.analysis import figures as cf
from carecover.config import CityConfig
from carecover.errors import InputError
from carecover.inputs import population, registers
from carecover.network import engine, isochrones
from carecover.network import streets as network
from carecover.network.snap import Snapped, snap_points, snap_xy
from carecover.outputs.bundle import USED_STATUSES, PlanBundle
from carecover.tiers import TIERS, Tier
from carecover.utils import atomic_write, file_sha256, log


@dataclass
class PlanOptions:
    """Inputs and switches of one ``carecover plan`` run (see ``carecover plan --help``)."""

    network: Path
    facilities: list[Path]
    out: Path
    boundary: Path | None = None
    population: Path | None = None
    population_field: str = "pop"
    elderly_field: str | None = None
    elderly_raster: Path | None = None
    candidates: Path | None = None
    min_distance_existing_m: float | None = None
    total_population: float | None = None
    config: CityConfig | None = None
    suggest: dict[str, int] = field(default_factory=dict)
    units: dict[str, Path] = field(default_factory=dict)
    walk_speed_mps: float | None = None
    crs_in: str | None = None
    strict: bool = False
    osm_facilities: bool = False
    facility_isochrones: bool = False
    exact_time_limit: float = 30.0
    max_candidates: int = 5000
    max_candidates_drive: int = 1500
    min_spacing_m: float | None = None
    target_share: float = 0.9
    inline_assets: bool = False
    gaode_map: bool = True
    cache: bool | Path = True
    sample_note: str | None = None
    command: str = ""
    lang: str | None = None


# ----------------------------------------------------------------------------- inputs

def _boundaries(path: Path | None) -> tuple[gpd.GeoDataFrame | None, Any]:
    """Boundary GeoDataFrame (WGS-84) and the clip polygon (buffered 2 km so edge residents
    can reach facilities just across it)."""
    if path is None:
        return None, None
    from carecover.inputs.boundaries import buffered, read_boundaries

    gdf = read_boundaries(path)
    return gdf, buffered(shapely.union_all(gdf.geometry.values), 2000)


def _counties(boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if boundaries is None:
        return None
    c = boundaries[boundaries["level"].astype(str) != "city"]
    return c[["name", "geometry"]].reset_index(drop=True) if len(c) else None


def _read_population(opts: PlanOptions, cfg: CityConfig | None, counties, clip,
                     area=None) -> gpd.GeoDataFrame:
    p = opts.population
    if p is not None:
        # without a boundary, population files are read within the study area (the extract's
        # extent), so a grid in the wrong place or CRS is an error rather than unreachable people
        within = clip if clip is not None else area
        suffix = Path(p).suffix.lower()
        if suffix in (".tif", ".tiff"):
            demand = population.from_raster(p, counties if counties is not None else within,
                                            elderly_raster=opts.elderly_raster, cell_polygons=True)
        else:
            demand = population.from_vector(p, opts.population_field, elderly_field=opts.elderly_field,
                                            boundary=within)
    else:
        total = opts.total_population
        if total is None and cfg is not None and cfg.census is not None:
            total = getattr(cfg.census, "population", None) if not isinstance(cfg.census, dict) \
                else cfg.census.get("population")
        if total is None:
            raise InputError("no population: give --population FILE (raster or vector) or "
                             "--total-population N to spread over OSM buildings / 缺少人口数据",
                             field="population")
        demand = population.from_buildings(opts.network, float(total), boundary=clip,
                                           districts=counties)
    if opts.elderly_field is None or p is None or Path(p).suffix.lower() in (".tif", ".tiff"):
        if demand["elderly"].isna().any():
            share = cfg.default_elderly_share if cfg is not None else settings.default_elderly_share
            shares = {}
            if cfg is not None:
                for c in cfg.counties:
                    if c.elderly_share is not None:
                        shares[c.name] = c.elderly_share
            try:
                demand = population.apply_elderly_share(demand, share, district_shares=shares or None)
            except InputError as exc:
                if cfg is None or exc.file is not None:
                    raise
                raise InputError(exc.message, file=cfg.path, field="default_elderly_share",
                                 expected=exc.expected) from exc
    return demand


def _extent(net: network.StreetNetwork) -> Any:
    """Study area when no boundary is given: the network's extent (WGS-84 box)."""
    lon, lat = net.to_wgs84().transform(net.node_x, net.node_y)
    # a margin of ~0.003° (about 300 m) keeps facilities at the extract's edge in the study area
    return shapely.box(float(lon.min()) - 0.003, float(lat.min()) - 0.003,
                       float(lon.max()) + 0.003, float(lat.max()) + 0.003)


def _crs_check(fac: gpd.GeoDataFrame, net: network.StreetNetwork, max_snap: float) -> dict:
    """Does the declared coordinate system put facilities on the streets? (registers.crs_plausibility)"""
    def snap_distance(lon, lat):
        return snap_xy(net, *net.project_lonlat(lon, lat), max_snap_m=max_snap).dist

    try:
        return registers.crs_plausibility(fac, snap_distance)
    except Exception as exc:  # a check, never a reason to stop the run
        return {"warning": None, "reason": f"check not run: {exc}"}


def _input_record(path: Path | None, role: str, extra: dict | None = None,
                  sha256: str | None = None) -> dict | None:
    if path is None:
        return None
    path = Path(path)
    st = path.stat()
    rec = {"role": role, "path": str(path), "sha256": sha256 or file_sha256(path), "bytes": st.st_size,
           "date": datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).date().isoformat()}
    rec.update(extra or {})
    return rec


# ----------------------------------------------------------------------------- tiers

@dataclass
class TierResult:
    tier: Tier
    net: network.StreetNetwork
    fac_idx: np.ndarray           # rows of the facilities frame
    sources: Snapped
    node_times: engine.NodeTimes
    time_s: np.ndarray            # per demand, at the main speed
    source: np.ndarray            # per demand, index into fac_idx (-1)
    speed_mps: float | None


def _speed_factor(tier: Tier, speed: float, v: float) -> float:
    return speed / v if tier.mode == "walk" else 1.0


def _tier_times(tier: Tier, net, fac: gpd.GeoDataFrame, rows: np.ndarray, dem_snap: Snapped,
                max_snap: float, slowest_factor: float) -> TierResult:
    src = snap_points(net, fac.iloc[rows], max_snap)
    limit = tier.threshold_min * 60 * slowest_factor * 1.0001
    nt = engine.nearest(net, src, limit)
    t, s = engine.point_times(net, nt, dem_snap, src)
    return TierResult(tier, net, rows, src, nt, t, s,
                      net.profile.get("speed_mps") if tier.mode == "walk" else None)


def _region_mask(demand: pd.DataFrame, cfg: CityConfig | None, region: str | None) -> np.ndarray:
    if not region or cfg is None or region == "all":
        return np.ones(len(demand), bool)
    names = set(cfg.counties_in(region))
    return demand["county"].astype(str).isin(names).to_numpy()


def _candidates(net: network.StreetNetwork, cand_region, max_candidates: int,
                existing_xy: np.ndarray, min_dist: float | None) -> np.ndarray:
    """Candidate nodes: street junctions (degree ≥ 3), thinned on a grid to ``max_candidates``."""
    deg = np.bincount(np.concatenate([net.seg_a, net.seg_b]), minlength=net.n_nodes)
    idx = np.flatnonzero(deg >= 3)
    if cand_region is not None:
        lon, lat = net.to_wgs84().transform(net.node_x[idx], net.node_y[idx])
        idx = idx[shapely.contains_xy(cand_region, lon, lat)]
    if min_dist and len(existing_xy) and len(idx):
        from scipy.spatial import cKDTree

        d, _ = cKDTree(existing_xy).query(np.column_stack([net.node_x[idx], net.node_y[idx]]))
        idx = idx[d >= min_dist]
    if len(idx) > max_candidates:
        x, y = net.node_x[idx], net.node_y[idx]
        area = (x.max() - x.min() + 1) * (y.max() - y.min() + 1)
        cell = np.sqrt(area / max_candidates)
        for _ in range(20):
            key = np.floor((x - x.min()) / cell).astype(np.int64) * 1_000_003 + np.floor((y - y.min()) / cell).astype(np.int64)
            _, first = np.unique(key, return_index=True)
            if len(first) <= max_candidates:
                break
            cell *= 1.15
        idx = idx[np.sort(first)]
    return idx


def _suggest(tr: TierResult, count: int, demand: gpd.GeoDataFrame, dem_snap: Snapped,
             opts: PlanOptions, cfg: CityConfig | None, region: str | None, gaps_member: pd.Series | None,
             state_dir: Path, state_extra: dict | None = None,
             units: dict[str, gpd.GeoDataFrame] | None = None) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """Choose ``count`` new sites of a tier (greedy and exact), with the curve and what-if state."""
    net, tier = tr.net, tr.tier
    thr = tier.threshold_min * 60
    in_region = _region_mask(demand, cfg, region)
    region_poly = None
    if region and cfg is not None and region != "all" and "county_geoms" in demand.attrs:
        names = set(cfg.counties_in(region))
        geoms = [g for n, g in demand.attrs["county_geoms"].items() if n in names]
        region_poly = shapely.union_all(geoms) if geoms else None
    existing_xy = np.column_stack([tr.sources.x[tr.sources.ok], tr.sources.y[tr.sources.ok]])
    if opts.candidates is not None:
        cx, cy, cand_ids = _candidate_file(opts.candidates, net, region_poly, existing_xy,
                                           opts.min_distance_existing_m)
        cand = np.full(len(cx), -1, np.int64)  # not network nodes
    else:
        # drive catchments are large: fewer candidates keep the matrix (and the state file) small
        most = opts.max_candidates if tier.mode == "walk" else min(opts.max_candidates, opts.max_candidates_drive)
        cand = _candidates(net, region_poly, most, existing_xy, opts.min_distance_existing_m)
        cx, cy, cand_ids = net.node_x[cand], net.node_y[cand], [f"node/{int(net.node_id[c])}" for c in cand]
    if len(cand) == 0:
        raise InputError(f"no candidate sites for {tier.key} in region {region!r} / 没有候选站点",
                         field="suggest")
    cand_snap = snap_xy(net, cx, cy)
    A = engine.reach_matrix(net, cand_snap, dem_snap, thr)
    covered0 = tr.time_s <= thr + 1e-9
    w_eld = np.where(in_region, demand["elderly"].fillna(0).to_numpy(float), 0.0)
    w_pop = np.where(in_region, demand["pop"].fillna(0).to_numpy(float), 0.0)
    from carecover.siting.model import MaximalCovering, coverage_curve, min_sites_for_target

    lon, lat = net.to_wgs84().transform(cx, cy)
    groups, caps = _unit_groups(units or {}, tier, lon, lat, tr)
    p = min(count, len(cand))
    model = MaximalCovering(A, w_eld, p, covered0=covered0, candidate_ids=cand_ids,
                            candidate_xy=np.column_stack([cx, cy]), groups=groups,
                            max_per_group=caps, min_spacing_m=opts.min_spacing_m,
                            forbidden=np.flatnonzero(~cand_snap.ok).tolist())
    greedy = model.solve("greedy")
    exact = model.solve("exact", time_limit=opts.exact_time_limit)
    log(f"  greedy {greedy.runtime_s:.2f} s, exact ({exact.status}) {exact.runtime_s:.2f} s")
    county_of = _point_county(demand, lon, lat)
    rows = []
    for sol in (greedy, exact):
        for rank, (j, gain, newly) in enumerate(zip(sol.chosen, sol.gains, sol.newly_covered, strict=True), 1):
            newly = np.asarray(newly, dtype=np.int64)
            gap = ""
            if gaps_member is not None and len(newly):
                g = gaps_member.iloc[newly]
                g = g[g > 0]
                if len(g):
                    gap = int(g.value_counts().sort_index().idxmax())
            rows.append({"tier": tier.key, "method": sol.method, "rank": rank, "candidate": str(cand_ids[j]),
                         "node": int(cand[j]), "unit": "" if groups is None else str(groups[j]),
                         "lon": round(float(lon[j]), 7),
                         "lat": round(float(lat[j]), 7), "county": county_of[j],
                         "gain_elderly": float(gain), "gain_pop": float(w_pop[newly].sum()),
                         "gap_id": gap, "objective": float(sol.objective), "status": sol.status,
                         "gap": None if sol.gap is None else float(sol.gap)})
    sites = pd.DataFrame(rows)
    best = exact if exact.objective >= greedy.objective - 1e-9 else greedy
    time_after = tr.time_s.copy()
    if len(best.chosen):
        sub = A[np.asarray(best.chosen)].tocsc()
        m = sub.max(axis=0).toarray().ravel()  # any reach → covered; use min time below
        cols = np.flatnonzero(m > 0)
        for c in cols:
            vals = sub[:, c].data
            time_after[c] = min(time_after[c], float(vals.min()) - 1e-9)
    curve = coverage_curve(model, min(max(2 * count, 10), len(cand)))
    k_target, _ = min_sites_for_target(model, opts.target_share)
    info = {"tier": tier.key, "count": count, "region": region or "all", "candidates": int(len(cand)),
            "weight": "elderly", "threshold_min": tier.threshold_min, "mode": tier.mode,
            # solver runtimes are logged, not stored: equal inputs must give equal files
            "greedy": {"objective": greedy.objective},
            "exact": {"objective": exact.objective, "status": exact.status, "gap": exact.gap},
            "covered_before": best.covered_before, "covered_after": best.covered_after,
            "total_weight": best.total_weight,
            "curve": curve.to_dict("records"),
            "target_share": opts.target_share, "min_sites_for_target": k_target}
    # prepared state for meeting what-ifs: existing facilities + candidates on one matrix
    E = engine.reach_matrix(net, tr.sources, dem_snap, thr)
    from carecover.siting.state import (
        state_fields,  # what-if scripts re-route new points from these fields
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(state_dir / f"{tier.key}.npz", "wb") as fh:
        M = sp.vstack([E, A]).tocsr()
        # float32 seconds and int32 indices: half the bytes to compress, ample for what-ifs
        np.savez_compressed(fh, data=M.data.astype(np.float32), indices=M.indices.astype(np.int32),
                            indptr=M.indptr, shape=M.shape,
                            n_existing=E.shape[0], weights_elderly=w_eld, weights_pop=w_pop,
                            existing_ok=tr.sources.ok, cand_lon=lon, cand_lat=lat,
                            cand_node=cand, chosen=np.asarray(best.chosen, dtype=np.int64),
                            cand_id=np.asarray([str(c) for c in cand_ids], dtype=str),
                            **state_fields(net, tr.sources, demand, dem_snap, thr, **(state_extra or {})))
    return sites, info, time_after


def _candidate_file(path: Path, net: network.StreetNetwork, region_poly, existing_xy: np.ndarray,
                    min_dist: float | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Candidate sites from a file (parcels the city can use): CSV with lon/lat (经度/纬度) columns,
    or any point/polygon vector file (WGS-84 or with its CRS)."""
    path = Path(path)
    if not path.exists():
        raise InputError("candidates file not found / 找不到候选点文件", file=path)
    if path.suffix.lower() in (".csv", ".txt"):
        df = pd.read_csv(path, encoding="utf-8-sig")
        cols = {c.strip().lower(): c for c in df.columns}
        lon_c = next((cols[c] for c in ("lon", "lng", "longitude", "经度", "x") if c in cols), None)
        lat_c = next((cols[c] for c in ("lat", "latitude", "纬度", "y") if c in cols), None)
        if lon_c is None or lat_c is None:
            raise InputError("candidates need lon/lat columns / 候选点缺少经纬度列", file=path,
                             field="lon/lat", expected="columns lon,lat or 经度,纬度")
        lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))
        if len(bad):
            raise InputError("coordinate is not a number / 坐标不是数字", file=path, row=int(bad[0]) + 2,
                             field=f"{lon_c}/{lat_c}")
        id_c = next((cols[c] for c in ("id", "编号", "name", "名称") if c in cols), None)
        ids = df[id_c].astype(str).tolist() if id_c else [f"C{i + 1}" for i in range(len(df))]
    else:
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:
            raise InputError(f"cannot read candidates: {exc}", file=path) from exc
        gdf = gdf.set_crs(4326) if gdf.crs is None else gdf.to_crs(4326)
        pts = gdf.geometry.representative_point()
        lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
        ids = [f"C{i + 1}" for i in range(len(gdf))]
    keep = np.ones(len(lon), bool)
    if region_poly is not None:
        keep &= shapely.contains_xy(region_poly, lon, lat)
    x, y = net.project_lonlat(lon, lat)
    if min_dist and len(existing_xy):
        from scipy.spatial import cKDTree

        d, _ = cKDTree(existing_xy).query(np.column_stack([x, y]))
        keep &= d >= min_dist
    return np.asarray(x)[keep], np.asarray(y)[keep], [i for i, k in zip(ids, keep, strict=True) if k]


def _unit_groups(units_by_kind: dict[str, gpd.GeoDataFrame], tier: Tier, lon, lat,
                 tr: TierResult) -> tuple:
    """At most one new centre per unit that lacks one (e.g. one township centre per township
    without a centre), when that tier's unit boundaries were given with ``--units``."""
    units = units_by_kind.get(tier.unit) if tier.unit else None
    if units is None:
        return None, None
    names = units["name"].astype(str).to_numpy()
    groups = np.full(len(lon), "", dtype=object)
    for name, geom in zip(names, units.geometry, strict=True):
        inside = shapely.contains_xy(geom, lon, lat) & (groups == "")
        groups[inside] = name
    fx, fy = tr.net.to_wgs84().transform(tr.sources.x[tr.sources.ok], tr.sources.y[tr.sources.ok])
    has = set()
    for name, geom in zip(names, units.geometry, strict=True):
        if len(fx) and shapely.contains_xy(geom, fx, fy).any():
            has.add(name)
    caps = {n: (0 if n in has else 1) for n in names}
    caps[""] = 0  # outside every unit
    return groups, caps


def _point_county(demand: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> list[str]:
    geoms = demand.attrs.get("county_geoms") or {}
    out = [""] * len(lon)
    for name, g in sorted(geoms.items()):
        inside = shapely.contains_xy(g, lon, lat)
        for i in np.flatnonzero(inside):
            if not out[i]:
                out[i] = name
    return out


# ----------------------------------------------------------------------------- plan

def plan(opts: PlanOptions) -> dict[str, Path]:
    """Run the whole job and write its outputs into ``opts.out``. Returns the written files."""
    t0 = time.perf_counter()
    cfg = opts.config
    tiers: dict[str, Tier] = cfg.resolved_tiers() if cfg is not None else dict(TIERS)
    lang = opts.lang or (cfg.lang if cfg is not None else "zh")

    def setting(name: str):  # bridge (issue 10): a config value left unset (None) -> settings
        value = getattr(cfg, name) if cfg is not None else None
        return getattr(settings, name) if value is None else value

    speed = float(opts.walk_speed_mps if opts.walk_speed_mps is not None
                  else setting("walk_speed_mps"))
    sens = list(setting("sensitivity_speeds_mps"))
    bands = list(setting("bands_min"))
    max_snap = float(setting("max_snap_m"))
    buffer_m = float(setting("isochrone_buffer_m"))
    radius = float(setting("circle_radius_m"))
    if not (np.isfinite(speed) and speed > 0):
        raise InputError(f"walking speed must be a positive number, got {speed} / 步行速度须为正数",
                         field="--speed", expected="m/s > 0, e.g. 1.0")
    out_dir = Path(opts.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("output path exists and is not a folder / 输出路径已存在且不是文件夹",
                         file=out_dir, field="--out", expected="a folder (new or existing)")
    slowest = speed / min([speed, *sens])

    boundaries, clip = _boundaries(opts.boundary)
    counties = _counties(boundaries)
    units = {unit: _boundaries(path)[0] for unit, path in opts.units.items()}  # --units, read once

    def profile(mode: str) -> dict:
        return network.make_profile(mode, walk_speed_mps=speed,
                                    drive_speeds_kph=cfg.drive_speeds() if cfg else None)

    # without a boundary the study area is the OSM extract's extent: that of the walk network,
    # which every run needs anyway (loaded once, here)
    nets: dict[str, network.StreetNetwork] = {}
    if clip is None:
        nets["walk"] = network.load_network(opts.network, profile("walk"), cache=opts.cache)
        area = _extent(nets["walk"])
    else:
        area = clip

    # facilities: every record kept with its status
    frames = []
    crs_in = opts.crs_in or ((cfg.crs_in or "wgs84") if cfg else None)
    for path in opts.facilities:
        frames.append(registers.read_facilities(path, crs=crs_in, boundary=area, strict=opts.strict))
    if opts.osm_facilities:
        from carecover.inputs.osm_facilities import facilities_from_osm

        frames.append(facilities_from_osm(opts.network, boundary=area))
    fac = pd.concat(frames, ignore_index=True) if frames else registers.empty_facilities()
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs=4326)
    if fac["fid"].duplicated().any():
        dup = fac["fid"].duplicated(keep=False)
        fac.loc[dup, "fid"] = fac.loc[dup, "source_file"].astype(str) + ":" + fac.loc[dup, "fid"].astype(str)
    fac["tier_mode"] = fac["tier"].map(lambda k: tiers[k].mode if k in tiers else None)

    # networks
    used = fac["status"].isin(USED_STATUSES) & fac["tier"].notna()
    modes = {"walk"} | {tiers[k].mode for k in fac.loc[used, "tier"].unique()}
    suggest = dict(opts.suggest)
    regions: dict[str, str | None] = {}
    if not suggest and cfg is not None:
        for k, pl in cfg.planned.items():
            if k in ("street_centre", "township_centre"):
                suggest[k] = pl.count
    if cfg is not None:
        for k in suggest:
            pl = cfg.planned.get(k)
            regions[k] = getattr(pl, "region", None) if pl is not None else None
    for k in suggest:
        if k not in tiers:
            raise InputError(f"unknown tier '{k}' in --suggest", field="suggest",
                             expected=", ".join(tiers))
        modes.add(tiers[k].mode)
    for mode in sorted(modes - set(nets)):
        try:
            nets[mode] = network.load_network(opts.network, profile(mode), boundary=clip, cache=opts.cache)
        except network.NetworkError as exc:
            if opts.boundary is None or "no streets" not in exc.message:
                raise
            raise network.NetworkError(
                f"{exc.message}; the boundary {Path(opts.boundary).name} (+2 km) holds none of this "
                "network's streets: wrong place or CRS? / 边界与路网不重叠", file=opts.boundary,
                expected=f"a boundary overlapping {Path(opts.network).name}") from exc

    crs_check = _crs_check(fac, nets["walk"], max_snap)
    if crs_check.get("warning"):
        log("警告 / warning: " + crs_check["warning"])

    # population
    log("人口 / population …")
    demand = _read_population(opts, cfg, counties, clip, area)
    if counties is not None:
        demand.attrs["county_geoms"] = dict(zip(counties["name"], counties.geometry, strict=True))
    pop_source = demand.attrs.get("population_source", {})
    dem_snaps = {m: snap_points(n, demand, max_snap) for m, n in nets.items()}
    walk = nets["walk"]
    demand["snap_status"] = dem_snaps["walk"].status()
    demand["snap_m"] = np.round(dem_snaps["walk"].dist, 2)
    if len(demand) and not dem_snaps["walk"].ok.any():
        raise InputError(f"none of the {len(demand)} population points lies within {max_snap:.0f} m of "
                         "a street: population and network do not overlap (wrong place or CRS?) / "
                         "人口数据与路网不重叠", file=opts.population or opts.network, field="population")

    county_kinds = {c.name: c.kind for c in cfg.counties} if cfg is not None else None
    areas = cf.area_masks(demand, county_kinds)
    for unit, ugdf in sorted(units.items()):
        dlon, dlat = demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()
        free = np.ones(len(demand), bool)
        for name, geom in zip(ugdf["name"].astype(str), ugdf.geometry, strict=True):
            m = shapely.contains_xy(geom, dlon, dlat) & free
            free &= ~m
            areas[f"{unit}:{name}"] = m
    data = {"network": Path(opts.network).name, "population": pop_source.get("method", ""),
            "population_file": Path(opts.population).name if opts.population else "OSM buildings",
            "facilities": ", ".join(Path(p).name for p in opts.facilities)}
    if opts.sample_note:
        data["sample"] = opts.sample_note

    figures: list[dict] = []
    fidelity: dict[str, Any] = {}
    sensitivity: dict[str, Any] = {}
    iso_rows: list[gpd.GeoDataFrame] = []
    results: dict[str, TierResult] = {}
    fac["reached_pop"] = np.nan
    fac["reached_elderly"] = np.nan
    fac["snap_m"] = np.nan
    fac_xy = {}
    for key in [k for k in tiers if k in set(fac.loc[used, "tier"])]:
        tier = tiers[key]
        net = nets[tier.mode]
        rows = np.flatnonzero((used & (fac["tier"] == key)).to_numpy())
        log(f"{tier.name_zh} / {tier.name_en}: {len(rows)} …")
        tr = _tier_times(tier, net, fac, rows, dem_snaps[tier.mode], max_snap,
                         slowest if tier.mode == "walk" else 1.0)
        results[key] = tr
        st = tr.sources.status()
        fac.loc[fac.index[rows], "snap_m"] = np.round(tr.sources.dist, 2)
        near_dropped = tr.sources.ok & tr.sources.on_dropped
        if near_dropped.any():
            r = fac.index[rows[near_dropped]]
            fac.loc[r, "note"] = (fac.loc[r, "note"].fillna("").astype(str) +
                                  "; 最近道路属于被剔除的孤立路段，已连到主路网 / nearest street is on a "
                                  "disconnected part dropped from the network; routed from the main network").str.lstrip("; ")
        bad = st != "ok"
        if bad.any():
            r = fac.index[rows[bad]]
            fac.loc[r, "status"] = "unsnapped"
            fac.loc[r, "note"] = [f"{s}: {d:.0f} m from the {tier.mode} network (limit {max_snap:.0f} m)"
                                  for s, d in zip(st[bad], tr.sources.dist[bad], strict=True)]
        thr_s = tier.threshold_min * 60
        cov = tr.time_s <= thr_s + 1e-9
        demand[f"time_s__{key}"] = np.round(tr.time_s, 3)
        demand[f"covered__{key}"] = cov
        src_ok = (tr.source >= 0) & cov
        fac.loc[fac.index[rows], "reached_pop"] = np.bincount(
            tr.source[src_ok], weights=demand["pop"].to_numpy(float)[src_ok], minlength=len(rows)).round(1)
        fac.loc[fac.index[rows], "reached_elderly"] = np.bincount(
            tr.source[src_ok], weights=demand["elderly"].fillna(0).to_numpy(float)[src_ok],
            minlength=len(rows)).round(1)
        spd = speed if tier.mode == "walk" else None
        figures += cf.population_figures(demand, tr.time_s, tiers=[key], threshold_min=tier.threshold_min,
                                         speed_mps=spd, mode=tier.mode, areas=areas, data=data,
                                         bands_min=bands)
        if tier.mode == "walk":
            band = {}
            for v in sorted(set(sens) | {speed}):
                t_v = tr.time_s * _speed_factor(tier, speed, v)
                if v != speed:
                    figures += cf.population_figures(demand, t_v, tiers=[key], threshold_min=tier.threshold_min,
                                                     speed_mps=v, mode="walk", areas={"all": areas["all"]},
                                                     data=data, bands_min=bands)
                w = demand["elderly"].fillna(0).to_numpy(float)
                band[str(v)] = float(w[t_v <= thr_s + 1e-9].sum() / w.sum()) if w.sum() > 0 else None
            sensitivity[key] = {"population": "elderly", "threshold_min": tier.threshold_min,
                                "by_speed_mps": band,
                                "method": "exact rescaling: walking times are distance / speed on every segment"}
            # straight-line circles versus the network
            ok = tr.sources.ok
            fxy = np.column_stack([tr.sources.x[ok], tr.sources.y[ok]])
            dxy = np.column_stack(walk.project_lonlat(demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()))
            mask, parts = cf.circle_gap(demand, fxy, dxy, tr.time_s, radius_m=radius,
                                        threshold_min=tier.threshold_min)
            demand[f"circle_not_reached__{key}"] = mask
            for pop_kind in ("elderly", "total"):
                col = "elderly" if pop_kind == "elderly" else "pop"
                tot = float(demand[col].fillna(0).sum())
                inside = parts[f"{'elderly' if pop_kind == 'elderly' else 'pop'}_in_circles"]
                figures.append({"kind": "circle", "tiers": [key], "population": pop_kind, "area": "all",
                                "threshold_min": tier.threshold_min, "speed_mps": speed, "mode": "straight line",
                                "scenario": "current", "value": inside / tot if tot else float("nan"),
                                "covered": inside, "total": tot, "radius_m": radius, "data": data,
                                "not_reached_by_network": parts[f"{'elderly' if pop_kind == 'elderly' else 'pop'}_in_circles_not_reached"]})
            fac_xy[key] = fxy
        # isochrones (per-tier union) and their measured fidelity
        polys = isochrones.tier_isochrones(net, tr.sources, bands, buffer_m=buffer_m)
        fid = isochrones.fidelity(net, tr.sources, polys, n_samples=1000)
        fidelity[key] = {"buffer_m": buffer_m, "method": "field (raster: 5 m pixels, coarser for city-wide tiers)",
                         "bands": fid.round(4).to_dict("records")}
        iso = isochrones.to_geodataframe([(key, b, "", p) for b, p in polys], net, ["tier", "band_min", "fid"])
        iso_rows.append(iso)
        if opts.facility_isochrones:
            items = isochrones.facility_isochrones(net, tr.sources, bands, buffer_m=buffer_m)
            fids = fac["fid"].to_numpy()[rows]
            iso_rows.append(isochrones.to_geodataframe([(key, b, fids[i], p) for i, b, p in items], net,
                                                       ["tier", "band_min", "fid"]))

    # "all of" coverage: every walk tier pair present among community-level services
    walk_keys = [k for k in results if tiers[k].mode == "walk" and tiers[k].level >= 3]
    if len(walk_keys) >= 2:
        allcov = np.all([demand[f"covered__{k}"].to_numpy() for k in walk_keys], axis=0)
        thr = {k: tiers[k].threshold_min for k in walk_keys}
        # each tier within its own threshold; one number only when they agree
        common = thr[walk_keys[0]] if len(set(thr.values())) == 1 else None
        # times are 0 (all reached) or inf: any threshold separates them
        figs = cf.population_figures(demand, np.where(allcov, 0.0, np.inf), tiers=walk_keys,
                                     threshold_min=max(thr.values()), speed_mps=speed, mode="walk",
                                     areas=areas, data=data, kind="all_of")
        for f in figs:
            f["threshold_min"] = common
            f["thresholds_min"] = thr
        figures += figs

    # administrative coverage
    if cfg is not None:
        figures += cfg.admin_figures()
    for unit, ugdf in units.items():
        upath = opts.units[unit]
        tier_key = {"street": "street_centre", "township": "township_centre",
                    "community": "community_centre", "village": "village_station"}.get(unit, unit)
        figures.append(cf.administrative_from_boundaries(fac, ugdf, tier=tier_key, unit=unit,
                                                         data={"units": Path(upath).name}))

    # gaps per tier, ranked
    from carecover.analysis.gaps import find_gaps

    cell = float(np.sqrt(np.nanmedian(demand["area_m2"]))) if "area_m2" in demand and len(demand) else 100.0
    link_m = 1.5 * cell if pop_source.get("method", "").startswith("raster") else 100.0
    gap_frames = []
    members: dict[str, pd.Series] = {}
    for key, tr in results.items():
        d = demand[["cell_id", "pop", "elderly", "county", "area_m2", "geometry"]].copy()
        d["time_s"] = tr.time_s
        d["covered"] = demand[f"covered__{key}"].to_numpy()
        g = find_gaps(d, link_m=link_m, admin=counties)
        # the zone of every point, from the same clustering (0 outside gaps)
        members[key] = pd.Series(g.attrs.pop("gap_id_by_point"), index=np.arange(len(d))).fillna(0).astype(int)
        if len(g):
            g.insert(0, "tier", key)
            gap_frames.append(g)
    gaps = None
    if gap_frames:
        hulls = pd.concat([gpd.GeoSeries(g["hull"]).to_crs(4326) for g in gap_frames], ignore_index=True)
        plain = [pd.DataFrame(g.drop(columns=["hull"]).to_crs(4326)) for g in gap_frames]
        gaps = gpd.GeoDataFrame(pd.concat(plain, ignore_index=True), geometry="geometry", crs=4326)
        gaps.attrs["hulls"] = gpd.GeoSeries(hulls.values, crs=4326)

    # sites for the planned centres
    Path(opts.out).resolve().parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{Path(opts.out).name}.", dir=Path(opts.out).resolve().parent))
    site_frames, site_info = [], {}
    try:
        for key, count in suggest.items():
            if count <= 0:
                continue
            tr = results.get(key)
            if tr is None:  # no existing facility of this tier: start from nothing
                tier = tiers[key]
                net = nets[tier.mode]
                empty = Snapped(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, bool),
                                np.zeros(0, bool), np.zeros(0), np.zeros(0), max_snap)
                tr = TierResult(tier, net, np.zeros(0, np.int64), empty,
                                engine.NodeTimes(np.full(net.n_nodes, np.inf), np.full(net.n_nodes, -1), 0),
                                np.full(len(demand), np.inf), np.full(len(demand), -1), None)
            log(f"选址 / siting {count} × {tiers[key].name_zh} …")
            sites, info, time_after = _suggest(tr, count, demand, dem_snaps[tiers[key].mode], opts, cfg,
                                               regions.get(key), members.get(key), staging / "state",
                                               {"fids": fac["fid"].to_numpy()[tr.fac_idx],
                                                "names": fac["name"].to_numpy()[tr.fac_idx], "clip": clip,
                                                "network_file": opts.network}, units=units)
            site_frames.append(sites)
            site_info[key] = info
            tier = tiers[key]
            figures += cf.population_figures(demand, time_after, tiers=[key], threshold_min=tier.threshold_min,
                                             speed_mps=speed if tier.mode == "walk" else None,
                                             mode=tier.mode, areas=areas, data={**data, "sites": "exact"},
                                             scenario="planned", bands_min=bands)
        sites_df = pd.concat(site_frames, ignore_index=True) if site_frames else None
        if site_info:
            curve = pd.concat([pd.DataFrame(i["curve"]).assign(tier=k) for k, i in site_info.items()],
                              ignore_index=True)
            with atomic_write(staging / "site_curve.csv", "w", encoding="utf-8-sig", newline="") as fh:
                curve[["tier", *[c for c in curve.columns if c != "tier"]]].to_csv(fh, index=False)
        if sites_df is not None:
            sites_df = gpd.GeoDataFrame(sites_df, geometry=gpd.points_from_xy(sites_df["lon"], sites_df["lat"]),
                                        crs=4326)

        # claims
        claims_rows: list[dict] = []
        if cfg is not None and cfg.claims is not None and Path(cfg.claims).exists():
            from carecover.analysis.claims import claims_table_text, evaluate_claims, load_claims

            claims = load_claims(cfg.claims, [c.name for c in cfg.counties])
            table = evaluate_claims(claims, figures, tiers=tiers, main_speed_mps=speed)
            claims_rows = json.loads(table.to_json(orient="records", force_ascii=False))
            log(claims_table_text(table, lang))

        # summary
        inputs = [r for r in [
            _input_record(opts.network, "network", {"osm_replication_timestamp": walk.source.get("replication_timestamp")},
                          sha256=walk.source.get("sha256")),  # hashed when the network was loaded
            *[_input_record(p, "facilities") for p in opts.facilities],
            _input_record(opts.population, "population"),
            _input_record(opts.boundary, "boundary"),
            _input_record(cfg.path, "config") if cfg is not None and cfg.path else None,
            _input_record(cfg.claims, "claims") if cfg is not None and cfg.claims and Path(cfg.claims).exists() else None,
        ] if r is not None]
        status_counts = fac["status"].value_counts().sort_index().to_dict()
        unsnapped_pop = float(demand.loc[demand["snap_status"] != "ok", "pop"].sum())
        summary = {
            "title": _title(cfg, lang),
            "generated_at": _now(),
            "command": opts.command,
            "sample_data": opts.sample_note,
            "parameters": {
                "speed_mps": speed, "sensitivity_speeds_mps": sens, "bands_min": bands,
                "threshold_min": float(setting("threshold_min")),
                "tiers": {k: {"mode": t.mode, "threshold_min": t.threshold_min} for k, t in tiers.items()},
                "max_snap_m": max_snap, "isochrone_buffer_m": buffer_m, "circle_radius_m": radius,
                "crs_in": crs_in, "gap_link_m": link_m, "suggest": suggest, "regions": regions,
                "exact_time_limit_s": opts.exact_time_limit, "max_candidates": opts.max_candidates,
                "min_spacing_m": opts.min_spacing_m, "target_share": opts.target_share,
            },
            "inputs": inputs,
            "networks": {m: _net_summary(n) for m, n in nets.items()},
            "population": {"source": pop_source, "total_pop": float(demand["pop"].sum()),
                           "total_elderly": float(demand["elderly"].fillna(0).sum()),
                           "points": int(len(demand)),
                           "unsnapped_points": int((demand["snap_status"] != "ok").sum()),
                           "unsnapped_pop": unsnapped_pop,
                           "pop_nearest_dropped_part": float(demand.loc[dem_snaps["walk"].on_dropped, "pop"].sum())},
            "facilities": {"records": int(len(fac)), "by_status": status_counts, "crs_check": crs_check,
                           "by_tier": fac.loc[fac["status"].isin(USED_STATUSES), "tier"].value_counts().sort_index().to_dict()},
            "figures": _jsonable(figures),
            "sensitivity": sensitivity,
            "fidelity": fidelity,
            "sites": _jsonable(site_info),
            "claims": claims_rows,
            "software": _software(),
            "runtime_s": None,
        }
        iso_all = pd.concat(iso_rows, ignore_index=True) if iso_rows else \
            gpd.GeoDataFrame({"tier": [], "band_min": [], "fid": []}, geometry=[], crs=4326)
        demand_out = demand.copy()
        demand_out.attrs = {k: v for k, v in demand.attrs.items() if k not in ("county_geoms",)}
        bundle = PlanBundle(facilities=fac, isochrones=gpd.GeoDataFrame(iso_all, crs=4326), demand=demand_out,
                            gaps=gaps, sites=sites_df, boundaries=boundaries, summary=summary, lang=lang,
                            title=summary["title"])
        from carecover.outputs.export import export_all
        from carecover.outputs.maps import build_map
        from carecover.outputs.report import write_report

        log("输出 / writing outputs …")
        export_all(bundle, staging)
        build_map(bundle, staging / "map.html", inline_assets=opts.inline_assets)
        if opts.gaode_map:
            build_map(bundle, staging / "map_gaode.html", basemap="gaode", inline_assets=opts.inline_assets)
        write_report(bundle, staging)
        summary["runtime_s"] = None  # kept out so equal inputs give equal files
        with atomic_write(staging / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(summary, fh, ensure_ascii=False, indent=2, sort_keys=False, default=str)
        written = _publish(staging, Path(opts.out))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"完成 / done in {time.perf_counter() - t0:.1f} s → {opts.out}")
    return written


def _publish(staging: Path, out: Path) -> dict[str, Path]:
    """Move every staged file into ``out`` (each move atomic).

    Ctrl-C/SIGTERM are held back during the moves (they take milliseconds), so an interrupt
    never leaves a mix of old and new files; it takes effect right after.
    """
    with _signals_deferred():
        out.mkdir(parents=True, exist_ok=True)
        written = {}
        for src in sorted(staging.rglob("*")):
            if src.is_dir():
                continue
            rel = src.relative_to(staging)
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            written[str(rel)] = dst
    return written


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT/SIGTERM until the block ends, then act on them (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    sigs = [signal.SIGINT, signal.SIGTERM]
    old = {sig: signal.signal(sig, lambda signum, frame: got.append(signum)) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for signum in got[:1]:
            handler = old[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                raise KeyboardInterrupt


def _net_summary(net: network.StreetNetwork) -> dict:
    """``net.summary()`` without ``from_cache``: whether a cache was hit is not a property of
    the result, and equal inputs must give equal summary.json files."""
    out = net.summary()
    out["source"] = {k: v for k, v in out["source"].items() if k != "from_cache"}
    return out


def _title(cfg: CityConfig | None, lang: str) -> str:
    if cfg is None:
        return "一刻钟养老服务圈覆盖分析 / 15-minute elderly-care coverage"
    return (f"{cfg.name_zh} 一刻钟养老服务圈覆盖分析 / {cfg.name_en}: 15-minute elderly-care coverage"
            if lang == "zh" else f"{cfg.name_en}: 15-minute elderly-care coverage / {cfg.name_zh}")


def _now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    ts = datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch else datetime.now(timezone.utc)
    return ts.replace(microsecond=0).isoformat()


def _software() -> dict:
    from importlib.metadata import version

    import folium
    import highspy  # noqa: F401
    import osmnx
    import pyrosm
    import scipy
    import shapely as shp

    return {"carecover": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
            "numpy": np.__version__, "scipy": scipy.__version__, "shapely": shp.__version__,
            "geopandas": gpd.__version__, "pyrosm": getattr(pyrosm, "__version__", version("pyrosm")),
            "osmnx": osmnx.__version__, "folium": folium.__version__, "highspy": version("highspy")}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if not np.isfinite(f) else round(f, 6)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
