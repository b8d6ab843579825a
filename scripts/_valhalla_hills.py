"""Valhalla pedestrian isochrones with and without hills, for scripts/bench_hills.py.

Run with the interpreter of the Python 3.12 venv that has pyvalhalla (see
``scripts/_valhalla_anchor.py``); standard library and ``valhalla`` only. Two tile sets of the same
.osm.pbf: ``flat`` (built without elevation: every edge has Valhalla's flat weighted grade) and
``hills`` (built with ``additional_data.elevation``: each directed edge gets its weighted grade).

Input (JSON on stdin)::

    {"pbf": "...osm.pbf", "tiles": "cache folder", "elevation": "skadi folder",
     "points": [[lon, lat], ...], "contours_min": [5, 10, 15], "walking_speed_kph": 3.6,
     "variants": [{"name": "...", "tiles": "flat" | "hills", "use_hills": 0.5, "reverse": false}],
     "repeats": 3}

Output: ``{"valhalla": version, "build_s": {"flat": s | null, "hills": s | null},
"heights": [m per point, from the hills tiles' elevation service], "variants": {name:
{"per_isochrone_s": [median per point], "per_isochrone_cpu_s": [...], "failed": n, "polygons": [[point, minutes, GeoJSON]]}}}``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from _valhalla_anchor import build_tiles


def requests(points, contours, speed_kph: float, variant: dict) -> list[str]:
    """One JSON request per point (a string in and out, as a service would pass them)."""
    costing = {"pedestrian": {"walking_speed": speed_kph, "use_hills": float(variant["use_hills"])}}
    return [json.dumps({"locations": [{"lon": lon, "lat": lat}], "costing": "pedestrian",
                        "costing_options": costing, "contours": contours, "polygons": True,
                        "reverse": bool(variant["reverse"])}) for lon, lat in points]


def run_interleaved(actors: dict, reqs: dict, variants: list[dict], repeats: int) -> dict:
    """Every point's isochrone for every variant, the variants interleaved point by point
    (so the machine's load falls alike on each): median time per request and the polygons."""
    out = {v["name"]: {"per_isochrone_s": [], "per_isochrone_cpu_s": [], "failed": 0, "polygons": []}
           for v in variants}
    for v in variants:
        actors[v["tiles"]].isochrone(reqs[v["name"]][0])  # warm the tile cache
    n = len(next(iter(reqs.values())))
    for i in range(n):
        times = {v["name"]: [] for v in variants}
        cpu = {v["name"]: [] for v in variants}
        last = {}
        for _ in range(repeats):
            for v in variants:
                t, c = time.perf_counter(), time.process_time()
                try:
                    last[v["name"]] = actors[v["tiles"]].isochrone(reqs[v["name"]][i])
                except RuntimeError:
                    last[v["name"]] = None
                times[v["name"]].append(time.perf_counter() - t)
                cpu[v["name"]].append(time.process_time() - c)
        for v in variants:
            rec, res = out[v["name"]], last[v["name"]]
            if res is None:
                rec["failed"] += 1
                continue
            rec["per_isochrone_s"].append(statistics.median(times[v["name"]]))
            rec["per_isochrone_cpu_s"].append(statistics.median(cpu[v["name"]]))
            for feat in json.loads(res)["features"]:
                rec["polygons"].append([i, feat["properties"]["contour"], feat["geometry"]])
    return out


def main() -> int:
    job = json.loads(sys.stdin.read())
    import valhalla
    from valhalla import Actor

    pbf, base = Path(job["pbf"]), Path(job["tiles"])
    configs, build_s = {}, {}
    configs["flat"], build_s["flat"] = build_tiles(pbf, base / "flat")
    configs["hills"], build_s["hills"] = build_tiles(pbf, base / "hills", Path(job["elevation"]))
    actors = {k: Actor(str(c)) for k, c in configs.items()}
    shape = [{"lon": lon, "lat": lat} for lon, lat in job["points"]]
    heights = json.loads(actors["hills"].height(json.dumps({"shape": shape})))["height"]
    contours = [{"time": float(m)} for m in job["contours_min"]]
    reqs = {v["name"]: requests(job["points"], contours, float(job["walking_speed_kph"]), v)
            for v in job["variants"]}
    out = run_interleaved(actors, reqs, job["variants"], int(job.get("repeats", 3)))
    print(json.dumps({"valhalla": getattr(valhalla, "__version__", "?"), "build_s": build_s,
                      "heights": heights, "variants": out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
