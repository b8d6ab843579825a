r"""The Lagrangian bound of the covering model: coverage rows relaxed, the best ``p'`` sites by price.

On the reduced model (merged demand groups :math:`g` with weight :math:`w_g`, candidates
:math:`N_g` reaching them, :math:`p'` free choices; see :func:`carecover.siting.highs.reduce`),
relaxing the coverage rows :math:`y_g \le \sum_{j \in N_g} x_j` with multipliers
:math:`0 \le \mu_g \le w_g` leaves

.. math::

   L(\mu) = \sum_g (w_g - \mu_g) + \max_{|S| \le p'} \sum_{j \in S} c_j(\mu),
   \qquad c_j(\mu) = \sum_{g \ni j} \mu_g ,

an upper bound on the newly covered weight of every set of at most :math:`p'` sites (group
caps and spacing dropped: a relaxation, so the bound holds with them too). Its minimum over
:math:`\mu` equals the LP relaxation's optimum (the inner problem has integral optima); the
subgradient method (Polyak steps towards a known solution's value) approaches it in a few
hundred cheap steps, where the LP itself takes HiGHS minutes at city scale. This is the classic
Lagrangean scheme for the MCLP (Galvão & ReVelle 1996, *EJOR* 88:114–123).

The bound also fixes candidates. With candidate :math:`j` forced in, the inner maximum is
:math:`c_j` plus the :math:`p' - 1` largest other prices, so at every :math:`\mu`

.. math::

   L_j(\mu) = L(\mu) - \max\bigl(0,\ c_{(p')}(\mu) - c_j(\mu)\bigr)

bounds every set holding :math:`j` (:math:`c_{(p')}` the :math:`p'`-th largest price). The
smallest :math:`L_j` over all steps taken is kept; a candidate whose :math:`L_j` falls below a
known solution's value is in no set at least as good, so the integer programme can leave it
out (the known solution's own sites always stay: each one's :math:`L_j` is at least its value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["FIX_TOL", "CoveringBound", "best_sites", "keep_candidates", "lagrangian_bound"]

#: A candidate is fixed out when its bound is below the known value by more than this share of
#: the total weight (far above the rounding of sums of floats).
FIX_TOL = 1e-7


@dataclass(frozen=True)
class CoveringBound:
    """The best Lagrangian bound found and each candidate's bound when chosen.

    Attributes
    ----------
    value
        Upper bound on the weight newly covered by any ``p'`` free sites of the reduced model
        (forced sites' weight not included).
    with_site
        Per model candidate, the smallest bound over the steps taken on any set that holds it.
    iterations
        Subgradient steps taken.
    """

    value: float
    with_site: np.ndarray
    iterations: int


def best_sites(c: np.ndarray, k: int, code: np.ndarray | None = None, cap: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """The inner problem: the at most ``k`` sites of largest price within the group caps, and
    what each site left out costs when forced in.

    Cardinality and group caps form a matroid, so taking sites by price (ties: lowest index)
    while their group has room is optimal, and the best set holding a left-out site ``j`` swaps
    it for the cheapest site of ``j``'s group when that group is full, else for the cheapest
    site taken.

    Parameters
    ----------
    c
        Prices (non-negative), one per model candidate.
    k
        Most sites.
    code, cap
        Group number of each candidate and cap per group (-1 uncapped), or ``None``.

    Returns
    -------
    (top, penalty)
        The chosen sites, and per candidate how much less the best set holding it is worth
        (0 for the chosen ones).
    """
    nc = c.size
    if code is None:
        top = np.argpartition(-c, k - 1)[:k] if k < nc else np.arange(nc)
        return top, np.maximum(0.0, float(c[top].min()) - c) if top.size else np.zeros(nc)
    order = np.argsort(-c, kind="stable")
    gc = code[order]
    by_group = np.argsort(gc, kind="stable")  # positions in price order, grouped
    sorted_codes = gc[by_group]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    run = np.repeat(starts, np.diff(np.r_[starts, nc]))
    rank = np.empty(nc, dtype=np.int64)
    rank[by_group] = np.arange(nc) - run  # rank of each site within its group, by price
    limit = cap[gc]
    top = order[np.flatnonzero((limit < 0) | (rank < limit))[:k]]
    penalty = np.zeros(nc)
    if top.size == 0:
        penalty[:] = np.inf
        return top, penalty
    taken = np.zeros(nc, dtype=bool)
    taken[top] = True
    n_groups = cap.size
    count = np.bincount(code[top], minlength=n_groups)
    cheapest = np.full(n_groups, np.inf)
    np.minimum.at(cheapest, code[top], c[top])
    full = (cap[code] >= 0) & (count[code] >= cap[code])
    swap = np.where(full, cheapest[code], float(c[top].min()) if top.size >= k else -np.inf)
    penalty = np.where(taken, 0.0, np.maximum(0.0, swap - c))
    return top, penalty


def lagrangian_bound(B: sp.csr_matrix, w: np.ndarray, p_free: int, lower: float, *,
                     code: np.ndarray | None = None, cap: np.ndarray | None = None,
                     iterations: int = 1000, theta0: float = 2.0, stall: int = 10,
                     min_theta: float = 1e-3, window: int = 25, min_fixed_share: float = 0.005,
                     min_gap_share: float = 0.1) -> CoveringBound:
    r"""Projected subgradient descent on :math:`L(\mu)` (module docstring), deterministic.

    The step is :math:`\theta (L - \text{lower}) / \lVert s \rVert^2` along the subgradient
    :math:`s_g = (\text{chosen sites reaching } g) - 1`; :math:`\theta` halves after ``stall``
    steps without a better bound. The run stops after ``iterations`` steps, when
    :math:`\theta` < ``min_theta``, when the bound reaches ``lower`` (then ``lower`` is
    optimal), or when progress stalls: checked every ``window`` steps from step ``2 * window``
    on, fewer than ``min_fixed_share`` of the candidates (at least one) joined those that can be
    fixed out and, while none can, the gap to ``lower`` shrank by less than ``min_gap_share``
    (the bound's use is fixing; HiGHS closes the rest faster than the last subgradient steps).
    Step counts, not clocks, end the run: equal inputs give equal bounds.

    Parameters
    ----------
    B
        Boolean CSR, merged demand groups × model candidates.
    w
        Weight of each group (positive).
    p_free
        Free choices :math:`p'` (at least 1).
    lower
        Newly covered weight of a known feasible set on the same groups (e.g. greedy's).
    code, cap
        Group of each model candidate and the cap left per group (-1 uncapped), or ``None``:
        the inner problem then respects the group caps (a tighter bound).
    iterations, theta0, stall, min_theta, window, min_fixed_share, min_gap_share
        The step and stopping rules (see above).

    Returns
    -------
    CoveringBound
    """
    ng, nc = B.shape
    w = np.asarray(w, dtype=float)
    BT = sp.csr_matrix(B.T, dtype=np.float64)  # candidates × groups: prices c = BT @ mu
    k = min(int(p_free), nc)
    tol = 1e-9 * max(1.0, float(w.sum()))
    fix_below = lower - FIX_TOL * max(1.0, float(w.sum()))
    mu = 0.5 * w
    best, theta, since = np.inf, float(theta0), 0
    with_site = np.full(nc, np.inf)
    n_fixed, steps, last = 0, 0, np.inf
    for _ in range(iterations):
        steps += 1
        c = BT @ mu
        top, penalty = best_sites(c, k, code, cap)
        L = float((w - mu).sum() + c[top].sum())
        np.minimum(with_site, L - penalty, out=with_site)
        if L < best:
            best, since = L, 0
        else:
            since += 1
            if since >= stall:
                theta, since = theta / 2, 0
        if L <= lower + tol or theta < min_theta:
            break
        if steps % window == 0:
            now = int((with_site < fix_below).sum())
            fixing = now - n_fixed >= max(1.0, min_fixed_share * nc)
            closing = now == 0 and best - lower <= (1 - min_gap_share) * (last - lower)
            if steps >= 2 * window and not (fixing or closing):
                break
            n_fixed, last = now, best
        hits = np.concatenate([BT.indices[BT.indptr[j]:BT.indptr[j + 1]] for j in np.sort(top)])
        s = np.bincount(hits, minlength=ng) - 1.0  # dL/dmu
        s[((mu <= 0) & (s > 0)) | ((mu >= w) & (s < 0))] = 0.0  # projected onto 0 <= mu <= w
        norm = float(s @ s)
        if norm <= 0:
            break
        mu = np.clip(mu - theta * (L - lower) / norm * s, 0.0, w)
    return CoveringBound(float(best), with_site, steps)


def keep_candidates(bound: CoveringBound, lower: float, total_weight: float) -> np.ndarray:
    """Model candidates that may be in a set at least as good as ``lower``.

    Parameters
    ----------
    bound
        From :func:`lagrangian_bound`.
    lower
        Newly covered weight of a known feasible set (free part, as in the bound).
    total_weight
        The reduced model's total weight: scales the rounding tolerance.

    Returns
    -------
    numpy.ndarray
        Boolean mask; candidates whose bound with them chosen stays below ``lower`` (by more
        than rounding) are ``False``.
    """
    return bound.with_site >= lower - FIX_TOL * max(1.0, float(total_weight))
