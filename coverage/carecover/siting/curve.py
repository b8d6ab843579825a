"""Coverage against the number of new sites, and the fewest sites that reach a target."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from carecover.errors import InputError
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs

if TYPE_CHECKING:
    import pandas as pd

    from carecover.siting.model import MaximalCovering, Solver
    from carecover.siting.solution import SiteSolution

__all__ = ["coverage_curve", "min_sites_for_target"]


def coverage_curve(model: MaximalCovering, p_max: int, *, exact: Highs | None = None) -> pd.DataFrame:
    """Covered weight against the number of new sites, 0..``p_max``.

    Greedy solutions are nested, so one greedy run gives the whole curve; with ``exact`` (a
    :class:`~carecover.siting.highs.Highs` solver) an exact solve per ``p`` adds the column
    ``covered_exact`` (the greedy column stays).

    Parameters
    ----------
    model
        The model (its forced sites count from ``p = len(forced)`` on).
    p_max
        Largest number of new sites (capped at the number of allowed candidates).
    exact
        Solver of the exact column, or ``None`` for the greedy curve only.

    Returns
    -------
    pandas.DataFrame
        ``p``, ``covered_weight``, ``share``, ``marginal_gain``, ``site`` (candidate index added
        at that step; -1 for p = 0) and with ``exact`` also ``covered_exact``, ``share_exact``.
    """
    import pandas as pd

    p_max = int(min(p_max, int(model.allowed.sum())))
    p_max = max(p_max, model.forced.size)
    sol = model.solve(Greedy(), p=p_max)
    tot = sol.total_weight if sol.total_weight > 0 else np.nan
    cw = sol.covered_before + np.r_[0.0, np.cumsum(sol.gains)]
    gains = np.r_[0.0, sol.gains]
    site = np.r_[-1, sol.chosen]
    # Beyond the last useful site the curve is flat.
    n = p_max + 1
    if cw.size < n:
        pad = n - cw.size
        cw = np.r_[cw, np.full(pad, cw[-1])]
        gains = np.r_[gains, np.zeros(pad)]
        site = np.r_[site, np.full(pad, -1)]
    df = pd.DataFrame({"p": np.arange(n), "covered_weight": cw[:n], "share": cw[:n] / tot,
                       "marginal_gain": gains[:n], "site": site[:n].astype(int)})
    if exact is not None:
        df["covered_exact"] = [np.nan if k < model.forced.size else model.solve(exact, p=k).covered_after
                               for k in range(n)]
        df["share_exact"] = df["covered_exact"] / tot
    return df


def min_sites_for_target(model: MaximalCovering, target_share: float, *, solver: Solver | None = None,
                         max_sites: int | None = None) -> tuple[int | None, SiteSolution]:
    """Smallest number of new sites whose coverage reaches ``target_share`` of the total weight.

    Existing facilities (``covered0``) and forced sites count. With the greedy solver (default)
    the count is the greedy one (an upper bound on the true minimum); with an exact solver
    (:class:`~carecover.siting.highs.Highs`, :class:`~carecover.siting.brute.BruteForce`) it
    is searched downward from the greedy count with exact solves.

    Parameters
    ----------
    model
        The model.
    target_share
        Target covered share of the total weight, 0..1.
    solver
        ``Greedy()`` (default) or an exact solver.
    max_sites
        Most new sites to consider (default: every allowed candidate).

    Returns
    -------
    (k, solution)
        ``k`` is None when even ``max_sites`` cannot reach the target, and ``solution`` is then
        the best greedy one found.
    """
    if not 0 <= target_share <= 1:
        raise InputError(f"target_share {target_share} not in [0, 1] / 目标覆盖率须在 0 到 1 之间",
                         field="target_share", expected="0..1")
    solver = Greedy() if solver is None else solver
    if not callable(getattr(solver, "run", None)):
        raise InputError(f"unknown method {solver!r} / 未知求解方法", field="method",
                         expected="Greedy() or an exact solver such as Highs()")
    n_allowed = int(model.allowed.sum())
    cap = n_allowed if max_sites is None else min(int(max_sites), n_allowed)
    cap = max(cap, model.forced.size)
    sol = model.solve(Greedy(), p=cap)
    tot = sol.total_weight
    need = target_share * tot - 1e-9 * max(tot, 1.0)
    cum = sol.covered_before + np.r_[0.0, np.cumsum(sol.gains)]
    hit = np.flatnonzero(cum >= need)
    hit = hit[hit >= model.forced.size]
    if not hit.size:
        return None, sol
    k = int(hit[0])
    best = model.solve(Greedy(), p=k)
    if isinstance(solver, Greedy):
        return k, best
    while k > model.forced.size:
        trial = model.solve(solver, p=k - 1)
        if trial.covered_after >= need:
            k, best = k - 1, trial
        else:
            break
    if best.method != solver.name:
        best = model.solve(solver, p=k)
    return k, best
