"""Capacity-aware accessibility: two-step floating catchment (2SFCA) and its enhanced form (E2SFCA).

Formulation (Luo & Wang 2003; Luo & Qi 2009), on the exact network times ``t_ij`` (minutes) from
facility ``j`` to demand point ``i`` within the tier's threshold ``T``:

.. math::

    D_j = \\sum_{i: t_{ij} \\le T} W(t_{ij})\\, P_i, \\qquad
    R_j = S_j / D_j, \\qquad
    A_i = \\sum_{j: t_{ij} \\le T} W(t_{ij})\\, R_j

with ``P_i`` the elderly at point ``i``, ``S_j`` the facility's places (its capacity) and
``W`` the distance decay: ``W = 1`` for the 2SFCA (binary catchment at the threshold); for the
E2SFCA a step function over equal bands of the threshold (default 0–5 / 5–10 / 10–15 min →
1.00 / 0.68 / 0.22, each band's upper end included as in PySAL's ``access.weights.step_fn``), or
a Gaussian ``exp(-t² / 2σ²)`` with σ set so that the weight at ``T`` equals the last band's.
``A_i`` × 1,000 is **places per 1,000 elderly**. A facility whose catchment holds no elderly
(``D_j = 0``) offers its places to nobody and adds nothing (PySAL divides by zero there).
These are the numbers of PySAL ``access.Access.two_stage_fca`` / ``enhanced_two_stage_fca`` on the
same cost matrix (tested to 1e-9).

Everything is a sparse matrix–vector product on the facilities × demand reach matrix of
:func:`carecover.network.engine.reach_matrix`, so all tiers of a city take well under a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["DECAYS", "Decay", "Accessibility", "two_step", "weighted_gini", "lorenz"]

DECAYS = ("bands", "gaussian")
#: What ``method`` names in figures and files.
METHODS = ("2sfca", "e2sfca")


@dataclass(frozen=True)
class Decay:
    """Distance decay of the E2SFCA for one threshold.

    Attributes
    ----------
    kind
        ``"bands"`` or ``"gaussian"``.
    threshold_min
        The catchment's threshold ``T`` (minutes).
    weights
        Band weights, nearest band first; the bands cut ``T`` into ``len(weights)`` equal parts.
    """

    kind: str
    threshold_min: float
    weights: tuple[float, ...] = (1.0, 0.68, 0.22)

    @property
    def edges_min(self) -> np.ndarray:
        """Upper ends of the bands (minutes)."""
        n = len(self.weights)
        return self.threshold_min * np.arange(1, n + 1) / n

    @property
    def sigma_min(self) -> float:
        """Gaussian width: the weight at the threshold equals the last band weight."""
        last = self.weights[-1]
        return self.threshold_min / math.sqrt(2.0 * math.log(1.0 / last))

    def __call__(self, t_min: np.ndarray) -> np.ndarray:
        """Weights of times (minutes); 0 beyond the threshold."""
        t = np.asarray(t_min, float)
        if self.kind == "gaussian":
            w = np.exp(-t * t / (2.0 * self.sigma_min ** 2))
        else:
            w = np.asarray(self.weights, float)[self.band(t)]
        return np.where(t <= self.threshold_min, w, 0.0)

    def band(self, t_min: np.ndarray) -> np.ndarray:
        """Band index of times (minutes): the number of band ends below ``t`` (a band's upper end
        belongs to it); times beyond the threshold get the last band (their weight is 0)."""
        t = np.asarray(t_min, float)
        idx = np.zeros(t.shape, np.intp)
        for edge in self.edges_min[:-1]:
            idx += t > edge
        return idx

    def describe(self) -> str:
        """The decay as the outputs state it."""
        if self.kind == "gaussian":
            return f"Gaussian exp(-t²/2σ²), σ = {self.sigma_min:.2f} min (weight {self.weights[-1]:g} at {self.threshold_min:g} min)"
        lo = np.r_[0.0, self.edges_min[:-1]]
        return ", ".join(f"{a:.3g}–{b:.3g} min → {w:.2f}" for a, b, w in zip(lo, self.edges_min, self.weights, strict=True))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "threshold_min": self.threshold_min, "weights": list(self.weights),
                "text": self.describe()}


@dataclass(frozen=True)
class Accessibility:
    """One tier's accessibility by one method.

    Attributes
    ----------
    method
        ``"2sfca"`` or ``"e2sfca"``.
    score
        Per demand point: places per elderly person (``A_i``; × 1,000 for places per 1,000).
    ratio
        Per facility: places per weighted elderly in its catchment (``R_j``; 0 where ``D_j = 0``).
    catchment
        Per facility: weighted elderly in its catchment (``D_j``; overlapping catchments count a
        person in each).
    """

    method: str
    score: np.ndarray
    ratio: np.ndarray
    catchment: np.ndarray

    @property
    def per_1000(self) -> np.ndarray:
        """Places per 1,000 elderly at each demand point."""
        return self.score * 1000.0


def weight_matrix(times_s: sp.csr_matrix, threshold_min: float, decay: Decay | None) -> sp.csr_matrix:
    """The catchment weights ``W(t_ij)`` (facilities × demand) of a reach matrix in seconds
    (``seconds + 1e-9``, as :func:`~carecover.network.engine.reach_matrix` stores them).

    ``decay=None`` is the binary 2SFCA catchment. Entries beyond the threshold are dropped.
    """
    m = times_s.tocsr()
    t_min = (m.data - 1e-9) / 60.0
    w = np.where(t_min <= threshold_min + 1e-12, 1.0, 0.0) if decay is None else decay(t_min)
    out = sp.csr_matrix((w, m.indices, m.indptr), shape=m.shape)
    out.eliminate_zeros()
    return out


def two_step(W: sp.csr_matrix, supply: np.ndarray, elderly: np.ndarray, method: str) -> Accessibility:
    """2SFCA / E2SFCA scores from a weight matrix (see the module docstring).

    Parameters
    ----------
    W
        Facilities × demand catchment weights (:func:`weight_matrix`).
    supply
        Places per facility (NaN counts as 0: a facility of unknown capacity offers none).
    elderly
        Elderly per demand point (NaN counts as 0).
    method
        Name stored on the result.
    """
    S = np.nan_to_num(np.asarray(supply, float), nan=0.0)
    P = np.nan_to_num(np.asarray(elderly, float), nan=0.0)
    D = W @ P
    R = np.divide(S, D, out=np.zeros_like(S), where=D > 0)
    A = W.T @ R
    return Accessibility(method, np.asarray(A, float), R, np.asarray(D, float))


def assigned_demand(W: sp.csr_matrix, elderly: np.ndarray) -> np.ndarray:
    """Elderly assigned to each facility: every person within reach is split among the facilities
    reaching them in proportion to the catchment weights (Wan et al. 2012's selection weights
    ``G_ij = W_ij / Σ_k W_ik``), so the assigned totals add up to the elderly within reach."""
    P = np.nan_to_num(np.asarray(elderly, float), nan=0.0)
    col = np.asarray(W.sum(axis=0)).ravel()
    share = np.divide(P, col, out=np.zeros_like(P), where=col > 0)
    return np.asarray(W @ share, float)


def weighted_gini(values: np.ndarray, weights: np.ndarray, sorted_: bool = False) -> float:
    """Gini coefficient of ``values`` over a population weighted by ``weights``.

    ``G = 1 − Σ_k w_k (L_k + L_{k−1})`` over values sorted ascending, with ``w`` the population
    shares and ``L`` the cumulative share of the total (the area under the Lorenz curve, by
    trapezoids); 0 = everyone has the same, → 1 = one group has everything. ``nan`` when there is
    no weight or the total is 0. ``sorted_=True``: ``values`` are already ascending (many areas
    of one set of values are then scored with one sort).
    """
    v, w = np.asarray(values, float), np.asarray(weights, float)
    ok = (w > 0) & np.isfinite(v) & np.isfinite(w)
    v, w = v[ok], w[ok]
    if not len(v) or (v * w).sum() <= 0:
        return float("nan")
    if not sorted_:
        order = np.argsort(v)  # the order among equal values does not change the area
        v, w = v[order], w[order]
    share = w / w.sum()
    cum = np.cumsum(v * w)
    L = cum / cum[-1]
    L_prev = np.r_[0.0, L[:-1]]
    return float(1.0 - np.sum(share * (L + L_prev)))


def lorenz(values: np.ndarray, weights: np.ndarray, points: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve of ``values`` over weighted people: (population share, share of the total),
    sampled at ``points`` population shares from 0 to 1."""
    v, w = np.asarray(values, float), np.asarray(weights, float)
    ok = (w > 0) & np.isfinite(v)
    v, w = v[ok], w[ok]
    x = np.linspace(0.0, 1.0, points)
    if not len(v) or (v * w).sum() <= 0:
        return x, np.full(points, np.nan)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    px = np.r_[0.0, np.cumsum(w) / w.sum()]
    py = np.r_[0.0, np.cumsum(v * w) / (v * w).sum()]
    return x, np.interp(x, px, py)
