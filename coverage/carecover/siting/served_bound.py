r"""The Lagrangian bound of the served model: demand rows relaxed, one knapsack per site.

Relaxing the demand rows :math:`\sum_k x_{gk} \le w_g` with multipliers :math:`0 \le \lambda_g \le 1`
leaves, for every site, a fractional knapsack: fill its :math:`c_k` places from the groups it
reaches, each at most :math:`w_g` (a valid row of the model), with profit :math:`1 - \lambda_g`.
For any :math:`\lambda`

.. math::

   L(\lambda) = \sum_g \lambda_g w_g + \sum_{k \text{ fixed}} v_k(\lambda)
                + \max_{|S| \le p'} \sum_{j \in S} v_j(\lambda)

bounds the served amount of every feasible set (side constraints dropped: a relaxation), and
the subgradient method lowers it (the classic bound of capacitated facility location, as
strong as the LP relaxation with the rows :math:`x_{gj} \le \min(w_g, c_j) y_j`). A candidate
whose best :math:`L` with it forced in falls below a known solution's value is in no optimal
set: the bound also prunes the integer programme.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from carecover.siting.served_flow import Arcs

__all__ = ["LagrangeBound", "lagrangian_bound"]


@dataclass(frozen=True)
class LagrangeBound:
    """The best Lagrangian bound found.

    Attributes
    ----------
    value
        Upper bound on the served amount of the reduced problem with any ``p'`` new sites.
    site_value
        Each candidate's knapsack value at the best multipliers.
    base
        ``sum lambda w`` plus the fixed sites' knapsack values at the best multipliers.
    iterations
        Subgradient steps taken.
    """

    value: float
    site_value: np.ndarray
    base: float
    iterations: int

    def with_site(self, q: int, p_free: int) -> float:
        """The bound when candidate ``q`` must be chosen (the other ``p' - 1`` at their best)."""
        v = self.site_value
        others = np.delete(v, q)
        k = max(p_free - 1, 0)
        top = float(np.sort(others)[::-1][:k].sum()) if k and others.size else 0.0
        return self.base + float(v[q]) + top


def _knapsacks(ag: np.ndarray, ak: np.ndarray, w: np.ndarray, cap: np.ndarray, lam: np.ndarray,
               n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Each site's fractional knapsack at multipliers ``lam``: its value and the amount on each arc."""
    profit = 1.0 - lam[ag]
    order = np.argsort(ak * 2.0 + lam[ag], kind="stable")  # by site, then by profit (lambda in [0, 1])
    k_sorted, p_sorted, w_sorted = ak[order], profit[order], w[ag[order]]
    w_sorted = np.where(p_sorted > 0, w_sorted, 0.0)
    cum = np.cumsum(w_sorted)
    starts = np.searchsorted(k_sorted, np.arange(n_sites), "left")
    before = cum - w_sorted - np.r_[0.0, cum][starts[k_sorted]]  # filled before this arc, within its site
    take = np.clip(cap[k_sorted] - before, 0.0, w_sorted)
    value = np.bincount(k_sorted, weights=take * np.maximum(p_sorted, 0.0), minlength=n_sites)
    amount = np.empty_like(take)
    amount[order] = take
    return value, amount


def lagrangian_bound(arcs: Arcs, n_fixed: int, p_free: int, lower: float, lam0: np.ndarray | None = None,
                     iterations: int = 500, time_budget_s: float | None = None) -> LagrangeBound:
    """Subgradient descent on :math:`L(\\lambda)` (Polyak steps towards ``lower``).

    Parameters
    ----------
    arcs
        The reduced problem (fixed sites first, then the candidates).
    n_fixed
        Number of fixed sites.
    p_free
        Candidates to choose.
    lower
        Served amount of a known feasible set (the greedy's): the step target.
    lam0
        Starting multipliers (default 0.5).
    iterations
        Most steps.
    time_budget_s
        Stop after this many seconds (the best bound so far stands).

    Returns
    -------
    LagrangeBound
    """
    G = arcs.G.tocoo()
    ag, ak = G.row.astype(np.int64), G.col.astype(np.int64)
    ng, ns = arcs.n_groups, arcs.n_sites
    lam = np.full(ng, 0.5) if lam0 is None else np.clip(np.asarray(lam0, float), 0.0, 1.0)
    best = None
    theta, stall = 1.0, 0
    t0 = time.perf_counter()
    for it in range(1, iterations + 1):
        value, amount = _knapsacks(ag, ak, arcs.w, arcs.cap, lam, ns)
        cand_v = value[n_fixed:]
        k = min(p_free, cand_v.size)
        top = np.argsort(-cand_v, kind="stable")[:k]
        base = float(lam @ arcs.w + value[:n_fixed].sum())
        L = base + float(cand_v[top].sum())
        if best is None or L < best.value - 1e-12 * max(1.0, abs(L)):
            best = LagrangeBound(L, cand_v.copy(), base, it)
            stall = 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        if L - lower <= 1e-9 * max(1.0, abs(lower)) or theta < 1e-4:
            break
        if time_budget_s is not None and time.perf_counter() - t0 > time_budget_s:
            break
        chosen = np.zeros(ns, bool)
        chosen[:n_fixed] = True
        chosen[n_fixed + top] = True
        used = np.bincount(ag[chosen[ak]], weights=amount[chosen[ak]], minlength=ng)
        grad = arcs.w - used  # dL/dlambda
        norm = float(grad @ grad)
        if norm <= 0:
            break
        lam = np.clip(lam - theta * (L - lower) / norm * grad, 0.0, 1.0)
    return LagrangeBound(best.value, best.site_value, best.base, it)
