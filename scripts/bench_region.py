"""Benchmark of ``carecover region`` on 1 and 2 local workers (wall time, per-task time and
memory, scheduler overhead, speed-up).

    PYTHONPATH=coverage python scripts/bench_region.py --make-province DIR [--cities 10 --nodes 105000]
    PYTHONPATH=coverage python scripts/bench_region.py DIR/areas.toml [--workers 1 2] [--repeat 3]
                                                       [--cache CACHE]

``--make-province`` writes a synthetic province: cities from
:func:`carecover.bench.synthetic.synthetic_city` ~50 km apart, each as street arrays
(``.streets.npz``), a facility register (:func:`~carecover.bench.synthetic.synthetic_facilities`,
three walking tiers) and a 0.001° population raster (residents where the streets are), and the
areas file listing them (tiled).

Each run starts from an empty task cache (the network and stage caches are warmed by a
first run, so the timings are routing, not parsing; ``--cache CACHE`` keeps them between
invocations, and a cache already warm for this code skips the warm-up: the stage caches are
keyed by the code's hash, so any code change warms them again, else the first timed run
would rebuild every tile's network). One LocalCluster per worker count
is started once, before any timing, and reused by every repeat; the runs are interleaved
(1, 2, 1, 2 …) so that a change of load hits both alike. Reported per run: the cluster part
(tasks and merges, submission → last merged area), the whole run, task times, memory;
scheduler overhead = wall time of the cluster part − (sum of task and merge seconds / workers);
the worker processes' CPU (``worker_cpu_s``, everything they did) beside the CPU of the task
and merge bodies, the keys moved between workers (``moved_by_kind``: count and Dask's size per
kind of key), and the client process's CPU in the cluster part, in submitting and in the outputs.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from carecover import utils
from carecover.plan.cache import code_fingerprint
from carecover.region.options import RegionOptions
from carecover.region.run import run_region
from distributed import Client, LocalCluster


def _worker_counters(dask_worker) -> dict:
    """A worker process's CPU seconds so far and the transfers it received (keys and wire bytes)."""
    import psutil

    t = psutil.Process().cpu_times()
    return {"cpu": t.user + t.system, "incoming": len(dask_worker.transfer_incoming_log)}


def _moved(dask_worker, since: int) -> list[tuple[dict, float]]:
    """The transfers a worker received from the other worker after its ``since``-th one: the
    keys with the size Dask measured (``sizeof``), and the seconds it took."""
    return [(dict(e["keys"]), e["duration"]) for e in list(dask_worker.transfer_incoming_log)[since:]]


def _kind(key: str) -> str:
    """A key's kind: ``task``, ``demand``, ``parts`` (``assemble`` before issue 25's views),
    ``view``, ``figures``, ``gaps``, ``area`` …"""
    parts = [p for p in key.removeprefix("carecover-").split("-") if not p.isdigit()]
    if parts[:1] == ["area"] and len(parts) > 1:  # the keys of the merge steps before: area-<i>-<step>
        parts = parts[1:]
    return "-".join(parts) if parts else key


def transfers(client: Client, before: dict) -> dict:
    """What the workers did between ``before`` (:func:`_worker_counters` per worker) and now:
    their process CPU, and the keys moved between them (count, Dask's size, by kind)."""
    after = client.run(_worker_counters)
    moved = []
    for addr, b in before.items():
        moved += client.run(_moved, since=b["incoming"], workers=[addr])[addr]
    kinds: dict[str, list[float]] = {}
    keys = [(k, n) for got, _ in moved for k, n in got.items()]
    for key, nbytes in keys:
        kinds.setdefault(_kind(str(key)), []).append(nbytes)
    return {"worker_cpu_s": sum(after[a]["cpu"] - b["cpu"] for a, b in before.items()),
            "moved_keys": len(keys), "moved_mb": sum(n for _, n in keys) / 1e6,
            "moved_s": sum(d for _, d in moved),
            "moved_by_kind": {k: (len(v), round(sum(v) / 1e6, 2)) for k, v in sorted(kinds.items())}}


def one(areas: Path, client: Client, workers: int, cache: Path) -> dict:
    """One run from an empty task cache on ``client`` (its cluster already started)."""
    shutil.rmtree(cache / "region" / "tasks", ignore_errors=True)
    out = Path(tempfile.mkdtemp()) / "out"
    before = client.run(_worker_counters)
    t0, c0 = time.perf_counter(), time.process_time()
    run = run_region(RegionOptions(areas=areas, out=out, cache=cache, dashboard=False), client=client)
    wall, client_cpu = time.perf_counter() - t0, time.process_time() - c0
    moved = transfers(client, before)
    shutil.rmtree(out.parent, ignore_errors=True)
    stats = [s for a in run.areas for s in a.stats]
    busy = sum(s["seconds"] for s in stats)
    merge_busy = run.seconds.get("merge_busy", float("nan"))
    task_cpu = sum(s.get("cpu_s", float("nan")) for s in stats)
    merge_cpu = run.seconds.get("merge_cpu", float("nan"))
    cluster_s = run.seconds.get("cluster", run.seconds["tasks"] + run.seconds["merge"])
    return {"workers": workers, "wall_s": wall, "cluster_s": cluster_s, "client_cpu_s": client_cpu,
            "tasks_s": run.seconds["tasks"], "merge_s": run.seconds["merge"],
            "tasks": len(stats), "task_s_median": statistics.median(s["seconds"] for s in stats),
            "task_s_max": max(s["seconds"] for s in stats), "busy_s": busy, "merge_busy_s": merge_busy,
            "task_cpu_s": task_cpu, "merge_cpu_s": merge_cpu, "cpu_per_area_s": (task_cpu + merge_cpu) / len(run.areas),
            "overhead_s": cluster_s - (busy + (0.0 if merge_busy != merge_busy else merge_busy)) / workers,
            "peak_rss_mb_max": max(s["peak_rss_mb"] for s in stats),
            "residents": sum(len(a.points) for a in run.areas), "nodes_max": max(s["nodes"] for s in stats),
            "client_cpu_cluster_s": run.seconds.get("cluster_cpu", float("nan")),
            "client_cpu_submit_s": run.seconds.get("submit_cpu", float("nan")),
            "client_outputs_s": run.seconds.get("outputs", float("nan")),
            "client_outputs_cpu_s": run.seconds.get("outputs_cpu", float("nan")), **moved}


def clusters(counts: list[int]) -> dict[int, tuple[LocalCluster, Client]]:
    """One LocalCluster (127.0.0.1, 1 thread per worker process) per worker count, started once."""
    out = {}
    for w in sorted(set(counts)):
        cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR)
        out[w] = (cluster, Client(cluster))
    return out


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def make_province(folder: Path, cities: int, nodes: int, facilities: int, tile_km: float) -> Path:
    """Write the synthetic province (see the module docstring); returns the areas file."""
    import numpy as np
    import pandas as pd
    import rasterio
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities
    from carecover.network.readers import StreetData
    from carecover.network.readers.streets import write
    from rasterio.transform import from_origin

    folder.mkdir(parents=True, exist_ok=True)
    tiers = ["社区养老服务站", "老年助餐点", "街道综合养老服务中心"]
    entries = []
    for k in range(cities):
        centre = (109.0 + (k % 5) * 0.7, 40.0 + (k // 5) * 0.6)
        net = synthetic_city(n_nodes=nodes, seed=100 + k, center_lonlat=centre)
        lon, lat = (np.asarray(a) for a in net.to_wgs84().transform(net.node_x, net.node_y))
        data = StreetData(pd.DataFrame({"id": net.node_id, "lon": lon, "lat": lat}),
                          pd.DataFrame({"highway": net.seg_highway, "u": net.node_id[net.seg_a],
                                        "v": net.node_id[net.seg_b]}))
        write(folder / f"city{k:02d}.streets.npz", data)
        fx, fy = synthetic_facilities(net, n=facilities, seed=200 + k)
        flon, flat = net.to_wgs84().transform(fx, fy)
        pd.DataFrame({"编号": [f"C{k:02d}F{i:04d}" for i in range(facilities)],
                      "名称": [f"设施{i}" for i in range(facilities)],
                      "层级": [tiers[i % 3] for i in range(facilities)], "经度": np.round(flon, 7),
                      "纬度": np.round(flat, 7)}).to_csv(folder / f"city{k:02d}.csv", index=False)
        cell = 0.001
        w, s_, e, n = lon.min() - cell, lat.min() - cell, lon.max() + cell, lat.max() + cell
        ncol, nrow = int(np.ceil((e - w) / cell)), int(np.ceil((n - s_) / cell))
        col = ((lon - w) / cell).astype(int)
        row = ((n - lat) / cell).astype(int)
        counts = np.zeros((nrow, ncol), "float32")
        np.add.at(counts, (row, col), 6.0)
        with rasterio.open(folder / f"city{k:02d}_pop.tif", "w", driver="GTiff", height=nrow, width=ncol, count=1,
                           dtype="float32", crs="EPSG:4326", transform=from_origin(w, n, cell, cell),
                           nodata=-1) as dst:
            dst.write(counts, 1)
        entries.append(f"""[[areas]]
name = "city{k:02d}"
bbox = [{lon.min():.6f}, {lat.min():.6f}, {lon.max():.6f}, {lat.max():.6f}]
network = "city{k:02d}.streets.npz"
facilities = ["city{k:02d}.csv"]
population = "city{k:02d}_pop.tif"
""")
        print(f"city{k:02d}: {net.n_nodes} nodes, {facilities} facilities, {int(counts.sum())} residents", flush=True)
    areas = folder / "areas.toml"
    areas.write_text(f"tile_km = {tile_km}\n" + "\n".join(entries), encoding="utf-8")
    return areas


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("areas", type=Path, nargs="?")
    ap.add_argument("--make-province", type=Path, metavar="DIR")
    ap.add_argument("--cities", type=int, default=10)
    ap.add_argument("--nodes", type=int, default=105_000)
    ap.add_argument("--facilities", type=int, default=520)
    ap.add_argument("--tile-km", type=float, default=10.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", type=Path, help="cache folder kept between invocations (warm: no warm-up)")
    args = ap.parse_args()
    if args.make_province:
        make_province(args.make_province, args.cities, args.nodes, args.facilities, args.tile_km)
        return
    utils.QUIET = True
    cache = args.cache or Path(tempfile.mkdtemp(prefix="bench_region_"))
    t_all = time.perf_counter()
    print(f"load average at start: {load()}", flush=True)
    running = clusters(args.workers)
    try:
        # the stage caches (demand, networks) are keyed by the code's hash: warm them for this code
        warm = cache / "region" / f".bench-warm-{code_fingerprint()[:16]}"
        if not warm.is_file():
            t = time.perf_counter()
            one(args.areas, running[max(args.workers)][1], max(args.workers), cache)  # warm the caches
            warm.touch()
            print(f"warm-up (street arrays, demand, networks): {time.perf_counter() - t:.1f} s", flush=True)
        rows = []
        for _ in range(args.repeat):
            for w in args.workers:  # interleaved: 1, 2, 1, 2 …
                rows.append(one(args.areas, running[w][1], w, cache))
                r = rows[-1]
                print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())
                      + f" load={load()}", flush=True)
    finally:
        for cluster, client in running.values():
            client.close()
            cluster.close()
    print(f"load average at end: {load()}; benchmark {time.perf_counter() - t_all:.0f} s")
    for col in ("cluster_s", "wall_s"):
        base = statistics.median(r[col] for r in rows if r["workers"] == min(args.workers))
        for w in args.workers:
            t = statistics.median(r[col] for r in rows if r["workers"] == w)
            print(f"{col}: workers={w} median={t:.2f}s speedup={base / t:.2f}")
    cpu = [r["cpu_per_area_s"] for r in rows if r["cpu_per_area_s"] == r["cpu_per_area_s"]]
    if cpu:
        print(f"CPU per area (tasks + merge), median over runs: {statistics.median(cpu):.1f} s")
    if args.cache is None:
        shutil.rmtree(cache, ignore_errors=True)

if __name__ == "__main__":
    main()
