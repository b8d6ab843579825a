"""The served greedy: lazy greedy (CELF) on the reduced problem with exact marginal gains, each
the change of one transportation LP re-solved from its last basis (:class:`Evaluator`); the
served amount is submodular, so stale gains are upper bounds and the online bound ``f(S) + the
p largest marginal gains`` bounds the optimum. :mod:`carecover.siting.served_solvers` runs it
and warm-starts the integer programme (:mod:`carecover.siting.served_mip`) from it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from carecover.siting.greedy import Blocker
from carecover.siting.served_flow import TransportLP

if TYPE_CHECKING:
    from carecover.siting.served_model import Prepared, ServedModel

__all__ = ["Evaluator", "GreedyServedRun", "initial_bounds", "online_bound", "served_greedy"]


@dataclass
class GreedyServedRun:
    """The sequence a served greedy run took.

    Attributes
    ----------
    chosen
        Model-candidate positions (into ``Prepared.cand``) in the order taken.
    gains
        Exact marginal gain of each.
    bound
        Upper bound on the gain of any feasible set of ``p'`` free sites.
    ev
        The evaluator with the chosen sites open (its assignment warm-starts the MIP).
    single
        Upper bound on each model candidate's gain alone (exact where evaluated in the first round).
    n_evaluations
        LP re-solves spent on marginal gains.
    """

    chosen: list[int]
    gains: list[float]
    bound: float
    ev: Evaluator
    single: np.ndarray
    n_evaluations: int


def initial_bounds(prep: Prepared, lp: TransportLP) -> np.ndarray:
    """Upper bounds on each model candidate's gain alone: two cuts of the residual graph.

    The gain of ``j`` alone is a maximum flow from the source to ``j`` in the residual graph of
    the base flow, so any cut bounds it. Every path ends in a group ``N(j)`` that ``j`` reaches,
    arriving from the source (unserved elderly) or back along a fixed site's flow: the cut
    around ``N(j)`` is ``w(N(j))``. Taking in also the fixed sites ``E_j`` that serve ``N(j)``
    and every group they reach (arcs into a site cannot be cut), the cut is ``w(T) - c(E_j)``
    with ``T = N(j) + N(E_j)``: the elderly there less what those (saturated) sites serve. The
    bound is the smaller cut, at most ``c_j`` and all that is unserved.

    Parameters
    ----------
    prep
        The reduced problem.
    lp
        Its LP with only the fixed sites open (the base flow).
    """
    a, nf = prep.arcs, prep.n_fixed
    Gc = a.G.tocsc()
    reach = Gc[:, nf:].T.tocsr().astype(np.float64)  # candidates × groups
    cut1 = np.asarray(reach @ a.w).ravel()
    x = lp.flows()
    pos = x > 1e-9 * max(1.0, prep.unserved)
    serves = sp.csr_matrix((np.ones(int(pos.sum())), (lp.arc_g[pos], lp.arc_k[pos])),
                           shape=(a.n_groups, nf))  # groups × fixed sites with flow
    E = (reach @ serves).astype(bool).astype(np.float64)  # candidates × fixed sites serving N(j)
    T = ((E @ Gc[:, :nf].T.astype(np.float64)) + reach).astype(bool).astype(np.float64)
    load = np.bincount(lp.arc_k, weights=x, minlength=a.n_sites)[:nf]
    cut2 = np.asarray(T @ a.w).ravel() - np.asarray(E @ load).ravel()
    ub = np.minimum(np.minimum(cut1, np.maximum(cut2, 0.0)), a.cap[nf:])
    return np.minimum(ub, prep.unserved)


class Evaluator:
    """Exact marginal gains on the reduced problem for a growing set of new sites.

    A candidate whose groups hold enough unserved elderly to fill it (or to reach its known upper
    bound) gains exactly that by direct assignment, with no LP; otherwise the transportation LP
    is re-solved from its last basis with the candidate open.
    """

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.nf = prep.n_fixed
        self.lp = TransportLP(prep.arcs, np.r_[np.ones(self.nf, bool), np.zeros(prep.cand.size, bool)])
        self.cur = self.lp.value
        self.resid = np.maximum(prep.arcs.w - self.lp.served(), 0.0)
        self.Gc = prep.arcs.G.tocsc()
        self.tol = 1e-9 * max(1.0, prep.unserved)
        self.n_lp = 0

    def _groups(self, q: int) -> np.ndarray:
        k = self.nf + q
        return self.Gc.indices[self.Gc.indptr[k]:self.Gc.indptr[k + 1]]

    def _direct(self, q: int) -> float:
        return min(float(self.prep.arcs.cap[self.nf + q]), float(self.resid[self._groups(q)].sum()))

    def gain(self, q: int, ub: float) -> float:
        """Marginal gain of model candidate ``q``, given an upper bound ``ub`` on it."""
        direct = self._direct(q)
        if direct >= ub - self.tol:
            return direct
        self.n_lp += 1
        return max(0.0, self.lp.value_with(self.nf + q) - self.cur)

    def take(self, q: int, gain: float) -> None:
        """Open ``q`` (its marginal gain ``gain`` is known)."""
        self.lp.set_open(self.nf + q, True)
        self.n_lp += 1
        self.cur = self.lp.solve()
        self.resid = np.maximum(self.prep.arcs.w - self.lp.served(), 0.0)

    def group_prices(self) -> np.ndarray:
        """Each group's dual price in the LP of the open set (0..1: what one more elderly
        person of the group would add)."""
        self.lp.solve()
        ng = self.prep.arcs.n_groups
        dual = np.asarray(self.lp.h.getSolution().row_dual, dtype=float)[:ng] if self.lp.arc_g.size else np.zeros(0)
        return np.clip(np.abs(dual), 0.0, 1.0) if dual.size == ng else np.full(ng, 0.5)

    def loads(self) -> np.ndarray:
        """Elderly each site serves in one optimal assignment of the open set (an LP solve)."""
        self.lp.solve()
        return self.lp.loads()


def served_greedy(model: ServedModel, p_free: int) -> GreedyServedRun:
    """Lazy greedy (CELF) on the reduced problem: the best exact marginal gain (ties: lowest
    candidate index) until ``p_free`` free sites are taken or none adds anything.

    Parameters
    ----------
    model
        The model.
    p_free
        Free sites to take (``p - len(forced)``).

    Returns
    -------
    GreedyServedRun
    """
    prep = model.prepared()
    nc = prep.cand.size
    ev = Evaluator(prep)
    ub = initial_bounds(prep, ev.lp)
    single = ub.copy()
    bound0 = online_bound(ub, p_free, 0.0, prep.unserved)
    blocker = Blocker(model)
    for f in model.forced:
        blocker.take(int(f))
    tol = ev.tol
    heap = [(-float(ub[q]), int(prep.cand[q]), q, -1) for q in range(nc) if ub[q] > tol]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    rnd, n_eval = 0, 0
    while len(chosen) < p_free:
        claim = _reserved(model, ev, ub, blocker, chosen, p_free, not heap)
        if claim is not None:
            if claim[0] < 0:
                break  # an at-least row cannot be met any more
            q, g = claim
            ev.take(q, g)
            gains.append(g)
            chosen.append(q)
            ub[q] = 0.0
            blocker.take(int(prep.cand[q]))
            rnd += 1
            continue
        if not heap:
            break
        neg, j, q, r_eval = heapq.heappop(heap)
        if blocker.blocked[j]:
            continue
        if r_eval == rnd:
            ev.take(q, -neg)
            gains.append(-neg)
            chosen.append(q)
            ub[q] = 0.0
            blocker.take(j)
            rnd += 1
            continue
        g = ev.gain(q, -neg)
        n_eval += 1
        ub[q] = g
        if rnd == 0:
            single[q] = g
        if g > tol:
            heapq.heappush(heap, (-g, j, q, rnd))
    gain = float(sum(gains))
    bound = min(bound0, online_bound(ub, p_free, gain, prep.unserved))
    return GreedyServedRun(chosen, gains, bound, ev, single, n_eval)


def _reserved(model: ServedModel, ev: Evaluator, ub: np.ndarray, blocker: Blocker, chosen: list[int],
              p_free: int, heap_empty: bool) -> tuple[int, float] | None:
    """The model candidate the at-least rows claim now and its gain, ``None`` when they claim
    none, ``(-1, 0)`` when they cannot be met (as in :class:`carecover.siting.greedy.Greedy`:
    the best exact marginal gain among the candidates that lower a row still short, once the
    rows need as many sites as there are places left)."""
    al, prep = model.at_least, ev.prep
    if al is None:
        return None
    deficit = al.deficit([*model.forced.tolist(), *(int(prep.cand[q]) for q in chosen)])
    need = int(deficit.sum())
    if not need or (p_free - len(chosen) > need and not heap_empty):
        return None
    helps = al.helps(deficit)
    qs = [q for q in range(prep.cand.size) if helps[prep.cand[q]] and not blocker.blocked[prep.cand[q]]]
    if not qs:
        return -1, 0.0
    best, best_g = qs[0], -1.0
    for q in qs:  # in candidate order: ties keep the lowest index
        g = ev.gain(q, float(ub[q]))
        if g > best_g + ev.tol:
            best, best_g = q, g
    return best, max(best_g, 0.0)


def online_bound(ub: np.ndarray, k: int, gain: float, unserved: float) -> float:
    """``gain + sum of the k largest marginal-gain bounds``, at most all that is unserved."""
    top = float(np.sort(ub)[::-1][:k].sum()) if k > 0 and ub.size else 0.0
    return min(unserved, gain + top)
