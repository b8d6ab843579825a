"""Stage 6b — access: capacity-aware accessibility (2SFCA, E2SFCA) and facility load per tier.

For every tier with usable facilities and a capacity rule (``RunParams.capacity``), the exact
facility × demand times within the tier's threshold (:func:`carecover.network.engine.reach_matrix`,
the same engine as the coverage times) feed :mod:`carecover.analysis.access`; the area figures
come from :mod:`carecover.analysis.supply`. A tier without a rule has no accessibility (said
once in the notices).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from carecover import notices
from carecover.analysis import access as ac
from carecover.analysis.supply import access_figures
from carecover.config.capacity import CapacityRule
from carecover.inputs.capacity import facility_capacity
from carecover.inputs.demand import Demand
from carecover.network import StreetNetwork, engine
from carecover.network.covered import limit_s
from carecover.params import RunParams
from carecover.plan.figures import Figures
from carecover.plan.travel import TierTravel, Travel

__all__ = ["TierAccess", "Access", "compute", "tier_access", "facility_columns", "demand_columns"]

#: Facilities columns this stage adds (docs/ARCHITECTURE.md).
FACILITY_COLUMNS = ("catchment_elderly", "assigned_elderly", "load")


@dataclass(frozen=True)
class TierAccess:
    """Accessibility and load of one tier's facilities.

    Attributes
    ----------
    key, rule, decay
        The tier, its capacity rule and the E2SFCA decay.
    rows
        Rows of the facilities frame (as ``TierTravel.rows``).
    times
        Facilities × demand seconds within the threshold (``seconds + 1e-9``).
    supply
        Places per facility (NaN: unknown capacity, offering none).
    two, enhanced
        2SFCA and E2SFCA results.
    assigned
        Elderly assigned to each facility (E2SFCA weights; sums to the elderly within reach).
    """

    key: str
    rule: CapacityRule
    decay: ac.Decay
    rows: np.ndarray
    times: sp.csr_matrix
    supply: np.ndarray
    two: ac.Accessibility
    enhanced: ac.Accessibility
    assigned: np.ndarray

    @property
    def load(self) -> np.ndarray:
        """Assigned elderly per place (> 1 overloaded, ≪ 1 underused; NaN without capacity)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.supply > 0, self.assigned / self.supply, np.nan)


@dataclass(frozen=True)
class Access:
    """Accessibility of every tier with a capacity rule.

    Attributes
    ----------
    tiers
        :class:`TierAccess` per tier key.
    figures
        Area figures (``kind="access"``) for summary.json, the report and claims.
    lorenz
        Per tier: the E2SFCA Lorenz curve over the elderly (population share, share of places).
    """

    tiers: Mapping[str, TierAccess] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    lorenz: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def decay_of(params: RunParams, threshold_min: float) -> ac.Decay:
    """The E2SFCA decay of a tier's threshold."""
    return ac.Decay(params.access_decay, float(threshold_min), tuple(params.access_band_weights))


def tier_access(key: str, rule: CapacityRule, decay: ac.Decay, rows: np.ndarray, times: sp.csr_matrix,
                supply: np.ndarray, elderly: np.ndarray) -> TierAccess:
    """2SFCA, E2SFCA and load of one tier from its reach matrix (also used by the what-if)."""
    W1 = ac.weight_matrix(times, decay.threshold_min, None)
    We = ac.weight_matrix(times, decay.threshold_min, decay)
    return TierAccess(key, rule, decay, rows, times, supply, ac.two_step(W1, supply, elderly, "2sfca"),
                      ac.two_step(We, supply, elderly, "e2sfca"), ac.assigned_demand(We, elderly))


def _places(frame: pd.DataFrame, params: RunParams) -> np.ndarray:
    """Places per facility record: the inputs stage's ``capacity`` column (computed from the rules
    when a frame was built without it)."""
    if "capacity" in frame:
        return frame["capacity"].to_numpy(float)
    return facility_capacity(frame, params.capacity)[0]


def _route(params: RunParams, net: StreetNetwork, tt: TierTravel, travel: Travel) -> sp.csr_matrix:
    """Exact facility × demand seconds within the tier's threshold."""
    snaps = travel.demand_snaps[params.net_of(tt.tier.key)]
    return engine.reach_matrix(net, tt.sources, snaps, limit_s(tt.tier.threshold_min))


def compute(params: RunParams, nets: Mapping[str, StreetNetwork], demand: Demand, travel: Travel,
            figures: Figures) -> Access:
    """Accessibility, load and area figures of every tier with a capacity rule.

    Parameters
    ----------
    params
        Capacity rules, decay, speeds.
    nets
        Networks by mode.
    demand
        Demand points (elderly).
    travel
        Travel results (facilities snapped per tier).
    figures
        The coverage figures (their reporting areas and data record).
    """
    elderly = demand.points["elderly"].to_numpy(float)
    tiers, figs, curves = {}, [], {}
    missing = [k for k in travel.tiers if k not in params.capacity]
    if missing and params.capacity:
        notices.warn("no_capacity_rule", "以下层级未配置容量，不计算可达性 / no capacity rule, so no accessibility for: "
                     + ", ".join(missing), field="capacity")
    for key, tt in travel.tiers.items():
        rule = params.capacity.get(key)
        if rule is None:
            continue
        supply = _places(travel.facilities, params)[tt.rows]
        decay = decay_of(params, tt.tier.threshold_min)
        ta = tier_access(key, rule, decay, tt.rows, _route(params, nets[params.net_of(key)], tt, travel), supply, elderly)
        tiers[key] = ta
        unknown = int(np.isnan(supply).sum())
        data = {**figures.data, "facilities_without_capacity": unknown}
        common = {"tier": key, "rule": rule, "threshold_min": tt.tier.threshold_min, "speed_mps": params.speed_of(tt.tier),
                  "mode": tt.tier.mode, "areas": figures.areas, "data": data}
        figs += access_figures(ta.two.per_1000, elderly, method="2sfca", **common)
        figs += access_figures(ta.enhanced.per_1000, elderly, method="e2sfca", decay=decay.describe(), **common)
        curves[key] = ac.lorenz(ta.enhanced.per_1000, elderly)
        if unknown:
            notices.warn("capacity_unknown", f"{key}: {unknown} 个设施无容量数据，按0个名额计 / {unknown} facilities "
                         "have no capacity (no register value, nothing assumed) and count as 0 places",
                         field=f"capacity.{key}")
    return Access(tiers, figs, curves)


def facility_columns(frame: pd.DataFrame, acc: Access) -> pd.DataFrame:
    """The facilities frame with each routed facility's catchment, assigned elderly and load."""
    out = frame.copy()
    for col in FACILITY_COLUMNS:
        out[col] = np.nan
    for ta in acc.tiers.values():
        idx = out.index[ta.rows]
        out.loc[idx, "catchment_elderly"] = np.round(ta.enhanced.catchment, 2)
        out.loc[idx, "assigned_elderly"] = np.round(ta.assigned, 2)
        out.loc[idx, "load"] = np.round(ta.load, 4)
    return out


def demand_columns(acc: Access) -> dict[str, np.ndarray]:
    """Per tier: places per 1,000 elderly at each demand point, by 2SFCA and E2SFCA."""
    cols = {}
    for key, ta in acc.tiers.items():
        cols[f"access_2sfca__{key}"] = np.round(ta.two.per_1000, 4)
        cols[f"access_e2sfca__{key}"] = np.round(ta.enhanced.per_1000, 4)
    return cols
