"""Transportation LPs of the served model (HiGHS) and its exact reduction by the residual graph.

The served amount of a set of open facilities is the value of a transportation problem (a maximum
flow): demand group ``g`` sends at most ``w_g`` elderly, facility ``k`` takes at most ``c_k``, along
the reach arcs only. :class:`TransportLP` holds one such LP in HiGHS and re-solves it from its last
basis when facilities open or close (the greedy's exact marginal gains); :func:`merge_demand` merges
demand points reached by the same facilities; :func:`residual_reduction` keeps only the part of the
problem through which any new facility can ever gain (see its docstring for why this is exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["Arcs", "KeptPart", "TransportLP", "merge_demand", "residual_reduction", "served_value"]


@dataclass(frozen=True)
class Arcs:
    """A bipartite transportation network: demand groups × sites.

    Attributes
    ----------
    G
        Boolean CSR, groups × sites: an entry where the site reaches the group.
    w
        Weight (elderly) of each group.
    cap
        Capacity (places) of each site.
    """

    G: sp.csr_matrix
    w: np.ndarray
    cap: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of demand groups."""
        return int(self.G.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return int(self.G.shape[1])


def merge_demand(reach: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Demand points reached by the same sites merged into one group (weights summed).

    Exact for the transportation problem: flows of merged points can be split back in any
    proportion. Points with zero weight or reached by no site are left out (they cannot be served).

    Parameters
    ----------
    reach
        Boolean CSR, sites × demand.
    w
        Demand weights.

    Returns
    -------
    (G, wg, member)
        Groups × sites boolean CSR (groups in order of first appearance), group weights, and the
        group of each demand point (-1 when left out).
    """
    from carecover.siting.reduction import merge_identical

    keep = np.flatnonzero(w > 0)
    D = reach[:, keep].T.tocsr()
    D.sort_indices()
    rows, gid, ng = merge_identical(D)
    wg = np.bincount(gid, weights=w[keep[rows]], minlength=ng)
    first = rows[np.unique(gid, return_index=True)[1]]
    member = np.full(w.size, -1, dtype=np.int64)
    member[keep[rows]] = gid
    G = D[first].astype(bool).tocsr()
    G.sort_indices()
    return G, wg, member


# ----------------------------------------------------------------------------- the LP

class TransportLP:
    """``max sum x`` over the arcs of ``arcs`` with ``sum_k x_gk <= w_g`` and ``sum_g x_gk <= c_k``
    for open sites (closed sites take nothing), in one HiGHS instance re-solved from its last basis.

    Rows are the groups, then the sites. A site's arc columns join the LP the first time it opens
    (closing it again sets its row bound to 0), so the LP holds the fixed sites' arcs and those of
    the few candidates evaluated, not every candidate's.

    Parameters
    ----------
    arcs
        The network.
    open_
        Initially open sites (boolean mask).
    """

    def __init__(self, arcs: Arcs, open_: np.ndarray) -> None:
        import highspy

        from carecover.siting.highs import new_highs

        self.arcs = arcs
        self._Gc = arcs.G.tocsc()
        self.open = np.asarray(open_, bool).copy()
        self.present = np.zeros(arcs.n_sites, bool)
        ng, ns = arcs.n_groups, arcs.n_sites
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 0, ng + ns
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.row_lower_ = np.full(ng + ns, -np.inf)
        lp.row_upper_ = np.r_[arcs.w, np.where(self.open, arcs.cap, 0.0)]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(1, dtype=np.int32)
        h = new_highs(highspy)
        for key, value in LP_OPTIONS.items():
            h.setOptionValue(key, value)
        h.passModel(lp)
        self.h = h
        self.arc_g = np.zeros(0, dtype=np.int64)
        self.arc_k = np.zeros(0, dtype=np.int64)
        self._add_columns(np.flatnonzero(self.open))
        self.value = self._run()

    def _add_columns(self, sites: np.ndarray) -> None:
        """Arc columns of ``sites`` not yet in the LP (entries in their group row and site row)."""
        sites = np.asarray([k for k in np.asarray(sites, dtype=np.int64) if not self.present[k]], dtype=np.int64)
        if not sites.size:
            return
        Gc, ng = self._Gc, self.arcs.n_groups
        g = np.concatenate([Gc.indices[Gc.indptr[k]:Gc.indptr[k + 1]] for k in sites]).astype(np.int64)
        k = np.repeat(sites, np.diff(Gc.indptr)[sites])
        n = g.size
        self.h.addCols(n, np.ones(n), np.zeros(n), np.full(n, np.inf), 2 * n,
                       np.arange(0, 2 * n, 2, dtype=np.int32),
                       np.column_stack([g, ng + k]).ravel().astype(np.int32), np.ones(2 * n))
        self.arc_g = np.r_[self.arc_g, g]
        self.arc_k = np.r_[self.arc_k, k]
        self.present[sites] = True

    def _run(self) -> float:
        if not self.arc_g.size:
            return 0.0
        self.h.run()
        return float(self.h.getInfo().objective_function_value)

    def set_open(self, k: int, is_open: bool) -> None:
        """Open or close site ``k`` (takes effect at the next :meth:`solve`)."""
        k = int(k)
        if is_open:
            self._add_columns(np.array([k]))
        self.open[k] = bool(is_open)
        self.h.changeRowBounds(self.arcs.n_groups + k, -np.inf, float(self.arcs.cap[k]) if is_open else 0.0)

    def solve(self) -> float:
        """Re-solve (from the last basis); the served amount of the open sites."""
        self.value = self._run()
        return self.value

    def value_with(self, k: int) -> float:
        """Served amount with the closed site ``k`` also open; the LP is then put back as it was.

        Opening a site only relaxes the LP, so the primal simplex continues from the current
        optimal basis (a few pivots: the augmenting paths); afterwards the site's new columns are
        deleted and the saved basis restored, so the next evaluation starts from the same point.
        """
        k = int(k)
        if self.open[k]:
            return self.value
        basis = self.h.getBasis()
        n_before, had = self.arc_g.size, self.present[k]
        self.set_open(k, True)
        v = self._run()
        self.set_open(k, False)
        if not had:
            n = self.arc_g.size
            self.h.deleteCols(n - n_before, np.arange(n_before, n, dtype=np.int32))
            self.arc_g, self.arc_k = self.arc_g[:n_before], self.arc_k[:n_before]
            self.present[k] = False
        self.h.setBasis(basis) if not had else None
        return v

    def flows(self) -> np.ndarray:
        """Flow on each arc column (``arc_g``, ``arc_k``) in the last solution (tiny negatives cleared)."""
        if not self.arc_g.size:
            return np.zeros(0)
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        return np.maximum(x, 0.0)

    def loads(self) -> np.ndarray:
        """Elderly assigned to each site in the last solution."""
        return np.bincount(self.arc_k, weights=self.flows(), minlength=self.arcs.n_sites)

    def served(self) -> np.ndarray:
        """Elderly of each group served in the last solution."""
        return np.bincount(self.arc_g, weights=self.flows(), minlength=self.arcs.n_groups)


#: HiGHS options of the transportation LPs: the primal simplex re-solves from the last basis
#: after a site opens (a few pivots); deterministic.
LP_OPTIONS: dict[str, Any] = {"presolve": "off", "solver": "simplex", "simplex_strategy": 4, "random_seed": 0,
                              "primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}


def served_value(reach: sp.csr_matrix, w: np.ndarray, cap: np.ndarray, open_: np.ndarray) -> float:
    """The largest number of elderly the open sites can serve (one LP, no reduction).

    Parameters
    ----------
    reach
        Boolean CSR, sites × demand.
    w
        Demand weights.
    cap
        Capacity of each site.
    open_
        Boolean mask of open sites.

    Returns
    -------
    float
    """
    open_ = np.asarray(open_, bool)
    if not open_.any() or not (w > 0).any():
        return 0.0
    idx = np.flatnonzero(open_)
    G, wg, _ = merge_demand(reach[idx], w)
    if G.shape[0] == 0:
        return 0.0
    return TransportLP(Arcs(G, wg, cap[idx]), np.ones(idx.size, bool)).value


# ----------------------------------------------------------------------------- the reduction

@dataclass(frozen=True)
class KeptPart:
    """The part of a served problem through which new sites can gain (:func:`residual_reduction`).

    Attributes
    ----------
    groups
        Kept demand groups (indices into the input network's groups).
    fixed_sites
        Kept fixed sites (indices among the input's fixed sites).
    w
        Weight of each kept group left for the kept sites: its unserved elderly plus what kept
        fixed sites serve it in the base flow.
    cap_fixed
        Capacity of each kept fixed site left for kept groups (what it serves them in the base flow).
    base
        Served amount of the kept part before any new site: ``cap_fixed.sum()``.
    unserved
        Elderly of the kept groups unserved in the base flow.
    """

    groups: np.ndarray
    fixed_sites: np.ndarray
    w: np.ndarray
    cap_fixed: np.ndarray
    base: float
    unserved: float


def _reach_from(adj: sp.csr_matrix, starts: np.ndarray) -> np.ndarray:
    """Nodes of the directed graph ``adj`` reachable from any of ``starts`` (breadth first)."""
    n = adj.shape[0]
    if not starts.size:
        return np.zeros(n, bool)
    # one extra node pointing at every start
    extra = sp.csr_matrix((np.ones(starts.size), (np.full(starts.size, n), starts)), shape=(n + 1, n + 1))
    big = sp.bmat([[adj, None], [None, sp.csr_matrix((1, 1))]], format="csr") + extra
    order = csgraph.breadth_first_order(big, n, directed=True, return_predecessors=False)
    seen = np.zeros(n + 1, bool)
    seen[order] = True
    return seen[:n]


def residual_reduction(w: np.ndarray, n_fixed: int, flows: np.ndarray, arc_g: np.ndarray,
                       arc_k: np.ndarray, touched: np.ndarray) -> KeptPart:
    """The groups and fixed sites through which new sites can ever add served elderly.

    Given a maximum flow ``x0`` of the fixed sites, adding new sites ``S`` raises the served
    amount by the maximum flow from the source to ``S`` in the residual graph of ``x0``
    (augmenting paths never lower what a demand group is served). Its arcs: source → group with
    unserved elderly; group → every site reaching it; fixed site → group it serves (``x0 > 0``); a
    fixed site with spare capacity is never reachable (``x0`` is maximal). Each augmenting path
    only adds reverse arcs between nodes already on a path, so every path stays inside the nodes
    that are both reachable from the source and able to reach a group some new site reaches, in
    the residual graph of ``x0``. The problem on those nodes alone -- group weights cut by what
    other fixed sites serve them, fixed capacities cut by what they serve other groups -- has the
    base value ``sum(cap_fixed)`` and gains exactly what the whole problem gains.

    Parameters
    ----------
    w
        Weight of each demand group.
    n_fixed
        Number of fixed sites.
    flows, arc_g, arc_k
        The base maximum flow per arc of the fixed sites, and each arc's group and fixed site.
    touched
        Groups some new site reaches.

    Returns
    -------
    KeptPart
    """
    ng = w.size
    tol = 1e-9 * max(1.0, float(w.max(initial=0.0)))
    served = np.bincount(arc_g, weights=flows, minlength=ng)
    unserved = np.maximum(w - served, 0.0)
    # directed residual graph on groups 0..ng-1 and fixed sites ng..ng+n_fixed-1
    pos = flows > tol
    n = ng + n_fixed
    src = np.r_[arc_g, ng + arc_k[pos]]
    dst = np.r_[ng + arc_k, arc_g[pos]]
    adj = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    reach = _reach_from(adj, np.flatnonzero(unserved > tol))
    coreach = _reach_from(adj.T.tocsr(), np.asarray(touched, dtype=np.int64))
    keep = reach & coreach
    groups = np.flatnonzero(keep[:ng])
    fixed_sites = np.flatnonzero(keep[ng:])
    # kept group weight: unserved + served by kept fixed sites; kept site capacity: served to kept groups
    inner = keep[arc_g] & keep[ng + arc_k]
    w_k = unserved[groups] + np.bincount(arc_g[inner], weights=flows[inner], minlength=ng)[groups]
    cap_k = np.bincount(arc_k[inner], weights=flows[inner], minlength=n_fixed)[fixed_sites]
    return KeptPart(groups, fixed_sites, w_k, cap_k, float(cap_k.sum()), float(unserved[groups].sum()))
