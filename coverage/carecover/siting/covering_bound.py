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

__all__ = ["CoveringBound", "keep_candidates", "lagrangian_bound"]


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


def lagrangian_bound(B: sp.csr_matrix, w: np.ndarray, p_free: int, lower: float, *,
                     iterations: int = 1000, theta0: float = 2.0, stall: int = 10,
                     min_theta: float = 1e-3) -> CoveringBound:
    """Projected subgradient descent on :math:`L(\\mu)` (module docstring), deterministic.

    The step is :math:`\\theta (L - \\text{lower}) / \\lVert s \\rVert^2` along the subgradient
    :math:`s_g = (\\text{chosen sites reaching } g) - 1`; :math:`\\theta` halves after ``stall``
    steps without a better bound. The run stops after ``iterations`` steps, when
    :math:`\\theta` < ``min_theta`` or when the bound reaches ``lower`` (then ``lower`` is
    optimal). Step counts, not clocks, end the run: equal inputs give equal bounds.

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
    iterations, theta0, stall, min_theta
        The step rule (see above).

    Returns
    -------
    CoveringBound
    """
    ng, nc = B.shape
    w = np.asarray(w, dtype=float)
    BT = sp.csr_matrix(B.T, dtype=np.float64)  # candidates × groups: prices c = BT @ mu
    k = min(int(p_free), nc)
    tol = 1e-9 * max(1.0, float(w.sum()))
    mu = 0.5 * w
    best, theta, since = np.inf, float(theta0), 0
    with_site = np.full(nc, np.inf)
    steps = 0
    for _ in range(iterations):
        steps += 1
        c = BT @ mu
        top = np.argpartition(-c, k - 1)[:k] if k < nc else np.arange(nc)
        L = float((w - mu).sum() + c[top].sum())
        # with j forced in: swap it for the p'-th best price (no change when j is in the top p')
        np.minimum(with_site, L - np.maximum(0.0, float(c[top].min()) - c), out=with_site)
        if L < best:
            best, since = L, 0
        else:
            since += 1
            if since >= stall:
                theta, since = theta / 2, 0
        if L <= lower + tol or theta < min_theta:
            break
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
    return bound.with_site >= lower - 1e-7 * max(1.0, float(total_weight))
