"""Benchmark our ``slope`` profile side by side with Valhalla's pedestrian ``use_hills`` on
Monaco (issue 24): isochrone areas, slope ÷ flat ratios and time per isochrone, each side.

The same facility points (placed on our walk network's streets, seeded) and the same DEM
(``../shared/data/dem/N43E007.hgt.zip``, SRTM 3″) on both sides, walking at 3.6 km/h (1.0 m/s),
bands 5, 10 and 15 min:

* ours: ``elderly`` (flat) and ``slope`` (Tobler normalised to 1 on the flat, downhill gain
  capped at 1, sampled every 20 m; routed on the reverse graph: resident → facility), also
  ``slope`` forward (facility → resident) to show the direction;
* Valhalla (pyvalhalla in its Python 3.12 venv, ``scripts/_valhalla_hills.py``): tiles built
  without elevation (flat) and with ``additional_data.elevation`` (the same SRTM tile resampled
  to Valhalla's 1″ grid, see :func:`skadi_tile`), pedestrian costing with ``use_hills`` 1, 0.5
  and 0, ``reverse: true`` (resident → facility) and ``use_hills`` 1 forward.

Both sides run interleaved (variants alternate point by point); false inclusion of every
polygon set is measured by our check (``fidelity``) against our own times for the matching
profile. Writes the section between ``<!-- hills:start -->`` and ``<!-- hills:end -->`` of
``BENCHMARKS.md`` (``--out``). Run: ``python scripts/bench_hills.py`` (about a minute; the
Valhalla tiles are built once into ``~/.cache/carecover/valhalla-hills``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _bench_extracts import street_points  # noqa: E402
from _benchutil import cpu_model, write_section  # noqa: E402
from carecover import settings  # noqa: E402
from carecover.mobility import make  # noqa: E402
from carecover.network import isochrones, load_network  # noqa: E402
from carecover.network.mobility import reverse  # noqa: E402
from carecover.network.mobility_net import apply_profile  # noqa: E402
from carecover.network.snap import snap_xy  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
#: Valhalla variants: name, tile set, use_hills, reverse (resident → facility).
VARIANTS = [("V flat tiles", "flat", 0.5, True), ("V use_hills 1", "hills", 1.0, True),
            ("V use_hills 0.5", "hills", 0.5, True), ("V use_hills 0", "hills", 0.0, True),
            ("V use_hills 1, forward", "hills", 1.0, False)]


def skadi_tile(hgt_zip: Path, folder: Path) -> Path:
    """Valhalla's elevation folder (``N43/N43E007.hgt``) from an SRTM 3″ ``.hgt.zip``.

    Valhalla reads 1″ tiles only (3601 × 3601 int16). The 3″ posts are kept exactly (every
    third 1″ post) and the posts between them are bilinear, so Valhalla's bilinear sampling
    sees the same surface as ours, rounded to whole metres; nodata (−32768: the sea) is filled
    from the nearest valid post, as ``carecover.network.dem`` does.
    """
    from scipy import ndimage

    with zipfile.ZipFile(hgt_zip) as z:
        name = next(n for n in z.namelist() if n.lower().endswith(".hgt"))
        raw = z.read(name)
    stem = Path(name).stem
    out = folder / stem[:3] / f"{stem}.hgt"
    if out.exists():
        return folder
    n = int(round((len(raw) // 2) ** 0.5))
    zc = np.frombuffer(raw, ">i2").reshape(n, n).astype(float)
    hole = zc == -32768
    if hole.any():
        zc = zc[tuple(ndimage.distance_transform_edt(hole, return_distances=False, return_indices=True))]
    f = np.arange(3601) * (n - 1) / 3600
    i0 = np.minimum(np.floor(f).astype(np.int64), n - 2)
    w = (f - i0)
    rows = zc[i0] * (1 - w)[:, None] + zc[i0 + 1] * w[:, None]
    fine = rows[:, i0] * (1 - w)[None, :] + rows[:, i0 + 1] * w[None, :]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    np.rint(fine).astype(">i2").tofile(tmp)
    tmp.replace(out)
    return folder


def ours(net, dem: Path, x, y, bands, repeats: int) -> tuple[dict, dict]:
    """Our isochrones flat, slope (resident → facility) and slope forward, interleaved.

    Returns ``({name: (network, snapped, rows)}, {name: [seconds per facility]})`` and the
    profile network's build time under ``"prep_s"``."""
    t = time.perf_counter()
    graded, info = apply_profile(net, make("slope"), dem)
    back = reverse(graded)
    prep = time.perf_counter() - t
    nets = {"ours flat (elderly)": net, "ours slope": back, "ours slope, forward": graded}
    srcs = {k: snap_xy(g, x, y) for k, g in nets.items()}
    speed = settings.walk_speed_mps
    for k, g in nets.items():  # warm imports and each network's spatial index
        isochrones.facility_isochrones(g, srcs[k].subset(np.arange(1)), bands, walk_speed_mps=speed)
    times = {k: [] for k in nets}
    cpu = {k: [] for k in nets}
    rows = {}
    for _ in range(repeats):
        for k, g in nets.items():
            t, c = time.perf_counter(), time.process_time()
            rows[k] = isochrones.facility_isochrones(g, srcs[k], bands, walk_speed_mps=speed)
            times[k].append((time.perf_counter() - t) / int(srcs[k].ok.sum()))
            cpu[k].append((time.process_time() - c) / int(srcs[k].ok.sum()))
    out = {k: (nets[k], srcs[k], rows[k]) for k in nets}
    return out, {"per_s": {k: statistics.median(v) for k, v in times.items()},
                 "cpu_s": {k: statistics.median(v) for k, v in cpu.items()}, "prep_s": prep,
                 "dem": info.get("dem", {})}


def valhalla(args, net, x, y, bands) -> tuple[dict | None, str]:
    """Valhalla's variants in its own interpreter: (output, "") or (None, why not)."""
    from _bench_extracts import valhalla_python
    from pyproj import Transformer

    vpy, why = valhalla_python(args.valhalla_python)
    if vpy is None:
        return None, why
    lon, lat = Transformer.from_crs(net.crs, 4326, always_xy=True).transform(x, y)
    job = {"pbf": str(args.pbf), "tiles": str(args.cache / args.pbf.name.split(".")[0]),
           "elevation": str(skadi_tile(args.dem, args.cache / "dem")),
           "points": [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)],
           "contours_min": bands, "walking_speed_kph": settings.walk_speed_mps * 3.6,
           "variants": [{"name": n, "tiles": t, "use_hills": u, "reverse": r} for n, t, u, r in VARIANTS],
           "repeats": args.repeats}
    done = subprocess.run([str(vpy), str(ROOT / "scripts" / "_valhalla_hills.py")],
                          input=json.dumps(job), capture_output=True, text=True)
    if done.returncode != 0:
        return None, "failed: " + done.stderr.strip()[-300:]
    v = json.loads(done.stdout)
    back = Transformer.from_crs(4326, net.crs, always_xy=True)
    for rec in v["variants"].values():
        rec["rows"] = [(int(i), float(m), shapely.transform(shapely.geometry.shape(g), lambda c: np.column_stack(
            back.transform(c[:, 0], c[:, 1])))) for i, m, g in rec.pop("polygons")]
    return v, ""


def areas(rows, n: int, bands) -> np.ndarray:
    """Area (km²) per facility and band (NaN where a facility has no polygon)."""
    a = np.full((n, len(bands)), np.nan)
    col = {b: j for j, b in enumerate(bands)}
    for i, b, p in rows:
        a[i, col[float(b)]] = p.area / 1e6
    return a


def false_share(net, src, rows, n_fac: int, samples: int) -> float:
    """Median false-inclusion share over the first ``n_fac`` facilities, 15-min band (our check)."""
    top = max(b for _, b, _ in rows)
    out = []
    for i in range(n_fac):
        polys = [(b, p) for j, b, p in rows if j == i and b == top]
        if polys and src.ok[i]:
            f = isochrones.fidelity(net, src.subset(np.array([i])), polys, n_samples=samples, seed=1)
            out.append(float(f["false_share"].iloc[0]))
    return float(np.median(out)) if out else float("nan")


def table(sets: dict, bands, n: int) -> list[str]:
    """Markdown rows: areas, ratios to each side's flat, time, false inclusion."""
    names = list(sets)
    A = {k: areas(s["rows"], n, bands) for k, s in sets.items()}
    flat_of = {k: ("ours flat (elderly)" if k.startswith("ours") else "V flat tiles") for k in names}
    lines = ["| | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for j, b in enumerate(bands):
        lines.append(f"| median area {b:g} min (km²) | "
                     + " | ".join(f"{np.nanmedian(A[k][:, j]):.3f}" for k in names) + " |")
    for j, b in enumerate(bands):
        cells = []
        for k in names:
            f = A.get(flat_of[k])
            if f is None:
                cells.append("–")
                continue
            ok = np.isfinite(A[k][:, j]) & np.isfinite(f[:, j]) & (f[:, j] > 0)
            r = A[k][ok, j] / f[ok, j]
            cells.append(f"{A[k][ok, j].sum() / f[ok, j].sum():.3f} (median {np.median(r):.3f})")
        lines.append(f"| area ÷ own flat, {b:g} min (total; per-facility median) | " + " | ".join(cells) + " |")
    lines.append("| time per isochrone (3 bands), median wall | "
                 + " | ".join(f"{s['per_s'] * 1000:.1f} ms" for s in sets.values()) + " |")
    lines.append("| time per isochrone (3 bands), median CPU | "
                 + " | ".join(f"{s['cpu_s'] * 1000:.2f} ms" for s in sets.values()) + " |")
    lines.append("| false inclusion, 15 min (our check vs our times of the matching profile) | "
                 + " | ".join(f"{s['false']:.1%}" if s.get("false") == s.get("false") else "–"
                              for s in sets.values()) + " |")
    return lines


def summary(sets: dict, bands, n: int) -> str:
    """One sentence: the 15-minute area ratios and the times, each side."""
    A = {k: np.nansum(areas(s["rows"], n, bands)[:, -1]) for k, s in sets.items()}
    of = lambda k, f: A[k] / A[f]  # noqa: E731
    text = (f"**In short** ({max(bands):g} min, total area of the {n} facilities): slopes ÷ flat is "
            f"{of('ours slope', 'ours flat (elderly)'):.2f} for ours (resident → facility)")
    if "V use_hills 1" in sets:
        text += (f", {of('V use_hills 1', 'V flat tiles'):.2f} for Valhalla with `use_hills` 1 and "
                 f"{of('V use_hills 0', 'V flat tiles'):.2f} with `use_hills` 0 (`reverse`). CPU per "
                 f"isochrone: ours {sets['ours flat (elderly)']['cpu_s'] * 1000:.1f} ms flat, "
                 f"{sets['ours slope']['cpu_s'] * 1000:.1f} ms slope; Valhalla "
                 f"{sets['V flat tiles']['cpu_s'] * 1000:.2f} ms flat, "
                 f"{sets['V use_hills 1']['cpu_s'] * 1000:.2f} ms with grades")
    return text + "."


def steepness(graded) -> str:
    """How steep the network is by our sampling, against Valhalla's grade clamp (15 %)."""
    from carecover.mobility import tobler

    L = graded.seg_len
    f = np.minimum(graded.seg_slope_ab, graded.seg_slope_ba)  # the harder direction
    share = {g: float(L[f < tobler(np.array([g]))[0]].sum() / L.sum()) for g in (0.10, 0.15, 0.25)}
    return (f"By our sampling {share[0.10]:.0%} of Monaco's walk network (by length) climbs, in its harder "
            f"direction, at more than 10 % on average, {share[0.15]:.0%} more than 15 % and {share[0.25]:.0%} "
            f"more than 25 % (a segment average in Tobler's terms). Valhalla clamps grades to −10…15 % "
            f"(at most 2.5 × the flat time, 0.40 × speed); ours keeps falling past that "
            f"({float(tobler(np.array([0.15]))[0]):.2f} × at 15 %, {float(tobler(np.array([0.25]))[0]):.2f} × "
            f"at 25 %, {float(tobler(np.array([0.40]))[0]):.2f} × at 40 %), and a segment that climbs and "
            "descends is slow both ways in ours but averages out to nearly flat in Valhalla's one "
            "grade per edge: probably the main reasons our reduction is larger (not separated here).")


def dem_heights(dem: Path, lon, lat) -> np.ndarray:
    """Our DEM at the points (nearest 3″ post), for the check of Valhalla's elevation."""
    import rasterio
    from carecover.network.dem import gdal_path

    with rasterio.open(gdal_path(dem)) as ds:
        return np.array([v[0] for v in ds.sample(zip(lon, lat, strict=True))], float)


def notes(v: dict | None, why: str, info: dict, x, y, net, args) -> list[str]:
    """What the section says about the method and the check that Valhalla's grades took effect."""
    from pyproj import Transformer

    out = []
    if v is not None:
        lon, lat = Transformer.from_crs(net.crs, 4326, always_xy=True).transform(x, y)
        diff = np.abs(np.asarray(v["heights"], float) - dem_heights(args.dem, lon, lat))
        b = {k: "cached" if s is None else f"{s:.1f} s" for k, s in v["build_s"].items()}
        out.append(f"Valhalla {v['valhalla']}: tiles built without elevation "
                   f"({b['flat']}) and with it ({b['hills']}); its elevation at the "
                   f"{len(diff)} facility points (`/height`) differs from our DEM's nearest post by median "
                   f"{np.median(diff):.1f} m, max {diff.max():.0f} m (bilinear vs nearest post), and its "
                   "isochrones with grades differ from the flat tiles' (table): the grades took effect.")
    else:
        out.append(f"Valhalla: skipped ({why}).")
    d = info.get("dem", {})
    out.append(f"Our DEM: {d.get('samples', 0):,} samples, {d.get('nodata_filled_samples', 0):,} filled "
               f"from the nearest valid pixel (sea), steepest 20 m piece {d.get('max_grade', 0):.0%}; "
               f"building the slope network (DEM sampled every 20 m + reverse graph) took "
               f"{info['prep_s']:.2f} s once.")
    return out


def method_notes() -> list[str]:
    """The differences of method, with our factors computed from :func:`carecover.mobility.tobler`."""
    from carecover.mobility import tobler

    up10, up5, dn3, dn10 = (float(tobler(np.array([g]))[0]) for g in (0.10, 0.05, -0.03, -0.10))
    return [
        "Differences of method, stated plainly:",
        "",
        "- **Speed on a grade.** Ours: Tobler's hiking function normalised to 1 on the flat, "
        "`exp(-3.5·|g+0.05|)/exp(-0.175)`, downhill gain capped at 1 (an older walker goes no faster "
        f"downhill than on the flat): 10 % up → {up10:.2f} × flat speed, 5 % up → {up5:.2f} ×, 3 % down "
        f"→ {dn3:.2f} ×, 10 % down → {dn10:.2f} ×. Valhalla (`src/sif/pedestriancost.cc`, "
        "`kGradeBasedSpeedFactor`): a 16-class table of *time* factors per edge weighted grade "
        "(DIN 33466-style, a modified Tobler on gentle descents): 10 % up → time × 1.83 (0.55 × "
        "speed), 5 % up × 1.33 (0.75 ×), 3 % down × 0.88 (1.14 ×, faster than flat), 10 % down × 1.33 "
        "(0.75 ×). Valhalla is harsher uphill and on steep descents, kinder on gentle descents.",
        "- **`use_hills` does not change the speed.** Valhalla applies the grade factor to time "
        "whatever `use_hills` is; `use_hills` only adds a *cost* penalty `(1 − use_hills) × "
        "kAvoidHillsStrength[grade]` that makes the search prefer flatter routes. An isochrone reports "
        "the *time* of the least-*cost* route, so `use_hills` 0 gives smaller isochrones (flatter "
        "detours that take longer) and `use_hills` 1 is the like-for-like with our profile (least "
        "time). Valhalla's flat reference is therefore tiles built without elevation (every edge "
        "flat), not `use_hills` 0.",
        "- **Where the grade is measured.** Ours: every 20 m along each segment (bilinear on the 3″ "
        "DEM), each piece its own grade, so a street that climbs and descends is not flat. Valhalla: "
        "each directed edge resampled every 60 m, grades clamped to −10…15 %, weighted (ascent more "
        "than descent) and summarised into one of 16 classes per edge; bridges, tunnels and ferries "
        "take the heights of their two ends only. Ours too since `network/structures.py`: a "
        "bridge or tunnel run is graded on the straight line between the ground heights at its "
        "ends (Monaco: 431 segments, 9.55 km; the areas here moved by under 0.5 %). Our steepest "
        "20 m piece (148 %) is a cliff footpath west of the Tête de Chien where the SRTM tile "
        "itself falls 82 m in 67 m.",
        "- **Direction.** Both directional: ours routes on the reverse graph (resident → facility); "
        "Valhalla with `reverse: true` gives times *to* the location; the forward columns show the "
        "other direction (facility → resident).",
        "- **Outlines.** Valhalla's polygons are generalised outlines of a coarse time grid (tens of "
        "vertices, no holes); ours follow the streets (25 m buffer, holes for blocks), so Valhalla's "
        "areas are larger for the same reach. The false-inclusion check uses our times of the "
        "matching profile (ours flat for the flat tiles, our slope times for its graded variants), so "
        "for the graded variants it also counts where Valhalla's grade model disagrees with ours; it "
        "rates Valhalla against our model, not against ground truth. Walkable ways, snapping and "
        "Valhalla's pedestrian penalties (alleys, driveways, unlit ways) differ too.",
        "- **DEM.** The same SRTM 3″ tile on both sides: Valhalla reads only 1″ tiles, so the 3″ posts "
        "are kept and the posts between them bilinear (the same surface, rounded to whole metres); "
        "the sea's nodata is filled from the nearest valid post on both sides.",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pbf", type=Path, default=DATA / "osm" / "monaco.osm.pbf")
    ap.add_argument("--dem", type=Path, default=DATA / "dem" / "N43E007.hgt.zip")
    ap.add_argument("--facilities", type=int, default=40)
    ap.add_argument("--seed", type=int, default=settings.random_seed)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check", type=int, default=10, help="facilities for the false-inclusion check")
    ap.add_argument("--valhalla-python", help="python of a venv with pyvalhalla (default ../valhalla-venv)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "carecover" / "valhalla-hills",
                    help="folder for Valhalla's tiles and elevation folder (built once)")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    bands = [float(b) for b in settings.bands_min]
    net = load_network(args.pbf, "walk", cache=False)
    x, y = street_points(net, args.facilities, args.seed)
    mine, info = ours(net, args.dem, x, y, bands, args.repeats)
    v, why = valhalla(args, net, x, y, bands)
    sets = {k: {"rows": r, "per_s": info["per_s"][k], "cpu_s": info["cpu_s"][k], "net": g, "src": s}
            for k, (g, s, r) in mine.items()}
    match = {True: "ours slope", False: "ours slope, forward"}
    for name, tiles, _, rev in VARIANTS if v is not None else []:
        ref = sets["ours flat (elderly)" if tiles == "flat" else match[rev]]
        rec = v["variants"][name]
        sets[name] = {"rows": rec["rows"], "per_s": statistics.median(rec["per_isochrone_s"]),
                      "cpu_s": statistics.median(rec["per_isochrone_cpu_s"]),
                      "net": ref["net"], "src": ref["src"], "failed": rec["failed"]}
    for s in sets.values():
        s["false"] = false_share(s["net"], s["src"], s["rows"], min(args.check, args.facilities), 300)
    load1 = os.getloadavg()
    rows = table(sets, bands, args.facilities) + ["", summary(sets, bands, args.facilities)]
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Run {now}, {cpu_model()}, {os.cpu_count()} CPU(s) shared with other jobs: load average "
             f"{load0[0]:.1f} at start, {load1[0]:.1f} at end (timings are wall-clock, noisy; the two "
             "sides run interleaved, each a median of "
             f"{args.repeats} runs per facility). {args.pbf.name}: {net.n_nodes:,} walk nodes; "
             f"{args.facilities} facilities on streets (seed {args.seed}); walking 3.6 km/h (1.0 m/s); "
             f"DEM {args.dem.name}. Ours: one process, 3 bands per facility; Valhalla: one request "
             "with 3 contours per facility.", "", *rows, "",
             *notes(v, why, info, x, y, net, args), "", steepness(mine["ours slope, forward"][0]), "",
             *method_notes()]
    print("\n".join(lines))
    write_section(args.out, "hills", "## Slopes: our `slope` profile vs Valhalla's pedestrian `use_hills` "
                  "(issue 24, Monaco)", lines)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
