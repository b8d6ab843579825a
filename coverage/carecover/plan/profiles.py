"""Stage — mobility profiles: each walk tier's coverage per profile, side by side.

For every profile of ``--profiles`` (:mod:`carecover.mobility`) the walk network is adapted
(:func:`carecover.network.mobility_net.apply_profile`), reversed (times are measured from the
resident to the facility, the trip an older person makes) and every walk tier routed again with
the same engine. The figures go into ``summary.json`` under ``"profiles"``; without
``--profiles`` nothing is computed and the outputs are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from carecover.plan.travel import Travel, route_tier

DIRECTION = "resident → facility / 从居民到设施"


@dataclass(frozen=True)
class ProfileNetwork:
    """One profile's reverse graph and what building it excluded/sampled."""

    profile: MobilityProfile
    net: StreetNetwork
    info: dict


def prepare(params: RunParams, walk: StreetNetwork) -> tuple[ProfileNetwork, ...]:
    """Every profile's reverse graph, built right after the walk network so that a DEM that
    does not cover it is refused before the run's routing.

    Parameters
    ----------
    params
        ``profiles`` and ``dem``.
    walk
        The walk network.

    Returns
    -------
    tuple of ProfileNetwork
        Empty without profiles.
    """
    out = []
    for prof in params.profiles:
        with timing.step(f"profile network {prof.name} ({prof.tags})"):
            net, info = apply_profile(walk, prof, params.dem)
            out.append(ProfileNetwork(prof, reverse(net), info))
    return tuple(out)


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
    if not nets:
        return None
    pop = demand.points["pop"].to_numpy(float)
    eld = demand.points["elderly"].fillna(0).to_numpy(float)
    figures, described = [], []
    for pn in nets:
        prof, rnet = pn.profile, pn.net
        snaps = snap_points(rnet, demand.points, params.max_snap_m)
        described.append({**prof.to_dict(), "tags": prof.tags, "network": pn.info})
        for key, tt in trav.tiers.items():
            if tt.tier.mode != "walk":
                continue
            with timing.step(f"routing {key} for {prof.name}"):
                got = route_tier(params, tt.tier, rnet, trav.facilities, tt.rows, snaps)
            cov = covered(got.time_s, tt.tier.threshold_min)
            figures.append(_figure(prof.name, prof.tags if prof.step_free else None, key,
                                   tt.tier.threshold_min, cov, pop, eld))
    return {"direction": DIRECTION, "dem": str(params.dem) if params.dem else None,
            "tags_present": tags_present(walk), "profiles": described, "figures": figures}


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
