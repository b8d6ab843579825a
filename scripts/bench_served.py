"""Benchmark siting with capacity (the maximal served model) at Hohhot scale on synthetic instances.

The demand and candidates of ``bench_sites.py`` (100,000 demand points, 5,000 candidates, clustered
on a 40 × 40 km plane, reach = 900 m straight line); 1,105 existing facilities (Hohhot's count) at
demand locations; p = 8 new sites. The network variant routes the same counts on a synthetic
street network at Hohhot scale (``carecover.bench.synthetic.synthetic_city``, about 250,000
nodes, walk 1.0 m/s): 1,105 clustered facilities near streets, 100,000 clustered demand points
snapped to the streets, 5,000 junction candidates, reach = 15 minutes' exact walk
(``engine.reach_matrix``). Two capacity regimes:

* **scarce** -- stations of 20-200 places (uniform), new sites of 150 places: places are far fewer
  than the elderly in reach (what the Hohhot congress reports);
* **balanced** -- each existing facility has 0.5-1.5 × its fair share of the elderly in reach
  (each point's elderly split over the facilities reaching it), new sites 3,000 places: capacity
  and demand of the same order, so where a site goes matters most (the hard case).

Measures the reduction, greedy (exact LP marginal gains, online bound) and exact (HiGHS MIP with a
60 s limit in all, greedy included) with their gaps. Writes the section between
``<!-- served:start -->`` and ``<!-- served:end -->`` of ``BENCHMARKS.md``.

Run: ``python scripts/bench_served.py`` (about 3-5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchutil import cpu_model, peak_rss_mb, timed, write_section  # noqa: E402
from bench_sites import coverage_matrix, make_instance  # noqa: E402
from carecover import settings  # noqa: E402
from carecover.siting.greedy import Greedy  # noqa: E402
from carecover.siting.highs import Highs  # noqa: E402
from carecover.siting.served import MaximalServed  # noqa: E402


def capacities(regime: str, ex_reach: sp.csr_matrix, w: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Existing capacities and the new-site capacity of a regime (see the module docstring)."""
    n = ex_reach.shape[0]
    if regime == "scarce":
        return np.round(rng.uniform(20, 200, n)), 150.0
    per_point = np.asarray(ex_reach.sum(axis=0)).ravel()
    share = ex_reach @ np.where(per_point > 0, w / np.maximum(per_point, 1), 0.0)
    return np.round(share * rng.uniform(0.5, 1.5, n)), 3000.0


def run_regime(regime: str, inst: dict, cov: sp.csr_matrix, ex: sp.csr_matrix, p: int, time_limit: float,
               repeats: int) -> dict:
    """Model, reduction, greedy and exact of one capacity regime."""
    w = inst["elderly"]
    cap_e, cap_new = capacities(regime, ex, w, np.random.default_rng(settings.random_seed + 1))

    def build():
        m = MaximalServed.from_reach_matrix(cov, w, cap_e, cap_new, p, existing_reach=ex)
        m.prepared()
        return m

    model, prep_med, _ = timed(build, repeats)
    greedy, greedy_med, _ = timed(lambda: model.solve(Greedy()), repeats)
    t = time.perf_counter()
    exact = model.solve(Highs(time_limit=time_limit))
    exact_s = time.perf_counter() - t
    return {"regime": regime, "model": model, "prep_s": prep_med, "greedy": greedy, "greedy_s": greedy_med,
            "exact": exact, "exact_s": exact_s, "cap_e": cap_e, "cap_new": cap_new}


def network_instance(n_nodes: int, n_cand: int, n_dem: int, n_exist: int) -> tuple[dict, sp.csr_matrix,
                                                                                  sp.csr_matrix, dict]:
    """The synthetic street network variant: demand, reach matrices (15-min walk), timings."""
    from bench_sites import clustered_points
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities
    from carecover.network import engine
    from carecover.network.snap import snap_xy
    from carecover.siting import candidates as cands

    times = {}
    t = time.perf_counter()
    net = synthetic_city(n_nodes)
    times["network"] = time.perf_counter() - t
    rng = np.random.default_rng(settings.random_seed)
    x0, x1 = float(net.node_x.min()), float(net.node_x.max())
    y0, y1 = float(net.node_y.min()), float(net.node_y.max())
    extent = min(x1 - x0, y1 - y0)
    pts = clustered_points(rng, n_dem, extent, 60, (600.0, 2500.0), 0.15) + [x0, y0]
    elderly = rng.gamma(1.2, 3.0, n_dem) * (1 + (rng.random(n_dem) < 0.05) * 4)
    ex_x, ex_y = synthetic_facilities(net, n_exist)
    cand = cands.junctions(net, None, n_cand, np.column_stack([ex_x, ex_y]), None)
    t = time.perf_counter()
    dem = snap_xy(net, pts[:, 0], pts[:, 1], 300.0)
    src_e = snap_xy(net, ex_x, ex_y, 300.0)
    src_c = snap_xy(net, cand.x, cand.y, 300.0)
    limit = 15 * 60.0
    ex = engine.reach_matrix(net, src_e, dem, limit).tocsr()
    cov = engine.reach_matrix(net, src_c, dem, limit).tocsr()
    times["reach"] = time.perf_counter() - t
    inst = {"elderly": np.where(dem.ok, elderly, 0.0), "n_nodes": int(net.n_nodes), "n_cand": len(cand)}
    return inst, cov, ex, times


def _gap(s) -> str:
    return "unknown" if s.gap is None else f"{s.gap:.3%}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--demand", type=int, default=100_000)
    ap.add_argument("--existing", type=int, default=1105)
    ap.add_argument("-p", type=int, default=8)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=250_000, help="street network variant size (0: skip it)")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)

    lines: list[str] = []

    def say(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    started = dt.datetime.now()
    load0 = os.getloadavg()[0]
    inst = make_instance(args.candidates, args.demand)
    cov = coverage_matrix(inst["cand"], inst["demand"], inst["radius"])
    rng = np.random.default_rng(settings.random_seed)
    ex_xy = inst["demand"][rng.choice(args.demand, args.existing, replace=False)]
    ex = coverage_matrix(ex_xy, inst["demand"], inst["radius"])
    # scarce places with Hohhot's 1,105 facilities; the balanced case with the 246 facilities of
    # bench_sites.py (60 % covered): with 1,105 saturated facilities each LP re-solve re-routes
    # through hundreds of them (see the notes under the table)
    results = [run_regime("scarce", inst, cov, ex, args.p, args.time_limit, args.repeats)]
    results[-1]["where"] = f"plane, 900 m straight line, {args.existing:,} existing"
    ex246 = coverage_matrix(inst["existing_xy"], inst["demand"], inst["radius"])
    results.append(run_regime("balanced", inst, cov, ex246, args.p, args.time_limit, args.repeats))
    results[-1]["where"] = f"plane, 900 m straight line, {ex246.shape[0]:,} existing"
    if args.nodes:
        ninst, ncov, nex, ntimes = network_instance(args.nodes, args.candidates, args.demand, args.existing)
        res = run_regime("scarce", ninst, ncov, nex, args.p, args.time_limit, args.repeats)
        res["where"] = f"street network, 15-min walk, {args.existing:,} existing, {ninst['n_cand']:,} candidates"
        results.append(res)
    peak = peak_rss_mb()

    say(f"Run {started.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPU(s) (`nproc` "
        f"{len(os.sched_getaffinity(0))}), {cpu_model()}, Python {platform.python_version()}; load average "
        f"{load0:.1f} at start, {os.getloadavg()[0]:.1f} at end. **The machine was shared with other engineers' "
        "tests: timings are wall-clock and noisy.**")
    say()
    say(f"Synthetic instance (seed {settings.random_seed}): the {args.candidates:,} candidates × {args.demand:,} "
        f"demand points of *Site selection* above ({inst['elderly'].sum():,.0f} elderly; reach = "
        f"**{inst['radius']:.0f} m straight line**, not the street network), {args.existing:,} existing "
        f"facilities at demand locations, p = {args.p}. Served = a maximum assignment of elderly to facilities "
        "within reach and capacity; the gain is what the new sites add to what the existing ones serve alone. "
        "Exact = greedy + HiGHS MIP within one time limit of "
        f"{args.time_limit:.0f} s; greedy medians of {args.repeats} runs, exact one run.")
    say()
    if args.nodes:
        say(f"Street network variant: {ninst['n_nodes']:,} nodes built in {ntimes['network']:.0f} s; snapping and "
            f"both reach matrices (15-min walk at 1.0 m/s) {ntimes['reach']:.1f} s; candidate reach nnz {ncov.nnz:,}, "
            f"existing {nex.nnz:,}.")
        say()
    say("| instance | regime | places (existing / new site) | served before | reduction | greedy | exact (HiGHS) | "
        "greedy / exact |")
    say("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        g, e = r["greedy"], r["exact"]
        c = e.extra
        say(f"| {r['where']} | {r['regime']} | {r['cap_e'].sum():,.0f} in all / {r['cap_new']:,.0f} | "
            f"{g.served_before:,.0f} ({g.share_before:.1%}) | {r['prep_s']:.1f} s (median): "
            f"{c['n_groups_all']:,} demand groups → {c['n_groups']:,} kept, {c['n_fixed_kept']:,} of "
            f"{c['n_fixed']:,} existing kept, {c['n_candidates_kept']:,} candidates | "
            f"{r['greedy_s']:.1f} s: +{g.objective:,.0f}, bound gap {_gap(g)} ({g.extra['n_evaluations']} "
            f"evaluations, {g.extra['n_lp_solves']} LP solves) | {r['exact_s']:.1f} s: +{e.objective:,.0f}, "
            f"status {e.status}, gap {_gap(e)}{' — ' + c['proof'] if 'proof' in c else ''} | "
            f"{g.objective / e.objective if e.objective else float('nan'):.4f} |")
    say(f"| peak RSS (whole run) | | {peak:,.0f} MB | | | | | |")
    say()
    say("Gap = (upper bound − objective) / upper bound on the gain; the bound is the smallest of HiGHS' dual "
        "bound, the greedy's submodular online bound (the served amount is a bipartite flow's value, "
        "monotone submodular in the open set) and the Lagrangian bound (demand rows relaxed, a knapsack per "
        "site, 40 % of the time left after greedy). In the scarce regime every new site fills up: greedy "
        "reaches the bound p × places and is proven optimal without the MIP (few LP evaluations: the "
        "unserved elderly around most sites already fill them). In the balanced regime the integer programme "
        "(one flow column per reach arc, ~0.4 million) rarely improves on the greedy within the limit: the "
        "stated gap is the Lagrangian bound's, an upper bound on the true gap.")
    say()
    say("**Not yet at Hohhot scale: the balanced regime with 1,105 facilities.** Measured on the same "
        "instance (one run, load ≈ 10): the reduction takes 48 s (33,893 of 52,271 demand groups and 602 of "
        "1,105 facilities kept) and one exact marginal gain (an LP re-solved from the last basis) 3.8 s, so "
        "the greedy alone needs minutes; with the stations' real sizes (the scarce regime) the same instance "
        "takes the seconds in the table. A faster exact evaluation (an augmenting-path max-flow on the "
        "residual graph instead of the LP) is the next step.")
    write_section(args.out, "served", "## Siting with capacity (served objective)", lines)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
