"""Benchmark the routing engine and isochrones: a Hohhot-scale synthetic city, then real extracts
side by side with Valhalla, pandana and the OSMnx recipe.

1. Synthetic city (``carecover.bench.synthetic.synthetic_city``: jittered grid of 80-120 m blocks,
   diagonal arterials, missing links, ways split into segments; walk 1.0 m/s) and 1,105 clustered
   facilities: network/CSR build, snapping, the multi-source 15-minute pass, catchments,
   isochrone polygons for every facility (2 workers), the tier unions of bench_plan's nine tiers
   (walk and drive networks, Hohhot's tier counts), peak memory; then the OSMnx recipe
   (networkx ``ego_graph`` by travel time + convex hull or buffered edges) on a sample.
2. Real extracts (``../shared/data/osm``: Monaco, Andorra; Liechtenstein and Harrisburg from
   ``~/.cache/carecover/extracts`` when present, else skipped and said; ``--extract PATH``,
   repeatable, for others), walking at 1.0 m/s, 60 facilities on streets: our per-facility
   polygons and their false inclusion, Valhalla's isochrones of the same points timed in
   alternation with ours (pyvalhalla in a Python 3.12 venv, ``scripts/_valhalla_anchor.py``;
   skipped with the reason when absent), pandana's answer to the coverage question (``pip
   install ".[bench]"``) and the OSMnx recipe, all in one run.

Writes the section between ``<!-- engine:start -->`` and ``<!-- engine:end -->`` of
``BENCHMARKS.md``; ``--only-extracts`` runs part 2 alone and writes it between
``<!-- engine-extracts:start -->`` and ``<!-- engine-extracts:end -->``.

Run: ``python scripts/bench_engine.py`` (about 5 minutes on 2 idle cores). Valhalla: ``python3.12
-m venv ../valhalla-venv && ../valhalla-venv/bin/pip install pyvalhalla`` (or
``--valhalla-python``). Side by side on Liechtenstein and Harrisburg only (about a minute):
``python scripts/bench_engine.py --only-extracts --extract ~/.cache/carecover/extracts/liechtenstein-latest.osm.pbf
--extract ~/.cache/carecover/extracts/harrisburg.osm.pbf``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _bench_extracts import (  # noqa: E402
    DEFAULT_EXTRACTS,
    EXTRACT_NOTE,
    buffered_poly,
    extract_section,
    hull_poly,
    nx_graph,
    versions,
)
from _benchutil import cpu_model, peak_rss_mb, timed, write_section  # noqa: E402
from carecover import settings  # noqa: E402
from carecover.bench.synthetic import synthetic_city, synthetic_facilities  # noqa: E402
from carecover.network import engine, isochrones  # noqa: E402
from carecover.network.augment import augmented  # noqa: E402
from carecover.network.snap import snap_xy  # noqa: E402
from carecover.network.spatial import segment_index as snap_tree  # noqa: E402


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children (worker processes)."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime










#: The profile that chose the change (py-spy, 2026-12-03, shared 2-core machine), kept in the section.
PROFILE = [
    "### Profile (py-spy `record -f raw`, before and after the change)",
    "",
    "Before (raster field polygonised with rasterio, then union and simplify), one walking tier "
    "union of 358 facilities on the 247,722-node city, 4-Mpixel raster, 22.7 s: `shapely.union_all` "
    "of the traced pixel polygons **30.0 %** (own time), `shapely.simplify(preserve_topology=True)` of "
    "the staircase **30.0 %**, routing `csr_min` 4.0 %, `rasterio.features.shapes` 3.1 %, "
    "`distance_transform_edt` 3.6 %, street sampling in `time_field` ≈ 6 %. Per facility (300 "
    "facilities, 1 process): `rasterio.features.shapes` 17.8 %, `distance_transform_edt` 14.3 %, "
    "`simplify` 10.1 %, `union_all` 7.3 % (polygonising 47 % in all), field 32 %, routing on the "
    "window 2–3 %.",
    "",
    "After (contoured grid): per facility — `_field_block` 43 % (`distance_transform_edt` 17 %, "
    "gathers and access legs the rest), contourpy 16 %, band values 9 %, routing 3 %. Walking tier "
    "of 358 facilities at 16 Mpixels — contouring 40 % (of which contourpy's own `meshgrid` of the "
    "coordinates 21 %), street samples 20 %, field blocks 18 %; no union, no simplify.",
]

#: bench_plan's tiers: Hohhot's facility counts and each tier's network.
TIERS = [(1, "drive"), (5, "drive"), (4, "drive"), (31, "walk"), (31, "drive"), (304, "walk"),
         (302, "walk"), (69, "walk"), (358, "walk")]


def tier_unions(walk, seed: int, fx, fy, bands) -> tuple[list[tuple], float, float]:
    """Tier union polygons of bench_plan's nine tiers (consecutive slices of the facilities),
    on the walk network and the drive network of the same synthetic city."""
    nets = {"walk": walk, "drive": synthetic_city(walk.source["n_nodes_requested"], seed, profile="drive")}
    out, wall, cpu = [], 0.0, 0.0
    start = 0
    for n, mode in TIERS:
        net = nets[mode]
        src = snap_xy(net, fx[start:start + n], fy[start:start + n])
        start += n
        nt = engine.nearest(net, src, max(bands) * 60)
        t, c = time.perf_counter(), cpu_seconds()
        polys = isochrones.tier_isochrones(net, src, bands, node_times=nt, walk_speed_mps=settings.walk_speed_mps)
        dw, dc = time.perf_counter() - t, cpu_seconds() - c
        wall, cpu = wall + dw, cpu + dc
        fid = isochrones.fidelity(net, src, polys, n_samples=1000, node_times=nt)
        out.append((mode, n, dw, dc, polys, fid))
    return out, wall, cpu
















def only_extracts(args, say, load0) -> int:
    """``--only-extracts``: the side-by-side runs alone, written as the ``engine-extracts`` section."""
    say("注意 / note: other processes may share this machine; timings are wall-clock.")
    ext_lines = extract_section(args, say)
    load1 = os.getloadavg()
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Run {now} on {os.cpu_count()} CPU(s), {cpu_model()}; load average {load0[0]:.1f} at start, "
             f"{load1[0]:.1f} at end. **The machine is shared: timings are wall-clock and noisy; the ratios "
             "come from interleaved rounds.**", "", versions() + ".", "", EXTRACT_NOTE, *ext_lines]
    write_section(args.out, "engine-extracts", "## Isochrones on real extracts, side by side "
                  "(`bench_engine.py --only-extracts`)", lines)
    say(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=250_000)
    ap.add_argument("--facilities", type=int, default=1105)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2, help="processes for isochrone polygons")
    ap.add_argument("--nx-sample", type=int, default=20, help="facilities for the OSMnx recipe")
    ap.add_argument("--buffer-sample", type=int, default=50, help="facilities for the buffer method")
    ap.add_argument("--seed", type=int, default=settings.random_seed)
    ap.add_argument("--no-nx", action="store_true", help="skip the networkx/OSMnx comparison")
    ap.add_argument("--no-tiers", action="store_true", help="skip the nine tier unions")
    ap.add_argument("--extracts", nargs="*", type=Path, default=DEFAULT_EXTRACTS,
                    help="real extracts for the side-by-side section (default: Monaco, Andorra, and "
                         "Liechtenstein and Harrisburg from ~/.cache/carecover/extracts)")
    ap.add_argument("--extract", action="append", type=Path,
                    help="an extract for the side-by-side section (repeatable; replaces --extracts)")
    ap.add_argument("--only-extracts", action="store_true",
                    help="run only the side-by-side section on the extracts and write it as its own "
                         "section (engine-extracts) of --out")
    ap.add_argument("--extract-facilities", type=int, default=60)
    ap.add_argument("--valhalla-python", help="python of a venv with pyvalhalla (default ../valhalla-venv)")
    ap.add_argument("--valhalla-cache", type=Path, default=Path.home() / ".cache" / "carecover" / "valhalla",
                    help="folder for Valhalla tiles (built once per extract)")
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = ap.parse_args(argv)
    lines: list[str] = []
    rows: list[tuple[str, str, str, str]] = []

    def say(s: str = "") -> None:
        print(s, flush=True)

    def row(step: str, t: str, target: str = "", result: str = "") -> None:
        rows.append((step, t, target, result))
        say(f"{step:<58} {t:>22}  {target:<8} {result}")

    load0 = os.getloadavg()
    if args.only_extracts:
        return only_extracts(args, say, load0)
    rss0 = peak_rss_mb()
    limit = settings.threshold_min * 60
    bands = list(settings.bands_min)
    say("注意 / note: other processes may share this machine; timings are wall-clock.")

    t = time.perf_counter()
    net = synthetic_city(args.nodes, args.seed)
    t_gen = time.perf_counter() - t
    say(f"synthetic city: {net.n_nodes:,} nodes, {net.n_segments:,} segments, "
        f"{net.seg_len.sum() / 1000:,.0f} km of street, {net.crs.to_string()}")
    G, t_csr, _ = timed(net.csr, args.repeats)
    row("network build: synthetic generator (arrays)", f"{t_gen:.2f} s", "", f"{net.n_nodes:,} nodes")
    row("CSR travel-time matrix `net.csr()`", f"{t_csr:.3f} s (median of {args.repeats})", "",
        f"{G.nnz:,} directed edges")

    fx, fy = synthetic_facilities(net, args.facilities, args.seed + 1)
    t = time.perf_counter()
    src = snap_xy(net, fx, fy)
    t_snap_cold = time.perf_counter() - t
    src, t_snap, _ = timed(lambda: snap_xy(net, fx, fy), args.repeats)
    row("snap all facilities `snap_xy` (first call builds STRtree)", f"{t_snap_cold:.3f} s", "",
        f"{int(src.ok.sum())}/{len(src)} snapped, median access {np.median(src.dist):.0f} m")
    row("snap all facilities, tree cached", f"{t_snap:.4f} s (median)", "", "")

    nt, t_near, near_all = timed(lambda: engine.nearest(net, src, limit), args.repeats)
    reached = np.isfinite(nt.time)
    row(f"multi-source pass `engine.nearest`, {int(src.ok.sum())} facilities, 15 min",
        f"{t_near:.3f} s (median of {args.repeats})", "< 1 s",
        f"{reached.mean():.1%} of nodes within 15 min; min/max {min(near_all):.3f}/{max(near_all):.3f} s")
    # the same search alone (scipy's Dijkstra on the source-augmented graph): the pass's overhead
    okn = net.n_nodes + np.flatnonzero(src.ok)
    G_aug = augmented(net, src)
    _, t_dij, _ = timed(lambda: dijkstra(G_aug, directed=True, indices=okn, min_only=True, limit=limit,
                                         return_predecessors=True), args.repeats)
    row("multi-source pass ÷ its Dijkstra (`scipy` `dijkstra` alone on the source-augmented graph)",
        f"{t_near / t_dij:.2f}×", "≤ 2×", f"Dijkstra {t_dij * 1000:.1f} ms, whole pass {t_near * 1000:.1f} ms")
    (catch, assign), t_catch, _ = timed(
        lambda: (engine.catchments(nt, len(src)), nt.source.copy()), args.repeats)
    row("catchments `engine.catchments` + per-node assignment", f"{t_catch * 1000:.2f} ms (median)", "",
        f"{int((catch > 0).sum())} facilities with a catchment; largest {int(catch.max()):,} nodes")

    ok = np.flatnonzero(src.ok)
    nps = min(128, len(ok))
    subp = src.subset(ok[:nps])
    t = time.perf_counter()
    for _ in engine.per_source(net, subp, limit, 64):
        pass
    per_src = (time.perf_counter() - t) / nps
    row(f"per-facility reach `engine.per_source` (whole network, dense rows; sample of {nps})",
        f"{per_src * 1000:.2f} ms/facility", "", "one bounded Dijkstra per facility")
    # the same, routed on each facility's reachable window (what facility_isochrones does)
    tree = snap_tree(net)
    reach = limit * float(net.seg_speed.max()) + float(net.seg_len.max()) + 50.0
    t = time.perf_counter()
    for i in ok[:nps]:
        s_ = int(src.seg[i])
        px = net.node_x[net.seg_a[s_]] + src.frac[i] * (net.node_x[net.seg_b[s_]] - net.node_x[net.seg_a[s_]])
        py = net.node_y[net.seg_a[s_]] + src.frac[i] * (net.node_y[net.seg_b[s_]] - net.node_y[net.seg_a[s_]])
        segs = np.sort(tree.query(shapely.box(px - reach, py - reach, px + reach, py + reach)))
        local, one_ = isochrones.street_window(net, segs, src, int(i))
        next(engine.per_source(local, one_, limit, 1))
    per_win = (time.perf_counter() - t) / nps
    row(f"per-facility reach on its street window (`isochrones.street_window` + `per_source`; sample of {nps})",
        f"{per_win * 1000:.2f} ms/facility", "", "exact: no route within 15 min leaves the window")
    t, c = time.perf_counter(), cpu_seconds()
    iso = isochrones.facility_isochrones(net, src, bands, workers=args.workers)
    t_iso, c_iso = time.perf_counter() - t, cpu_seconds() - c
    per_iso = t_iso / len(ok)
    n_empty = sum(p.is_empty for _, _, p in iso)
    area15 = np.median([p.area for _, b, p in iso if b == max(bands)]) / 1e6
    row(f"isochrone polygons, ALL {len(ok)} facilities × {len(bands)} bands, field, "
        f"{args.workers} worker(s)", f"{t_iso:.1f} s ({per_iso * 1000:.1f} ms/facility)", "≤ 5 s",
        f"{len(iso)} polygons ({n_empty} empty); median 15-min area {area15:.2f} km²; "
        f"CPU {c_iso:.1f} s = {c_iso / len(ok) * 1000:.1f} ms/facility (wall on an idle machine "
        f"≈ CPU ÷ {args.workers})")
    one = ok[: max(1, min(40, len(ok)))]
    sub1 = src.subset(one)
    t = time.perf_counter()
    iso1 = isochrones.facility_isochrones(net, sub1, bands, workers=1)
    per_iso1 = (time.perf_counter() - t) / len(one)
    row(f"isochrone polygons, field, 1 worker (sample of {len(one)})", f"{per_iso1 * 1000:.1f} ms/facility",
        "", f"all facilities at this rate: {per_iso1 * len(ok):.0f} s")
    chk = ok[:: max(1, len(ok) // 10)][:10]
    subc = src.subset(chk)
    t = time.perf_counter()
    a = isochrones.facility_isochrones(net, subc, bands, window=True)
    tw = time.perf_counter() - t
    t = time.perf_counter()
    b = isochrones.facility_isochrones(net, subc, bands, window=False)
    tg = time.perf_counter() - t
    same = sum(shapely.to_wkb(p[2]) == shapely.to_wkb(q[2]) and p[:2] == q[:2] for p, q in zip(a, b, strict=True))
    row(f"check: windowed vs whole-network routing ({len(chk)} facilities)",
        f"{tw / len(chk) * 1000:.0f} vs {tg / len(chk) * 1000:.0f} ms/facility", "",
        f"{same}/{len(a)} polygons byte-identical (WKB)")
    del iso1
    nb = min(args.buffer_sample, len(ok))
    subb = src.subset(ok[:nb])
    t = time.perf_counter()
    isob = isochrones.facility_isochrones(net, subb, bands, method="buffer", workers=1)
    per_buf = (time.perf_counter() - t) / nb
    row(f"isochrone polygons, buffer method, 1 worker (sample of {nb})", f"{per_buf * 1000:.1f} ms/facility",
        "", f"{len(isob)} polygons")
    if not args.no_tiers:
        tiers, t_wall, t_cpu = tier_unions(net, args.seed, fx, fy, bands)
        for mode, n, dw, dc, polys, fid in tiers:
            fs = ", ".join(f"{b:g}′ {f:.1%}" for b, f in zip(fid["band_min"], fid["false_share"], strict=True))
            row(f"tier union, {n} facilities, {mode}", f"{dw:.2f} s (CPU {dc:.2f} s)", "",
                f"15-min {polys[-1][1].area / 1e6:,.1f} km², {shapely.get_num_coordinates(polys[-1][1]):,} "
                f"vertices; false inclusion {fs}")
        row("**isochrones for all 9 tiers (bench_plan's tiers, one process)**", f"{t_wall:.1f} s (CPU {t_cpu:.1f} s)",
            "≤ 15 s", "walk and drive networks of the same city; Hohhot's tier counts")
    rss_ours = peak_rss_mb()
    row("peak RSS, our pipeline (before networkx)", f"{rss_ours:,.0f} MB", "< 4 GB",
        f"at start {rss0:,.0f} MB")

    nx_lines: list[str] = []
    if not args.no_nx:
        import networkx as nx
        from scipy.spatial import cKDTree

        t = time.perf_counter()
        NXG = nx_graph(net)
        t_nx = time.perf_counter() - t
        rss_nx = peak_rss_mb()
        row("networkx MultiDiGraph of the same network (OSMnx-style)", f"{t_nx:.1f} s", "",
            f"{NXG.number_of_nodes():,} nodes, {NXG.number_of_edges():,} edges; peak RSS now {rss_nx:,.0f} MB")
        samp = ok[:: max(1, len(ok) // args.nx_sample)][: args.nx_sample]
        # nearest node per facility, batched (ox.distance.nearest_nodes does this with a KD-tree)
        _, nn = cKDTree(np.column_stack([net.node_x, net.node_y])).query(np.column_stack([fx[samp], fy[samp]]))
        t_ego, t_hull, t_buf, mism, tie = [], [], [], 0, 0
        sizes = []
        for u in nn:
            t = time.perf_counter()
            sub = nx.ego_graph(NXG, int(net.node_id[u]), radius=limit, distance="time")
            t_ego.append(time.perf_counter() - t)
            t = time.perf_counter()
            hull_poly(NXG, sub)
            t_hull.append(time.perf_counter() - t)
            t = time.perf_counter()
            buffered_poly(NXG, sub)
            t_buf.append(time.perf_counter() - t)
            sizes.append(sub.number_of_nodes())
            # our engine from a source placed exactly at the same node
            s1 = snap_xy(net, net.node_x[[u]], net.node_y[[u]])
            _, D = next(engine.per_source(net, s1, limit, 1))
            ours = set(net.node_id[np.isfinite(D[0])].tolist())
            theirs = set(sub.nodes)
            diff = ours ^ theirs
            if diff:
                # a node within a microsecond of the limit may fall either side by float rounding
                pos = np.searchsorted(net.node_id, np.fromiter(diff, np.int64))
                lengths = nx.single_source_dijkstra_path_length(NXG, int(net.node_id[u]),
                                                                cutoff=limit + 1, weight="time")
                near = [abs(lengths.get(int(net.node_id[p]), np.inf) - limit) < 1e-6 for p in pos]
                tie += sum(near)
                mism += len(diff) - sum(near)
        # what the OSMnx example does per place: nearest_nodes on the whole graph each time
        import osmnx as ox

        t_nn = []
        for i in samp[:3]:
            t = time.perf_counter()
            ox.distance.nearest_nodes(NXG, float(fx[i]), float(fy[i]))
            t_nn.append(time.perf_counter() - t)
        m_ego, m_hull, m_buf = (statistics.median(v) for v in (t_ego, t_hull, t_buf))
        per_near = t_near / len(ok)
        recipe_hull = m_ego + m_hull
        recipe_buf = m_ego + m_buf
        row(f"networkx `ego_graph` radius {limit:.0f} s by 'time' (sample of {len(samp)})",
            f"{m_ego * 1000:.1f} ms/facility (median)", "",
            f"median {int(statistics.median(sizes)):,} nodes reached")
        row("  + convex hull of reached nodes (OSMnx example)", f"{m_hull * 1000:.2f} ms/facility", "", "")
        row("  + buffered reached edges 25 m, union (make_iso_polys)", f"{m_buf * 1000:.1f} ms/facility", "", "")
        row("  `ox.distance.nearest_nodes` per facility, as in the example (3 calls)",
            f"{statistics.median(t_nn) * 1000:.0f} ms/facility", "", "not included in the ratios below")
        row("check: ego_graph node set == our engine's (source at the same node)",
            "", "equal", f"{len(samp)} facilities: {mism} differing nodes"
            + (f" (+{tie} within 1 µs of the limit)" if tie else "") + (" ✓" if mism == 0 else " ✗"))
        r1 = recipe_hull / per_near
        r2 = recipe_hull / per_iso
        r3 = recipe_buf / per_iso
        row("RATIO A: ego_graph+hull per facility ÷ our multi-source pass per facility (amortised)",
            f"{r1:,.0f}×", "≥ 1000×", f"{recipe_hull * 1000:.1f} ms vs {per_near * 1000:.3f} ms")
        row("RATIO A': ego_graph alone ÷ our per-facility reach `engine.per_source`",
            f"{m_ego / per_src:,.1f}×", "", f"{m_ego * 1000:.1f} ms vs {per_src * 1000:.2f} ms (like for like)")
        row("RATIO A'': ego_graph alone ÷ our per-facility reach on its window",
            f"{m_ego / per_win:,.1f}×", "", f"{m_ego * 1000:.1f} ms vs {per_win * 1000:.2f} ms (like for like)")
        row("RATIO B: ego_graph+hull per facility ÷ our isochrone polygons per facility (like for like)",
            f"{r2:,.1f}×", "≥ 1000×", f"{recipe_hull * 1000:.1f} ms vs {per_iso * 1000:.1f} ms (3 bands, {args.workers} workers)")
        row("RATIO C: ego_graph+buffered edges ÷ our isochrone polygons per facility",
            f"{r3:,.1f}×", "", f"{recipe_buf * 1000:.1f} ms vs {per_iso * 1000:.1f} ms; 1 band vs 3 bands")
        nx_lines = [
            "",
            "The OSMnx recipe per facility is `nx.ego_graph(G, node, radius=900, distance='time')` then a "
            "polygon: the convex hull of the reached nodes (OSMnx isochrone example) or the union of 25 m "
            "buffers around the reached edges (`make_iso_polys`, here vectorised with shapely 2, so faster "
            "than the published loop). It gives one band per call from the nearest node; ours gives all "
            "bands from the exact snapped position. Nearest nodes are found once in a batch for the recipe "
            "(the example's per-call `ox.distance.nearest_nodes` costs the extra time shown and is not "
            "counted; with it the recipe would cost about "
            f"{(statistics.median(t_nn) + recipe_hull) / per_near:,.0f}× our amortised pass). "
            "Ratio A (the brief's ≥ 1000× target) sets the recipe (ego_graph + hull) against our one "
            "multi-source pass divided by the number of facilities; that pass gives every node its "
            "nearest facility and time, not a separate reach per facility. Ratio A' is like for like: "
            "one bounded Dijkstra per facility each side (scipy's rows are dense over all nodes, "
            "hence its per-call cost on a large city; A'' routes each facility on its street window "
            "instead, as our isochrones do). Ratios B and C compare per-facility polygons "
            "(ours: three bands contoured from a travel-time grid; the hull is a much cruder polygon).",
        ]
        del NXG
    load1 = os.getloadavg()
    rss_end = peak_rss_mb()
    row("peak RSS, whole run", f"{rss_end:,.0f} MB", "< 4 GB", "")

    ext_lines = extract_section(args, say)

    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines += [
        f"Run {now} on {os.cpu_count()} CPU(s) (`nproc` {len(os.sched_getaffinity(0))}), {cpu_model()}; "
        f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end. **Other processes (other engineers' "
        "tests) may share the machine: timings are wall-clock and noisy.**",
        "",
        versions() + ".",
        "",
        f"Synthetic city (`carecover.bench.synthetic.synthetic_city`, seed {args.seed}): {net.n_nodes:,} nodes, "
        f"{net.n_segments:,} segments, {net.seg_len.sum() / 1000:,.0f} km of street ({net.crs.to_string()}, "
        f"around Hohhot): jittered grid of 80–120 m blocks, {net.source.get('diagonals')} diagonal arterials, "
        f"{net.source.get('missing_share'):.0%} of residential links missing, ways split into 1–4 segments; "
        f"walk {settings.walk_speed_mps} m/s. {len(src):,} clustered facilities "
        f"(`synthetic_facilities`), 15-min limit, bands {', '.join(f'{b:g}' for b in bands)} min.",
        "",
        "| step | time | target | result |",
        "| --- | --- | --- | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        *nx_lines,
        "",
        "Isochrones: each facility is routed on the window of streets it can reach (a square of "
        "half-side 15 min × fastest speed plus margins, from the STRtree) instead of the whole network; "
        "the check row above confirms the polygons are byte-identical to whole-network routing. "
        "Polygons are contoured (contourpy) from the travel-time grid: 5 m at walking speed, the "
        "same spacing in seconds on the drive network (at most half the 25 m buffer: 12.5 m), tier "
        "grids up to 16 Mpixels (7.5 m for this 30 km city); tiles of 128 points no reached street "
        "comes near are skipped. False inclusion is measured as before (`fidelity`: 1,000 uniform "
        "points a band, routed exactly).",
        "",
        *PROFILE,
        "",
        "### Real extracts, side by side",
        "",
        EXTRACT_NOTE,
        *ext_lines,
    ]
    write_section(args.out, "engine", "## Engine and isochrones", lines)
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
