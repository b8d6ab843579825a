"""The plan's isochrone stage at Hohhot scale: time per tier, vertices, GeoPackage size, memory.

呼和浩特规模的等时圈阶段基准：逐层级计时（墙钟与 CPU）、顶点数、GeoPackage 图层大小与内存峰值。

Runs ``carecover plan``'s stages up to routing on the inputs of ``scripts/bench_plan.py`` (its
``--work`` folder, networks from its cache), then :func:`carecover.plan.isochrones.build`
``--repeats`` times, and writes the isochrone layer into a GeoPackage as the exports do. Prints
wall and CPU seconds (``time.process_time``) per tier and in all, vertices, false inclusion per
band, the layer's size and the process's peak RSS before and after the stage.

Usage::

    python scripts/bench_isochrones.py --work /tmp/iso2-bench [--repeats 3] [--profile F.pstats]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from _benchutil import peak_rss_mb  # noqa: E402


def prepare(work: Path):
    """Params, networks and routed tiers of the bench_plan inputs (the stages before isochrones)."""
    os.environ.setdefault("CARECOVER_CACHE", str(work / "cache"))
    from carecover import cli, utils
    from carecover.plan import area, checks, inputs, networks, resolve, travel

    utils.QUIET = True
    argv = ["plan", "--config", str(work / "config.toml"), "--network", str(work / "city.osm.pbf"),
            "--facilities", str(work / "facilities.csv"), "--boundary", str(work / "counties.geojson"),
            "--population", str(work / "worldpop.tif"), "--offline-map",
            "--out", str(work / "out-iso")]
    args = cli.build_parser().parse_args(argv)
    params = resolve(cli.plan_options(args))
    bounds = area.read_boundaries_of(params)
    walk = networks.load_mode(params, bounds, "walk")
    study = area.study_area(bounds, walk)
    fac = inputs.read_facilities(params, study, walk)
    nets = networks.load_networks(params, bounds, walk, fac)
    demand = inputs.read_demand(params, study)
    trav = travel.route(params, nets, fac, demand)
    checks.check(params, fac, trav)
    return params, nets, trav


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/carecover-bench-plan"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", type=Path, help="cProfile the last repeat into this .pstats file")
    args = ap.parse_args()
    import carecover
    import carecover.plan.isochrones as iso
    import shapely

    print(f"carecover from {carecover.__file__}; load average {os.getloadavg()[0]:.1f}")
    t = time.perf_counter()
    params, nets, trav = prepare(args.work)
    print(f"stages before isochrones: {time.perf_counter() - t:.1f} s; peak RSS {peak_rss_mb():,.0f} MB")
    per_tier: dict[str, list[tuple[float, float]]] = {}
    inner = iso.tier_isochrones

    def timed(params, net, tt, fids):
        w, c = time.perf_counter(), time.process_time()
        try:
            return inner(params, net, tt, fids)
        finally:
            per_tier.setdefault(tt.tier.key, []).append((time.perf_counter() - w, time.process_time() - c))

    iso.tier_isochrones = timed
    walls, cpus, result = [], [], None
    rss0 = peak_rss_mb()
    for k in range(args.repeats):
        prof = None
        if args.profile and k == args.repeats - 1:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        w, c = time.perf_counter(), time.process_time()
        result = iso.build(params, nets, trav)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        if prof is not None:
            prof.disable()
            prof.dump_stats(args.profile)
        print(f"  run {k + 1}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU; load {os.getloadavg()[0]:.1f}")
    print(f"isochrones, all tiers: median {statistics.median(walls):.2f} s wall, "
          f"{statistics.median(cpus):.2f} s CPU ({args.repeats} runs); peak RSS {rss0:,.0f} → {peak_rss_mb():,.0f} MB")
    frame = result.frame
    print("| tier | mode | facilities | wall (median) | CPU (median) | vertices 5/10/15 | false inclusion 5/10/15 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key, tt in trav.tiers.items():
        ws, cs = zip(*per_tier[key], strict=True)
        rows = frame[frame["tier"] == key].sort_values("band_min")
        verts = "/".join(f"{shapely.get_num_coordinates(g):,}" for g in rows.geometry)
        fals = "/".join(f"{b['false_share'] * 100:.1f}%" for b in result.fidelity[key]["bands"])
        print(f"| {key} | {tt.tier.mode} | {int(tt.sources.ok.sum()):,} | {statistics.median(ws):.2f} s "
              f"| {statistics.median(cs):.2f} s | {verts} | {fals} |")
    nv = int(shapely.get_num_coordinates(frame.geometry.values).sum())
    from carecover.outputs.export import ordered_layer
    from carecover.outputs.gpkg import write_gpkg

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "iso.gpkg"
        w = time.perf_counter()
        write_gpkg({"isochrones": ordered_layer(frame, "isochrones")}, p, styles=False)
        print(f"vertices in all: {nv:,}; isochrones layer in a GeoPackage: {p.stat().st_size / 1e6:.1f} MB "
              f"(written in {time.perf_counter() - w:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
