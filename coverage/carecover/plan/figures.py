"""Stage 6 — figures: population coverage by tier and area, sensitivity, straight-line
circles, "all of" coverage and administrative coverage, each stating its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from carecover.analysis import figures as cf
from carecover.inputs.demand import Demand
from carecover.network import StreetNetwork
from carecover.params import RunParams
from carecover.plan.area import Boundaries
from carecover.plan.travel import TierTravel, Travel
from carecover.tiers import tier_for_unit


@dataclass(frozen=True)
class Figures:
    """Coverage figures of the current network.

    Attributes
    ----------
    items
        Figure dicts (the contract :func:`carecover.analysis.claims.evaluate_claims` matches).
    sensitivity
        Per walk tier: elderly coverage at each walking speed.
    circle_masks
        Per walk tier: demand inside a straight-line circle but not reached on the network.
    areas
        Reporting areas (``all``, ``urban``, ``rural``, counties, units) as demand masks.
    data
        What every figure says about its inputs (network, population, registers, sample).
    """

    items: list[dict]
    sensitivity: Mapping[str, dict] = field(default_factory=dict)
    circle_masks: Mapping[str, np.ndarray] = field(default_factory=dict)
    areas: Mapping[str, np.ndarray] = field(default_factory=dict)
    data: Mapping[str, str] = field(default_factory=dict)


def data_record(params: RunParams, demand: Demand) -> dict[str, str]:
    """The inputs every figure names."""
    data = {"network": Path(params.network).name, "population": demand.source.get("method", ""),
            "population_file": Path(params.population).name if params.population else "OSM buildings",
            "facilities": ", ".join(Path(p).name for p in params.facilities)}
    if params.sample_note:
        data["sample"] = params.sample_note
    return data


def reporting_areas(params: RunParams, demand: Demand, bounds: Boundaries) -> dict[str, np.ndarray]:
    """Masks of every reporting area: all, urban/rural, each county, each given unit."""
    areas = cf.area_masks(demand.points, params.county_kinds)
    areas.update(cf.unit_masks(demand.points, bounds.units))
    return areas


def walk_tier_figures(params: RunParams, walk: StreetNetwork, tt: TierTravel, demand: Demand,
                      areas: Mapping[str, np.ndarray], data: dict) -> tuple[list[dict], dict, np.ndarray]:
    """Sensitivity figures, the speed band and straight-line circle figures of a walk tier."""
    key, thr = tt.tier.key, tt.tier.threshold_min
    figs, band = cf.sensitivity_figures(demand.points, tt.time_s, tier=key, threshold_min=thr,
                                        speed_mps=params.walk_speed_mps, speeds_mps=params.sensitivity_speeds_mps,
                                        all_mask=areas["all"], data=data, bands_min=params.bands_min)
    ok = tt.sources.ok
    fxy = np.column_stack([tt.sources.x[ok], tt.sources.y[ok]])
    pts = demand.points.geometry
    dxy = np.column_stack(walk.project_lonlat(pts.x.to_numpy(), pts.y.to_numpy()))
    radius, source = params.circle_radius_of(tt.tier)
    mask, parts = cf.circle_gap(demand.points, fxy, dxy, tt.time_s, radius_m=radius, threshold_min=thr)
    figs += cf.circle_figures(parts, demand.points, tier=key, threshold_min=thr, speed_mps=params.walk_speed_mps,
                              radius_m=radius, radius_source=source, data=data)
    return figs, band, mask


def administrative(params: RunParams, travel: Travel, bounds: Boundaries) -> list[dict]:
    """Administrative coverage: from the config's unit counts and from unit boundaries."""
    figs = params.config.admin_figures() if params.config is not None else []
    for kind, path in params.units:
        figs.append(cf.administrative_from_boundaries(travel.facilities, bounds.units[kind],
                                                      tier=tier_for_unit(kind) or kind, unit=kind,
                                                      data={"units": Path(path).name}))
    return figs


def compute(params: RunParams, walk: StreetNetwork, bounds: Boundaries, demand: Demand,
            travel: Travel) -> Figures:
    """Every coverage figure of the current facilities.

    Parameters
    ----------
    params
        Thresholds, speeds, bands, circle radius, config.
    walk
        The walking network (its projection measures straight-line circles).
    bounds
        Counties and units for the reporting areas.
    demand
        Demand points.
    travel
        Travel times per tier.
    """
    areas, data = reporting_areas(params, demand, bounds), data_record(params, demand)
    items, sensitivity, circles = [], {}, {}
    for key, tt in travel.tiers.items():
        items += cf.population_figures(demand.points, tt.time_s, tiers=[key], threshold_min=tt.tier.threshold_min,
                                       speed_mps=params.speed_of(tt.tier), mode=tt.tier.mode, areas=areas,
                                       data=data, bands_min=params.bands_min)
        if tt.tier.mode == "walk":
            figs, sensitivity[key], circles[key] = walk_tier_figures(params, walk, tt, demand, areas, data)
            items += figs
    walk_keys = cf.all_of_tiers(tt.tier for tt in travel.tiers.values())
    if walk_keys:
        items += cf.all_of_figures(demand.points, {k: travel.tiers[k].covered for k in walk_keys},
                                   {k: travel.tiers[k].tier.threshold_min for k in walk_keys},
                                   speed_mps=params.walk_speed_mps, areas=areas, data=data)
    items += administrative(params, travel, bounds)
    return Figures(items, sensitivity, circles, areas, data)
