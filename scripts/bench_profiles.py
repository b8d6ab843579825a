"""Benchmark the mobility profiles (issue 24) at Hohhot scale: what a profile adds to the walk
tier's routing.

The synthetic city of ``carecover.bench.synthetic`` (seed 20250625, ~250,000 nodes, around
Hohhot) with 1,105 clustered facilities and 120,000 demand points beside the streets; a synthetic
DEM over it (a GeoTIFF in the city's UTM zone, 30 m pixels: a broad hill plus ridges, grades up
to ~15 %). Measured: the walk tier's routing as the run does it (snap the facilities, one bounded
15-minute multi-source search, the demand points' times) on the flat network, then for the
``slope``, ``step_free`` and ``winter`` profiles what each adds (the profile network: tag rules,
speed factors, the DEM sampled every 20 m; the reverse graph; the demand snapped to it) and its
own routing on the graded/filtered reverse graph.

Writes the section between ``<!-- profiles:start -->`` and ``<!-- profiles:end -->`` of
``BENCHMARKS.md``. Run: ``python scripts/bench_profiles.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _benchutil import cpu_model, peak_rss_mb, timed, write_section  # noqa: E402
from carecover.bench.synthetic import synthetic_city, synthetic_facilities  # noqa: E402
from carecover.mobility import make  # noqa: E402
from carecover.network import engine  # noqa: E402
from carecover.network.mobility import reverse  # noqa: E402
from carecover.network.mobility_net import apply_profile  # noqa: E402
from carecover.network.snap import snap_xy  # noqa: E402


def write_dem(net, path: Path, pixel: float = 30.0) -> Path:
    """A smooth synthetic DEM (GeoTIFF, the network's CRS) over the network plus 1 km."""
    import rasterio
    from affine import Affine

    x0, x1 = net.node_x.min() - 1000, net.node_x.max() + 1000
    y0, y1 = net.node_y.min() - 1000, net.node_y.max() + 1000
    w, h = int((x1 - x0) / pixel) + 1, int((y1 - y0) / pixel) + 1
    cx = x0 + pixel * (np.arange(w) + 0.5)
    cy = y1 - pixel * (np.arange(h) + 0.5)
    X, Y = np.meshgrid(cx - cx.mean(), cy - cy.mean())
    r = np.hypot(X, Y)
    z = 1050 + 250 * np.exp(-(r / 6000) ** 2) + 40 * np.sin(X / 700) * np.cos(Y / 900)
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=net.crs.to_wkt(), transform=Affine(pixel, 0, x0, 0, -pixel, y1)) as ds:
        ds.write(z.astype("float32"), 1)
    return path


def route(net, fx, fy, dx, dy, limit):
    """The walk tier as the run routes it: snap, one bounded multi-source search, point times."""
    src = snap_xy(net, fx, fy)
    dem = snap_xy(net, dx, dy)
    nt = engine.nearest(net, src, limit)
    t, _ = engine.point_times(net, nt, dem, src)
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=20250625)
    ap.add_argument("--write", action="store_true", help="write the BENCHMARKS.md section")
    args = ap.parse_args()
    net = synthetic_city(args.nodes, args.seed)
    # a quarter of the paths made steps and a tenth gravel, so step_free and winter have work
    rng = np.random.default_rng(args.seed)
    hw = net.seg_highway.astype(object)
    paths = np.isin(hw, ["footway", "path", "service", "residential"])
    hw[paths & (rng.random(net.n_segments) < 0.05)] = "steps"
    net.seg_highway = hw.astype(str)
    net.seg_tags = {"surface": np.where(rng.random(net.n_segments) < 0.03, "gravel", "")}
    fx, fy = synthetic_facilities(net, 1105, args.seed + 1)
    pick = rng.choice(net.n_segments, min(120_000, net.n_segments), replace=False)
    f = rng.random(len(pick))
    dx = net.node_x[net.seg_a[pick]] * (1 - f) + net.node_x[net.seg_b[pick]] * f + rng.uniform(-25, 25, len(pick))
    dy = net.node_y[net.seg_a[pick]] * (1 - f) + net.node_y[net.seg_b[pick]] * f + rng.uniform(-25, 25, len(pick))
    limit = 900 * 1.25 * 1.0001  # as the run: the slowest sensitivity speed (0.8 m/s)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        dem = write_dem(net, Path(tmp) / "dem.tif")
        flat, base, _ = timed(lambda: route(net, fx, fy, dx, dy, limit), 3)
        rows.append(("walk tier (flat, the run's routing)", 0.0, 0.0, base, (flat <= 900).mean()))
        for name in ("slope", "step_free", "winter", "step_free+winter+slope"):
            prof = make(name)
            rnet, prep, _ = timed(lambda p=prof: reverse(apply_profile(net, p, dem)[0]), 3)
            times, rt, _ = timed(lambda r=rnet: route(r, fx, fy, dx, dy, limit), 3)
            rows.append((name, prep, prep / base, rt, (times <= 900).mean()))
    lines = [f"Synthetic city (seed {args.seed}): {net.n_nodes:,} nodes, {net.n_segments:,} segments; 1,105 "
             f"facilities, {len(pick):,} demand points, 15 min (searched to 18.75 min, the run's bound); synthetic "
             "DEM (GeoTIFF, 30 m, UTM 49N). Medians of 3 (the snapping index each network builds on its first "
             "call is reused by the next two); a machine shared with other jobs. Machine: " + cpu_model() + f", peak RSS {peak_rss_mb():,.0f} MB.",
             "",
             "| | profile network + reverse graph (s) | extra ÷ walk routing | routing on it (s) | demand within 15 min |",
             "| --- | --- | --- | --- | --- |"]
    for name, prep, ratio, rt, share in rows:
        lines.append(f"| {name} | {prep:.2f} | {ratio:.0%} | {rt:.2f} | {share:.1%} |")
    lines += ["", "The extra cost is building the profile's network (tag rules, speed factors; for `slope` "
              "the DEM read and sampled every 20 m along every segment, and the directional "
              "factors); the routing itself is the same engine on a graph of the same size."]
    print("\n".join(lines))
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", "profiles", "## Mobility profiles at Hohhot scale (issue 24)", lines)


if __name__ == "__main__":
    main()
