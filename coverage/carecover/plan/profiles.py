"""Stage — mobility profiles: each walk tier's coverage per profile, side by side.

For every profile of ``--profiles`` (:mod:`carecover.mobility`) the walk network is adapted
(:func:`carecover.network.mobility_net.apply_profile`), reversed (times are measured from the
resident to the facility, the trip an older person makes) and every walk tier routed again with
the same engine. The figures go into ``summary.json`` under ``"profiles"``; without
``--profiles`` nothing is computed and the outputs are unchanged.

A walk tier may also be *measured* with a profile (config ``[tiers.<key>] profile``) and a
planned tier *sited* for one (``--site-profile``, ``[planned.<key>] profile``): their networks are
built here too and join the run's networks under the profile's key
(:attr:`carecover.mobility.MobilityProfile.key`, :meth:`carecover.params.RunParams.net_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from carecover import timing
from carecover.inputs.demand import Demand
from carecover.mobility import MobilityProfile
from carecover.network import StreetNetwork
from carecover.network.covered import covered
from carecover.network.mobility import reverse
from carecover.network.mobility_net import apply_profile
from carecover.network.profiles import MOBILITY_TAGS
from carecover.network.snap import snap_points
from carecover.params import RunParams
from carecover.plan.travel import TierTravel, Travel, route_tier

DIRECTION = "resident → facility / 从居民到设施"


@dataclass(frozen=True)
class ProfileNetwork:
    """One profile's reverse graph and what building it excluded/sampled."""

    profile: MobilityProfile
    net: StreetNetwork
    info: dict


def wanted(params: RunParams) -> tuple[MobilityProfile, ...]:
    """Every profile whose network the run needs: ``--profiles``, then the tiers' and the
    sitings' profiles (one per network; today's walk needs none of its own)."""
    out: list[MobilityProfile] = list(params.profiles)
    for prof in (*params.tier_profiles.values(), *params.site_profiles.values()):
        if prof.key != "walk" and prof.key not in {p.key for p in out}:
            out.append(prof)
    return tuple(out)


def prepare(params: RunParams, walk: StreetNetwork) -> tuple[ProfileNetwork, ...]:
    """Every profile's reverse graph (:func:`wanted`), built right after the walk network so
    that a DEM that does not cover it is refused before the run's routing.

    Parameters
    ----------
    params
        ``profiles``, ``tier_profiles``, ``site_profiles`` and ``dem``.
    walk
        The walk network.

    Returns
    -------
    tuple of ProfileNetwork
        Empty without profiles. Each network's ``profile`` names the mobility profile (its
        ``mobility`` key), so the stage cache tells the networks apart.
    """
    out = []
    for prof in wanted(params):
        with timing.step(f"profile network {prof.name} ({prof.tags})"):
            net, info = apply_profile(walk, prof, params.dem)
            net = replace(reverse(net), profile={**walk.profile, "mobility": prof.key})
            out.append(ProfileNetwork(prof, net, info))
    return tuple(out)


def with_networks(params: RunParams, nets: Mapping[str, StreetNetwork],
                  prof_nets: tuple[ProfileNetwork, ...]) -> dict[str, StreetNetwork]:
    """The run's networks by mode, and the networks the tiers are measured and sited on by
    their profile's key.

    Parameters
    ----------
    params
        ``tier_profiles`` and ``site_profiles``.
    nets
        Networks by mode.
    prof_nets
        From :func:`prepare`.

    Returns
    -------
    dict
        ``nets`` with ``walk:<profile>`` keys added (only those a tier or a siting uses).
    """
    used = {p.key for p in (*params.tier_profiles.values(), *params.site_profiles.values())}
    return {**nets, **{pn.profile.key: pn.net for pn in prof_nets if pn.profile.key in used}}


def site_differs(params: RunParams) -> bool:
    """Whether a planned tier is sited on another network than it is measured on."""
    return any(params.site_net_of(k) != params.net_of(k) for k in params.site_profiles)


def siting_travel(params: RunParams, nets: Mapping[str, StreetNetwork], demand: Demand, trav: Travel) -> Travel:
    """The travel the siting reads: each tier sited for another profile than its own routed
    again on that profile's network (existing facilities snapped to it, resident → facility).

    Parameters
    ----------
    params
        ``site_profiles``.
    nets
        The run's networks (:func:`with_networks`).
    demand
        Demand points.
    trav
        The run's travel.

    Returns
    -------
    Travel
        ``trav`` with those tiers replaced; demand snapped to every network.
    """
    tiers: dict[str, TierTravel] = dict(trav.tiers)
    for key in params.site_profiles:
        net_key = params.site_net_of(key)
        if key in tiers and net_key != params.net_of(key):
            tt = tiers[key]
            with timing.step(f"routing {key} for siting ({net_key})"):
                tiers[key] = route_tier(params, tt.tier, nets[net_key], trav.facilities, tt.rows,
                                        trav.demand_snaps[net_key])
    return replace(trav, tiers=tiers)


def tag_figures(params: RunParams, items: list[dict]) -> list[dict]:
    """Every figure of a tier measured with a profile names it (``profile``, ``tags`` for
    step-free, ``profile_of = "tier"``); figures of today's walk are unchanged. (A tier sited for
    another profile has its planned figures measured the tier's own way: :func:`remeasure_planned`.)

    Parameters
    ----------
    params
        ``tier_profiles``.
    items
        Figure dicts (changed in place and returned).

    Returns
    -------
    list of dict
    """
    by = dict(params.tier_profiles)
    for f in items:
        profs = [by[t] for t in f.get("tiers") or () if t in by]
        if not profs or "profile" in f:
            continue
        names = sorted({p.name for p in profs})
        f["profile"] = names[0] if len(names) == 1 else "+".join(names)
        if any(p.step_free for p in profs):
            f["tags"] = next(p.tags for p in profs if p.step_free)
        f["profile_of"] = "tier"
    return items


def compute(params: RunParams, nets: tuple[ProfileNetwork, ...], walk: StreetNetwork, demand: Demand,
            trav: Travel) -> dict | None:
    """Coverage of every walk tier under every profile.

    Parameters
    ----------
    params
        ``profiles`` and ``dem``.
    nets
        From :func:`prepare`.
    walk
        The walk network (which tags it carries).
    demand
        Demand points.
    trav
        The run's travel (which facilities each tier has).

    Returns
    -------
    dict or None
        ``{"direction", "dem", "tags_present", "profiles": [...], "figures": [...]}``; ``None``
        without profiles. Each figure names its ``profile``, ``tier``, the covered elderly and
        population and their shares.
    """
    if not params.profiles:
        return None
    pop = demand.points["pop"].to_numpy(float)
    eld = demand.points["elderly"].fillna(0).to_numpy(float)
    figures, described, masks = [], [], {}
    shown = map_tier(params, trav)
    for pn in [n for n in nets if n.profile in params.profiles]:
        prof, rnet = pn.profile, pn.net
        snaps = snap_points(rnet, demand.points, params.max_snap_m)
        described.append({**prof.to_dict(), "tags": prof.tags, "network": pn.info})
        for key, tt in trav.tiers.items():
            if tt.tier.mode != "walk":
                continue
            with timing.step(f"routing {key} for {prof.name}"):
                got = route_tier(params, tt.tier, rnet, trav.facilities, tt.rows, snaps)
            cov = covered(got.time_s, tt.tier.threshold_min)
            if key == shown:  # the map's layer per profile (demand columns, not the summary)
                masks[covered_column(key, prof)] = cov
            figures.append(_figure(prof.name, prof.tags if prof.step_free else None, key,
                                   tt.tier.threshold_min, cov, pop, eld))
    return {"direction": DIRECTION, "dem": str(params.dem) if params.dem else None,
            "tags_present": tags_present(walk), "profiles": described, "figures": figures,
            "covered": masks}


def map_tier(params: RunParams, trav: Travel) -> str | None:
    """The walk tier the map draws a layer per profile for: the first planned walk tier, else
    the street-level centres, else the first walk tier with facilities (``None``: none)."""
    walk = [k for k, tt in trav.tiers.items() if tt.tier.mode == "walk"]
    for key in [*[k for k in walk if params.suggest.get(k, 0) > 0], *[k for k in walk if k == "street_centre"], *walk]:
        return key
    return None


def covered_column(tier: str, prof: MobilityProfile) -> str:
    """The demand column (0/1) of who the profile's walkers reach from ``tier``'s facilities:
    ``profile_covered__<tier>__<profile>`` (``__<tags>`` for step-free)."""
    name = prof.name.replace("+", "_and_") + (f"__{prof.tags}" if prof.step_free else "")
    return f"profile_covered__{tier}__{name}"


def add_to_bundle(bundle, result: dict | None, after: Mapping[str, np.ndarray] | None = None) -> None:
    """Put a profiles result into the outputs: ``summary["profiles"]``, and the map tier's
    covered masks as demand columns (the map draws a layer per profile from them).

    Parameters
    ----------
    bundle
        The :class:`~carecover.outputs.bundle.PlanBundle` (changed).
    result
        From :func:`compute` (``None``: nothing is added).
    after
        From :func:`remeasure_planned`: the "after the plan" demand columns of tiers sited for
        another profile, replacing those measured on the siting's network.
    """
    for col, values in (after or {}).items():
        bundle.demand[col] = values
    if result is None:
        return
    masks = result.pop("covered", {})
    bundle.summary["profiles"] = result
    for col, mask in masks.items():
        bundle.demand[col] = np.asarray(mask, bool)


def claim_figures(params: RunParams, result: dict | None) -> list[dict]:
    """The profile figures as the claims check reads figures (``kind = "population"``, each
    naming its ``profile`` and ``tags``), for claims that name a profile.

    Parameters
    ----------
    params
        The run's walking speed (what the figures are stated at).
    result
        From :func:`compute` (``None``: no profiles).

    Returns
    -------
    list of dict
        Two per profile figure: the elderly and the total population.
    """
    out = []
    for f in (result or {}).get("figures", []):
        for pop, key in (("elderly", "elderly"), ("total", "pop")):
            out.append({"kind": "population", "tiers": [f["tier"]], "population": pop, "area": "all",
                        "scenario": "current", "threshold_min": f["threshold_min"],
                        "speed_mps": params.walk_speed_mps, "mode": "walk",
                        "value": f[f"covered_{key}_share"], "covered": f[f"covered_{key}"],
                        "total": f[key], "data": {}, "profile": f["profile"], "tags": f["tags"]})
    return out


def tags_present(walk: StreetNetwork) -> dict:
    """How many walk segments carry each step-free tag (and how many are steps): how far the
    step-free range rests on tags rather than on the optimistic/pessimistic assumption."""
    tags = walk.seg_tags or {}
    out = {"segments": int(walk.n_segments), "steps": int((walk.seg_highway == "steps").sum())}
    out.update({k: int((tags[k] != "").sum()) if k in tags else 0 for k in MOBILITY_TAGS})
    return out


def _figure(name: str, tags: str | None, tier: str, thr: float, cov: np.ndarray, pop: np.ndarray,
            eld: np.ndarray) -> dict:
    """One profile figure."""
    def share(w: np.ndarray) -> float | None:
        total = float(w.sum())
        return round(float(w[cov].sum()) / total, 4) if total > 0 else None

    return {"profile": name, "tags": tags, "tier": tier, "threshold_min": thr,
            "direction": "resident → facility",
            "covered_elderly": round(float(eld[cov].sum()), 1), "elderly": round(float(eld.sum()), 1),
            "covered_elderly_share": share(eld),
            "covered_pop": round(float(pop[cov].sum()), 1), "pop": round(float(pop.sum()), 1),
            "covered_pop_share": share(pop)}


def siting_profiles(params: RunParams) -> dict[str, MobilityProfile]:
    """Planned tier → the profile its sites are chosen for (only tiers not sited for today's walk)."""
    out = {k: p for k, p in params.tier_profiles.items() if k in params.suggest}
    out.update(params.site_profiles)
    return {k: p for k, p in out.items() if p.name != "elderly"}


def mark_sites(params: RunParams, siting):
    """The sites and the siting record of each tier sited for a profile name it: a ``profile``
    column in the sites table (``elderly`` for the others) and ``profile`` in its summary record.

    Parameters
    ----------
    params
        ``tier_profiles`` and ``site_profiles``.
    siting
        The :class:`~carecover.plan.siting.Siting` (its table and records are changed).

    Returns
    -------
    Siting
        The same object; unchanged when no tier is sited for a profile.
    """
    by = siting_profiles(params)
    if not by or siting.sites is None:
        return siting
    siting.sites["profile"] = [by[t].short if t in by else "elderly" for t in siting.sites["tier"]]
    for key, info in siting.info.items():
        if key in by:
            info["profile"] = {"name": by[key].name, "tags": by[key].tags if by[key].step_free else None,
                               "label": by[key].label, "direction": "resident → facility"}
    return siting


def remeasure_planned(params: RunParams, nets: Mapping[str, StreetNetwork], demand: Demand, trav: Travel,
                      siting, areas: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The planned scenario of a tier sited for another profile than its own, measured the
    tier's own way: the chosen sites routed on the tier's network beside its facilities, so
    that "now" and "after the sites" compare like with like (the siting's own gain, measured
    with its profile, stays in ``summary["sites"][tier]``).

    Parameters
    ----------
    params
        ``site_profiles`` and the tiers' networks.
    nets
        The run's networks (:func:`with_networks`).
    demand
        Demand points.
    trav
        The run's travel (the tier's own measure).
    siting
        The :class:`~carecover.plan.siting.Siting`: its planned figures and times of those
        tiers are replaced.
    areas
        Reporting areas of the figures.

    Returns
    -------
    dict
        The demand columns ``after_site__<tier>`` and ``covered_after__<tier>`` of those tiers,
        measured the same way (:func:`add_to_bundle` puts them in).
    """
    import geopandas as gpd

    from carecover.analysis import figures as cf
    from carecover.network import engine

    columns: dict[str, np.ndarray] = {}
    for key in [k for k in params.site_profiles if k in siting.states and params.site_net_of(k) != params.net_of(k)]:
        tier, st, net_key = params.tiers[key], siting.states[key], params.net_of(key)
        chosen = np.asarray(st.chosen, int)
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(st.cand_lon[chosen], st.cand_lat[chosen]), crs=4326)
        src = snap_points(nets[net_key], pts, params.max_snap_m)
        nt = engine.nearest(nets[net_key], src, tier.threshold_min * 60 * params.search_factor(tier) * 1.0001)
        t, by = engine.point_times(nets[net_key], nt, trav.demand_snaps[net_key], src)
        now = trav.tiers[key].time_s if key in trav.tiers else np.full(len(demand), np.inf)
        after = np.minimum(now, t)
        serves = covered(t, tier.threshold_min) & (t - 1e-9 < now) & (by >= 0)
        site = np.full(len(demand), "", dtype=object)
        site[serves] = np.asarray(st.cand_id, dtype=object)[chosen[by[serves]]]
        columns[f"after_site__{key}"] = site
        columns[f"covered_after__{key}"] = covered(after, tier.threshold_min)
        old = [f for f in siting.figures if f.get("tiers") == [key] and f.get("scenario") == "planned"]
        data = {**(old[0]["data"] if old else {}), "sited_for": params.site_profiles[key].short}
        siting.figures[:] = [f for f in siting.figures if not any(f is o for o in old)] + cf.population_figures(
            demand.points, after, tiers=[key], threshold_min=tier.threshold_min, speed_mps=params.speed_of(tier),
            mode=tier.mode, areas=areas, data=data, scenario="planned", bands_min=params.bands_min)
        siting.after_time_s[key] = after
    return columns
