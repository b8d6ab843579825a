"""The maximal served model's data (an assignment model): its inputs checked, the reduced problem
its solvers work on (:class:`Prepared`) and their result (:class:`ServedSolution`).

:class:`~carecover.siting.served.MaximalServed` adds ``solve`` to :class:`ServedModel`; the
solvers' served versions (:mod:`carecover.siting.served_solvers`) work on a
:class:`ServedModel`, so this module imports none of them. The transportation LPs and the exact
reduction are in :mod:`carecover.siting.served_flow`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.siting.constraints import (
    candidate_rules,
    check_candidate_ids,
    check_weights,
)
from carecover.siting.reach import as_bool_csr
from carecover.siting.served_flow import (
    Arcs,
    TransportLP,
    merge_demand,
    residual_reduction,
    served_value,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Prepared", "ServedModel", "ServedSolution", "check_capacity"]


def check_capacity(capacity: Any, n: int, name: str) -> np.ndarray:
    """Capacities as floats, one per facility (a scalar applies to all), finite and non-negative.

    Parameters
    ----------
    capacity
        Scalar or array-like of places.
    n
        Number of facilities.
    name
        Field named in errors (``capacity_existing`` or ``capacity_new``).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InputError
        On a wrong length, missing/infinite or negative values.
    """
    c = np.asarray(capacity, dtype=float)
    c = np.full(n, float(c)) if c.ndim == 0 else c.ravel()
    if c.shape != (n,):
        raise InputError(f"{name} has {c.size} values for {n} facilities / 容量个数 {c.size} 与设施数 {n} 不符",
                         field=name, expected=f"{n} values or one number")
    if not np.all(np.isfinite(c)):
        i = int(np.flatnonzero(~np.isfinite(c))[0])
        raise InputError(f"{name} of facility {i} is missing or infinite / 第 {i} 个设施容量缺失或无穷",
                         field=name, expected="finite places >= 0")
    if np.any(c < 0):
        i = int(np.flatnonzero(c < 0)[0])
        raise InputError(f"negative {name} {c[i]} at facility {i} / 第 {i} 个设施容量为负", field=name,
                         expected="places >= 0")
    return c


@dataclass(frozen=True)
class Prepared:
    """The reduced problem the served solvers work on (built once per model).

    Attributes
    ----------
    arcs
        Kept demand groups × (kept fixed sites, then model candidates); weights and capacities of
        the kept part (:func:`carecover.siting.served_flow.residual_reduction`).
    n_fixed
        Number of kept fixed sites (the first sites of ``arcs``).
    cand
        Original candidate index of each model candidate.
    base
        Served amount of the kept part with no new site.
    unserved
        Elderly of the kept part unserved before any new site (no set gains more).
    served_before, fixed_objective
        Served by the existing facilities alone; added by the forced sites.
    fixed_load, kept_fixed
        Elderly each fixed site (existing, then forced) serves in the base flow; which fixed sites
        the kept part holds (the first ``n_fixed`` sites of ``arcs``).
    counts
        Sizes for the solutions' ``extra`` (demand points, groups, kept groups and sites).
    """

    arcs: Arcs
    n_fixed: int
    cand: np.ndarray
    base: float
    unserved: float
    served_before: float
    fixed_objective: float
    fixed_load: np.ndarray
    kept_fixed: np.ndarray
    counts: dict[str, int]


class ServedModel:
    r"""Maximal served model: choose ``p`` candidates to serve the most elderly within capacity.

    Every facility serves only demand it reaches within the threshold and at most its capacity;
    existing facilities are fixed (open) with their capacities, a new site has the capacity the
    configuration sets. With :math:`I` the demand points (weight :math:`w_i`), :math:`E` the
    existing facilities, :math:`J` the candidates, :math:`N_i \subseteq E \cup J` the facilities
    reaching :math:`i`, :math:`c_k` the capacity of facility :math:`k`, :math:`x_{ik} \ge 0` the
    elderly of :math:`i` served by :math:`k` and :math:`y_j = 1` if candidate :math:`j` is chosen:

    .. math::

       \begin{array}{llll}
       \textbf{maximise}   & \sum_{i \in I} \sum_{k \in N_i} x_{ik}  &                       & (1)\ \text{served elderly} \\
       \textbf{subject to} & \sum_{k \in N_i} x_{ik} \le w_i         & \forall i \in I       & (2)\ \text{demand} \\
                           & \sum_{i : k \in N_i} x_{ik} \le c_k      & \forall k \in E       & (3)\ \text{existing capacity} \\
                           & \sum_{i : j \in N_i} x_{ij} \le c_j y_j  & \forall j \in J       & (4)\ \text{new capacity} \\
                           & \sum_{j \in J} y_j \le p                &                       & (5)\ \text{cardinality} \\
                           & \sum_{j \in J_g} y_j \le c_g            & \forall g \text{ capped} & (6)\ \text{group caps} \\
                           & y_j + y_k \le 1                         & \forall (j, k) \in C  & (7)\ \text{spacing} \\
                           & y_j = 1 \ (j \in F), \ y_j = 0 \ (j \in X) &                    & (8)\ \text{forced, forbidden} \\
                           & \sum_{j \in K_r} y_j \ge k_r            & \forall r             & (9)\ \text{at least (co-location)} \\
                           & x_{ik} \ge 0, \ y_j \in \{0, 1\}        &                       &
       \end{array}

    :math:`K_r` are the allowed candidates of row :math:`r` of ``min_sites_in`` (e.g. those
    co-located with a school, :mod:`carecover.siting.colocation`), of which at least :math:`k_r`
    are chosen; with such rows the served greedy gives the places the rows still need to their
    candidates, and the exact solver solves the whole reduced programme (no Lagrangian step).

    The objective reported is the *gain*: (1) minus what the existing facilities serve alone (a
    maximum flow). The served amount is monotone and submodular in the chosen set (a bipartite
    flow's value), so the greedy keeps its ``1 - 1/e`` guarantee and its online bound, (5) as
    "at most" gives the optimum of "exactly p", and solutions drop sites that add nothing.

    The solvers do not build (1)-(8) on the whole city: demand reached by the same facilities is
    merged, and only the part of the flow network through which a new site can ever gain is kept
    (:func:`~carecover.siting.served_flow.residual_reduction`; exact). Build with
    :meth:`from_reach_matrix`, solve with :meth:`solve` and a solver object.

    Attributes
    ----------
    A, E
        Reach matrices as boolean CSR: candidates × demand and existing facilities × demand.
    weights
        Demand weights (elderly).
    cap_existing, cap_new
        Places of each existing facility and of each candidate if chosen.
    p, forced, forbidden, allowed, groups, spacing, at_least, candidate_ids, candidate_xy
        As in :class:`~carecover.siting.model.MaximalCovering`.
    build_s
        Seconds taken to validate the inputs.
    """

    def __init__(self, reach: sp.spmatrix | np.ndarray, weights: np.ndarray, capacity_existing: Any,
                 capacity_new: Any, p: int, *, existing_reach: sp.spmatrix | np.ndarray | None = None,
                 candidate_ids: Sequence | None = None, groups: np.ndarray | None = None,
                 max_per_group: int | dict | None = None, candidate_xy: np.ndarray | None = None,
                 min_spacing_m: float | None = None, forced: Sequence[int] = (),
                 forbidden: Sequence[int] = (), min_sites_in: Mapping[str, tuple[np.ndarray, int]] | None = None
                 ) -> None:
        t0 = time.perf_counter()
        self.A = as_bool_csr(reach)
        self.n_candidates, self.n_demand = self.A.shape
        if existing_reach is None:
            self.E = sp.csr_matrix((0, self.n_demand), dtype=bool)
        else:
            self.E = as_bool_csr(existing_reach)
            if self.E.shape[1] != self.n_demand:
                raise InputError(
                    f"existing_reach has {self.E.shape[1]} demand columns, the candidates' {self.n_demand} / "
                    "现有设施与候选点的可达矩阵需求列数不符", field="existing_reach",
                    expected=f"{self.n_demand} columns")
        self.n_existing = int(self.E.shape[0])
        self.weights = check_weights(weights, self.n_demand)
        self.cap_existing = check_capacity(
            np.zeros(0) if capacity_existing is None and self.n_existing == 0 else capacity_existing,
            self.n_existing, "capacity_existing")
        self.cap_new = check_capacity(capacity_new, self.n_candidates, "capacity_new")
        self.candidate_ids = check_candidate_ids(candidate_ids, self.n_candidates)
        rules = candidate_rules(p, forced, forbidden, groups, max_per_group, candidate_xy, min_spacing_m,
                                self.n_candidates, min_sites_in)
        self.p, self.forced, self.forbidden = rules.p, rules.forced, rules.forbidden
        self.groups, self.allowed, self.spacing = rules.groups, rules.allowed, rules.spacing
        self.candidate_xy, self.at_least = rules.candidate_xy, rules.at_least
        self._prepared: Prepared | None = None
        self.build_s = time.perf_counter() - t0

    @classmethod
    def from_reach_matrix(cls, reach: sp.spmatrix | np.ndarray, weights: np.ndarray, capacity_existing: Any,
                          capacity_new: Any, p: int, *, existing_reach: sp.spmatrix | np.ndarray | None = None,
                          candidate_ids: Sequence | None = None, groups: np.ndarray | None = None,
                          max_per_group: int | dict | None = None, candidate_xy: np.ndarray | None = None,
                          min_spacing_m: float | None = None, forced: Sequence[int] = (),
                          forbidden: Sequence[int] = (),
                          min_sites_in: Mapping[str, tuple[np.ndarray, int]] | None = None) -> ServedModel:
        """A model from reach matrices and capacities.

        Parameters
        ----------
        reach
            Candidates × demand, ``scipy.sparse`` or array; an explicit entry (any truthy value,
            such as the seconds + 1e-9 of :func:`carecover.network.engine.reach_matrix`) means
            "within the threshold".
        weights
            Demand weights (elderly), non-negative, one per demand column.
        capacity_existing
            Places of each existing facility (one per row of ``existing_reach``; a number applies
            to all; ``None`` without existing facilities).
        capacity_new
            Places of a new site: one number, or one per candidate.
        p
            Number of new sites to choose (including ``forced``).
        existing_reach
            Existing facilities × demand (``None``: no existing facility).
        candidate_ids, groups, max_per_group, candidate_xy, min_spacing_m, forced, forbidden, min_sites_in
            As in :meth:`MaximalCovering.from_reach_matrix
            <carecover.siting.model.MaximalCovering.from_reach_matrix>`.

        Returns
        -------
        MaximalServed

        Raises
        ------
        InputError
            When an input is malformed or the constraints cannot all hold.
        """
        return cls(reach, weights, capacity_existing, capacity_new, p, existing_reach=existing_reach,
                   candidate_ids=candidate_ids, groups=groups, max_per_group=max_per_group,
                   candidate_xy=candidate_xy, min_spacing_m=min_spacing_m, forced=forced, forbidden=forbidden,
                   min_sites_in=min_sites_in)

    # ------------------------------------------------------------------ evaluation
    def served_of(self, sel: Sequence[int]) -> float:
        """Elderly served by the existing facilities and the candidates ``sel`` (one LP, unreduced)."""
        sel = np.asarray(sorted(set(int(j) for j in sel)), dtype=np.int64)
        reach = sp.vstack([self.E, self.A[sel]]).tocsr()
        cap = np.r_[self.cap_existing, self.cap_new[sel]]
        return served_value(reach, self.weights, cap, np.ones(cap.size, bool))

    def objective_of(self, sel: Sequence[int]) -> float:
        """Elderly newly served with the candidates ``sel`` (against the existing facilities alone)."""
        return self.served_of(sel) - self.served_of([])

    def is_feasible(self, sel: Sequence[int]) -> bool:
        """Whether the set ``sel`` respects the group caps, the spacing and the at-least rows."""
        from carecover.siting.model import MaximalCovering

        return MaximalCovering.is_feasible(self, sel)  # same attributes, same rule

    # ------------------------------------------------------------------ the reduced problem
    def prepared(self) -> Prepared:
        """The reduced problem (merged demand, the kept part of the flow network), built once."""
        if self._prepared is None:
            self._prepared = _prepare(self)
        return self._prepared

def _free_candidates(model: ServedModel) -> np.ndarray:
    """Candidates that may still be chosen once the forced sites are in."""
    free = model.allowed.copy()
    free[model.forced] = False
    if model.groups is not None and model.forced.size:
        cnt = np.bincount(model.groups.code[model.forced], minlength=len(model.groups.cap))
        full = np.flatnonzero((model.groups.cap >= 0) & (cnt >= model.groups.cap))
        free[np.isin(model.groups.code, full)] = False
    if model.spacing is not None:
        for j in model.forced:
            free[model.spacing.conflicts[int(j)]] = False
    # a co-located candidate counts for an at-least row even where it adds no places
    member = model.at_least.members.any(axis=0) if model.at_least is not None else False
    return np.flatnonzero(free & ((model.cap_new > 0) | member))


def _prepare(model: ServedModel) -> Prepared:
    """Merge demand, find the base flow of the fixed sites, keep the part new sites can gain in."""
    forced, free = model.forced, _free_candidates(model)
    fixed_reach = sp.vstack([model.E, model.A[forced]]).tocsr()
    n_fixed = fixed_reach.shape[0]
    cap_fixed = np.r_[model.cap_existing, model.cap_new[forced]]
    allreach = sp.vstack([fixed_reach, model.A[free]]).tocsr()
    G, wg, _ = merge_demand(allreach, model.weights)
    Gc = G.tocsc()
    GF, GN = Gc[:, :n_fixed].tocsr(), Gc[:, n_fixed:].tocsr()
    # the base flow: existing facilities alone, then with the forced sites
    lp = TransportLP(Arcs(GF, wg, cap_fixed), np.r_[np.ones(model.n_existing, bool), np.zeros(forced.size, bool)])
    before = lp.value
    for k in range(model.n_existing, n_fixed):
        lp.set_open(k, True)
    with_forced = lp.solve() if forced.size else before
    touched = np.flatnonzero(np.diff(GN.indptr) > 0)
    kept = residual_reduction(wg, n_fixed, lp.flows(), lp.arc_g, lp.arc_k, touched)
    # kept groups × (kept fixed sites, free candidates reaching a kept group), merged again
    sub = sp.hstack([GF[kept.groups][:, kept.fixed_sites], GN[kept.groups]]).tocsc()
    nkf = kept.fixed_sites.size
    useful = np.diff(sub.indptr)[nkf:] > 0
    if model.at_least is not None:  # kept for the at-least rows even when they serve no one
        useful |= model.at_least.members.any(axis=0)[free]
    useful = np.flatnonzero(useful)
    sub = sub[:, np.r_[np.arange(nkf), nkf + useful]].tocsr()
    G2, w2, member = merge_demand(sub.T.tocsr(), kept.w)
    arcs = Arcs(G2, w2, np.r_[kept.cap_fixed, model.cap_new[free[useful]]])
    counts = {"n_demand_in": int((model.weights > 0).sum()), "n_groups_all": int(G.shape[0]),
              "n_groups": int(G2.shape[0]), "n_fixed_kept": int(nkf), "n_fixed": int(n_fixed),
              "n_candidates_kept": int(useful.size)}
    return Prepared(arcs, nkf, free[useful], kept.base, kept.unserved, before, with_forced - before,
                    lp.loads(), kept.fixed_sites, counts)


# ----------------------------------------------------------------------------- the result

@dataclass
class ServedSolution:
    """Result of :meth:`MaximalServed.solve`.

    Attributes
    ----------
    chosen, candidate_ids
        Candidate indices (forced first, then in order of greedy marginal gain) and their ids.
    gains
        Elderly newly served by each site given the sites before it (a maximum flow each).
    load
        Elderly each chosen site serves in one optimal assignment of the whole set.
    capacity
        Places of each chosen site.
    objective
        Elderly newly served by all chosen sites (sum of ``gains``).
    served_before, served_after, total_weight
        Served by the existing facilities alone and with the new sites; all elderly.
    method, status, bound, gap, runtime_s, p, note, extra
        As in :class:`~carecover.siting.solution.SiteSolution` (the bound on the gain).
    """

    chosen: np.ndarray
    candidate_ids: list
    gains: np.ndarray
    load: np.ndarray
    capacity: np.ndarray
    objective: float
    served_before: float
    served_after: float
    total_weight: float
    method: str
    status: str
    bound: float | None
    gap: float | None
    runtime_s: float
    p: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share_before(self) -> float:
        """Served share of all elderly before the new sites."""
        return self.served_before / self.total_weight if self.total_weight > 0 else float("nan")

    @property
    def share_after(self) -> float:
        """Served share of all elderly with the new sites."""
        return self.served_after / self.total_weight if self.total_weight > 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per chosen site: ``rank``, ``candidate``, ``candidate_id``, ``gain``, ``load``,
        ``capacity``, ``served_weight`` and ``served_share`` (cumulative)."""
        import pandas as pd

        cum = self.served_before + np.cumsum(self.gains) if len(self.gains) else np.array([])
        tot = self.total_weight if self.total_weight > 0 else np.nan
        return pd.DataFrame({"rank": np.arange(1, len(self.chosen) + 1), "candidate": self.chosen.astype(int),
                             "candidate_id": list(self.candidate_ids), "gain": self.gains, "load": self.load,
                             "capacity": self.capacity, "served_weight": cum, "served_share": cum / tot})
