"""Who serves whom, per demand point: the nearest facility of each tier now, and after the plan
the suggested site that serves it (the demand table's ``nearest_fid__<tier>``,
``after_site__<tier>`` and ``covered_after__<tier>`` columns, drawn by the map)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from carecover.plan.travel import Travel
from carecover.siting.state import TierState


def nearest_fids(travel: Travel) -> dict[str, np.ndarray]:
    """Per tier and demand point, the id of its nearest facility ("" when none was reached
    within the tier's search).

    Parameters
    ----------
    travel
        The routed tiers (``TierTravel.source`` indexes ``TierTravel.rows``).

    Returns
    -------
    dict of str to numpy.ndarray
        Tier key -> object array of facility ids.
    """
    fids = travel.facilities["fid"].astype(str).to_numpy()
    out = {}
    for key, tt in travel.tiers.items():
        col = np.full(len(tt.source), "", dtype=object)
        ok = tt.source >= 0
        col[ok] = fids[tt.rows[tt.source[ok]]]
        out[key] = col
    return out


def after_plan(states: Mapping[str, TierState], travel: Travel, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per planned tier and demand point, after the plan's best solution is built: the id of
    the suggested site that serves it (reached within the threshold and nearer than every
    existing facility; "" otherwise), and whether it is covered.

    Parameters
    ----------
    states
        The prepared state per planned tier (reach matrices and the chosen candidates).
    travel
        The routed tiers (time to the nearest existing facility).
    n
        Number of demand points.

    Returns
    -------
    dict
        Tier key -> ``(site ids, covered after)``.
    """
    out = {}
    for key, st in states.items():
        tt = travel.tiers.get(key)
        now = np.asarray(tt.time_s, float) if tt is not None else np.full(n, np.inf)
        covered = tt.covered if tt is not None else np.zeros(n, bool)
        best_t = np.full(n, np.inf)
        site = np.full(n, "", dtype=object)
        chosen = np.asarray(st.chosen, int)
        # the chosen rows' seconds (a plan's state keeps only those beside the pattern)
        reach = st.chosen_reach if st.chosen_reach is not None else st.candidates.tocsr()[chosen]
        for i, c in enumerate(chosen):
            row = reach.getrow(i)
            nearer = row.data < best_t[row.indices]
            idx = row.indices[nearer]
            best_t[idx] = row.data[nearer]
            site[idx] = str(st.cand_id[c])
        serves = np.isfinite(best_t) & (best_t - 1e-9 < now)
        site[~serves] = ""
        out[key] = (site, covered | np.isfinite(best_t))
    return out
