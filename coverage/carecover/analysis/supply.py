"""Area figures of capacity-aware accessibility: places per 1,000 elderly within reach, the share
of elderly below a stated standard, and the Gini of accessibility over the elderly.

Each figure is a dict in the contract :func:`carecover.analysis.claims.evaluate_claims` matches
(``kind="access"``), stating its population, threshold, speed, mode, capacity rule, method and
decay beside the value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from carecover.analysis.access import weighted_gini
from carecover.config.capacity import CapacityRule

__all__ = ["MEASURES", "access_figures"]

#: What an access figure measures (a claim's ``measure``).
MEASURES = ("places_per_1000", "share_below_standard", "gini")


def access_figures(per_1000: np.ndarray, elderly: np.ndarray, *, tier: str, method: str, rule: CapacityRule,
                   threshold_min: float, speed_mps: float | None, mode: str,
                   areas: Mapping[str, np.ndarray], data: dict, decay: str | None = None,
                   scenario: str = "current") -> list[dict]:
    """Figures of one tier and method in every reporting area.

    Parameters
    ----------
    per_1000
        Places per 1,000 elderly at each demand point.
    elderly
        Elderly per demand point (NaN counts as 0).
    tier, method, rule, threshold_min, speed_mps, mode, decay, scenario
        What the figures state.
    areas
        Reporting areas as demand masks (``all``, ``urban``, counties, units).
    data
        The inputs every figure names.

    Returns
    -------
    list of dict
        Per area: ``places_per_1000`` (the elderly-weighted mean: the places within reach per
        1,000 elderly), ``gini`` and, when the rule states a standard, ``share_below_standard``.
    """
    w = np.nan_to_num(np.asarray(elderly, float), nan=0.0)
    below = per_1000 < rule.standard_per_1000 if rule.standard_per_1000 is not None else None
    # one sort serves the Gini of every area (a subset of sorted values stays sorted; the order
    # among equal values does not change the Lorenz area)
    order = np.argsort(per_1000)
    v_sorted, w_sorted = per_1000[order], w[order]
    pw, reached_w = per_1000 * w, np.where(per_1000 > 0, w, 0.0)
    below_w = np.where(below, w, 0.0) if below is not None else None
    out = []
    for area, m in areas.items():
        tot = float(w[m].sum())
        base = {"kind": "access", "tiers": [tier], "population": "elderly", "area": area,
                "threshold_min": float(threshold_min), "speed_mps": speed_mps, "mode": mode,
                "scenario": scenario, "method": method, "decay": decay, "total": tot,
                "capacity": rule.describe(), "standard_per_1000": rule.standard_per_1000, "data": data}
        mean = float(pw[m].sum() / tot) if tot > 0 else float("nan")
        reached = float(reached_w[m].sum())
        out.append({**base, "measure": "places_per_1000", "value": mean, "covered": reached})
        if below is not None:
            n_below = float(below_w[m].sum())
            out.append({**base, "measure": "share_below_standard",
                        "value": n_below / tot if tot > 0 else float("nan"), "covered": n_below})
        ms = m[order]
        out.append({**base, "measure": "gini", "value": weighted_gini(v_sorted[ms], w_sorted[ms], sorted_=True),
                    "covered": reached})
    return out
