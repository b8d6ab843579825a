"""Benchmark of capacity-aware accessibility at Hohhot scale (writes BENCHMARKS.md, section "access").

呼和浩特规模的可达性基准：1,105 个设施（按呼和浩特各层级数量）、10 万以上需求点，所有层级的
2SFCA / E2SFCA 与设施负荷；同一成本矩阵上与 PySAL ``access`` 对比用时并核对数值。

The synthetic city of :mod:`carecover.bench.synthetic` (seed 20250625, walk network) with the
1,105 facilities of ``scripts/bench_plan.py``'s tier counts (:func:`synthetic_facilities`), and
≥ 100,000 demand points set back beside the streets with clustered elderly counts. Every tier
is routed on the walk network at 15 min (in a real run the regional tiers use the drive
network; the accessibility step is the same sparse algebra whatever the matrix came from).
Timed separately: the exact facility × demand reach matrices (:func:`engine.reach_matrix`, the
routing the plan's access stage does) and the accessibility itself (2SFCA + E2SFCA + load +
area figures for every tier, from those matrices) — the step with the < 2 s target. PySAL
``access`` (``pip install access``) is timed on the same cost matrices, and its scores are
checked against ours.

Usage::

    python scripts/bench_access.py                   # about 3-6 minutes on 2 cores
    python scripts/bench_access.py --nodes 40000 --demand 20000 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "coverage"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchutil import cpu_model, peak_rss_mb, timed, write_section  # noqa: E402

SEED = 20250625
#: Hohhot's facilities by tier key (report of 2025-06-25; 1,105 in all) and an illustrative
#: capacity range in places (uniform; the benchmark measures speed, not a city).
TIERS = [("city_centre", 1, (150, 300)), ("county_institution", 5, (80, 200)), ("district_centre", 4, (60, 150)),
         ("street_centre", 31, (30, 60)), ("township_centre", 31, (30, 60)), ("community_centre", 304, (8, 30)),
         ("village_station", 302, (5, 20)), ("happiness_home", 69, (5, 20)), ("meal_point", 358, (20, 60))]
THRESHOLD_MIN = 15.0
#: Elderly spread over the demand points: the ~670,000 elderly records of Hohhot's platform (report
#: of 2025-06-25), so that loads read like a city's.
ELDERLY_TOTAL = 670_000


def build(n_nodes: int, n_demand: int):
    """Network, snapped facilities per tier, snapped demand and elderly."""
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities
    from carecover.network.snap import snap_xy

    t = time.perf_counter()
    net = synthetic_city(n_nodes, SEED)
    n_fac = sum(n for _, n, _ in TIERS)
    fx, fy = synthetic_facilities(net, n_fac, SEED)
    rng = np.random.default_rng(SEED)
    # demand beside the streets, denser towards facility clusters (where people live)
    near = rng.choice(n_fac, n_demand)
    dx = fx[near] + rng.normal(0, 900, n_demand)
    dy = fy[near] + rng.normal(0, 900, n_demand)
    dem = snap_xy(net, dx, dy, max_snap_m=300)
    elderly = rng.gamma(1.5, 1.0, n_demand)
    elderly = np.round(elderly * ELDERLY_TOTAL / elderly.sum(), 2)  # Hohhot's ~670,000 elderly records
    tiers, start = {}, 0
    for key, n, (lo, hi) in TIERS:
        src = snap_xy(net, fx[start:start + n], fy[start:start + n], max_snap_m=300)
        tiers[key] = (src, np.round(rng.uniform(lo, hi, n)))
        start += n
    return net, tiers, dem, elderly, time.perf_counter() - t


def matrices(net, tiers, dem):
    from carecover.network import engine

    out, per = {}, {}
    for key, (src, _) in tiers.items():
        t = time.perf_counter()
        out[key] = engine.reach_matrix(net, src, dem, THRESHOLD_MIN * 60 + 1e-9)
        per[key] = time.perf_counter() - t
    return out, per


def ours(mats, tiers, elderly):
    """Everything the plan's access stage computes from the matrices, for every tier."""
    from carecover.analysis.access import Decay
    from carecover.analysis.supply import access_figures
    from carecover.config.capacity import CapacityRule
    from carecover.plan.access import tier_access

    areas = {"all": np.ones(len(elderly), bool), "east": np.arange(len(elderly)) % 2 == 0,
             "west": np.arange(len(elderly)) % 2 == 1}
    out = {}
    for key, M in mats.items():
        rule = CapacityRule(key, "capacity", 1.0, standard_per_1000=20.0, source="bench")
        decay = Decay("bands", THRESHOLD_MIN)
        ta = tier_access(key, rule, decay, np.arange(M.shape[0]), M, tiers[key][1], elderly)
        figs = []
        for method, res in (("2sfca", ta.two), ("e2sfca", ta.enhanced)):
            figs += access_figures(res.per_1000, elderly, tier=key, method=method, rule=rule,
                                   threshold_min=THRESHOLD_MIN, speed_mps=1.0, mode="walk", areas=areas, data={})
        out[key] = (ta, figs)
    return out


def pysal(M, supply, elderly, enhanced: bool):
    import access
    import pandas as pd

    coo = M.tocoo()
    cost = pd.DataFrame({"origin": coo.col, "dest": coo.row, "cost": (coo.data - 1e-9) / 60.0})
    dem = pd.DataFrame({"geoid": np.arange(M.shape[1]), "elderly": elderly})
    sup = pd.DataFrame({"geoid": np.arange(M.shape[0]), "places": supply})
    a = access.Access(demand_df=dem, demand_index="geoid", demand_value="elderly", supply_df=sup,
                      supply_index="geoid", supply_value="places", cost_df=cost, cost_origin="origin",
                      cost_dest="dest", cost_name="cost")
    if enhanced:
        e = THRESHOLD_MIN * np.arange(1, 4) / 3
        fn = access.weights.step_fn({float(e[0]): 1.0, float(e[1]): 0.68, float(e[2]): 0.22})
        res = a.enhanced_two_stage_fca(name="x", max_cost=THRESHOLD_MIN, weight_fn=fn)
    else:
        res = a.two_stage_fca(name="x", max_cost=THRESHOLD_MIN)
    return res["x_places"].reindex(np.arange(M.shape[1])).fillna(0.0).to_numpy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=250_000)
    ap.add_argument("--demand", type=int, default=120_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    t_all = time.perf_counter()
    net, tiers, dem, elderly, t_build = build(args.nodes, args.demand)
    print(f"city {net.n_nodes:,} nodes, {args.demand:,} demand points ({int(dem.ok.sum()):,} snapped), "
          f"{sum(len(s) for s, _ in tiers.values())} facilities; built in {t_build:.1f} s", flush=True)
    mats, per = matrices(net, tiers, dem)
    nnz = sum(M.nnz for M in mats.values())
    print(f"reach matrices {sum(per.values()):.1f} s, nnz {nnz:,}", flush=True)
    res, t_med, t_all_runs = timed(lambda: ours(mats, tiers, elderly), args.repeats)
    cpu = []
    for _ in range(args.repeats):  # CPU time: what a shared machine's wall clock hides
        c = time.process_time()
        ours(mats, tiers, elderly)
        cpu.append(time.process_time() - c)
    cpu_med = float(np.median(cpu))
    print(f"ours, all tiers: median {t_med:.3f} s wall ({', '.join(f'{x:.3f}' for x in t_all_runs)}), "
          f"CPU median {cpu_med:.3f} s", flush=True)
    rows = []
    checks = []
    pysal_total = {False: 0.0, True: 0.0}
    ours_tier = {}
    for key, M in mats.items():
        supply = tiers[key][1]
        _, t_one, _ = timed(lambda M=M, key=key: ours({key: M}, tiers, elderly), 3)
        ours_tier[key] = t_one
        line = [key, f"{M.shape[0]}", f"{M.nnz:,}", f"{per[key]:.2f} s", f"{t_one * 1000:.1f} ms"]
        for enhanced in (False, True):
            t = time.perf_counter()
            theirs = pysal(M, supply, elderly, enhanced)
            dt = time.perf_counter() - t
            pysal_total[enhanced] += dt
            mine = (res[key][0].enhanced if enhanced else res[key][0].two).score
            diff = float(np.max(np.abs(mine - theirs))) if len(mine) else 0.0
            checks.append(diff)
            line.append(f"{dt:.2f} s (max abs diff {diff:.1e})")
        print(" | ".join(line), flush=True)
        rows.append(line)
    comm = res["community_centre"][0]
    load = comm.load[np.isfinite(comm.load)]
    within = np.asarray(comm.times.sum(axis=0)).ravel() > 0
    lines = [
        f"Run {datetime.now():%Y-%m-%d %H:%M} on {os.cpu_count()} CPU(s), {cpu_model()}; load average "
        f"{load0:.1f} at start, {os.getloadavg()[0]:.1f} at end. **The machine was shared with other engineers' "
        "processes: wall-clock timings are noisy.** `python scripts/bench_access.py` "
        f"(whole benchmark {(time.perf_counter() - t_all) / 60:.1f} min).",
        "",
        f"Synthetic city (`carecover.bench.synthetic`, seed {SEED}): {net.n_nodes:,} nodes, walk 1.0 m/s; "
        f"{sum(len(s) for s, _ in tiers.values()):,} facilities in Hohhot's tier counts (`synthetic_facilities`), "
        f"{args.demand:,} demand points beside the streets ({int(dem.ok.sum()):,} snapped), "
        f"{float(elderly.sum()):,.0f} elderly; every tier at {THRESHOLD_MIN:g} min on the walk network; illustrative "
        "capacities. Reach matrices: exact facility × demand seconds (`engine.reach_matrix`, as the plan's access "
        f"stage), {nnz:,} entries in all, built in {sum(per.values()):.1f} s.",
        "",
        "| step | time | target | result |",
        "| --- | --- | --- | --- |",
        f"| accessibility, ALL tiers (2SFCA + E2SFCA + load + area figures), from the matrices | "
        f"{t_med:.3f} s wall, {cpu_med:.3f} s CPU (medians of {args.repeats}) | < 2 s | {len(mats)} tiers; "
        "community centres: "
        f"{comm.enhanced.per_1000[elderly > 0].mean():.1f} places per 1,000 (mean over points), load median "
        f"{np.median(load):.2f}, {int((load > 1).sum())} of {len(load)} overloaded |",
        f"| reach matrices, all tiers (routing) | {sum(per.values()):.1f} s | | {nnz:,} entries |",
        f"| PySAL `access` 2SFCA, all tiers, same matrices | {pysal_total[False]:.1f} s | | "
        f"ratio PySAL ÷ ours (both methods, all tiers): {(pysal_total[False] + pysal_total[True]) / t_med:.0f}× |",
        f"| PySAL `access` E2SFCA (step weights), all tiers | {pysal_total[True]:.1f} s | | |",
        f"| check: ours vs PySAL, largest difference of any score | | ≤ 1e-9 | {max(checks):.1e} "
        f"{'✓' if max(checks) <= 1e-9 else '✗'} |",
        f"| check: load conserved (community centres) | | equal | assigned {comm.assigned.sum():,.1f} = elderly within "
        f"reach {elderly[within].sum():,.1f} |",
        f"| peak RSS | {peak_rss_mb():,.0f} MB | < 4 GB | |",
        "",
        f"The load average ({load0:.1f}) was far above the 2 cores: wall-clock times are stretched by the other "
        "processes; the CPU time (single-threaded numpy/scipy) is what the step costs, and about what it takes "
        "on an idle machine. The accessibility step is sparse matrix–vector products and one sort per tier and "
        "method (for every area's Gini); the routing (reach matrices) is the engine's and is shared with the "
        "what-if state. PySAL is given the same costs as a long (origin, dest, cost) table; its E2SFCA applies "
        "the weight function row by row in Python.",
        "",
        "Per tier (ours: 2SFCA + E2SFCA + load + figures of that tier, median of 3; PySAL: one method each, "
        "with the largest score difference from ours):",
        "",
        "| tier | facilities | matrix entries | routing | ours | PySAL 2SFCA | PySAL E2SFCA |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *["| " + " | ".join(r) + " |" for r in rows],
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", "access", "## Capacity-aware accessibility (2SFCA / E2SFCA) at Hohhot scale",
                      lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
