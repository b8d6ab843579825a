"""Stage 8 — siting: where the planned centres should go (greedy and exact side by side).

Per tier with a planned count: candidates in the planned region, the reach matrix on the real
network, the maximal covering model with existing facilities fixed, the coverage curve, the
smallest number of sites reaching the target, and the prepared state for meeting what-ifs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from carecover import notices, timing
from carecover.analysis import figures as cf
from carecover.errors import InputError
from carecover.inputs.candidates import read_candidates
from carecover.inputs.demand import Demand
from carecover.network import StreetNetwork, engine
from carecover.network.covered import covered
from carecover.network.snap import Snapped, snap_xy
from carecover.params import RunParams
from carecover.plan import siting_coloc as coloc
from carecover.plan.access import decay_of
from carecover.plan.area import Boundaries
from carecover.plan.figures import Figures
from carecover.plan.gaps import Gaps
from carecover.plan.siting_served import (
    ServedInputs,
    best_of,
    served_info,
    served_inputs,
    solve_served,
)
from carecover.plan.travel import Travel
from carecover.siting import access_whatif, colocation
from carecover.siting import candidates as cands
from carecover.siting.colocation import Colocated
from carecover.siting.curve import coverage_curve, min_sites_for_target
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering
from carecover.siting.reach import pattern_of
from carecover.siting.state import TierState, state_fields
from carecover.siting.table import served_site_rows, site_rows, with_objective
from carecover.tiers import Tier
from carecover.utils import log


@dataclass(frozen=True)
class Problem:
    """One tier's siting problem, before the planned count is applied (cacheable).

    Attributes
    ----------
    tier
        The tier.
    candidates, cand_snap
        Candidate sites and their positions on the network.
    reach, existing_reach
        Reach matrices (seconds + 1e-9) of the candidates and of the existing facilities.
    covered0
        Demand already covered by existing facilities.
    weights_elderly, weights_pop
        Demand weights inside the planned region (0 outside).
    groups, caps
        One-per-unit constraint (``None`` without unit boundaries).
    region
        The planned region's name (``"all"`` when everywhere).
    names
        Each candidate's name (``"XX小学旁 / next to XX Primary School"`` for one made from a public
        facility, "" for the others), or ``None`` without ``--candidates-from-osm``.
    coloc
        What each candidate is co-located with, or ``None`` without ``--candidates-from-osm``.
    """

    tier: Tier
    candidates: cands.Candidates
    cand_snap: Snapped
    reach: sp.csr_matrix
    existing_reach: sp.csr_matrix
    covered0: np.ndarray
    weights_elderly: np.ndarray
    weights_pop: np.ndarray
    groups: np.ndarray | None
    caps: dict | None
    region: str
    names: tuple[str, ...] | None = None
    coloc: Colocated | None = None


@dataclass(frozen=True)
class Siting:
    """Suggested sites of every planned tier.

    Attributes
    ----------
    sites
        One row per site and solver (EPSG:4326 points), or ``None``.
    info
        Per tier: counts, objectives, gap, coverage before/after, curve, sites for the target.
    curve
        Coverage curve of every tier (``tier`` first), or ``None``.
    figures
        Coverage figures of the planned scenario (exact solution, else greedy when better).
    states
        Prepared what-if state per tier.
    after_time_s
        Per tier: each demand point's time to the nearest facility with the suggested sites
        (the planned scenario of ``figures``).
    """

    sites: gpd.GeoDataFrame | None = None
    info: Mapping[str, dict] = field(default_factory=dict)
    curve: pd.DataFrame | None = None
    figures: list[dict] = field(default_factory=list)
    states: Mapping[str, TierState] = field(default_factory=dict)
    after_time_s: Mapping[str, np.ndarray] = field(default_factory=dict)


# ----------------------------------------------------------------------------- the problem

def region_of(params: RunParams, key: str, demand: Demand, bounds: Boundaries) -> tuple[np.ndarray, object]:
    """Demand mask and WGS-84 polygon of the region a tier's sites are planned for: the
    planned counties, else the boundary (candidates never lie in the routing margin), else
    everywhere (``None``)."""
    region = params.regions.get(key)
    cfg = params.config
    whole = shapely.union_all(bounds.frame.geometry.values) if bounds.frame is not None else None
    if not region or cfg is None or region == "all":
        return np.ones(len(demand), bool), whole
    names = set(cfg.counties_in(region))
    mask = demand.points["county"].astype(str).isin(names).to_numpy()
    geoms = [g for n, g in bounds.county_geoms().items() if n in names]
    return mask, (shapely.union_all(geoms) if geoms else whole)


def _candidates(params: RunParams, tier: Tier, net: StreetNetwork, existing_xy: np.ndarray, region_poly,
                feats: gpd.GeoDataFrame | None = None) -> tuple[cands.Candidates, tuple[str, ...] | None]:
    """The tier's candidates and their names: the public facilities (``--candidates-from-osm``),
    alone or after the file's or the junction candidates (``--candidates-mix``)."""
    if feats is None:
        return _base_candidates(params, tier, net, existing_xy, region_poly), None
    osm, names = colocation.facility_candidates(net, feats, region_poly, existing_xy,
                                                params.min_distance_existing_m, params.max_snap_m)
    log(f"  公共设施候选点 / public-facility candidates: {len(osm)} of {len(feats)}")
    if not params.candidates_mix:
        return osm, names
    base = _base_candidates(params, tier, net, existing_xy, region_poly)
    return colocation.merge(base, osm), ("",) * len(base) + names


def _base_candidates(params: RunParams, tier: Tier, net: StreetNetwork, existing_xy: np.ndarray,
                     region_poly) -> cands.Candidates:
    if params.candidates is not None:
        f = read_candidates(params.candidates)
        return cands.from_file(net, f.lon, f.lat, f.ids, region_poly, existing_xy, params.min_distance_existing_m)
    # drive catchments are large: fewer candidates keep the matrix (and the state file) small
    most = params.max_candidates if tier.mode == "walk" else min(params.max_candidates, params.max_candidates_drive)
    return cands.junctions(net, region_poly, most, existing_xy, params.min_distance_existing_m)


def _existing(travel: Travel, tier: Tier, net: StreetNetwork, n_demand: int):
    """The tier's routed facilities, or none at all (a tier planned from nothing)."""
    tt = travel.tiers.get(tier.key)
    if tt is not None:
        return tt.sources, tt.time_s
    empty = Snapped(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, bool), np.zeros(0, bool),
                    np.zeros(0), np.zeros(0), 0.0)
    return empty, np.full(n_demand, np.inf)


def problem(params: RunParams, key: str, net: StreetNetwork, demand: Demand, dem_snap: Snapped,
            travel: Travel, bounds: Boundaries, feats: gpd.GeoDataFrame | None = None) -> Problem:
    """Candidates, reach matrices and weights of one tier's siting problem (``feats``: the public
    facilities of ``--candidates-from-osm``)."""
    tier = params.tiers[key]
    thr = tier.threshold_min * 60
    sources, time_s = _existing(travel, tier, net, len(demand))
    in_region, region_poly = region_of(params, key, demand, bounds)
    existing_xy = np.column_stack([sources.x[sources.ok], sources.y[sources.ok]])
    cand, names = _candidates(params, tier, net, existing_xy, region_poly, feats)
    if len(cand) == 0:
        raise InputError(f"no candidate sites for {key} in region {params.regions.get(key)!r} / 没有候选站点",
                         field="suggest")
    cand_snap = snap_xy(net, cand.x, cand.y, params.max_snap_m)
    groups, caps = cands.unit_groups(bounds.units, tier, cand, net, sources)
    pts = demand.points
    return Problem(tier, cand, cand_snap, engine.reach_matrix(net, cand_snap, dem_snap, thr),
                   engine.reach_matrix(net, sources, dem_snap, thr), covered(time_s, tier.threshold_min),
                   np.where(in_region, pts["elderly"].fillna(0).to_numpy(float), 0.0),
                   np.where(in_region, pts["pop"].fillna(0).to_numpy(float), 0.0), groups, caps,
                   str(params.regions.get(key) or "all"), names,
                   None if feats is None else colocation.colocated_with(net, cand, feats, params.colocation_within_m))


# ----------------------------------------------------------------------------- solving

def time_after(time_s: np.ndarray, reach: sp.csr_matrix, chosen) -> np.ndarray:
    """Each demand point's time to its nearest facility once the chosen sites are open."""
    out = np.asarray(time_s, float).copy()
    if len(chosen):
        sub = reach[np.asarray(chosen)]
        # per demand point the fastest chosen site (values are seconds + 1e-9, all positive)
        fastest = np.full(out.shape, np.inf)
        np.minimum.at(fastest, sub.indices, sub.data)
        c = np.flatnonzero(np.isfinite(fastest))
        out[c] = np.minimum(out[c], fastest[c] - 1e-9)
    return out


def _info(params: RunParams, pb: Problem, count: int, greedy, exact, best, curve, k_target) -> dict:
    # solver runtimes are logged, not stored: equal inputs must give equal files
    return {"tier": pb.tier.key, "count": count, "region": pb.region, "candidates": int(len(pb.candidates)),
            "weight": "elderly", "threshold_min": pb.tier.threshold_min, "mode": pb.tier.mode,
            "greedy": {"objective": greedy.objective},
            "exact": {"objective": exact.objective, "status": exact.status, "gap": exact.gap},
            "covered_before": best.covered_before, "covered_after": best.covered_after,
            "total_weight": best.total_weight, "curve": curve.to_dict("records"),
            "target_share": params.target_share, "min_sites_for_target": k_target}


def tightest_gap(greedy, exact):
    """The greedy solution with its optimality gap measured against the tightest bound known
    (the exact solver's when lower): 0 when greedy found the proven optimum, instead of the
    gap to greedy's own loose bound."""
    bounds = [b for b in (greedy.bound, exact.bound) if b is not None]
    if not bounds:
        return greedy
    bound = max(min(bounds), greedy.objective)
    gap = 0.0 if bound <= 0 else max(0.0, (bound - greedy.objective) / bound)
    return dataclasses.replace(greedy, bound=bound, gap=gap)


def solve_tier(params: RunParams, pb: Problem, count: int, county_geoms: dict, gap_member,
               time_s: np.ndarray, fields: dict, served: ServedInputs | None = None
               ) -> tuple[pd.DataFrame, dict, np.ndarray, TierState]:
    """Greedy and exact solutions of one tier, their table, curve and prepared state; with
    ``served`` also the served objective's (the planned scenario uses its sites when only the
    served objective is asked)."""
    c = pb.candidates
    args = {"matrix": pb.reach, "weights": pb.weights_elderly, "p": min(count, len(c)), "covered0": pb.covered0,
            "candidate_ids": list(c.ids), "candidate_xy": np.column_stack([c.x, c.y]), "groups": pb.groups,
            "max_per_group": pb.caps, "min_spacing_m": params.min_spacing_m,
            "forbidden": np.flatnonzero(~pb.cand_snap.ok).tolist()}
    model = MaximalCovering.from_reach_matrix(**args)
    greedy = model.solve(Greedy())
    exact = model.solve(Highs(time_limit=params.exact_time_limit_s))
    greedy = tightest_gap(greedy, exact)
    log(f"  greedy {greedy.runtime_s:.2f} s, exact ({exact.status}) {exact.runtime_s:.2f} s")
    plain = best = coloc.best(greedy, exact)
    # with --colocation-min the plan's sites meet the rule; the plan without it is its price
    ruled = coloc.solve_with_rule(params, pb.coloc, args) if pb.coloc is not None else None
    if ruled is not None:
        greedy, exact = ruled
        best = coloc.best(greedy, exact)
    county = cands.county_of(county_geoms, c.lon, c.lat)
    rows = site_rows(pb.tier.key, [greedy, exact], c, pb.groups, county, pb.weights_pop, gap_member)
    curve = coverage_curve(model, min(max(2 * count, 10), len(c)))
    k_target, _ = min_sites_for_target(model, params.target_share)
    info = _info(params, pb, count, greedy, exact, best, curve, k_target)
    if pb.coloc is not None:
        info["colocation"] = coloc.colocation_info(params, pb.coloc, pb.names, plain, best if ruled else None)
    chosen = best.chosen
    if served is not None:
        s_greedy, s_exact = solve_served(params, pb, count, served)
        s_rows = served_site_rows(pb.tier.key, [s_greedy, s_exact], c, pb.groups, county)
        rows = with_objective(rows if params.objective == "both" else None, s_rows)
        info["served"] = served_info(served, s_greedy, s_exact)
        chosen = best_of(s_greedy, s_exact).chosen if params.objective == "served" else chosen
        info["objective"] = params.objective
    if pb.coloc is not None:
        rows = coloc.with_colocation(rows, c.ids, pb.names, pb.coloc)
    # a candidate made from a public facility is named by it in the meeting ("★1 XX小学旁")
    extra = {} if pb.names is None else {"cand_name": np.asarray(pb.names, dtype=str)}
    chosen = np.asarray(chosen, np.int64)
    # the state keeps the pattern and the chosen rows' seconds (the file stores only the pattern),
    # so that the matrix's seconds (240 MB for the township drive) are freed with the problem;
    # a capacity rule's decay is worked out from every entry's seconds when the state is written
    seconds = "capacity_rule" in fields["fields"]
    state = TierState(pb.existing_reach, pb.reach if seconds else pattern_of(pb.reach), pb.weights_elderly,
                      pb.weights_pop, fields["existing_ok"], c.lon, c.lat, c.node, np.asarray(c.ids, dtype=str),
                      chosen, {**fields["fields"], **extra}, chosen_reach=None if seconds else pb.reach[chosen])
    return rows, info, time_after(time_s, pb.reach, chosen), state


def _state_fields(params: RunParams, bounds: Boundaries, net: StreetNetwork, travel: Travel, key: str,
                  demand: Demand, dem_snap: Snapped) -> dict:
    """The network and demand records a meeting needs to route new points."""
    tt = travel.tiers.get(key)
    fac = travel.facilities
    rows = tt.rows if tt is not None else np.zeros(0, np.int64)
    sources, _ = _existing(travel, params.tiers[key], net, len(demand))
    # the existing facilities' places and the tier's capacity rule: the what-if scores accessibility
    capacity = access_whatif.state_capacity_fields(params.capacity.get(key), decay_of(params, params.tiers[key].threshold_min),
                                                   fac["capacity"].to_numpy(float)[rows] if "capacity" in fac else np.full(len(rows), np.nan))
    return {"existing_ok": sources.ok,
            "fields": {**state_fields(net, sources, demand.points, dem_snap, params.tiers[key].threshold_min * 60,
                                      fids=fac["fid"].to_numpy()[rows], names=fac["name"].to_numpy()[rows],
                                      clip=bounds.clip, network_file=params.network), **capacity}}


@dataclass(frozen=True)
class Problems:
    """The siting problem of every planned tier, with its what-if state records (cacheable:
    it depends on which tiers are planned, not on how many sites)."""

    problems: Mapping[str, Problem] = field(default_factory=dict)
    state_fields: Mapping[str, dict] = field(default_factory=dict)


def problems(params: RunParams, nets: Mapping[str, StreetNetwork], bounds: Boundaries, demand: Demand,
             travel: Travel) -> Problems:
    """Candidates and reach matrices of every tier with a planned count.

    Parameters
    ----------
    params
        Planned tiers, regions, candidate options.
    nets
        Networks by mode.
    bounds
        Counties (planned regions) and units (one per unit).
    demand
        Demand points.
    travel
        Existing facilities' times.
    """
    pbs, fields_ = {}, {}
    planned = [k for k, n in params.suggest.items() if n > 0]
    feats = None
    if params.colocation_kinds and planned:
        from carecover.inputs.osm_public import read_public_facilities

        feats = read_public_facilities(params.network, params.colocation_kinds)
        log(f"公共设施 / public facilities ({', '.join(params.colocation_kinds)}): {len(feats)}")
    for key in planned:
        tier = params.tiers[key]
        net, dem_snap = nets[params.site_net_of(key)], travel.demand_snaps[params.site_net_of(key)]
        log(f"候选站点 / candidates for {tier.name_zh} …")
        with timing.step(f"siting problem {key}"):
            pbs[key] = problem(params, key, net, demand, dem_snap, travel, bounds, feats)
        fields_[key] = _state_fields(params, bounds, net, travel, key, demand, dem_snap)
    return Problems(pbs, fields_)


def suggest(params: RunParams, pbs: Problems, bounds: Boundaries, demand: Demand, travel: Travel,
            gaps: Gaps, figures: Figures) -> Siting:
    """Suggested sites for every tier with a planned count.

    Parameters
    ----------
    params
        Planned counts and solver options.
    pbs
        The siting problems (:func:`problems`).
    bounds
        Counties (the county of each site).
    demand
        Demand points.
    travel
        Existing facilities' times.
    gaps
        Gap zones (which gap each site closes).
    figures
        Reporting areas and the data record of the planned-scenario figures.
    """
    frames, info, curves, figs, states, afters = [], {}, [], [], {}, {}
    for key, pb in pbs.problems.items():
        count, tier = _placeable(params.suggest[key], pb), pb.tier
        log(f"选址 / siting {count} × {tier.name_zh} …")
        time_s = travel.tiers[key].time_s if key in travel.tiers else np.full(len(demand), np.inf)
        served = served_inputs(params, key, travel, demand)
        with timing.step(f"siting solve {key}"):
            rows, info[key], after, states[key] = solve_tier(params, pb, count, bounds.county_geoms(),
                                                             gaps.members.get(key), time_s,
                                                             pbs.state_fields[key], served)
        info[key] = {**info[key], "asked": params.suggest[key], "placed": count}
        frames.append(rows)
        afters[key] = after
        curves.append(pd.DataFrame(info[key]["curve"]).assign(tier=key))
        figs += cf.population_figures(demand.points, after, tiers=[key], threshold_min=tier.threshold_min,
                                      speed_mps=params.speed_of(tier), mode=tier.mode, areas=figures.areas,
                                      data={**figures.data, "sites": "served_exact" if params.objective == "served" else "exact"}, scenario="planned",
                                      bands_min=params.bands_min)
    if not frames:
        return Siting()
    sites = pd.concat(frames, ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs=4326)
    curve = pd.concat(curves, ignore_index=True)
    return Siting(sites, info, curve[["tier", *[c for c in curve.columns if c != "tier"]]], figs, states, afters)


def _placeable(asked: int, pb: Problem) -> int:
    """The number of sites that can be placed: the asked count, or all candidates when fewer
    (said as a warning; the summary states both counts)."""
    n = int(pb.reach.shape[0])
    if asked > n:
        notices.warn("suggest_exceeds_candidates",
                     f"「{pb.tier.name_zh}」要求 {asked} 个新站点，但只有 {n} 个候选点，按 {n} 个计算 / "
                     f"{asked} new sites asked for '{pb.tier.name_en}' but only {n} candidates: placing {n}",
                     field=f"--suggest {pb.tier.key}", value=asked)
    return min(asked, n)


def write_curve(curve: pd.DataFrame, path: Path) -> None:
    """``site_curve.csv`` (UTF-8 with BOM for Excel)."""
    from carecover.utils import atomic_write

    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        curve.to_csv(fh, index=False)
