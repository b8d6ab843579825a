"""Benchmark of ``carecover region`` on 1 and 2 local workers (wall time, per-task time and
memory, scheduler overhead, speed-up).

    PYTHONPATH=coverage python scripts/bench_region.py --make-province DIR [--cities 10 --nodes 105000]
    PYTHONPATH=coverage python scripts/bench_region.py DIR/areas.toml [--workers 1 2] [--repeat 1]

``--make-province`` writes a synthetic province: cities from
:func:`carecover.bench.synthetic.synthetic_city` ~50 km apart, each as street arrays
(``.streets.npz``), a facility register (:func:`~carecover.bench.synthetic.synthetic_facilities`,
three walking tiers) and a 0.001° population raster (residents where the streets are), and the
areas file listing them (tiled).

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
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
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
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.make_province:
        make_province(args.make_province, args.cities, args.nodes, args.facilities, args.tile_km)
        return
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
