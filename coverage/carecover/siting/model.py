"""Site selection: the maximal covering location problem (MCLP), spopt-style.

Build a :class:`MaximalCovering` model from a coverage matrix (candidates × demand, truthy where
candidate ``j`` reaches demand ``i`` within the threshold), then call :meth:`MaximalCovering.solve`:

* ``method="greedy"`` -- lazy greedy (CELF priority queue). Instant at city scale, within
  ``1 - 1/e`` of the optimum in theory and usually within a fraction of a percent in practice; the
  solution carries a data-dependent upper bound so the gap is known.
* ``method="exact"`` -- integer programme solved by HiGHS (``highspy``) with a time limit; the gap is
  HiGHS' MIP gap against its dual bound.
* ``method="brute"`` -- enumeration, for tests on tiny instances.

Demand already covered by existing facilities (``covered0``) is fixed: the objective is the weight
*newly* covered by the chosen sites. Side constraints honoured by every method: at most
``max_per_group`` sites per group (e.g. one per township), a minimum spacing between chosen sites,
forced and forbidden candidates.

Also here: :func:`coverage_curve` (covered weight against the number of new sites),
:func:`min_sites_for_target` and :class:`WhatIf` (add/remove one site interactively).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from carecover.errors import InputError

__all__ = [
    "BruteForce",
    "Greedy",
    "Highs",
    "MaximalCovering",
    "SiteSolution",
    "WhatIf",
    "coverage_curve",
    "min_sites_for_target",
]

#: Largest number of subsets ``method="brute"`` will enumerate.
BRUTE_LIMIT = 2_000_000

#: Options passed to HiGHS for ``method="exact"``. Presolve is off because :meth:`reduced` already
#: merges demand and drops useless candidates, and HiGHS' presolve then spends most of the time
#: (city-scale benchmark: 7.6 s of presolve against a 3 s solve without it).
HIGHS_OPTIONS: dict[str, Any] = {"presolve": "off", "mip_rel_gap": 1e-9, "random_seed": 0}


@dataclass(frozen=True)
class Greedy:
    """Lazy greedy (CELF): instant at city scale, with a data-dependent bound so the gap is known."""

    name = "greedy"


@dataclass(frozen=True)
class Highs:
    """The integer programme solved exactly by HiGHS (``highspy``).

    Parameters
    ----------
    time_limit
        Seconds; on expiry the best solution found is returned with ``status="time_limit"``
        and its gap against HiGHS' dual bound.
    threads
        HiGHS threads (``None``: HiGHS' choice).
    """

    time_limit: float = 30.0
    threads: int | None = None
    name = "exact"


@dataclass(frozen=True)
class BruteForce:
    """Enumeration of every feasible set, for tests on tiny instances."""

    name = "brute"


Solver = Greedy | Highs | BruteForce
_BY_NAME = {"greedy": Greedy, "exact": Highs, "brute": BruteForce}


@dataclass
class SiteSolution:
    """Result of :meth:`MaximalCovering.solve`.

    Attributes
    ----------
    chosen
        Candidate indices (rows of the coverage matrix), forced sites first, then in order of
        greedy marginal gain (for ``exact``/``brute``: greedy order within the chosen set).
    candidate_ids
        The ids of ``chosen`` (from ``candidate_ids``, else the indices).
    gains
        Marginal weight newly covered by each site given the sites before it.
    newly_covered
        Per site, the demand indices it newly covers (given ``covered0`` and earlier sites).
    objective
        Weight newly covered by all chosen sites (sum of ``gains``).
    covered_before, covered_after, total_weight
        Covered weight before (``covered0``) and after, and the total weight of all demand.
    method, status
        ``greedy``/``exact``/``brute``; ``optimal``, ``time_limit``, ``heuristic`` (greedy) or
        ``infeasible``.
    bound
        Upper bound on the best achievable objective (``exact``: HiGHS' dual bound; ``greedy``: the
        submodular online bound ``f(S) + sum of the p largest marginal gains w.r.t. S``).
    gap
        ``(bound - objective) / bound`` (0 when the bound is 0); None when unknown.
    runtime_s
        Wall time of ``solve``.
    p
        Number of sites asked for; ``len(chosen)`` is smaller when no further site adds coverage
        or the side constraints allow fewer (see ``note``).
    note
        Human-readable remark (Chinese first).
    """

    chosen: np.ndarray
    candidate_ids: list
    gains: np.ndarray
    newly_covered: list[np.ndarray]
    objective: float
    covered_before: float
    covered_after: float
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
        """Covered share of the total weight before the new sites."""
        return self.covered_before / self.total_weight if self.total_weight > 0 else float("nan")

    @property
    def share_after(self) -> float:
        """Covered share of the total weight with the new sites."""
        return self.covered_after / self.total_weight if self.total_weight > 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per chosen site: rank, index, id, gain, cumulative covered weight and share."""
        cum = self.covered_before + np.cumsum(self.gains) if len(self.gains) else np.array([])
        tot = self.total_weight if self.total_weight > 0 else np.nan
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(self.chosen) + 1),
                "candidate": self.chosen.astype(int),
                "candidate_id": list(self.candidate_ids),
                "gain": self.gains,
                "n_new_demand": [len(a) for a in self.newly_covered],
                "covered_weight": cum,
                "covered_share": cum / tot,
            }
        )


def _as_bool_csr(coverage: Any) -> sp.csr_matrix:
    """Coverage matrix as a boolean CSR with sorted indices and no explicit zeros."""
    if not sp.issparse(coverage):
        coverage = sp.csr_matrix(np.asarray(coverage))
    m = sp.csr_matrix(coverage, copy=True)
    m.data = m.data != 0
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    m = m.astype(bool)
    return m


class MaximalCovering:
    """Maximal covering location model: choose ``p`` candidates to cover the most demand weight.

    Parameters
    ----------
    coverage
        ``scipy.sparse`` matrix, candidates × demand; an entry (any truthy value, e.g. the travel
        time + 1e-9 from ``engine.reach_matrix``) means the candidate covers that demand.
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
    """

    def __init__(
        self,
        coverage: sp.spmatrix | np.ndarray,
        weights: np.ndarray,
        p: int,
        *,
        covered0: np.ndarray | None = None,
        candidate_ids: Sequence | None = None,
        groups: np.ndarray | None = None,
        max_per_group: int | dict | None = None,
        candidate_xy: np.ndarray | None = None,
        min_spacing_m: float | None = None,
        forced: Sequence[int] = (),
        forbidden: Sequence[int] = (),
    ) -> None:
        t0 = time.perf_counter()
        self.A = _as_bool_csr(coverage)
        n_cand, n_dem = self.A.shape
        self.n_candidates, self.n_demand = n_cand, n_dem

        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != (n_dem,):
            raise InputError(
                f"weights has {w.size} values but the coverage matrix has {n_dem} demand columns / "
                f"权重个数 {w.size} 与覆盖矩阵需求列数 {n_dem} 不符",
                field="weights", expected=f"{n_dem} values")
        if not np.all(np.isfinite(w)):
            raise InputError("weights contain NaN or infinite values / 权重含有空值或无穷值",
                             field="weights", expected="finite numbers")
        if np.any(w < 0):
            i = int(np.flatnonzero(w < 0)[0])
            raise InputError(f"negative weight {w[i]} at demand {i} / 需求点 {i} 权重为负",
                             field="weights", row=None, expected="weights >= 0")
        self.weights = w

        if covered0 is None:
            c0 = np.zeros(n_dem, dtype=bool)
        else:
            c0 = np.asarray(covered0)
            if c0.shape != (n_dem,):
                raise InputError(
                    f"covered0 has shape {c0.shape}, expected ({n_dem},) / covered0 长度与需求列数不符",
                    field="covered0", expected=f"{n_dem} booleans")
            c0 = c0.astype(bool)
        self.covered0 = c0

        p = int(p)
        if p < 0:
            raise InputError(f"p must be >= 0, got {p} / 新建站点数不能为负", field="p", expected=">= 0")
        self.p = p

        self.candidate_ids = list(range(n_cand)) if candidate_ids is None else list(candidate_ids)
        if len(self.candidate_ids) != n_cand:
            raise InputError(
                f"candidate_ids has {len(self.candidate_ids)} labels for {n_cand} candidates / "
                "候选点编号个数与候选点数不符", field="candidate_ids", expected=f"{n_cand} labels")

        def _idx(values: Sequence[int], name: str) -> np.ndarray:
            a = np.unique(np.asarray(list(values), dtype=np.int64))
            if a.size and (a.min() < 0 or a.max() >= n_cand):
                raise InputError(f"{name} holds an index outside 0..{n_cand - 1} / {name} 下标越界",
                                 field=name, expected=f"indices in 0..{n_cand - 1}")
            return a

        self.forced = _idx(forced, "forced")
        self.forbidden = _idx(forbidden, "forbidden")
        both = np.intersect1d(self.forced, self.forbidden)
        if both.size:
            raise InputError(f"candidate {int(both[0])} is both forced and forbidden / 候选点既被指定又被排除",
                             field="forced", expected="disjoint forced and forbidden")
        if self.forced.size > p:
            raise InputError(
                f"{self.forced.size} forced sites exceed p = {p} / 指定站点数 {self.forced.size} 超过 p = {p}",
                field="p", expected=f">= {self.forced.size}")
        allowed = np.ones(n_cand, dtype=bool)
        allowed[self.forbidden] = False
        self.allowed = allowed
        n_allowed = int(allowed.sum())
        if p > n_allowed:
            raise InputError(
                f"p = {p} but only {n_allowed} candidates may be chosen / 需新建 {p} 处，但只有 "
                f"{n_allowed} 个可选候选点", field="p", expected=f"<= {n_allowed}")

        # Groups: an integer code per candidate and a cap per code (-1 = uncapped).
        self.group_code: np.ndarray | None = None
        self.group_cap: np.ndarray | None = None
        if groups is not None:
            g = np.asarray(groups)
            if g.shape != (n_cand,):
                raise InputError(f"groups has shape {g.shape}, expected ({n_cand},) / 分组个数与候选点数不符",
                                 field="groups", expected=f"{n_cand} labels")
            labels, code = np.unique(g.astype(str) if g.dtype == object else g, return_inverse=True)
            caps = np.full(len(labels), -1, dtype=np.int64)
            if isinstance(max_per_group, dict):
                for k, v in max_per_group.items():
                    hit = np.flatnonzero(labels == (str(k) if g.dtype == object else k))
                    if hit.size:
                        caps[hit] = int(v)
            elif max_per_group is not None:
                caps[:] = int(max_per_group)
            if np.any((caps < 0) & (caps != -1)):
                raise InputError("max_per_group must be >= 0 / 每组上限不能为负", field="max_per_group",
                                 expected=">= 0")
            self.group_code, self.group_cap, self.group_labels = code.astype(np.int64), caps, labels
            # a group capped at 0 (e.g. a township that already has a centre) offers no candidate
            self.allowed &= ~(caps[self.group_code] == 0)
        elif max_per_group is not None:
            raise InputError("max_per_group needs groups / 设置每组上限须提供分组", field="groups",
                             expected="one group label per candidate")

        # Spacing: conflict pairs among allowed candidates (KD-tree), as adjacency lists.
        self.min_spacing_m = None if min_spacing_m is None else float(min_spacing_m)
        self.conflicts: list[np.ndarray] | None = None
        self.conflict_pairs = np.zeros((0, 2), dtype=np.int64)
        if self.min_spacing_m is not None and self.min_spacing_m > 0:
            if candidate_xy is None:
                raise InputError("min_spacing_m needs candidate_xy / 最小间距须提供候选点投影坐标",
                                 field="candidate_xy", expected="(n, 2) projected metres")
            xy = np.asarray(candidate_xy, dtype=float)
            if xy.shape != (n_cand, 2) or not np.all(np.isfinite(xy)):
                raise InputError(f"candidate_xy must be finite with shape ({n_cand}, 2) / 候选点坐标形状或数值有误",
                                 field="candidate_xy", expected=f"({n_cand}, 2) finite metres")
            from scipy.spatial import cKDTree

            idx = np.flatnonzero(allowed)
            tree = cKDTree(xy[idx])
            # Pairs strictly closer than the spacing conflict; shrink r a hair for "at least".
            r = self.min_spacing_m * (1 - 1e-12)
            pairs = tree.query_pairs(r, output_type="ndarray")
            pairs = idx[pairs] if len(pairs) else np.zeros((0, 2), dtype=np.int64)
            pairs = np.sort(pairs, axis=1)
            self.conflict_pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
            adj = sp.coo_matrix((np.ones(2 * len(pairs), dtype=bool),
                                 (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])),
                                shape=(n_cand, n_cand)).tocsr()
            self.conflicts = [adj.indices[adj.indptr[j]:adj.indptr[j + 1]] for j in range(n_cand)]
        self.candidate_xy = None if candidate_xy is None else np.asarray(candidate_xy, dtype=float)

        self._check_forced_feasible()
        # Demand that can still gain: not yet covered, positive weight.
        self.active = (~c0) & (w > 0)
        self.build_s = time.perf_counter() - t0

    # ------------------------------------------------------------------ helpers
    def _check_forced_feasible(self) -> None:
        f = self.forced
        if self.group_code is not None and f.size:
            counts = np.bincount(self.group_code[f], minlength=len(self.group_cap))
            bad = np.flatnonzero((self.group_cap >= 0) & (counts > self.group_cap))
            if bad.size:
                raise InputError(
                    f"forced sites exceed the cap of group {self.group_labels[bad[0]]!r} / "
                    "指定站点超过该组上限", field="forced", expected="forced sites within group caps")
        if self.conflicts is not None and f.size > 1:
            fs = set(f.tolist())
            for a, b in self.conflict_pairs:
                if a in fs and b in fs:
                    raise InputError(
                        f"forced sites {a} and {b} are closer than {self.min_spacing_m} m / "
                        "两个指定站点间距小于最小间距", field="forced", expected="forced sites far enough apart")

    def _feasible_set(self, sel: Sequence[int]) -> bool:
        sel = list(sel)
        if self.group_code is not None and sel:
            counts = np.bincount(self.group_code[sel], minlength=len(self.group_cap))
            if np.any((self.group_cap >= 0) & (counts > self.group_cap)):
                return False
        if self.conflicts is not None and len(sel) > 1:
            s = set(sel)
            for j in sel:
                if any(int(k) in s for k in self.conflicts[j]):
                    return False
        return True

    def _row(self, j: int) -> np.ndarray:
        A = self.A
        return A.indices[A.indptr[j]:A.indptr[j + 1]]

    def _objective(self, sel: Sequence[int]) -> float:
        """Weight newly covered by the set ``sel``."""
        if not len(sel):
            return 0.0
        idx = np.unique(np.concatenate([self._row(j) for j in sel]))
        idx = idx[self.active[idx]]
        return float(self.weights[idx].sum())

    def _greedy_order(self, sel: Sequence[int]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Order ``sel`` forced-first then by greedy marginal gain (ties: lowest index)."""
        covered = ~self.active
        covered = covered.copy()
        order, gains, newly = [], [], []
        fset = [j for j in sorted(set(sel)) if j in set(self.forced.tolist())]
        rest = [j for j in sorted(set(sel)) if j not in set(fset)]
        for pool in (fset, rest):
            pool = list(pool)
            while pool:
                best, best_g, best_new = None, -1.0, None
                for j in pool:
                    r = self._row(j)
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

    def _solution(self, sel: Sequence[int], method: str, status: str, bound: float | None,
                  t0: float, note: str = "", extra: dict | None = None,
                  ordered: tuple | None = None) -> SiteSolution:
        if ordered is None:
            order, gains, newly = self._greedy_order(sel)
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

    @classmethod
    def from_reach_matrix(cls, matrix: sp.spmatrix | np.ndarray, weights: np.ndarray, p: int,
                          **constraints: Any) -> MaximalCovering:
        """A model from a reach matrix (candidates × demand; an explicit entry, such as the
        travel seconds + 1e-9 of :func:`carecover.network.engine.reach_matrix`, means "within
        the threshold"). ``constraints`` are the keyword arguments of the class."""
        return cls(matrix, weights, p, **constraints)

    # ------------------------------------------------------------------ solve
    def solve(self, solver: Solver | str | None = None, time_limit: float = 30.0, *, p: int | None = None,
              threads: int | None = None) -> SiteSolution:
        """Choose the sites.

        Parameters
        ----------
        solver
            :class:`Greedy` (default), :class:`Highs` or :class:`BruteForce` (or their names
            ``"greedy"``, ``"exact"``, ``"brute"``).
        time_limit, threads
            For a solver given by name: the :class:`Highs` time limit and threads.
        p
            Override the model's ``p`` for this call (used by :func:`coverage_curve`).
        """
        if solver is None or isinstance(solver, str):
            name = solver or "greedy"
            if name not in _BY_NAME:
                raise InputError(f"unknown method {name!r} / 未知求解方法", field="method",
                                 expected="greedy, exact or brute")
            solver = Highs(time_limit, threads) if name == "exact" else _BY_NAME[name]()
        method = solver.name
        if isinstance(solver, Highs):
            time_limit, threads = solver.time_limit, solver.threads
        saved = self.p
        if p is not None:
            p = int(p)
            if p < self.forced.size or p > int(self.allowed.sum()) or p < 0:
                raise InputError(f"p = {p} is not between {self.forced.size} and {int(self.allowed.sum())} / p 超出范围",
                                 field="p", expected=f"{self.forced.size}..{int(self.allowed.sum())}")
            self.p = p
        try:
            if method == "greedy":
                return self._solve_greedy()
            if method == "exact":
                return self._solve_exact(time_limit, threads)
            if method == "brute":
                return self._solve_brute()
            raise InputError(f"unknown method {method!r} / 未知求解方法", field="method",
                             expected="greedy, exact or brute")
        finally:
            self.p = saved

    def _run_greedy(self, p: int) -> tuple[list[int], np.ndarray, list[float], list[np.ndarray]]:
        """Lazy greedy (CELF): forced sites first, then the best marginal gain (ties: lowest index).

        Returns the chosen indices, the final covered mask, the gains and the newly covered demand.
        """
        A, w = self.A, self.weights
        covered = ~self.active  # True where demand cannot gain any more
        chosen: list[int] = []
        gains: list[float] = []
        newly: list[np.ndarray] = []
        blocked = ~self.allowed
        group_left = None if self.group_code is None else self.group_cap.copy()

        def take(j: int) -> None:
            r = self._row(j)
            new = r[~covered[r]]
            gains.append(float(w[new].sum()))
            newly.append(new)
            covered[r] = True
            chosen.append(j)
            blocked[j] = True
            if group_left is not None:
                g = self.group_code[j]
                if group_left[g] >= 0:
                    group_left[g] -= 1
                    if group_left[g] == 0:
                        blocked[self.group_code == g] = True
            if self.conflicts is not None:
                blocked[self.conflicts[j]] = True

        if self.forced.size:
            for j in self._greedy_order(self.forced)[0]:
                take(int(j))
        if len(chosen) >= p:
            return chosen, covered, gains, newly
        # Initial gains in one sparse product; heap of (-gain, index, round evaluated).
        g0 = A @ np.where(covered, 0.0, w)
        heap = [(-float(g0[j]), int(j), 0) for j in np.flatnonzero(~blocked) if g0[j] > 0]
        heapq.heapify(heap)
        rnd = 0
        while heap and len(chosen) < p:
            _, j, r_eval = heapq.heappop(heap)
            if blocked[j]:
                continue
            if r_eval == rnd:
                take(j)
                rnd += 1
                continue
            r = self._row(j)
            g = float(w[r[~covered[r]]].sum())
            if g > 0:
                heapq.heappush(heap, (-g, j, rnd))
        return chosen, covered, gains, newly

    def _online_bound(self, covered: np.ndarray, obj: float) -> float:
        """``f(S) + sum of the p largest marginal gains w.r.t. S``.

        Submodularity makes this an upper bound on any feasible set of at most p sites, so it
        bounds the optimum under every side constraint too (Leskovec et al. 2007).
        """
        gains = self.A @ np.where(covered, 0.0, self.weights)
        gains = gains[self.allowed]
        k = min(self.p, gains.size)
        top = np.sort(gains)[::-1][:k].sum() if k else 0.0
        return obj + float(top)

    def _solve_greedy(self) -> SiteSolution:
        t0 = time.perf_counter()
        chosen, covered, gains, newly = self._run_greedy(self.p)
        # The online bound holds at every prefix S_i of the greedy sequence; keep the tightest.
        k = len(chosen)
        steps = set(range(0, k + 1, max(1, k // 32))) | {k}
        cov = ~self.active
        cum = 0.0
        bound = np.inf
        for i in range(k + 1):
            if i in steps:
                bound = min(bound, self._online_bound(cov, cum))
            if i < k:
                cov = cov.copy() if i == 0 else cov
                cov[newly[i]] = True
                cum += gains[i]
        return self._solution(chosen, "greedy", "heuristic", bound, t0,
                              extra={"bound_kind": "submodular online bound"},
                              ordered=(chosen, gains, newly))

    def _solve_brute(self) -> SiteSolution:
        t0 = time.perf_counter()
        free = [j for j in np.flatnonzero(self.allowed) if j not in set(self.forced.tolist())]
        k = self.p - self.forced.size
        n_sub = sum(math.comb(len(free), kk) for kk in range(k + 1))
        if n_sub > BRUTE_LIMIT:
            raise InputError(f"brute force would enumerate {n_sub} subsets / 穷举子集过多",
                             field="method", expected=f"at most {BRUTE_LIMIT} subsets")
        best, best_obj = None, -1.0
        # Smaller subsets too: with spacing or group caps a maximal feasible set may have < p sites.
        for kk in range(k, -1, -1):
            for comb in itertools.combinations(free, kk):
                sel = list(self.forced) + list(comb)
                if not self._feasible_set(sel):
                    continue
                obj = self._objective(sel)
                if obj > best_obj + 1e-9:
                    best, best_obj = sel, obj
        if best is None:
            return self._solution([], "brute", "infeasible", None, t0)
        # Drop sites with no marginal gain (except forced) so results compare across methods.
        best = self._prune(best)
        return self._solution(best, "brute", "optimal", best_obj, t0)

    def _prune(self, sel: Sequence[int]) -> list[int]:
        order, gains, _ = self._greedy_order(sel)
        fs = set(self.forced.tolist())
        return [int(j) for j, g in zip(order, gains, strict=True) if g > 0 or j in fs]

    # ------------------------------------------------------------------ exact
    def reduced(self, lower_bound: float | None = None) -> dict[str, Any]:
        """The reduced model used by ``exact``.

        Forced sites are fixed: the demand they cover leaves the model, and candidates they exclude
        (group cap reached, closer than the spacing) are dropped, leaving ``p - len(forced)`` free
        choices. Demand that cannot gain (covered already, zero weight) or that no remaining
        candidate reaches is left out; demand with identical sets of covering candidates is merged
        (weights summed); candidates that cover nothing new are left out. With ``lower_bound`` (the
        objective of a known solution, e.g. greedy's), a candidate ``j`` is also left out when even
        ``gain_j + (sum of the p' - 1 largest single-site gains)`` falls short of it: no solution
        containing ``j`` can then be optimal.

        Returns
        -------
        dict with ``cand`` (original candidate indices, model columns), ``B`` (csr, merged demand ×
        model candidates), ``w`` (merged weights), ``p_free``, ``fixed_objective`` (weight covered by
        forced sites), ``cap_left`` (per group, or None) and counts ``n_demand_in``, ``n_groups``,
        ``n_pruned_by_bound``.
        """
        A, w = self.A, self.weights
        F = self.forced
        active = self.active.copy()
        free = self.allowed.copy()
        free[F] = False
        fixed = 0.0
        cap_left = None if self.group_code is None else self.group_cap.copy()
        if F.size:
            rowsF = np.unique(np.concatenate([self._row(int(j)) for j in F]))
            rowsF = rowsF[active[rowsF]]
            fixed = float(w[rowsF].sum())
            active[rowsF] = False
            if cap_left is not None:
                cnt = np.bincount(self.group_code[F], minlength=len(cap_left))
                capped = cap_left >= 0
                cap_left[capped] -= cnt[capped]
                full = np.flatnonzero(capped & (cap_left <= 0))
                free[np.isin(self.group_code, full)] = False
            if self.conflicts is not None:
                for j in F:
                    free[self.conflicts[int(j)]] = False
        p_free = self.p - int(F.size)
        act = np.flatnonzero(active)
        free_idx = np.flatnonzero(free)
        sub = A[free_idx][:, act].astype(np.float64)  # free candidates × active demand
        gains = np.asarray(sub @ w[act]).ravel()
        useful = gains > 0
        n_pruned = 0
        if lower_bound is not None and p_free > 0 and useful.any():
            top = np.sort(gains)[::-1][: p_free - 1].sum()
            target = lower_bound - fixed
            ok = gains + top >= target - 1e-9 * max(1.0, abs(target))
            n_pruned = int((useful & ~ok).sum())
            useful &= ok
        keep = free_idx[useful]
        D = sub[useful].T.tocsr()  # active demand × kept candidates
        D.sort_indices()
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
        ng = len(keys)
        wg = np.bincount(gid, weights=w[act[rows]], minlength=ng)
        # Groups are numbered in order of first appearance, so return_index gives each group's row.
        first = rows[np.unique(gid, return_index=True)[1]]
        B = D[first].astype(bool)
        return {"cand": keep, "B": B, "w": wg, "p_free": p_free, "fixed_objective": fixed,
                "cap_left": cap_left, "n_demand_in": int(act.size), "n_groups": ng,
                "n_pruned_by_bound": n_pruned}

    def _solve_exact(self, time_limit: float, threads: int | None) -> SiteSolution:
        import highspy

        t0 = time.perf_counter()
        # Greedy first: warm start, bound for pruning, and fallback if HiGHS finds nothing in time.
        g_sol = self._solve_greedy()
        g_sel = [int(j) for j in g_sol.chosen]
        g_obj = g_sol.objective
        red = self.reduced(lower_bound=g_obj)
        cand, B, wg, p_free = red["cand"], red["B"], red["w"], red["p_free"]
        nc, ng = cand.size, wg.size
        extra = {k: v for k, v in red.items() if k.startswith("n_")}
        extra.update({"n_model_candidates": int(nc), "build_s": self.build_s})
        if nc == 0 or ng == 0 or p_free == 0:
            # Nothing left to choose: greedy (forced sites + anything useful) is optimal.
            sel = self._prune(g_sel)
            return self._solution(sel, "exact", "optimal", self._objective(sel), t0, extra=extra)
        pos = {int(c): n for n, c in enumerate(cand)}

        # Columns: x (nc, binary) then y (ng, continuous in [0, 1]; integral at any optimum given x).
        n_col = nc + ng
        cost = np.r_[np.zeros(nc), wg]
        lower = np.zeros(n_col)
        upper = np.ones(n_col)
        rows_i, rows_j, rows_v, rlo, rup = [], [], [], [], []
        # y_g - sum_{j covers g} x_j <= 0
        Bc = B.tocoo()
        rows_i.append(Bc.row.astype(np.int64))
        rows_j.append(Bc.col.astype(np.int64))
        rows_v.append(-np.ones(Bc.nnz))
        rows_i.append(np.arange(ng, dtype=np.int64))
        rows_j.append(nc + np.arange(ng, dtype=np.int64))
        rows_v.append(np.ones(ng))
        rlo.append(np.full(ng, -np.inf))
        rup.append(np.zeros(ng))
        r = ng
        # sum x <= p' (monotone objective: as good as = p' whenever p' sites are possible)
        rows_i.append(np.full(nc, r, dtype=np.int64))
        rows_j.append(np.arange(nc, dtype=np.int64))
        rows_v.append(np.ones(nc))
        rlo.append(np.array([-np.inf]))
        rup.append(np.array([float(p_free)]))
        r += 1
        if self.group_code is not None:
            gc = self.group_code[cand]
            cap_left = red["cap_left"]
            for g in np.unique(gc):
                cap = cap_left[g]
                members = np.flatnonzero(gc == g)
                if cap < 0 or cap >= min(members.size, p_free):
                    continue
                rows_i.append(np.full(members.size, r, dtype=np.int64))
                rows_j.append(members.astype(np.int64))
                rows_v.append(np.ones(members.size))
                rlo.append(np.array([-np.inf]))
                rup.append(np.array([float(cap)]))
                r += 1
        n_pairs = 0
        if self.conflicts is not None and len(self.conflict_pairs):
            inmod = np.zeros(self.n_candidates, dtype=np.int64) - 1
            inmod[cand] = np.arange(nc)
            pr = inmod[self.conflict_pairs]
            pr = pr[(pr >= 0).all(axis=1)]
            n_pairs = len(pr)
            if n_pairs:
                rr = r + np.arange(n_pairs, dtype=np.int64)
                rows_i += [rr, rr]
                rows_j += [pr[:, 0], pr[:, 1]]
                rows_v += [np.ones(n_pairs), np.ones(n_pairs)]
                rlo.append(np.full(n_pairs, -np.inf))
                rup.append(np.ones(n_pairs))
                r += n_pairs
        M = sp.csc_matrix((np.concatenate(rows_v), (np.concatenate(rows_i), np.concatenate(rows_j))),
                          shape=(r, n_col))
        M.sort_indices()

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_col, r
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = cost
        lp.col_lower_, lp.col_upper_ = lower, upper
        lp.row_lower_, lp.row_upper_ = np.concatenate(rlo), np.concatenate(rup)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = M.indptr.astype(np.int32)
        lp.a_matrix_.index_ = M.indices.astype(np.int32)
        lp.a_matrix_.value_ = M.data
        lp.integrality_ = [highspy.HighsVarType.kInteger] * nc + [highspy.HighsVarType.kContinuous] * ng
        h = _new_highs(highspy)
        h.setOptionValue("time_limit", float(max(0.1, time_limit - (time.perf_counter() - t0))))
        for key, value in HIGHS_OPTIONS.items():
            h.setOptionValue(key, value)
        if threads:
            h.setOptionValue("threads", int(threads))
        h.passModel(lp)
        # Warm start from greedy: x from the greedy set, y_g = 1 where covered.
        try:
            xs = np.zeros(nc)
            gsel = [pos[j] for j in g_sel if j in pos]  # forced sites are not model columns
            xs[gsel] = 1.0
            ys = np.minimum(1.0, B @ xs)
            sol = highspy.HighsSolution()
            sol.col_value = list(np.r_[xs, ys])
            sol.value_valid = True
            h.setSolution(sol)
        except Exception:  # noqa: BLE001 - warm start is an optimisation only
            pass
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        ms = h.modelStatusToString(status)
        x = np.asarray(h.getSolution().col_value[:nc]) if info.primal_solution_status else None
        if x is None or len(x) != nc:
            sel = list(g_sel)
            st = "time_limit_greedy"
        else:
            sel = [int(j) for j in self.forced] + [int(c) for c in cand[x > 0.5]]
            st = "optimal" if status == highspy.HighsModelStatus.kOptimal else (
                "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else ms)
        if g_obj > self._objective(sel) + 1e-9:
            sel = list(g_sel)  # never worse than greedy
        # HiGHS' dual bound is on the free part; add back what forced sites cover.
        bound = (float(info.mip_dual_bound) + red["fixed_objective"]
                 if np.isfinite(info.mip_dual_bound) else None)
        # Early in the search HiGHS' bound can be weaker than greedy's online bound: keep the better.
        if g_sol.bound is not None:
            bound = g_sol.bound if bound is None else min(bound, g_sol.bound)
        if st == "optimal":
            bound = self._objective(sel) if bound is None else bound
        sel = self._prune(sel)
        extra.update({"n_conflict_pairs": int(n_pairs), "highs_status": ms,
                      "highs_mip_gap": float(info.mip_gap)})
        return self._solution(sel, "exact", st, bound, t0, extra=extra)


_HIGHS_BANNER_SHOWN = False


def _new_highs(highspy: Any) -> Any:
    """A silent ``highspy.Highs``; the first one per process prints a banner on fd 1, so hide it."""
    global _HIGHS_BANNER_SHOWN
    if _HIGHS_BANNER_SHOWN:
        h = highspy.Highs()
    else:
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _HIGHS_BANNER_SHOWN = True
    h.silent()
    return h


# ---------------------------------------------------------------------- curves and targets
def coverage_curve(model: MaximalCovering, p_max: int, *, exact: bool = False,
                   time_limit: float = 30.0) -> pd.DataFrame:
    """Covered weight against the number of new sites, 0..``p_max``.

    Greedy solutions are nested, so one greedy run gives the whole curve; with ``exact=True`` an
    exact solve per ``p`` adds the column ``covered_exact`` (the greedy column stays).

    Returns
    -------
    DataFrame with ``p``, ``covered_weight``, ``share``, ``marginal_gain``, ``site`` (candidate
    index added at that step; -1 for p = 0) and optionally ``covered_exact``, ``share_exact``.
    """
    p_max = int(min(p_max, int(model.allowed.sum())))
    p_max = max(p_max, model.forced.size)
    sol = model.solve("greedy", p=p_max)
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
    if exact:
        ex = []
        for k in range(n):
            if k < model.forced.size:
                ex.append(np.nan)
                continue
            ex.append(model.solve("exact", time_limit=time_limit, p=k).covered_after)
        df["covered_exact"] = ex
        df["share_exact"] = df["covered_exact"] / tot
    return df


def min_sites_for_target(model: MaximalCovering, target_share: float, *, method: str = "greedy",
                         max_sites: int | None = None, time_limit: float = 30.0
                         ) -> tuple[int | None, SiteSolution]:
    """Smallest number of new sites whose coverage reaches ``target_share`` of the total weight.

    Existing facilities (``covered0``) and forced sites count. With ``method="greedy"`` the count
    is the greedy one (an upper bound on the true minimum); with ``"exact"`` it is searched
    downward from the greedy count with exact solves.

    Returns
    -------
    ``(k, solution)``; ``k`` is None when even ``max_sites`` (default: every allowed candidate)
    cannot reach the target, and ``solution`` is then the best greedy one found.
    """
    if not 0 <= target_share <= 1:
        raise InputError(f"target_share {target_share} not in [0, 1] / 目标覆盖率须在 0 到 1 之间",
                         field="target_share", expected="0..1")
    n_allowed = int(model.allowed.sum())
    cap = n_allowed if max_sites is None else min(int(max_sites), n_allowed)
    cap = max(cap, model.forced.size)
    sol = model.solve("greedy", p=cap)
    tot = sol.total_weight
    need = target_share * tot - 1e-9 * max(tot, 1.0)
    cum = sol.covered_before + np.r_[0.0, np.cumsum(sol.gains)]
    hit = np.flatnonzero(cum >= need)
    hit = hit[hit >= model.forced.size]
    if not hit.size:
        return None, sol
    k = int(hit[0])
    best = model.solve("greedy", p=k)
    if method == "exact":
        while k > model.forced.size:
            trial = model.solve("exact", p=k - 1, time_limit=time_limit)
            if trial.covered_after >= need:
                k, best = k - 1, trial
            else:
                break
        if best.method != "exact":
            best = model.solve("exact", p=k, time_limit=time_limit)
    elif method != "greedy":
        raise InputError(f"unknown method {method!r} / 未知求解方法", field="method",
                         expected="greedy or exact")
    return k, best


# ---------------------------------------------------------------------- what-if
class WhatIf:
    """Interactive add/remove of single sites with instant re-scoring.

    Keeps, per demand, the number of selected sites that cover it, so adding or removing a site
    only touches the demand that site covers.

    Parameters
    ----------
    coverage
        Sites × demand matrix (existing facilities and candidates together).
    weights
        Demand weights.
    selected
        Row indices of the sites currently open (e.g. every existing facility).
    covered0
        Optional demand covered by something outside ``coverage`` (kept fixed).
    """

    def __init__(self, coverage: sp.spmatrix | np.ndarray, weights: np.ndarray,
                 selected: Sequence[int] = (), *, covered0: np.ndarray | None = None) -> None:
        self.A = _as_bool_csr(coverage)
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != (self.A.shape[1],):
            raise InputError(f"weights has {w.size} values for {self.A.shape[1]} demand columns / 权重个数不符",
                             field="weights", expected=f"{self.A.shape[1]} values")
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise InputError("weights must be finite and >= 0 / 权重须为非负有限数", field="weights",
                             expected="finite weights >= 0")
        self.weights = w
        self.counts = np.zeros(self.A.shape[1], dtype=np.int32)
        if covered0 is not None:
            c0 = np.asarray(covered0, dtype=bool)
            if c0.shape != w.shape:
                raise InputError("covered0 length does not match demand / covered0 长度不符",
                                 field="covered0", expected=f"{w.size} booleans")
            self.counts += c0.astype(np.int32)
        self.selected: set[int] = set()
        for j in selected:
            self._check(j)
            if int(j) in self.selected:
                raise InputError(f"site {j} selected twice / 站点重复", field="selected",
                                 expected="distinct site indices")
            self.selected.add(int(j))
        if self.selected:
            sel = np.fromiter(sorted(self.selected), dtype=np.int64)
            self.counts += np.asarray(self.A[sel].sum(axis=0)).ravel().astype(np.int32)
        self.covered_weight = float(w[self.counts > 0].sum())
        self.total_weight = float(w.sum())

    def _check(self, j: int) -> None:
        if not 0 <= int(j) < self.A.shape[0]:
            raise InputError(f"site index {j} outside 0..{self.A.shape[0] - 1} / 站点下标越界",
                             field="site", expected=f"0..{self.A.shape[0] - 1}")

    def _row(self, j: int) -> np.ndarray:
        return self.A.indices[self.A.indptr[j]:self.A.indptr[j + 1]]

    @property
    def share(self) -> float:
        """Covered share of the total weight."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else float("nan")

    def gain_if_added(self, j: int) -> float:
        """Weight that opening site ``j`` would newly cover (0 if already open)."""
        self._check(j)
        if int(j) in self.selected:
            return 0.0
        r = self._row(j)
        return float(self.weights[r[self.counts[r] == 0]].sum())

    def loss_if_removed(self, j: int) -> float:
        """Weight that closing site ``j`` would leave uncovered (0 if not open)."""
        self._check(j)
        if int(j) not in self.selected:
            return 0.0
        r = self._row(j)
        return float(self.weights[r[self.counts[r] == 1]].sum())

    def add(self, j: int) -> float:
        """Open site ``j``; returns the new covered weight."""
        self._check(j)
        j = int(j)
        if j in self.selected:
            raise InputError(f"site {j} is already open / 站点已在方案中", field="site",
                             expected="a site not yet selected")
        r = self._row(j)
        self.covered_weight += float(self.weights[r[self.counts[r] == 0]].sum())
        self.counts[r] += 1
        self.selected.add(j)
        return self.covered_weight

    def remove(self, j: int) -> float:
        """Close site ``j``; returns the new covered weight."""
        self._check(j)
        j = int(j)
        if j not in self.selected:
            raise InputError(f"site {j} is not open / 站点不在方案中", field="site",
                             expected="a selected site")
        r = self._row(j)
        self.counts[r] -= 1
        self.covered_weight -= float(self.weights[r[self.counts[r] == 0]].sum())
        self.selected.discard(j)
        return self.covered_weight
