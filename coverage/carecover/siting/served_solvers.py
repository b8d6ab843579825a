"""The served versions of the solvers: lazy greedy, the mixed-integer programme (HiGHS), brute force.

:meth:`ServedModel.solve <carecover.siting.served.ServedModel.solve>` takes the covering
model's solver objects (:class:`~carecover.siting.greedy.Greedy`,
:class:`~carecover.siting.highs.Highs`, :class:`~carecover.siting.brute.BruteForce`) and runs
their served version here:

* **greedy** -- lazy greedy (CELF) on the reduced problem; every marginal gain is exact, the
  change of one transportation LP re-solved from its last basis; the served amount is
  submodular, so stale gains are upper bounds and the online bound ``f(S) + the p largest
  marginal gains`` bounds the optimum;
* **exact** -- the integer programme of :class:`~carecover.siting.served.ServedModel` on the
  reduced problem, greedy's set as the warm start, candidates pruned by greedy's objective; the
  gap against HiGHS' dual bound (never looser than greedy's bound);
* **brute** -- every feasible subset, each evaluated by its own LP on the *unreduced* problem.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from carecover.errors import InputError
from carecover.siting.brute import BRUTE_LIMIT
from carecover.siting.constraints import needed_too
from carecover.siting.highs import HIGHS_OPTIONS, new_highs
from carecover.siting.served_bound import LagrangeBound, lagrangian_bound
from carecover.siting.served_greedy import Evaluator, GreedyServedRun, served_greedy
from carecover.siting.served_mip import served_mip, warm_start

if TYPE_CHECKING:
    from carecover.siting.model import Solver
    from carecover.siting.served_model import ServedModel

from carecover.siting.served_model import ServedSolution

__all__ = ["run_served"]


def run_served(model: ServedModel, solver: Solver) -> ServedSolution:
    """Run the served version of ``solver`` (by its ``name``) on ``model``."""
    runners = {"greedy": _greedy, "exact": _exact, "brute": _brute}
    if solver.name not in runners:
        raise InputError(f"no served version of solver {solver.name!r} / 该求解方法不支持容量目标",
                         field="method", expected="greedy, exact or brute")
    return runners[solver.name](model, solver)


# ----------------------------------------------------------------------------- greedy

def _greedy(model: ServedModel, solver: Any) -> ServedSolution:
    t0 = time.perf_counter()
    prep = model.prepared()
    run = served_greedy(model, model.p - int(model.forced.size))
    sel = [int(prep.cand[q]) for q in run.chosen]
    return _solution(model, sel, solver.name, "heuristic", run.bound + prep.fixed_objective, t0,
                     extra={"bound_kind": "submodular online bound", "n_evaluations": run.n_evaluations,
                            "n_lp_solves": run.ev.n_lp}, ordered=run)


# ----------------------------------------------------------------------------- the solution

def _order(model: ServedModel, sel: list[int]) -> tuple[list[int], list[float], Evaluator]:
    """Free sites of ``sel`` in greedy order within the set (ties: lowest index), their marginal
    gains, and the evaluator with all of them open."""
    prep = model.prepared()
    pos = {int(c): q for q, c in enumerate(prep.cand)}
    ev = Evaluator(prep)
    pool = sorted(int(j) for j in set(sel) if int(j) in pos)
    ub = {j: float(prep.arcs.cap[prep.n_fixed + pos[j]]) for j in pool}
    order, gains = [], []
    while pool:
        best, best_g = None, -1.0
        for j in pool:
            g = ev.gain(pos[j], ub[j])
            ub[j] = g
            if g > best_g + ev.tol:
                best, best_g = j, g
        pool.remove(best)
        ev.take(pos[best], best_g)
        order.append(best)
        gains.append(best_g)
    return order, gains, ev


def _forced_gains(model: ServedModel) -> tuple[list[int], list[float]]:
    """Forced sites in greedy order among themselves and their marginal gains (full LPs)."""
    pool, order, gains = sorted(int(f) for f in model.forced), [], []
    cur = model.served_of([])
    while pool:
        vals = [model.served_of(order + [f]) for f in pool]
        b = int(np.argmax(vals))
        order.append(pool.pop(b))
        gains.append(max(0.0, vals[b] - cur))
        cur = vals[b]
    return order, gains


def _solution(model: ServedModel, sel: list[int], method: str, status: str, bound: float | None, t0: float,
              note: str = "", extra: dict | None = None, ordered: GreedyServedRun | None = None) -> ServedSolution:
    """The :class:`ServedSolution` of the set ``sel``: forced sites first, then the free ones in
    greedy order; sites adding nothing are dropped (forced sites stay)."""
    prep = model.prepared()
    fset = set(model.forced.tolist())
    if ordered is not None:  # the greedy's own sequence
        order, gains, ev = [int(prep.cand[q]) for q in ordered.chosen], list(ordered.gains), ordered.ev
    else:
        order, gains, ev = _order(model, [j for j in sel if j not in fset])
    pos = {int(c): q for q, c in enumerate(prep.cand)}
    tol = 1e-9 * max(1.0, prep.unserved)
    keep = [k for k, g in enumerate(gains) if g > tol]
    if model.at_least is not None:  # sites adding nothing stay where an at-least row needs them
        kept = needed_too(model.at_least, [*sorted(fset), *(order[k] for k in keep)], [int(j) for j in order])
        keep = [k for k, j in enumerate(order) if j in set(kept)]
    loads = ev.loads()
    f_order, f_gains = _forced_gains(model) if fset else ([], [])
    kept_at = {int(s): n for n, s in enumerate(prep.kept_fixed)}
    f_load = []
    for f in f_order:
        k = model.n_existing + int(np.flatnonzero(model.forced == f)[0])
        base = prep.fixed_load[k]
        n = kept_at.get(k)
        # a kept forced site: what it serves outside the kept part plus its load inside it
        f_load.append(base if n is None else base - prep.arcs.cap[n] + loads[n])
    chosen = f_order + [order[k] for k in keep]
    g = np.asarray(f_gains + [gains[k] for k in keep], dtype=float)
    load = np.asarray(f_load + [loads[prep.n_fixed + pos[order[k]]] for k in keep], dtype=float)
    obj = float(g.sum())
    if bound is not None:
        bound = max(bound, obj)
    gap = None if bound is None else (0.0 if bound <= 0 else max(0.0, (bound - obj) / bound))
    if len(chosen) < model.p and not note:
        note = (f"只选出 {len(chosen)} 处（少于 p = {model.p}）：其余候选点不再增加服务人数或受约束限制 / "
                f"only {len(chosen)} of p = {model.p} sites: no further candidate serves more elderly "
                "or the constraints allow no more")
    ch = np.asarray(chosen, dtype=np.int64)
    return ServedSolution(
        chosen=ch, candidate_ids=[model.candidate_ids[j] for j in ch], gains=g, load=load,
        capacity=model.cap_new[ch].astype(float), objective=obj, served_before=prep.served_before,
        served_after=prep.served_before + obj, total_weight=float(model.weights.sum()), method=method,
        status=status, bound=bound, gap=gap, runtime_s=time.perf_counter() - t0, p=model.p, note=note,
        extra={**prep.counts, **(extra or {})})


# ----------------------------------------------------------------------------- brute force

def _brute(model: ServedModel, solver: Any) -> ServedSolution:
    """Every feasible subset of at most ``p`` sites, each by its own LP on the unreduced problem."""
    t0 = time.perf_counter()
    forced = set(model.forced.tolist())
    free = [int(j) for j in np.flatnonzero(model.allowed) if j not in forced]
    k = model.p - model.forced.size
    n_sub = sum(math.comb(len(free), kk) for kk in range(k + 1))
    if n_sub > BRUTE_LIMIT:
        raise InputError(f"brute force would enumerate {n_sub} subsets / 穷举子集过多",
                         field="method", expected=f"at most {BRUTE_LIMIT} subsets")
    before = model.served_of([])
    best, best_obj = None, -1.0
    for kk in range(k, -1, -1):
        for comb in itertools.combinations(free, kk):
            sel = sorted(forced) + list(comb)
            if not model.is_feasible(sel):
                continue
            obj = model.served_of(sel) - before
            if obj > best_obj + 1e-9 * max(1.0, abs(best_obj)):
                best, best_obj = sel, obj
    if best is None:
        return _solution(model, [], solver.name, "infeasible", None, t0)
    return _solution(model, best, solver.name, "optimal", best_obj, t0, extra={"brute_objective": best_obj})


# ----------------------------------------------------------------------------- exact

#: Share of the time left after greedy spent on the Lagrangian bound (the rest: the MIP).
LAGRANGE_SHARE = 0.4

#: Share of the time limit kept for ordering the MIP's sites and their assignment.
ORDER_SHARE = 0.1



def _prune(single: np.ndarray, p_free: int, lower: float) -> np.ndarray:
    """Model candidates that may be in an optimal set: gain alone plus the ``p' - 1`` largest
    other single gains (submodularity: an upper bound on any set holding it) reaches ``lower``."""
    top = float(np.sort(single)[::-1][: max(p_free - 1, 0)].sum())
    return (single > 0) & (single + top >= lower - 1e-9 * max(1.0, abs(lower)))


def prune_lagrange(lag: LagrangeBound, p_free: int, lower: float) -> np.ndarray:
    """Model candidates whose Lagrangian bound with them chosen still reaches ``lower``."""
    v = lag.site_value
    k = max(p_free - 1, 0)
    order = np.sort(v)[::-1]
    top_k, next_ = float(order[:k].sum()), float(order[k]) if order.size > k else 0.0
    # the best p'-1 others: the top p'-1 unless the candidate is among them (then one more)
    rank_in = v >= (order[k - 1] if k and order.size >= k else np.inf)
    others = np.where(rank_in, top_k - v + next_, top_k)
    return lag.base + v + others >= lower - 1e-9 * max(1.0, abs(lower))


def _exact(model: ServedModel, solver: Any) -> ServedSolution:
    """Greedy, then (unless greedy is proven optimal) the pruned integer programme in HiGHS."""
    t0 = time.perf_counter()
    prep = model.prepared()
    p_free = model.p - int(model.forced.size)
    run = served_greedy(model, p_free)
    g_sel = [int(prep.cand[q]) for q in run.chosen]
    g_gain = float(sum(run.gains))
    extra: dict[str, Any] = {"greedy_objective": g_gain + prep.fixed_objective, "n_evaluations": run.n_evaluations,
                             "n_lp_solves": run.ev.n_lp}
    tol = 1e-9 * max(1.0, prep.unserved)
    g_ok = model.at_least is None or model.at_least.holds([*model.forced.tolist(), *g_sel])
    if model.at_least is not None and p_free > 0 and prep.cand.size:
        return _exact_at_least(model, solver, run, g_sel, g_ok, extra, t0)
    if p_free == 0 or prep.cand.size == 0 or run.bound <= g_gain + tol:
        # greedy meets its own bound: proven optimal without the integer programme
        return _solution(model, g_sel, solver.name, "optimal", g_gain + prep.fixed_objective, t0,
                         extra={**extra, "proof": "greedy meets its bound"}, ordered=run)
    # the Lagrangian bound, started from the prices of the greedy set's LP (its group-row duals),
    # within a share of the time left; then the integer programme on the candidates it keeps
    left = solver.time_limit - (time.perf_counter() - t0)
    lag = lagrangian_bound(prep.arcs, prep.n_fixed, p_free, prep.base + g_gain, run.ev.group_prices(),
                           time_budget_s=LAGRANGE_SHARE * max(left, 0.0))
    bound = min(run.bound, lag.value - prep.base)
    extra.update({"lagrangian_bound": lag.value - prep.base + prep.fixed_objective,
                  "lagrangian_iterations": lag.iterations})
    if bound <= g_gain + tol:
        return _solution(model, g_sel, solver.name, "optimal", g_gain + prep.fixed_objective, t0,
                         extra={**extra, "proof": "greedy meets the Lagrangian bound"}, ordered=run)
    keep = _prune(run.single, p_free, g_gain) & prune_lagrange(lag, p_free, prep.base + g_gain)
    return _programme(model, solver, run, g_sel, np.flatnonzero(keep), bound, extra, t0)


def _exact_at_least(model: ServedModel, solver: Any, run: GreedyServedRun, g_sel: list[int], g_ok: bool,
                    extra: dict, t0: float) -> ServedSolution:
    """The programme with at-least rows (co-location): no Lagrangian step; candidates pruned by
    greedy's value only when greedy's set meets the rows (else it is no lower bound)."""
    prep, p_free = model.prepared(), model.p - int(model.forced.size)
    g_gain = float(sum(run.gains))
    keep = np.ones(prep.cand.size, bool)
    if g_ok:
        # gain alone + the p' - 1 largest others below greedy's value: in no optimal set (a
        # co-located candidate adding nothing included; greedy's set meets the rows)
        top = float(np.sort(run.single)[::-1][: max(p_free - 1, 0)].sum())
        keep = run.single + top >= g_gain - 1e-9 * max(1.0, abs(g_gain))
    return _programme(model, solver, run, g_sel if g_ok else [], np.flatnonzero(keep), run.bound, extra, t0)


def _programme(model: ServedModel, solver: Any, run: GreedyServedRun, g_sel: list[int], q_keep: np.ndarray,
               bound: float, extra: dict, t0: float) -> ServedSolution:
    """The integer programme on the model candidates ``q_keep`` in HiGHS, from the greedy set;
    never worse than greedy's set ``g_sel`` (empty when it misses an at-least row)."""
    import highspy

    prep, p_free = model.prepared(), model.p - int(model.forced.size)
    g_gain = float(sum(run.gains)) if g_sel else -np.inf
    tol = 1e-9 * max(1.0, prep.unserved)
    lp, arc, n_strong = served_mip(model, prep, q_keep, p_free, strong=True)
    extra.update({"n_model_candidates": int(q_keep.size), "n_pruned_by_bound": int(prep.cand.size - q_keep.size),
                  "n_arcs": int(arc.size), "n_strong_rows": n_strong})
    h = new_highs(highspy)
    # leave a share of the limit for ordering the sites found (a few LP re-solves)
    h.setOptionValue("time_limit", float(max(0.1, (1 - ORDER_SHARE) * solver.time_limit - (time.perf_counter() - t0))))
    for key, value in HIGHS_OPTIONS.items():
        h.setOptionValue(key, value)
    if solver.threads:
        h.setOptionValue("threads", int(solver.threads))
    h.passModel(lp)
    warm_start(highspy, h, run, arc, q_keep)
    if solver.threads:
        highspy.Highs.resetGlobalScheduler(True)
    h.run()
    if solver.threads:
        highspy.Highs.resetGlobalScheduler(True)
    status, info = h.getModelStatus(), h.getInfo()
    ms = h.modelStatusToString(status)
    sel, st = list(g_sel), "time_limit_greedy"
    if status == highspy.HighsModelStatus.kInfeasible:
        st = "infeasible"  # only side rules can make it so (at-least rows against spacing, caps)
    elif info.primal_solution_status:
        y = np.asarray(h.getSolution().col_value[arc.size:])
        sel = [int(prep.cand[q]) for q in q_keep[y > 0.5]]
        st = "optimal" if status == highspy.HighsModelStatus.kOptimal else (
            "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else ms)
    dual = float(info.mip_dual_bound)
    if np.isfinite(dual):
        bound = min(bound, dual - prep.base)
    extra.update({"highs_status": ms, "highs_mip_gap": float(info.mip_gap)})
    sol = _solution(model, sel, solver.name, st, bound + prep.fixed_objective, t0, extra=extra)
    if sol.objective < g_gain + prep.fixed_objective - tol:  # never worse than greedy
        sol = _solution(model, g_sel, solver.name, st, bound + prep.fixed_objective, t0, extra=extra)
    if st == "optimal" and sol.bound is not None:
        sol.bound, sol.gap = sol.objective, 0.0
    return sol
