"""Benchmark the exact covering solver on a plan's real siting instance (issue 14).

Loads ``OUT/state/<tier>.npz`` written by ``carecover plan`` (e.g. the one of
``scripts/bench_plan.py``: ``/tmp/speed-bench/out``), rebuilds the covering model the plan
solved (the siting region's elderly weights, demand covered by the existing facilities, ``p`` =
the plan's number of chosen sites; group caps and spacing are not in the state file, and the
street-centre tier has none), then times greedy, the exact solver without the Lagrangian bound
(the "before": HiGHS on the whole reduced programme) and with it (the "after"), wall and CPU
seconds, medians of repeats. Writes the section between ``<!-- exact-bench:start -->`` and
``<!-- exact-bench:end -->`` of ``BENCHMARKS.md`` with ``--write``.

Run: ``python scripts/bench_exact.py --out /tmp/speed-bench/out [--tier street_centre] [--write]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _benchutil import cpu_model, write_section  # noqa: E402
from carecover.siting.greedy import Greedy  # noqa: E402
from carecover.siting.highs import Highs  # noqa: E402
from carecover.siting.model import MaximalCovering  # noqa: E402
from carecover.siting.state import load_state  # noqa: E402


def state_model(out: Path, tier: str, p: int | None) -> tuple[MaximalCovering, dict]:
    """The covering model of ``tier``'s prepared state, and a few facts about it."""
    st = load_state(out, tier, summary={})
    M = st.matrix.tocsr()
    existing = M[st.existing_rows()]
    covered0 = np.asarray(existing.getnnz(axis=0) > 0).ravel()
    reach = M[st.n_existing:]
    w = st.region_weights["elderly"]
    p = len(st.chosen) if p is None else p
    model = MaximalCovering.from_reach_matrix(reach, w, p, covered0=covered0)
    return model, {"candidates": reach.shape[0], "demand": reach.shape[1], "entries": reach.nnz,
                   "p": p, "mode": st.mode, "path": st.path}


def run(model: MaximalCovering, solver, repeats: int):
    """Last solution, median wall and median CPU seconds of ``repeats`` solves."""
    walls, cpus, sol = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        sol = model.solve(solver)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return sol, statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/speed-bench/out"), help="a plan's output folder")
    ap.add_argument("--tier", default="street_centre")
    ap.add_argument("-p", type=int, default=None, help="sites (default: as many as the plan chose)")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before-repeats", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="write the section of BENCHMARKS.md")
    args = ap.parse_args(argv)

    lines: list[str] = []

    def say(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    model, info = state_model(args.out, args.tier, args.p)
    load = os.getloadavg()
    say(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs ({cpu_model()}), "
        f"load average {load[0]:.1f} at start. `{info['path']}`: {info['candidates']:,} candidates × "
        f"{info['demand']:,} demand cells, {info['entries']:,} reach entries ({info['mode']}), p = {info['p']}, "
        f"time limit {args.time_limit:g} s.")
    say()
    say("| solver | wall (median) | CPU (median) | objective (elderly) | status | bound, gap | model |")
    say("| --- | --- | --- | --- | --- | --- | --- |")
    g, gw, gc = run(model, Greedy(), args.repeats)
    say(f"| greedy | {gw:.2f} s | {gc:.2f} s | {g.objective:,.1f} | {g.status} | {g.bound:,.1f}, "
        f"{100 * g.gap:.2f}% | |")
    rows = [("before: HiGHS on the whole reduced programme", Highs(args.time_limit, lagrange_min_entries=2**62),
             args.before_repeats),
            ("after: Lagrangian bound, fixing, then HiGHS", Highs(args.time_limit), args.repeats)]
    for name, solver, reps in rows:
        if reps <= 0:
            continue
        s, sw, sc = run(model, solver, reps)
        e = s.extra
        size = (f"{e.get('n_model_candidates', 0):,} candidates × {e.get('n_groups', 0):,} groups"
                + (f"; {e['n_fixed_by_lagrange']:,} fixed out by the bound "
                   f"{e['lagrangian_bound']:,.1f} ({e['lagrangian_iterations']} steps)"
                   if "lagrangian_bound" in e else ""))
        say(f"| {name} | {sw:.2f} s | {sc:.2f} s | {s.objective:,.1f} | {s.status} | "
            f"{s.bound:,.1f}, {100 * s.gap:.3f}% | {size} |")
        say_sites = ", ".join(str(int(j)) for j in sorted(s.chosen))
        print(f"   sites {say_sites}", flush=True)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", "exact-bench", "### Measured by scripts/bench_exact.py", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
