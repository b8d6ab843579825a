"""Benchmark of ``carecover region`` on 1 and 2 local workers (wall time, per-task time and
memory, scheduler overhead, speed-up).

    PYTHONPATH=coverage python scripts/bench_region.py AREAS.toml [--workers 1 2] [--repeat 1]

Each run starts from an empty task cache (the network and stage caches are warmed by a
first run, so the timings are routing, not parsing). Scheduler overhead = wall time of the
tasks − (sum of task seconds / workers).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from carecover import utils
from carecover.region.options import RegionOptions
from carecover.region.run import run_region
from distributed import Client, LocalCluster


def one(areas: Path, workers: int, cache: Path) -> dict:
    shutil.rmtree(cache / "region" / "tasks", ignore_errors=True)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        out = Path(tempfile.mkdtemp()) / "out"
        t0 = time.perf_counter()
        run = run_region(RegionOptions(areas=areas, out=out, cache=cache, dashboard=False), client=client)
        wall = time.perf_counter() - t0
    stats = [s for a in run.areas for s in a.stats]
    busy = sum(s["seconds"] for s in stats)
    return {"workers": workers, "wall_s": wall, "tasks_s": run.seconds["tasks"], "merge_s": run.seconds["merge"],
            "tasks": len(stats), "task_s_median": statistics.median(s["seconds"] for s in stats),
            "task_s_max": max(s["seconds"] for s in stats), "busy_s": busy,
            "overhead_s": run.seconds["tasks"] - busy / workers,
            "peak_rss_mb_max": max(s["peak_rss_mb"] for s in stats),
            "residents": sum(len(a.points) for a in run.areas), "nodes_max": max(s["nodes"] for s in stats)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("areas", type=Path)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    utils.QUIET = True
    cache = Path(tempfile.mkdtemp(prefix="bench_region_"))
    one(args.areas, max(args.workers), cache)  # warm the network and stage caches
    rows = [one(args.areas, w, cache) for w in args.workers for _ in range(args.repeat)]
    for r in rows:
        print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    base = statistics.median(r["tasks_s"] for r in rows if r["workers"] == min(args.workers))
    for w in args.workers:
        t = statistics.median(r["tasks_s"] for r in rows if r["workers"] == w)
        print(f"workers={w} tasks_wall_median={t:.2f}s speedup={base / t:.2f}")
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
