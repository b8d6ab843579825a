"""Stage 8 with capacity — the served objective of one tier's siting (``--objective served|both``).

The existing facilities' places (``facilities.csv`` ``capacity``; unknown counts as 0 and is
warned), the new site's places from the tier's capacity rule, every elderly person of the study
area as demand, and the same candidates, reach matrices and side constraints as the covering
model; greedy and exact solutions of :class:`~carecover.siting.served.MaximalServed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carecover import notices
from carecover.inputs.demand import Demand
from carecover.params import RunParams
from carecover.plan.travel import Travel
from carecover.siting.colocation import min_sites_rows
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.served import MaximalServed
from carecover.siting.served_model import ServedSolution
from carecover.utils import log

__all__ = ["ServedInputs", "served_info", "served_inputs", "solve_served"]


@dataclass(frozen=True)
class ServedInputs:
    """What the served objective of one tier needs beyond the siting problem.

    Attributes
    ----------
    capacity_existing
        Places of each existing facility, in the rows of the problem's ``existing_reach``.
    capacity_new
        Places of a new site (the capacity rule's ``new_site``).
    weights
        Elderly of every demand point (existing facilities serve people outside a planned
        region too, so the whole study area is the demand).
    rule_text
        The capacity rule as stated in the outputs.
    unknown
        Existing facilities without capacity, counted as 0 places.
    """

    capacity_existing: np.ndarray
    capacity_new: float
    weights: np.ndarray
    rule_text: str
    unknown: int


def served_inputs(params: RunParams, key: str, travel: Travel, demand: Demand) -> ServedInputs | None:
    """The served inputs of tier ``key`` (``None`` when only coverage is asked).

    Parameters
    ----------
    params
        The objective and the capacity rules (checked when resolved: a planned tier has one).
    key
        Tier key.
    travel
        The facilities frame (``capacity``) and the tier's routed rows.
    demand
        Demand points (``elderly``).
    """
    if params.objective == "coverage":
        return None
    rule = params.capacity[key]
    tt = travel.tiers.get(key)
    fac = travel.facilities
    cap = fac["capacity"].to_numpy(float)[tt.rows] if tt is not None else np.zeros(0)
    unknown = int(np.isnan(cap).sum())
    if unknown:
        notices.warn("served_capacity_unknown",
                     f"{key}: {unknown} 个现有设施无容量数据，按服务能力选址时按0个名额计 / {unknown} existing "
                     "facilities have no capacity and count as 0 places in the served objective",
                     field=f"capacity.{key}", value=unknown)
    return ServedInputs(np.nan_to_num(cap, nan=0.0), float(rule.new_site_places),
                        demand.points["elderly"].fillna(0).to_numpy(float), rule.describe(), unknown)


def solve_served(params: RunParams, pb, count: int, si: ServedInputs) -> tuple[ServedSolution, ServedSolution]:
    """Greedy and exact solutions of one tier's served objective (with ``--colocation-min``: its
    sites meet the rule too).

    Parameters
    ----------
    params
        Siting options (time limit, spacing).
    pb
        The tier's :class:`~carecover.plan.siting.Problem`.
    count
        Sites to place.
    si
        The served inputs.
    """
    c = pb.candidates
    model = MaximalServed.from_reach_matrix(
        pb.reach, si.weights, si.capacity_existing, si.capacity_new, min(count, len(c)),
        existing_reach=pb.existing_reach, candidate_ids=list(c.ids), candidate_xy=np.column_stack([c.x, c.y]),
        groups=pb.groups, max_per_group=pb.caps, min_spacing_m=params.min_spacing_m,
        forbidden=np.flatnonzero(~pb.cand_snap.ok).tolist(),
        min_sites_in=None if pb.coloc is None else min_sites_rows(pb.coloc, params.colocation_min) or None)
    greedy = model.solve(Greedy())
    exact = model.solve(Highs(time_limit=params.exact_time_limit_s))
    log(f"  served: greedy {greedy.runtime_s:.2f} s, exact ({exact.status}) {exact.runtime_s:.2f} s")
    return greedy, exact


def best_of(greedy: ServedSolution, exact: ServedSolution) -> ServedSolution:
    """The exact solution unless greedy serves more (a time-limited exact run)."""
    return exact if exact.objective >= greedy.objective - 1e-9 else greedy


def served_info(si: ServedInputs, greedy: ServedSolution, exact: ServedSolution) -> dict:
    """The served objective's part of a tier's ``summary.json`` siting record."""
    best = best_of(greedy, exact)
    return {"weight": "elderly", "capacity_rule": si.rule_text, "capacity_new_site": si.capacity_new,
            "existing_without_capacity": si.unknown,
            "greedy": {"objective": greedy.objective, "gap": greedy.gap},
            "exact": {"objective": exact.objective, "status": exact.status, "gap": exact.gap},
            "served_before": best.served_before, "served_after": best.served_after,
            "total_weight": best.total_weight, "places_added": float(best.capacity.sum()),
            "served_by_new_sites": float(best.load.sum())}
