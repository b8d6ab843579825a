"""Coverage figures: who reaches which tier within its threshold, stated with their parameters.

Every figure is a plain dict (the shape :func:`carecover.analysis.claims.evaluate_claims` matches on):
``kind`` (population | all_of | administrative | circle_gap), ``tiers``, ``population``
(elderly | total), ``area`` (all | urban | rural | a county), ``threshold_min``, ``speed_mps``,
``mode``, ``scenario``, ``value`` (share 0..1), ``covered``, ``total``, ``data``, plus travel-time
statistics for population figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from carecover.inputs.facilities import USABLE
from carecover.network.covered import covered
from carecover.tiers import Tier

POPULATIONS = ("elderly", "total")


def _weights(demand: pd.DataFrame, population: str) -> np.ndarray:
    col = "elderly" if population == "elderly" else "pop"
    w = demand[col].to_numpy(float)
    return np.where(np.isfinite(w), w, 0.0)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted quantile (inverted CDF) of ``values``; ``nan`` when there is no weight."""
    ok = (weights > 0) & ~np.isnan(values)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    i = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(v[min(i, len(v) - 1)])


def time_stats(time_s: np.ndarray, weights: np.ndarray, bands_min=(5, 10, 15)) -> dict:
    """Median and p90 travel time (minutes; ``inf`` when beyond the search) and shares within bands."""
    total = weights.sum()
    out = {"median_min": weighted_quantile(time_s, weights, 0.5) / 60,
           "p90_min": weighted_quantile(time_s, weights, 0.9) / 60}
    for b in bands_min:
        out[f"share_within_{int(b) if float(b).is_integer() else b}min"] = (
            float(weights[time_s <= b * 60].sum() / total) if total > 0 else float("nan"))
    return out


def _sorted_time_stats(time_s: np.ndarray, weights: np.ndarray, mask: np.ndarray, order: np.ndarray,
                       bands_min) -> dict:
    """:func:`time_stats` of ``time_s[mask]``, ``weights[mask]``, given ``order``, the stable
    argsort of all of ``time_s``: a subset of a stable order is the subset's stable order, so
    the quantiles are those of sorting the subset again (the same values, the same sums)."""
    sub_t, sub_w = time_s[mask], weights[mask]
    keep = mask & (weights > 0) & ~np.isnan(time_s)
    sel = order[keep[order]]
    out = {}
    if sel.size:
        v, cum = time_s[sel], np.cumsum(weights[sel])
        for key, q in (("median_min", 0.5), ("p90_min", 0.9)):
            i = int(np.searchsorted(cum, q * cum[-1], side="left"))
            out[key] = float(v[min(i, len(v) - 1)]) / 60
    else:
        out = {"median_min": float("nan"), "p90_min": float("nan")}
    total = sub_w.sum()
    for b in bands_min:
        out[f"share_within_{int(b) if float(b).is_integer() else b}min"] = (
            float(sub_w[sub_t <= b * 60].sum() / total) if total > 0 else float("nan"))
    return out


def area_masks(demand: pd.DataFrame, county_kinds: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
    """Boolean masks per reporting area: ``all``, ``urban``/``rural`` (mixed counts in both), counties."""
    n = len(demand)
    masks = {"all": np.ones(n, bool)}
    county = demand["county"].fillna("").astype(str).to_numpy() if "county" in demand else np.full(n, "")
    if county_kinds:
        kinds = pd.Series(county).map(county_kinds).fillna("").to_numpy()
        masks["urban"] = np.isin(kinds, ["urban", "mixed"])
        masks["rural"] = np.isin(kinds, ["rural", "mixed"])
    for name in sorted(set(county) - {""}):
        masks[name] = county == name
    return masks


def population_figures(demand: pd.DataFrame, time_s: np.ndarray, *, tiers: list[str],
                       threshold_min: float, speed_mps: float | None, mode: str,
                       areas: Mapping[str, np.ndarray], data: dict, scenario: str = "current",
                       kind: str = "population", bands_min=(5, 10, 15)) -> list[dict]:
    """Population within ``threshold_min`` (``time_s`` is the time to the nearest facility of
    ``tiers``; for ``all_of``, the slowest of the tiers' times, each scaled to its threshold)."""
    within = covered(time_s, threshold_min)
    order = np.argsort(time_s, kind="stable") if kind == "population" else None
    out = []
    for population in POPULATIONS:
        w = _weights(demand, population)
        for area, m in areas.items():
            tot = float(w[m].sum())
            cov = float(w[m & within].sum())
            fig = {"kind": kind, "tiers": list(tiers), "population": population, "area": area,
                   "threshold_min": float(threshold_min), "speed_mps": speed_mps, "mode": mode,
                   "scenario": scenario, "value": cov / tot if tot > 0 else float("nan"),
                   "covered": cov, "total": tot, "data": data}
            if kind == "population":
                fig.update(_sorted_time_stats(time_s, w, m, order, bands_min))
            out.append(fig)
    return out


def unit_masks(demand: gpd.GeoDataFrame, units: Mapping[str, gpd.GeoDataFrame]) -> dict[str, np.ndarray]:
    """Masks ``"<unit kind>:<name>"`` per street/township unit (a point in two overlapping units
    counts in the first only)."""
    masks = {}
    lon, lat = demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()
    for kind, frame in sorted(units.items()):
        free = np.ones(len(demand), bool)
        for name, geom in zip(frame["name"].astype(str), frame.geometry, strict=True):
            m = shapely.contains_xy(geom, lon, lat) & free
            free &= ~m
            masks[f"{kind}:{name}"] = m
    return masks


def sensitivity_figures(demand: pd.DataFrame, time_s: np.ndarray, *, tier: str, threshold_min: float,
                        speed_mps: float, speeds_mps, all_mask: np.ndarray, data: dict,
                        bands_min=(5, 10, 15)) -> tuple[list[dict], dict]:
    """Figures at the other walking speeds (exact rescaling of the times) and the elderly
    coverage at each speed (the sensitivity band).

    Walking times are distance / speed on every segment, so the time at speed ``v`` is
    ``time_s × speed_mps / v`` exactly.
    """
    figs, band = [], {}
    w = _weights(demand, "elderly")
    for v in sorted(set(speeds_mps) | {speed_mps}):
        t_v = time_s * (speed_mps / v)
        if v != speed_mps:
            figs += population_figures(demand, t_v, tiers=[tier], threshold_min=threshold_min, speed_mps=v,
                                       mode="walk", areas={"all": all_mask}, data=data, bands_min=bands_min)
        band[str(v)] = float(w[covered(t_v, threshold_min)].sum() / w.sum()) if w.sum() > 0 else None
    info = {"population": "elderly", "threshold_min": threshold_min, "by_speed_mps": band,
            "method": "exact rescaling: walking times are distance / speed on every segment"}
    return figs, info


def circle_figures(parts: dict, demand: pd.DataFrame, *, tier: str, threshold_min: float,
                   speed_mps: float, radius_m: float, data: dict,
                   radius_source: str = "config") -> list[dict]:
    """Straight-line circle figures (elderly and total) from :func:`circle_gap`'s parts; each
    states its radius and where the radius came from (``radius_source``)."""
    out = []
    for population, key in (("elderly", "elderly"), ("total", "pop")):
        tot = float(_weights(demand, population).sum())
        inside = parts[f"{key}_in_circles"]
        out.append({"kind": "circle", "tiers": [tier], "population": population, "area": "all",
                    "threshold_min": threshold_min, "speed_mps": speed_mps, "mode": "straight line",
                    "scenario": "current", "value": inside / tot if tot else float("nan"),
                    "covered": inside, "total": tot, "radius_m": radius_m,
                    "radius_source": radius_source, "data": data,
                    "not_reached_by_network": parts[f"{key}_in_circles_not_reached"]})
    return out


def all_of_tiers(tiers: Iterable[Tier]) -> list[str]:
    """The tiers the "all of" figure combines: every walk tier among the community-level
    services (level ≥ 3), each within its own threshold — when there are at
    least two; else none.

    Parameters
    ----------
    tiers
        The run's tiers, in their order.

    Returns
    -------
    list of str
        Their keys, or ``[]``.
    """
    keys = [t.key for t in tiers if t.mode == "walk" and t.level >= 3]
    return keys if len(keys) >= 2 else []


def all_of_figures(demand: pd.DataFrame, covered: Mapping[str, np.ndarray], thresholds: Mapping[str, float], *,
                   speed_mps: float, areas: Mapping[str, np.ndarray], data: dict) -> list[dict]:
    """Share of residents who reach *every* one of ``covered``'s tiers, each within its own
    threshold (``thresholds_min``); ``threshold_min`` is one number only when they agree."""
    keys = list(covered)
    allcov = np.all([covered[k] for k in keys], axis=0)
    common = thresholds[keys[0]] if len(set(thresholds.values())) == 1 else None
    # times are 0 (all reached) or inf: any threshold separates them
    figs = population_figures(demand, np.where(allcov, 0.0, np.inf), tiers=keys,
                              threshold_min=max(thresholds.values()), speed_mps=speed_mps, mode="walk",
                              areas=areas, data=data, kind="all_of")
    for f in figs:
        f["threshold_min"] = common
        f["thresholds_min"] = dict(thresholds)
    return figs


def circle_gap(demand: gpd.GeoDataFrame, facilities_xy: np.ndarray, demand_xy: np.ndarray,
               time_s: np.ndarray, *, radius_m: float, threshold_min: float) -> tuple[np.ndarray, dict]:
    """Demand inside straight-line circles around facilities that cannot reach one on the network.

    Returns
    -------
    (mask, figure parts)
        ``mask`` flags such demand points; the dict holds population and elderly inside circles
        and inside-but-unreachable.
    """
    n = len(demand_xy)
    if len(facilities_xy) == 0 or n == 0:
        inside = np.zeros(n, bool)
    else:
        d, _ = cKDTree(facilities_xy).query(demand_xy, k=1, distance_upper_bound=radius_m)
        inside = np.isfinite(d)
    unreachable = inside & ~covered(time_s, threshold_min)
    pop, eld = _weights(demand, "total"), _weights(demand, "elderly")
    parts = {"radius_m": radius_m, "pop_in_circles": float(pop[inside].sum()),
             "elderly_in_circles": float(eld[inside].sum()),
             "pop_in_circles_not_reached": float(pop[unreachable].sum()),
             "elderly_in_circles_not_reached": float(eld[unreachable].sum())}
    parts["share_elderly_in_circles_not_reached"] = (
        parts["elderly_in_circles_not_reached"] / parts["elderly_in_circles"]
        if parts["elderly_in_circles"] > 0 else float("nan"))
    return unreachable, parts


def administrative_from_boundaries(facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, *,
                                   tier: str, unit: str, name_col: str = "name",
                                   data: dict | None = None) -> dict:
    """Share of units (streets, townships...) containing at least one usable facility of ``tier``."""
    used = facilities[(facilities["tier"] == tier) & facilities["status"].isin(USABLE)]
    units = units.to_crs(4326)
    if len(used):
        hit = gpd.sjoin(units[[name_col, "geometry"]], used[["geometry"]].to_crs(4326),
                        how="inner", predicate="contains")
        with_centre = int(hit.index.nunique())
    else:
        with_centre = 0
    total = int(len(units))
    return {"kind": "administrative", "tiers": [tier], "unit": unit, "area": "all",
            "population": None, "threshold_min": None, "speed_mps": None, "mode": None,
            "scenario": "current", "covered": with_centre, "total": total,
            "value": with_centre / total if total else float("nan"),
            "data": data or {"units": "boundaries"}}


def figures_table(figures: list[dict]) -> pd.DataFrame:
    """Figures as a flat table (for coverage.csv), one row per figure, deterministic order."""
    rows = []
    for f in figures:
        r = {k: v for k, v in f.items() if k != "data"}
        r["tiers"] = "+".join(f.get("tiers") or [])
        r["data"] = "; ".join(f"{k}={v}" for k, v in sorted((f.get("data") or {}).items()))
        rows.append(r)
    df = pd.DataFrame(rows)
    lead = ["kind", "scenario", "tiers", "population", "area", "threshold_min", "speed_mps", "mode",
            "value", "covered", "total"]
    cols = [c for c in lead if c in df.columns] + sorted(c for c in df.columns if c not in lead)
    return df[cols] if len(df) else df
