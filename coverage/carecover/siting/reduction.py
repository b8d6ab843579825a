"""The reductions of a covering model before its integer programme (:mod:`carecover.siting.highs`).

:func:`reduce` fixes the sites the model forces, merges demand reached by the same candidates
(their weights summed), and leaves out candidates that reach no demand or cannot be in any set
better than a known lower bound; :func:`restrict` keeps a subset of the candidates (those the
Lagrangian bound cannot rule out) and merges the demand again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from carecover.siting.model import MaximalCovering

__all__ = ["Reduced", "reduce", "restrict"]


@dataclass(frozen=True)
class Reduced:
    """The reduced model the integer programme is built on.

    Attributes
    ----------
    cand
        Original candidate indices of the model columns.
    B
        Boolean CSR, merged demand groups × model candidates.
    w
        Weight of each merged demand group.
    p_free
        Free choices left: ``p - len(forced)``.
    fixed_objective
        Weight newly covered by the forced sites.
    cap_left
        Per group, the cap left after the forced sites (-1 uncapped), or ``None``.
    n_demand_in, n_groups, n_pruned_by_bound
        Demand points that can still gain, merged demand groups, candidates pruned by the bound.
    n_fixed_by_lagrange
        Candidates left out by the Lagrangian bound (:func:`restrict`).
    """

    cand: np.ndarray
    B: sp.csr_matrix
    w: np.ndarray
    p_free: int
    fixed_objective: float
    cap_left: np.ndarray | None
    n_demand_in: int
    n_groups: int
    n_pruned_by_bound: int
    n_fixed_by_lagrange: int = 0

    def counts(self) -> dict[str, int]:
        """The ``n_*`` sizes (reported in the solution's ``extra``)."""
        return {"n_demand_in": self.n_demand_in, "n_groups": self.n_groups,
                "n_pruned_by_bound": self.n_pruned_by_bound,
                "n_fixed_by_lagrange": self.n_fixed_by_lagrange}


def _fix_forced(model: MaximalCovering) -> tuple[np.ndarray, np.ndarray, float, np.ndarray | None]:
    """Demand still active, candidates still free, the forced sites' objective and caps left."""
    F, w = model.forced, model.weights
    active = model.active.copy()
    free = model.allowed.copy()
    free[F] = False
    fixed = 0.0
    cap_left = None if model.groups is None else model.groups.cap.copy()
    if F.size:
        rows_f = np.unique(np.concatenate([model.row(int(j)) for j in F]))
        rows_f = rows_f[active[rows_f]]
        fixed = float(w[rows_f].sum())
        active[rows_f] = False
        if cap_left is not None:
            cnt = np.bincount(model.groups.code[F], minlength=len(cap_left))
            capped = cap_left >= 0
            cap_left[capped] -= cnt[capped]
            full = np.flatnonzero(capped & (cap_left <= 0))
            free[np.isin(model.groups.code, full)] = False
        if model.spacing is not None:
            for j in F:
                free[model.spacing.conflicts[int(j)]] = False
    return active, free, fixed, cap_left


def merge_identical(D: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows of ``D`` with at least one entry, a group id per such row (identical rows share one;
    groups numbered in order of first appearance) and the number of groups."""
    rows = np.flatnonzero(np.diff(D.indptr) > 0)
    # Exact grouping of identical coverer sets: key = bytes of the sorted column indices.
    ind = D.indices.astype(np.int32)
    ptr = D.indptr
    keys: dict[bytes, int] = {}
    gid = np.empty(rows.size, dtype=np.int64)
    for n, i in enumerate(rows):
        kb = ind[ptr[i]:ptr[i + 1]].tobytes()
        g = keys.get(kb)
        if g is None:
            g = len(keys)
            keys[kb] = g
        gid[n] = g
    return rows, gid, len(keys)


def reduce(model: MaximalCovering, lower_bound: float | None = None) -> Reduced:
    """The reduced model used by :class:`Highs`.

    Forced sites are fixed: the demand they cover leaves the model, and candidates they exclude
    (group cap reached, closer than the spacing) are dropped, leaving ``p - len(forced)`` free
    choices. Demand that cannot gain (covered already, zero weight) or that no remaining
    candidate reaches is left out; demand with identical sets of covering candidates is merged
    (weights summed); candidates that cover nothing new are left out. With ``lower_bound`` (the
    objective of a known solution, e.g. greedy's), a candidate ``j`` is also left out when even
    ``gain_j + (sum of the p' - 1 largest single-site gains)`` falls short of it: no solution
    containing ``j`` can then be optimal.

    Parameters
    ----------
    model
        The model (its current ``p``).
    lower_bound
        Objective of a known feasible solution, or ``None``.

    Returns
    -------
    Reduced
    """
    w = model.weights
    active, free, fixed, cap_left = _fix_forced(model)
    p_free = model.p - int(model.forced.size)
    act = np.flatnonzero(active)
    free_idx = np.flatnonzero(free)
    sub = model.A[free_idx][:, act].astype(np.float64)  # free candidates × active demand
    gains = np.asarray(sub @ w[act]).ravel()
    useful = gains > 0
    if model.at_least is not None:
        # a site adding nothing may still be needed by an at-least row (co-location)
        useful |= model.at_least.members.any(axis=0)[free_idx]
    n_pruned = 0
    if lower_bound is not None and p_free > 0 and useful.any():
        # (valid with at-least rows too: the lower bound is a set meeting them)
        top = np.sort(gains)[::-1][: p_free - 1].sum()
        target = lower_bound - fixed
        ok = gains + top >= target - 1e-9 * max(1.0, abs(target))
        n_pruned = int((useful & ~ok).sum())
        useful &= ok
    D = sub[useful].T.tocsr()  # active demand × kept candidates
    D.sort_indices()
    rows, gid, ng = merge_identical(D)
    wg = np.bincount(gid, weights=w[act[rows]], minlength=ng)
    # Groups are numbered in order of first appearance, so return_index gives each group's row.
    first = rows[np.unique(gid, return_index=True)[1]]
    return Reduced(free_idx[useful], D[first].astype(bool), wg, p_free, fixed, cap_left,
                   int(act.size), ng, n_pruned)


def restrict(red: Reduced, keep: np.ndarray) -> Reduced:
    """The reduced model on the candidates ``keep`` only.

    Groups no kept candidate reaches leave; groups that now share their set of reaching
    candidates merge (weights summed, numbered in order of first appearance as in
    :func:`reduce`).

    Parameters
    ----------
    red
        A reduced model.
    keep
        Boolean mask over ``red.cand``.

    Returns
    -------
    Reduced
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.all():
        return red
    D = red.B[:, np.flatnonzero(keep)].tocsr()
    D.sort_indices()
    rows, gid, ng = merge_identical(D)
    wg = np.bincount(gid, weights=red.w[rows], minlength=ng)
    first = rows[np.unique(gid, return_index=True)[1]]
    return Reduced(red.cand[keep], D[first].astype(bool), wg, red.p_free, red.fixed_objective, red.cap_left,
                   red.n_demand_in, ng, red.n_pruned_by_bound, red.n_fixed_by_lagrange + int((~keep).sum()))
