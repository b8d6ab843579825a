"""Site selection: the maximal covering location problem (MCLP), spopt-style.

Build a :class:`MaximalCovering` model from a reach matrix (candidates × demand, an explicit entry
where candidate ``j`` reaches demand ``i`` within the threshold) with
:meth:`MaximalCovering.from_reach_matrix`, then solve it with a solver object::

    model = MaximalCovering.from_reach_matrix(reach, elderly, p=8, covered0=covered)
    greedy = model.solve(Greedy())                 # carecover.siting.greedy
    exact = model.solve(Highs(time_limit=30))      # carecover.siting.highs
    check = model.solve(BruteForce())              # carecover.siting.brute (tiny instances)

This module holds the model; the small functions that validate its inputs and build each side
constraint are in :mod:`carecover.siting.constraints`, every solver algorithm in its own module,
the curves in :mod:`carecover.siting.curve` and the what-if engine in :mod:`carecover.siting.whatif`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.siting.constraints import (
    GroupCaps,
    Selection,
    Spacing,
    candidate_rules,
    check_candidate_ids,
    check_covered0,
    check_weights,
    needed_too,
)
from carecover.siting.reach import pattern_of, row_of
from carecover.siting.solution import SiteSolution

__all__ = [
    "GroupCaps",
    "MaximalCovering",
    "Selection",
    "SiteSolution",
    "Solver",
    "Spacing",
]


class Solver(Protocol):
    """What :meth:`MaximalCovering.solve` needs of a solver: a ``name`` and ``run(model)``."""

    name: str

    def run(self, model: MaximalCovering) -> SiteSolution:
        """Solve ``model`` for its current ``p``."""
        ...


# ----------------------------------------------------------------------------- the model

class MaximalCovering:
    r"""Maximal covering location model: choose ``p`` candidates to cover the most demand weight.

    Existing facilities are fixed: demand they already cover (``covered0``) leaves the objective,
    which is the weight *newly* covered by the chosen candidates. With :math:`J` the candidates,
    :math:`I` the demand points not covered by existing facilities and with positive weight
    :math:`w_i`, :math:`N_i \subseteq J` the candidates reaching :math:`i` within the
    threshold, :math:`x_j = 1` if candidate :math:`j` is chosen and :math:`y_i = 1` if demand
    :math:`i` is newly covered:

    .. math::

       \begin{array}{llll}
       \textbf{maximise}   & \sum_{i \in I} w_i y_i                &                        & (1)\ \text{objective} \\
       \textbf{subject to} & y_i \le \sum_{j \in N_i} x_j          & \forall i \in I        & (2)\ \text{coverage} \\
                           & \sum_{j \in J} x_j \le p              &                        & (3)\ \text{cardinality} \\
                           & \sum_{j \in J_g} x_j \le c_g          & \forall g \text{ capped} & (4)\ \text{group caps} \\
                           & x_j + x_k \le 1                       & \forall (j, k) \in C   & (5)\ \text{spacing} \\
                           & x_j = 1 \ (j \in F), \ x_j = 0 \ (j \in X) &                   & (6)\ \text{forced, forbidden} \\
                           & \sum_{j \in K_r} x_j \ge k_r          & \forall r              & (7)\ \text{at least (co-location)} \\
                           & x_j \in \{0, 1\}, \ 0 \le y_i \le 1   &                        &
       \end{array}

    :math:`J_g` are the candidates of group :math:`g` with cap :math:`c_g` (a cap of 0 removes
    them from :math:`J`), :math:`C` the pairs of allowed candidates closer than
    ``min_spacing_m``, :math:`F`/:math:`X` the forced/forbidden candidates, :math:`K_r` the
    allowed candidates of row :math:`r` of ``min_sites_in`` (e.g. those co-located with a school,
    :mod:`carecover.siting.colocation`) of which at least :math:`k_r` must be chosen. The
    objective is still the elderly newly covered: (7) states the policy's preference as a rule,
    so its price is the drop in the optimum. The objective is
    monotone, so (3) as "at most" gives the same optimum as "exactly :math:`p`" whenever
    :math:`p` sites are possible; solutions drop sites that add nothing (see
    :attr:`SiteSolution.note <carecover.siting.solution.SiteSolution.note>`).

    Build with :meth:`from_reach_matrix` (calling the class takes the same arguments), solve
    with :meth:`solve` and a solver object: :class:`~carecover.siting.greedy.Greedy`,
    :class:`~carecover.siting.highs.Highs` or :class:`~carecover.siting.brute.BruteForce`.

    Attributes
    ----------
    A
        The reach matrix as boolean CSR (candidates × demand; a canonical matrix's columns are
        shared with it, see :func:`~carecover.siting.reach.pattern_of`).
    weights, covered0, active
        Demand weights, demand covered by existing facilities, and demand that can still gain
        (not covered, positive weight: the set :math:`I`).
    p, forced, forbidden, allowed
        See :class:`~carecover.siting.constraints.Selection`; ``allowed`` also excludes groups
        capped at 0.
    groups, spacing, at_least
        The side constraints (:class:`~carecover.siting.constraints.GroupCaps`,
        :class:`~carecover.siting.constraints.Spacing`,
        :class:`~carecover.siting.constraints.AtLeast`) or ``None``.
    candidate_ids, candidate_xy
        Candidate labels and projected coordinates (``None`` when not given).
    build_s
        Seconds taken to build the model.
    """

    def __init__(self, coverage: sp.spmatrix | np.ndarray, weights: np.ndarray, p: int, *,
                 covered0: np.ndarray | None = None, candidate_ids: Sequence | None = None,
                 groups: np.ndarray | None = None, max_per_group: int | dict | None = None,
                 candidate_xy: np.ndarray | None = None, min_spacing_m: float | None = None,
                 forced: Sequence[int] = (), forbidden: Sequence[int] = (),
                 min_sites_in: Mapping[str, tuple[np.ndarray, int]] | None = None) -> None:
        t0 = time.perf_counter()
        # the usual reach matrix's columns shared, not copied (the model only reads them)
        self.A = pattern_of(coverage)
        self.n_candidates, self.n_demand = self.A.shape
        self.weights = check_weights(weights, self.n_demand)
        self.covered0 = check_covered0(covered0, self.n_demand)
        self.candidate_ids = check_candidate_ids(candidate_ids, self.n_candidates)
        rules = candidate_rules(p, forced, forbidden, groups, max_per_group, candidate_xy, min_spacing_m,
                                self.n_candidates, min_sites_in)
        self.p, self.forced, self.forbidden = rules.p, rules.forced, rules.forbidden
        self.groups, self.allowed, self.spacing = rules.groups, rules.allowed, rules.spacing
        self.candidate_xy, self.at_least = rules.candidate_xy, rules.at_least
        self.active = (~self.covered0) & (self.weights > 0)
        self._gain: sp.csr_matrix | None = None
        self.build_s = time.perf_counter() - t0

    @classmethod
    def from_reach_matrix(cls, matrix: sp.spmatrix | np.ndarray, weights: np.ndarray, p: int, *,
                          covered0: np.ndarray | None = None, candidate_ids: Sequence | None = None,
                          groups: np.ndarray | None = None, max_per_group: int | dict | None = None,
                          candidate_xy: np.ndarray | None = None, min_spacing_m: float | None = None,
                          forced: Sequence[int] = (), forbidden: Sequence[int] = (),
                          min_sites_in: Mapping[str, tuple[np.ndarray, int]] | None = None) -> MaximalCovering:
        """A model from a reach matrix.

        Parameters
        ----------
        matrix
            ``scipy.sparse`` matrix (or array), candidates × demand; an explicit entry (any truthy
            value, such as the travel seconds + 1e-9 of
            :func:`carecover.network.engine.reach_matrix`) means "within the threshold".
        weights
            Demand weights (elderly or total population), non-negative, one per demand column.
        p
            Number of new sites to choose (including ``forced``).
        covered0
            Boolean array: demand already covered by existing facilities (fixed; not counted again).
        candidate_ids
            Labels for the candidates (reported in solutions); default the row indices.
        groups
            One label per candidate (e.g. the township); with ``max_per_group`` caps sites per group.
        max_per_group
            An int for every group, or a dict ``{group: cap}`` (groups absent from the dict: no cap).
        candidate_xy
            Projected candidate coordinates (metres), shape (n, 2); needed for ``min_spacing_m``.
        min_spacing_m
            Two chosen sites must be at least this far apart (straight line).
        forced, forbidden
            Candidate indices that must / must not be chosen.
        min_sites_in
            ``{label: (boolean mask over the candidates, k)}``: at least ``k`` chosen sites among
            the (allowed) candidates of the mask, constraint (7).

        Returns
        -------
        MaximalCovering

        Raises
        ------
        InputError
            When an input is malformed or the constraints cannot all hold (see the builders
            in :mod:`carecover.siting.constraints`).
        """
        return cls(matrix, weights, p, covered0=covered0, candidate_ids=candidate_ids, groups=groups,
                   max_per_group=max_per_group, candidate_xy=candidate_xy,
                   min_spacing_m=min_spacing_m, forced=forced, forbidden=forbidden, min_sites_in=min_sites_in)

    # ------------------------------------------------------------------ queries for the solvers
    def row(self, j: int) -> np.ndarray:
        """Demand indices candidate ``j`` reaches."""
        return row_of(self.A, j)

    @property
    def gain_matrix(self) -> sp.csr_matrix:
        """``A`` as float64 with only the columns of demand that can still gain (``active``),
        built once: ``gain_matrix @ v`` equals ``A @ v`` bit for bit wherever ``v`` is 0 on the
        other columns (the dropped terms are ``+0.0``), at a fraction of the cost when existing
        facilities already cover most demand."""
        if self._gain is None:
            A = self.A
            # the kept entries and their rows, without a float64 copy of the whole matrix first
            pos = np.flatnonzero(self.active[A.indices])
            per_row = np.bincount(np.searchsorted(A.indptr, pos, side="right") - 1, minlength=A.shape[0])
            indptr = np.zeros(len(A.indptr), dtype=A.indptr.dtype)
            np.cumsum(per_row, out=indptr[1:])
            indices = A.indices[pos]
            self._gain = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=A.shape)
        return self._gain

    def gain_row(self, j: int) -> np.ndarray:
        """The demand points that can still gain among those candidate ``j`` reaches (ascending)."""
        return row_of(self.gain_matrix, j)

    def is_feasible(self, sel: Sequence[int]) -> bool:
        """Whether the set ``sel`` respects the group caps, the spacing and the at-least rows."""
        sel = list(sel)
        if self.at_least is not None and not self.at_least.holds(sel):
            return False
        if self.groups is not None and sel:
            counts = np.bincount(self.groups.code[sel], minlength=len(self.groups.cap))
            if np.any((self.groups.cap >= 0) & (counts > self.groups.cap)):
                return False
        if self.spacing is not None and len(sel) > 1:
            s = set(sel)
            for j in sel:
                if any(int(k) in s for k in self.spacing.conflicts[j]):
                    return False
        return True

    def objective_of(self, sel: Sequence[int]) -> float:
        """Weight newly covered by the set ``sel``."""
        if not len(sel):
            return 0.0
        idx = np.unique(np.concatenate([self.row(j) for j in sel]))
        idx = idx[self.active[idx]]
        return float(self.weights[idx].sum())

    def greedy_order(self, sel: Sequence[int]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Order ``sel`` forced-first then by greedy marginal gain (ties: lowest index).

        Returns
        -------
        (order, gains, newly)
            The ordered indices, each one's marginal gain and the demand it newly covers.
        """
        covered = (~self.active).copy()
        order, gains, newly = [], [], []
        fset = [j for j in sorted(set(sel)) if j in set(self.forced.tolist())]
        rest = [j for j in sorted(set(sel)) if j not in set(fset)]
        for pool in (fset, rest):
            pool = list(pool)
            while pool:
                best, best_g, best_new = None, -1.0, None
                for j in pool:
                    r = self.row(j)
                    new = r[~covered[r]]
                    g = float(self.weights[new].sum())
                    if g > best_g:
                        best, best_g, best_new = j, g, new
                pool.remove(best)
                covered[best_new] = True
                order.append(best)
                gains.append(best_g)
                newly.append(best_new)
        return np.asarray(order, dtype=np.int64), np.asarray(gains, dtype=float), newly

    def prune(self, sel: Sequence[int]) -> list[int]:
        """``sel`` without the sites that add nothing (forced sites stay, and so do the sites an
        at-least row needs), in greedy order."""
        order, gains, _ = self.greedy_order(sel)
        fs = set(self.forced.tolist())
        keep = [int(j) for j, g in zip(order, gains, strict=True) if g > 0 or j in fs]
        return needed_too(self.at_least, keep, [int(j) for j in order])

    def solution(self, sel: Sequence[int], method: str, status: str, bound: float | None, t0: float,
                 note: str = "", extra: dict | None = None, ordered: tuple | None = None) -> SiteSolution:
        """The :class:`SiteSolution` of the set ``sel``.

        Parameters
        ----------
        sel
            Chosen candidates (any order; ordered by :meth:`greedy_order` unless ``ordered``).
        method, status
            Solver name and status.
        bound
            Upper bound on the objective (``None`` when unknown); raised to the objective.
        t0
            ``time.perf_counter()`` at the start of the solve (for ``runtime_s``).
        note, extra
            Remark and solver details.
        ordered
            ``(order, gains, newly)`` already computed by the solver.
        """
        if ordered is None:
            order, gains, newly = self.greedy_order(sel)
        else:
            order, gains, newly = (np.asarray(ordered[0], dtype=np.int64),
                                   np.asarray(ordered[1], dtype=float), ordered[2])
        obj = float(gains.sum())
        before = float(self.weights[self.covered0].sum())
        gap = None
        if bound is not None:
            bound = max(bound, obj)
            gap = 0.0 if bound <= 0 else max(0.0, (bound - obj) / bound)
        if len(order) < self.p and not note:
            note = (f"只选出 {len(order)} 处（少于 p = {self.p}）：其余候选点不再增加覆盖或受约束限制 / "
                    f"only {len(order)} of p = {self.p} sites: no further candidate adds coverage "
                    "or the constraints allow no more")
        return SiteSolution(
            chosen=order, candidate_ids=[self.candidate_ids[j] for j in order], gains=gains,
            newly_covered=newly, objective=obj, covered_before=before, covered_after=before + obj,
            total_weight=float(self.weights.sum()), method=method, status=status, bound=bound,
            gap=gap, runtime_s=time.perf_counter() - t0, p=self.p, note=note, extra=extra or {})

    # ------------------------------------------------------------------ solve
    def solve(self, solver: Solver, *, p: int | None = None) -> SiteSolution:
        """Choose the sites.

        Parameters
        ----------
        solver
            A solver object: :class:`~carecover.siting.greedy.Greedy`,
            :class:`~carecover.siting.highs.Highs` or :class:`~carecover.siting.brute.BruteForce`.
        p
            Override the model's ``p`` for this call (used by :mod:`carecover.siting.curve`).

        Returns
        -------
        SiteSolution
        """
        solver = solver_checked(solver)
        with with_p(self, p):
            return solver.run(self)


@contextlib.contextmanager
def with_p(model, p: int | None) -> Iterator[None]:
    """Context: ``model.p`` set to ``p`` (checked against the forced and allowed candidates)
    for one solve, restored afterwards; ``None`` keeps the model's own."""
    saved = model.p
    if p is not None:
        p = int(p)
        n_allowed = int(model.allowed.sum())
        if p < model.forced.size or p > n_allowed or p < 0:
            raise InputError(f"p = {p} is not between {model.forced.size} and {n_allowed} / p 超出范围",
                             field="p", expected=f"{model.forced.size}..{n_allowed}")
        model.p = p
    try:
        yield
    finally:
        model.p = saved


def solver_checked(solver: Solver) -> Solver:
    """``solver`` if it is a solver object (it has ``run``).

    Raises
    ------
    InputError
        Anything else (a name such as ``"exact"`` included: pass ``Highs()``).
    """
    if not callable(getattr(solver, "run", None)):
        raise InputError(f"unknown method {solver!r} / 未知求解方法", field="method",
                         expected="Greedy(), Highs() or BruteForce()")
    return solver
