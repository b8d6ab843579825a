"""The exact solver: the model's integer programme, reduced, solved by HiGHS (``highspy``).

Greedy runs first: its solution is HiGHS' warm start, its objective prunes candidates that
cannot be in any optimal set, and it is the fallback if HiGHS finds nothing in time. The
integer programme (:func:`reduce` then :func:`build_lp`) is the formulation of
:class:`~carecover.siting.model.MaximalCovering` on the reduced model: forced sites fixed,
identical demand merged, useless candidates left out. On large models (at least
:data:`LAGRANGE_MIN_ENTRIES` reach entries after the reduction) the Lagrangian bound of
:mod:`~carecover.siting.covering_bound` runs next: it proves greedy optimal when it meets
greedy's value, else every candidate whose bound with it chosen falls below greedy's value leaves
the programme (:func:`restrict`), which is then a few hundred candidates instead of thousands.
Each constraint family has its own row builder (:func:`coverage_rows`, :func:`cardinality_row`,
:func:`group_rows`, :func:`spacing_rows`, :func:`at_least_rows`); with at-least rows
(co-location) the Lagrangian step is skipped and HiGHS solves the whole reduced programme. The gap is HiGHS' MIP gap against its dual bound
(never looser than greedy's online bound or the Lagrangian bound).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from carecover.siting.covering_bound import keep_candidates, lagrangian_bound
from carecover.siting.greedy import Greedy
from carecover.siting.reduction import Reduced, reduce, restrict

if TYPE_CHECKING:
    from carecover.siting.model import MaximalCovering
    from carecover.siting.solution import SiteSolution

__all__ = ["HIGHS_OPTIONS", "LAGRANGE_MIN_ENTRIES", "Highs", "RowBlock", "build_lp", "new_highs"]

#: Options passed to HiGHS. Presolve is off because :func:`reduce` already merges demand and
#: drops useless candidates, and HiGHS' presolve then spends most of the time (city-scale
#: benchmark: 7.6 s of presolve against a 3 s solve without it).
HIGHS_OPTIONS: dict[str, Any] = {"presolve": "off", "mip_rel_gap": 1e-9, "random_seed": 0}

#: Reduced reach matrices with fewer entries skip the Lagrangian bound (HiGHS alone takes well
#: under a second on them; the Hohhot-scale walk model has 611,513).
LAGRANGE_MIN_ENTRIES = 50_000


@dataclass(frozen=True)
class Highs:
    """The integer programme solved exactly by HiGHS (``highspy``).

    Parameters
    ----------
    time_limit
        Seconds; on expiry the best solution found is returned with ``status="time_limit"``
        and its gap against HiGHS' dual bound. The Lagrangian bound before HiGHS is ended by
        its step count (for equal results on equal inputs), not by this limit.
    threads
        HiGHS threads (``None``: HiGHS' choice).
    lagrange_iterations
        Most subgradient steps of the Lagrangian bound
        (:func:`~carecover.siting.covering_bound.lagrangian_bound`) run before the programme.
    lagrange_min_entries
        The bound runs when the reduced reach matrix has at least this many entries (smaller
        programmes HiGHS solves at once; they keep the sites HiGHS picks among equal optima).
    """

    time_limit: float = 30.0
    threads: int | None = None
    lagrange_iterations: int = 1000
    lagrange_min_entries: int = LAGRANGE_MIN_ENTRIES
    name = "exact"

    def run(self, model: MaximalCovering) -> SiteSolution:
        """Solve ``model`` exactly for its current ``p``.

        Returns
        -------
        SiteSolution
            Status ``optimal``, ``time_limit``, ``time_limit_greedy`` (HiGHS found nothing: the
            greedy set) or HiGHS' status text; never worse than greedy.
        """
        t0 = time.perf_counter()
        g_sol = Greedy().run(model)
        g_sel = [int(j) for j in g_sol.chosen]
        g_ok = model.at_least is None or model.at_least.holds(g_sel)  # greedy may miss an at-least row
        red = reduce(model, lower_bound=g_sol.objective if g_ok else None)
        extra = {**red.counts(), "n_model_candidates": int(red.cand.size), "build_s": model.build_s}
        if (red.cand.size == 0 or red.w.size == 0 or red.p_free == 0) and g_ok:
            # Nothing left to choose: greedy (forced sites + anything useful) is optimal.
            sel = model.prune(g_sel)
            return model.solution(sel, self.name, "optimal", model.objective_of(sel), t0, extra=extra)
        if red.B.nnz < self.lagrange_min_entries or model.at_least is not None:
            # (the Lagrangian bound knows no at-least rows: with them HiGHS gets the whole programme)
            return self._programme(model, red, g_sol, g_sel, None, extra, t0)
        lower = g_sol.objective - red.fixed_objective
        tol = 1e-9 * max(1.0, float(red.w.sum()))
        if g_sol.bound <= g_sol.objective + tol:
            # greedy meets its own online bound: proven optimal as it stands
            return self._proven(model, g_sel, "greedy meets its online bound", extra, t0)
        # the Lagrangian bound on the reduced model; candidates it rules out leave the programme
        code = None if model.groups is None else model.groups.code[red.cand]
        lag = lagrangian_bound(red.B, red.w, red.p_free, lower, code=code, cap=red.cap_left,
                               iterations=self.lagrange_iterations)
        extra.update({"lagrangian_bound": lag.value + red.fixed_objective,
                      "lagrangian_iterations": lag.iterations})
        if lag.value <= lower + tol:
            return self._proven(model, g_sel, "greedy meets the Lagrangian bound", extra, t0)
        keep = keep_candidates(lag, lower, float(red.w.sum()))
        # sets holding a left-out candidate stay below the largest left-out bound (free part)
        left_out = float(lag.with_site[~keep].max()) if (~keep).any() else -np.inf
        red = restrict(red, keep)
        extra.update({**red.counts(), "n_model_candidates": int(red.cand.size)})
        if red.cand.size == 0 or red.w.size == 0:
            # (greedy's own sites always stay; only a greedy set without free sites gets here)
            return self._proven(model, g_sel, "every candidate is fixed out by the Lagrangian bound", extra, t0)
        return self._programme(model, red, g_sol, g_sel, (lag.value, left_out), extra, t0)

    def _proven(self, model: MaximalCovering, g_sel: list[int], proof: str, extra: dict,
                t0: float) -> SiteSolution:
        """The greedy set, proven optimal without the integer programme (``proof`` says how)."""
        sel = model.prune(g_sel)
        return model.solution(sel, self.name, "optimal", model.objective_of(sel), t0,
                              extra={**extra, "proof": proof})

    def _programme(self, model: MaximalCovering, red: Reduced, g_sol: SiteSolution, g_sel: list[int],
                   lag: tuple[float, float] | None, extra: dict, t0: float) -> SiteSolution:
        """The integer programme of ``red`` in HiGHS, from the greedy set; never worse than greedy.

        ``lag`` is ``(Lagrangian bound, largest bound of a left-out candidate)`` on the free part.
        """
        lp, n_pairs = build_lp(model, red)
        out = _run_highs(lp, red, g_sel, self, t0)
        sel, status = out["sel"], out["status"]
        if out["x"] is not None:
            sel = [int(j) for j in model.forced] + [int(c) for c in red.cand[out["x"] > 0.5]]
        if g_sol.objective > model.objective_of(sel) + 1e-9 and (model.at_least is None or model.at_least.holds(g_sel)):
            sel = list(g_sel)  # never worse than greedy
        bound = _bound(model, red, out["dual_bound"], g_sol.bound, lag, status, sel)
        extra.update({"n_conflict_pairs": int(n_pairs), "highs_status": out["model_status"],
                      "highs_mip_gap": out["mip_gap"]})
        sol = model.solution(model.prune(sel), self.name, status, bound, t0, extra=extra)
        if status == "optimal" and lag is not None:
            # HiGHS' bound on the re-merged groups can differ from the objective by rounding
            sol.bound, sol.gap = sol.objective, 0.0
        return sol


def _bound(model: MaximalCovering, red: Reduced, dual_bound: float, greedy_bound: float | None,
           lag: tuple[float, float] | None, status: str, sel: list[int]) -> float | None:
    """Upper bound on the objective.

    HiGHS' dual bound covers the candidates left in the programme; sets holding a candidate the
    Lagrangian bound left out stay below that candidate's bound, so the larger of HiGHS' bound
    and the largest left-out bound (``lag[1]``; plus what forced sites cover) bounds every set.
    Greedy's online bound and the Lagrangian bound itself (``lag[0]``) bound it too (early in
    the search HiGHS' can be weaker); the smallest is reported.
    """
    bound = None
    if np.isfinite(dual_bound):
        bound = red.fixed_objective + max(dual_bound, -np.inf if lag is None else lag[1])
    others = [b for b in (greedy_bound, None if lag is None else lag[0] + red.fixed_objective) if b is not None]
    if others:
        bound = min(others) if bound is None else min(bound, *others)
    if status == "optimal":
        # every left-out candidate's bound is below the greedy value, so the programme's optimum is
        # the model's
        bound = model.objective_of(sel) if bound is None else bound
    return bound


# ----------------------------------------------------------------------------- the programme

@dataclass(frozen=True)
class RowBlock:
    """Constraint rows ``lower <= M x <= upper`` in triplet form, numbered from 0.

    Attributes
    ----------
    i, j, v
        Row, column and value of each entry.
    lower, upper
        Bounds per row.
    """

    i: np.ndarray
    j: np.ndarray
    v: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.upper)


def coverage_rows(B: sp.csr_matrix, nc: int) -> RowBlock:
    """(2) ``y_g - sum_{j covers g} x_j <= 0`` per merged demand group ``g``.

    Parameters
    ----------
    B
        Merged demand groups × model candidates.
    nc
        Number of model candidates (the ``x`` columns; the ``y`` columns follow).
    """
    ng = B.shape[0]
    Bc = B.tocoo()
    i = np.r_[Bc.row.astype(np.int64), np.arange(ng, dtype=np.int64)]
    j = np.r_[Bc.col.astype(np.int64), nc + np.arange(ng, dtype=np.int64)]
    v = np.r_[-np.ones(Bc.nnz), np.ones(ng)]
    return RowBlock(i, j, v, np.full(ng, -np.inf), np.zeros(ng))


def cardinality_row(nc: int, p_free: int) -> RowBlock:
    """(3) ``sum x <= p'`` (monotone objective: as good as ``= p'`` whenever ``p'`` sites are possible).

    Parameters
    ----------
    nc
        Number of model candidates.
    p_free
        Free choices ``p'``.
    """
    return RowBlock(np.zeros(nc, dtype=np.int64), np.arange(nc, dtype=np.int64), np.ones(nc),
                    np.array([-np.inf]), np.array([float(p_free)]))


def group_rows(model: MaximalCovering, red: Reduced) -> list[RowBlock]:
    """(4) ``sum_{j in group} x_j <= cap left``, one row per group whose cap can bind.

    Parameters
    ----------
    model
        The model (its groups).
    red
        The reduced model (its candidates and caps left).
    """
    if model.groups is None:
        return []
    gc = model.groups.code[red.cand]
    out = []
    for g in np.unique(gc):
        cap = red.cap_left[g]
        members = np.flatnonzero(gc == g)
        if cap < 0 or cap >= min(members.size, red.p_free):
            continue
        out.append(RowBlock(np.zeros(members.size, dtype=np.int64), members.astype(np.int64),
                            np.ones(members.size), np.array([-np.inf]), np.array([float(cap)])))
    return out


def spacing_rows(model: MaximalCovering, red: Reduced) -> RowBlock | None:
    """(5) ``x_j + x_k <= 1`` for each conflicting pair of model candidates (``None`` when none).

    Parameters
    ----------
    model
        The model (its spacing pairs).
    red
        The reduced model (its candidates).
    """
    if model.spacing is None or not len(model.spacing.pairs):
        return None
    inmod = np.zeros(model.n_candidates, dtype=np.int64) - 1
    inmod[red.cand] = np.arange(red.cand.size)
    pr = inmod[model.spacing.pairs]
    pr = pr[(pr >= 0).all(axis=1)]
    n = len(pr)
    if not n:
        return None
    rr = np.arange(n, dtype=np.int64)
    return RowBlock(np.r_[rr, rr], np.r_[pr[:, 0], pr[:, 1]], np.ones(2 * n), np.full(n, -np.inf),
                    np.ones(n))


def at_least_rows(model: MaximalCovering, red: Reduced) -> list[RowBlock]:
    """(7) ``sum_{j in K_r} x_j >= k_r - (forced sites in K_r)``, one row per at-least row still short.

    Parameters
    ----------
    model
        The model (its at-least rows and forced sites).
    red
        The reduced model (its candidates).
    """
    al = model.at_least
    if al is None:
        return []
    out = []
    for r in range(len(al.k)):
        left = int(al.k[r] - al.members[r][model.forced].sum())
        members = np.flatnonzero(al.members[r][red.cand])
        if left <= 0:
            continue
        out.append(RowBlock(np.zeros(members.size, dtype=np.int64), members.astype(np.int64),
                            np.ones(members.size), np.array([float(left)]), np.array([np.inf])))
    return out


def stack_rows(blocks: list[RowBlock], n_col: int) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """The constraint matrix (CSC, sorted indices) and row bounds of the blocks, in order.

    Parameters
    ----------
    blocks
        Row blocks, numbered consecutively in this order.
    n_col
        Number of columns.
    """
    offset, ii, jj, vv = 0, [], [], []
    for b in blocks:
        ii.append(b.i + offset)
        jj.append(b.j)
        vv.append(b.v)
        offset += b.n_rows
    M = sp.csc_matrix((np.concatenate(vv), (np.concatenate(ii), np.concatenate(jj))),
                      shape=(offset, n_col))
    M.sort_indices()
    return M, np.concatenate([b.lower for b in blocks]), np.concatenate([b.upper for b in blocks])


def build_lp(model: MaximalCovering, red: Reduced) -> tuple[Any, int]:
    """The integer programme of the reduced model as a ``highspy.HighsLp``.

    Columns: ``x`` (one binary per model candidate) then ``y`` (one per merged demand group,
    continuous in [0, 1]; integral at any optimum given ``x``). Maximises ``sum w_g y_g``.

    Returns
    -------
    (lp, n_pairs)
        The programme and the number of spacing rows.
    """
    import highspy

    nc, ng = red.cand.size, red.w.size
    n_col = nc + ng
    spacing = spacing_rows(model, red)
    blocks = [coverage_rows(red.B, nc), cardinality_row(nc, red.p_free), *group_rows(model, red)]
    blocks += [spacing] if spacing is not None else []
    blocks += at_least_rows(model, red)
    integer = np.r_[np.ones(nc, bool), np.zeros(ng, bool)]
    lp = highs_lp(highspy, blocks, np.r_[np.zeros(nc), red.w], np.ones(n_col), integer)
    return lp, 0 if spacing is None else spacing.n_rows


def highs_lp(highspy: Any, blocks: list[RowBlock], cost: np.ndarray, upper: np.ndarray,
             integer: np.ndarray) -> Any:
    """A maximisation ``highspy.HighsLp`` of the constraint rows ``blocks``: columns with
    ``cost``, bounds ``[0, upper]``, integral where ``integer``."""
    M, row_lower, row_upper = stack_rows(blocks, len(cost))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), M.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_, lp.col_upper_ = np.zeros(len(cost)), np.asarray(upper, float)
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(b)] for b in integer]
    return lp


# ----------------------------------------------------------------------------- HiGHS

def _warm_start(highspy: Any, h: Any, red: Reduced, g_sel: list[int]) -> None:
    """Start HiGHS from the greedy set: ``x`` from the greedy sites, ``y_g = 1`` where covered."""
    try:
        pos = {int(c): n for n, c in enumerate(red.cand)}
        xs = np.zeros(red.cand.size)
        xs[[pos[j] for j in g_sel if j in pos]] = 1.0  # forced sites are not model columns
        ys = np.minimum(1.0, red.B @ xs)
        sol = highspy.HighsSolution()
        sol.col_value = list(np.r_[xs, ys])
        sol.value_valid = True
        h.setSolution(sol)
    except Exception:  # noqa: BLE001 - warm start is an optimisation only
        pass


def _run_highs(lp: Any, red: Reduced, g_sel: list[int], solver: Highs, t0: float) -> dict[str, Any]:
    """Solve ``lp`` within what is left of the time limit.

    Returns
    -------
    dict
        ``x`` (candidate columns, ``None`` when HiGHS has no solution), ``sel`` (the greedy set
        when it has none), ``status``, ``model_status``, ``dual_bound``, ``mip_gap``.
    """
    import highspy

    h = new_highs(highspy)
    h.setOptionValue("time_limit", float(max(0.1, solver.time_limit - (time.perf_counter() - t0))))
    for key, value in HIGHS_OPTIONS.items():
        h.setOptionValue(key, value)
    if solver.threads:
        h.setOptionValue("threads", int(solver.threads))
    h.passModel(lp)
    _warm_start(highspy, h, red, g_sel)
    if solver.threads:
        # HiGHS keeps one thread pool per process; another thread count needs it rebuilt, else
        # run() fails once any earlier solve has started the pool
        highspy.Highs.resetGlobalScheduler(True)
    h.run()
    if solver.threads:
        highspy.Highs.resetGlobalScheduler(True)
    status, info = h.getModelStatus(), h.getInfo()
    ms = h.modelStatusToString(status)
    nc = red.cand.size
    x = np.asarray(h.getSolution().col_value[:nc]) if info.primal_solution_status else None
    if status == highspy.HighsModelStatus.kInfeasible:
        x, st = None, "infeasible"  # only side rules can make it so (at-least rows against spacing, caps)
    elif x is None or len(x) != nc:
        x, st = None, "time_limit_greedy"
    else:
        st = "optimal" if status == highspy.HighsModelStatus.kOptimal else (
            "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else ms)
    return {"x": x, "sel": list(g_sel), "status": st, "model_status": ms,
            "dual_bound": float(info.mip_dual_bound), "mip_gap": float(info.mip_gap)}


_HIGHS_BANNER_SHOWN = False


def new_highs(highspy: Any) -> Any:
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

