"""Coverage against the number of new sites, and the fewest sites that reach a target."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from carecover.errors import InputError
from carecover.siting.greedy import Greedy, lazy_greedy
from carecover.siting.highs import Highs
from carecover.siting.model import with_p

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


def _target_weight(model: MaximalCovering, target_share: float) -> float:
    """The covered weight (existing facilities included) that reaches ``target_share``."""
    tot = float(model.weights.sum())
    return target_share * tot - 1e-9 * max(tot, 1.0)


def _greedy_count(model: MaximalCovering, cap: int, need: float) -> int | None:
    """The fewest greedy sites (forced ones included, at most ``cap``) whose coverage
    (existing facilities included) reaches ``need``, or ``None``.

    The greedy sequence is run only until it reaches the target (without at-least rows it does
    not depend on how many sites are asked for), and the count is read off its cumulative gains
    as from the full run's.
    """
    before = float(model.weights[model.covered0].sum())
    enough = None if model.at_least is not None else need - before
    while True:
        with with_p(model, cap):
            gains = lazy_greedy(model, cap, enough=enough).gains
        cum = before + np.r_[0.0, np.cumsum(np.asarray(gains, dtype=float))]
        hit = np.flatnonzero(cum >= need)
        hit = hit[hit >= model.forced.size]
        if hit.size or enough is None:
            return int(hit[0]) if hit.size else None
        enough = None  # (stopped by a sum rounded the other way: the whole run decides)


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
    need = _target_weight(model, target_share)
    k = _greedy_count(model, cap, need)
    if k is None:
        return None, model.solve(Greedy(), p=cap)
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
