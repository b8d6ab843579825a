"""Valhalla isochrones for scripts/bench_engine.py, run in a separate Python 3.12 venv.

pyvalhalla (3.9.1) ships wheels for Python 3.12 only, so ``bench_engine.py`` runs this file with
the interpreter of that venv and reads one JSON object from its stdout. Standard library and
``valhalla`` only: nothing from carecover is imported here.

Input (JSON on stdin)::

    {"pbf": "...osm.pbf", "tiles": "cache folder", "points": [[lon, lat], ...],
     "contours_min": [5, 10, 15], "walking_speed_kph": 3.6, "repeats": 3, "keep": 10}

Output: ``{"valhalla": version, "build_s": s | null (tiles cached), "load_s": s,
"per_isochrone_s": [median per point], "per_isochrone_cpu_s": [median CPU seconds per point], "failed": n, "polygons": [[point index, minutes,
GeoJSON geometry], ...] for the first ``keep`` points}``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def build_tiles(pbf: Path, folder: Path, elevation: Path | None = None) -> tuple[Path, float | None]:
    """Valhalla tiles of ``pbf`` in ``folder`` (built once; later runs reuse them).

    ``elevation``: a folder of SRTM tiles in Valhalla's layout (``N43/N43E007.hgt``, 1 arc-second,
    3601 × 3601); set as ``additional_data.elevation``, the build writes each edge's grade."""
    from valhalla import get_config

    config = folder / "config.json"
    done = folder / "tiles.done"
    if done.exists() and config.exists():
        return config, None
    folder.mkdir(parents=True, exist_ok=True)
    tiles = folder / "tiles"
    tiles.mkdir(exist_ok=True)
    cfg = get_config(tile_extract="", tile_dir="", verbose=False)
    cfg["mjolnir"]["tile_dir"] = str(tiles)
    cfg["mjolnir"]["tile_extract"] = ""
    cfg["mjolnir"]["admin"] = ""
    cfg["mjolnir"]["timezone"] = ""
    if elevation is not None:
        cfg["additional_data"]["elevation"] = str(elevation)
    config.write_text(json.dumps(cfg), encoding="utf-8")
    import valhalla

    # the executable inside the wheel (the venv's console script wrapper needs it on PATH)
    exe = Path(valhalla.__file__).parent / "bin" / "valhalla_build_tiles"
    cmd = [str(exe)]
    t = time.perf_counter()
    subprocess.run([*cmd, "-c", str(config), str(pbf)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    took = time.perf_counter() - t
    done.write_text("ok", encoding="utf-8")
    return config, took


def main() -> int:
    job = json.loads(sys.stdin.read())
    import valhalla
    from valhalla import Actor

    config, build_s = build_tiles(Path(job["pbf"]), Path(job["tiles"]))
    t = time.perf_counter()
    actor = Actor(str(config))
    load_s = time.perf_counter() - t
    contours = [{"time": float(m)} for m in job["contours_min"]]
    costing = {"pedestrian": {"walking_speed": float(job["walking_speed_kph"])}}

    def request(lon: float, lat: float) -> str:
        # a JSON string in and out, as a service would pass them (no dict conversion timed)
        return json.dumps({"locations": [{"lon": lon, "lat": lat}], "costing": "pedestrian",
                           "costing_options": costing, "contours": contours, "polygons": True})

    reqs = [request(lon, lat) for lon, lat in job["points"]]
    actor.isochrone(reqs[0])  # warm the tile cache
    per, per_cpu, failed, polygons = [], [], 0, []
    for i, req in enumerate(reqs):
        times, cpu = [], []
        out = None
        for _ in range(int(job.get("repeats", 3))):
            t, c = time.perf_counter(), time.process_time()
            try:
                out = actor.isochrone(req)
            except RuntimeError:
                out = None
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        if out is None:
            failed += 1
            continue
        per.append(statistics.median(times))
        per_cpu.append(statistics.median(cpu))
        if i < int(job.get("keep", 10)):
            for feat in json.loads(out)["features"]:
                polygons.append([i, feat["properties"]["contour"], feat["geometry"]])
    print(json.dumps({"valhalla": getattr(valhalla, "__version__", "?"), "build_s": build_s,
                      "load_s": load_s, "per_isochrone_s": per, "per_isochrone_cpu_s": per_cpu,
                      "failed": failed,
                      "polygons": polygons}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
