"""Each facility's supply in places, from its register measure or the config's stated assumption.

设施容量（名额）：取登记表中该层级的容量指标，缺失时按配置中注明的假定值，并注明来源。
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from carecover.config.capacity import CapacityRule

__all__ = ["facility_capacity", "NO_RULE"]

#: ``capacity_source`` of a facility whose tier has no capacity rule.
NO_RULE = "none"


def facility_capacity(frame: pd.DataFrame, rules: Mapping[str, CapacityRule]) -> tuple[np.ndarray, np.ndarray]:
    """Places and where they come from, per facility record.

    Parameters
    ----------
    frame
        The Facilities frame (columns ``tier`` and the measure columns; a missing measure
        column counts as empty).
    rules
        Capacity rule per tier key (``RunParams.capacity``).

    Returns
    -------
    (capacity, capacity_source)
        ``capacity``: float places (NaN where the tier has no rule, or neither the register nor
        the rule gives a value); ``capacity_source``: ``register:<measure>``,
        ``assumed:<value> <unit> (config)``, ``missing:<measure>`` or ``none``.
    """
    n = len(frame)
    cap = np.full(n, np.nan)
    src = np.full(n, NO_RULE, dtype=object)
    tiers = frame["tier"].to_numpy(dtype=object) if n else np.zeros(0, dtype=object)
    for key, rule in rules.items():
        rows = tiers == key
        if not rows.any():
            continue
        given = (frame[rule.column].to_numpy(dtype=float) if rule.column in frame
                 else np.full(n, np.nan))
        have = rows & np.isfinite(given)
        cap[have] = given[have] * rule.places_per_unit
        src[have] = f"register:{rule.measure}"
        rest = rows & ~have
        if rule.assumed is not None:
            cap[rest] = rule.assumed_places
            src[rest] = rule.assumed_label()
        else:
            src[rest] = f"missing:{rule.measure}"
    return cap, src
