"""The real-extract side of ``scripts/bench_engine.py``: our isochrones on an OSM extract side by
side with Valhalla's (timed in alternation), pandana's coverage answer and the OSMnx recipe.

A private helper module of the benchmark scripts (``bench_engine.py``, ``bench_hills.py``).
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import shapely
from _benchutil import timed
from carecover import settings
from carecover.network import engine, isochrones
from carecover.network.snap import snap_xy

ROOT = Path(__file__).resolve().parents[1]


def versions() -> str:
    import networkx
    import osmnx
    import pyproj
    import rasterio
    import scipy

    return (f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
            f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
            f"rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__}), "
            f"pyproj {pyproj.__version__}, networkx {networkx.__version__}, osmnx {osmnx.__version__}")


def nx_graph(net):
    """The network as OSMnx holds an unsimplified graph: MultiDiGraph, node x/y, edges both ways
    for two-way streets with ``length`` and ``time`` (seconds)."""
    import networkx as nx

    G = nx.MultiDiGraph(crs=net.crs.to_string())
    ids = net.node_id.tolist()
    G.add_nodes_from((ids[i], {"x": x, "y": y}) for i, (x, y) in
                     enumerate(zip(net.node_x.tolist(), net.node_y.tolist(), strict=True)))
    tail, head, w, seg = net.directed()
    L = net.seg_len[seg].tolist()
    G.add_edges_from((ids[a], ids[b], {"length": ln, "time": t, "highway": h})
                     for a, b, t, ln, h in zip(tail.tolist(), head.tolist(), w.tolist(), L,
                                               net.seg_highway[seg].tolist(), strict=True))
    return G


def hull_poly(G, sub):
    # OSMnx isochrone example: convex hull of the reached nodes
    pts = shapely.points([(d["x"], d["y"]) for _, d in sub.nodes(data=True)])
    return shapely.convex_hull(shapely.multipoints(pts))


def buffered_poly(G, sub, edge_buff=25.0, node_buff=0.0):
    # OSMnx example's make_iso_polys, vectorised with shapely 2 (faster than the published loop):
    # buffer the reached edges (and nodes), union them
    xy = {n: (d["x"], d["y"]) for n, d in sub.nodes(data=True)}
    lines = shapely.linestrings([[xy[u], xy[v]] for u, v in sub.edges()])
    geoms = list(shapely.buffer(lines, edge_buff))
    if node_buff > 0:
        geoms += list(shapely.buffer(shapely.points(list(xy.values())), node_buff))
    return shapely.union_all(geoms)


def valhalla_python(arg: str | None) -> tuple[Path | None, str]:
    """The venv interpreter with pyvalhalla, or None and why not."""
    cands = [Path(arg)] if arg else [ROOT.parent / "valhalla-venv" / "bin" / "python",
                                     ROOT.parent.parent / "valhalla-venv" / "bin" / "python"]
    for py in cands:
        if py.exists():
            ok = subprocess.run([str(py), "-c", "import valhalla"], capture_output=True).returncode == 0
            if ok:
                return py, ""
            return None, f"{py} has no pyvalhalla (pip install pyvalhalla)"
    return None, ("no Python 3.12 venv with pyvalhalla at " + " or ".join(str(c) for c in cands)
                  + " (pyvalhalla 3.9.1 has wheels for Python 3.12 only)")


def street_points(net, n: int, seed: int):
    """``n`` facilities placed on streets (so every engine starts from the same point)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, net.n_segments, n)
    f = rng.uniform(0.1, 0.9, n)
    ax, ay = net.node_x[net.seg_a[k]], net.node_y[net.seg_a[k]]
    return ax + f * (net.node_x[net.seg_b[k]] - ax), ay + f * (net.node_y[net.seg_b[k]] - ay)


def interleaved(ours_fn, vpy: Path | None, job: dict | None, repeats: int):
    """Our polygons and Valhalla's isochrones of the same facilities, timed in alternation.

    Each of ``repeats`` rounds times ``ours_fn()`` (all facilities) and then one run of
    ``scripts/_valhalla_anchor.py`` (one request per facility), so the machine's load falls alike
    on both. Returns ``(our result, our median seconds, Valhalla's output with each facility's
    median time in ``per_isochrone_s`` and CPU time in ``per_isochrone_cpu_s``, and our median
    CPU seconds in ``ours_cpu_s`` (``None`` when skipped or failed), its error text)``.
    """

    times, cpu, runs, out = [], [], [], None
    for r in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = ours_fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if vpy is None or job is None:
            continue
        done = subprocess.run([str(vpy), str(ROOT / "scripts" / "_valhalla_anchor.py")],
                              input=json.dumps({**job, "repeats": 1, "keep": 10 if r == 0 else 0}),
                              capture_output=True, text=True)
        if done.returncode != 0:
            return out, statistics.median(times), None, done.stderr.strip()
        runs.append(json.loads(done.stdout))
    ours_cpu = statistics.median(cpu)
    if not runs:
        return out, statistics.median(times), None, ""
    v = runs[0]
    v["ours_cpu_s"] = ours_cpu
    for key in ("per_isochrone_s", "per_isochrone_cpu_s"):
        if all(len(r.get(key, [])) == len(v.get(key, [])) for r in runs):
            v[key] = [statistics.median(ts) for ts in zip(*(r[key] for r in runs), strict=True)]
    return out, statistics.median(times), v, ""


def extract_rows(path: Path, args, vpy: Path | None, why_not: str) -> tuple[list[tuple], dict]:
    """Side by side on one real extract: ours, Valhalla, pandana, OSMnx recipe."""
    from carecover.network import load_network
    from pyproj import Transformer

    rows: list[tuple[str, str, str, str]] = []
    info: dict = {}
    bands = list(settings.bands_min)
    limit = max(bands) * 60
    t = time.perf_counter()
    net = load_network(path, "walk", cache=False)
    info["load_s"] = time.perf_counter() - t
    info["nodes"], info["segments"] = net.n_nodes, net.n_segments
    info["sha256"] = str(net.source.get("sha256", ""))[:12]
    x, y = street_points(net, args.extract_facilities, args.seed)
    src = snap_xy(net, x, y)
    n = int(src.ok.sum())
    nt, t_near, _ = timed(lambda: engine.nearest(net, src, limit), args.repeats)
    covered = float(np.isfinite(nt.time).mean())
    rows.append(("ours: multi-source pass, all facilities, 15 min", f"{t_near * 1000:.1f} ms",
                 "", f"{covered:.1%} of nodes within 15 min"))
    isochrones.facility_isochrones(net, src.subset(np.arange(2)), bands)  # warm imports
    job = None
    if vpy is not None:
        lon, lat = Transformer.from_crs(net.crs, 4326, always_xy=True).transform(x, y)
        job = {"pbf": str(path), "tiles": str(args.valhalla_cache / path.name.split(".")[0]),
               "points": [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)],
               "contours_min": bands, "walking_speed_kph": settings.walk_speed_mps * 3.6}
    iso, t_iso, v, v_err = interleaved(lambda: isochrones.facility_isochrones(net, src, bands), vpy, job,
                                       args.repeats)
    per_ours = t_iso / n
    fs = false_shares(net, src, iso, min(10, n))
    nv = np.median([shapely.get_num_coordinates(p) for _, b, p in iso if b == max(bands)])
    rows.append((f"ours: isochrone polygons per facility, {len(bands)} bands, 1 process",
                 f"{per_ours * 1000:.1f} ms (median of {args.repeats} runs of {n}, interleaved with Valhalla's)",
                 "", f"false inclusion (10 facilities, 300 points a band) median {np.median(fs):.1%}, "
                 f"max {fs.max():.1%}; median {nv:,.0f} vertices (15 min)"))
    info["ours_ms"] = per_ours * 1000
    # Valhalla, in its own interpreter
    if vpy is None:
        rows.append(("Valhalla isochrone (pyvalhalla)", "skipped", "", why_not))
    elif v is None:
        rows.append(("Valhalla isochrone (pyvalhalla)", "failed", "", v_err[-200:]))
    else:
        rows += valhalla_rows(net, src, v, per_ours, info, args.repeats)
        one = [max(bands)]
        _, t1, v1, _ = interleaved(lambda: isochrones.facility_isochrones(net, src, one), vpy,
                                   {**job, "contours_min": one}, args.repeats)
        if v1 is not None:
            per_v1 = statistics.median(v1["per_isochrone_s"])
            info["ours_1band_ms"], info["valhalla_1band_ms"] = t1 / n * 1000, per_v1 * 1000
            cpu_v1 = statistics.median(v1["per_isochrone_cpu_s"])
            rows.append(("RATIO: ours ÷ Valhalla, 1 band (15 min) per facility, interleaved",
                         f"{t1 / n / per_v1:.1f}×", "≤ 2×", f"{t1 / n * 1000:.1f} vs {per_v1 * 1000:.1f} ms; "
                         f"CPU {v1['ours_cpu_s'] / n * 1000:.1f} vs {cpu_v1 * 1000:.2f} ms = "
                         f"{v1['ours_cpu_s'] / n / cpu_v1:.1f}×"))
    rows += pandana_rows(net, x, y, limit, t_near, covered)
    if not args.no_nx:
        rows += osmnx_rows(net, x, y, limit, per_ours, t_near / n, len(bands))
    return rows, info


def false_shares(net, src, rows, k: int) -> np.ndarray:
    """False-inclusion share per band of the first ``k`` facilities' polygons (our check, 300
    points a band), one row per facility that has polygons."""
    out = []
    for i in range(k):
        polys = sorted(((b, p) for j, b, p in rows if j == i), key=lambda r: r[0])
        if polys:
            f = isochrones.fidelity(net, src.subset(np.array([i])), polys, n_samples=300, seed=1)
            out.append(f["false_share"].to_numpy())
    return np.array(out)


def valhalla_rows(net, src, v: dict, per_ours: float, info: dict, repeats: int) -> list[tuple]:
    """Rows of Valhalla's run: time per facility, false inclusion, the ratios to ours."""
    from pyproj import Transformer

    n = int(src.ok.sum())
    bands = sorted({float(m) for _, m, _ in v["polygons"]})
    per_v = statistics.median(v["per_isochrone_s"])
    info["valhalla_ms"] = per_v * 1000
    from_ll = Transformer.from_crs(4326, net.crs, always_xy=True)
    polys = [(int(j), float(m), shapely.transform(shapely.geometry.shape(g), lambda c: np.column_stack(
        from_ll.transform(c[:, 0], c[:, 1])))) for j, m, g in v["polygons"]]
    vfs = false_shares(net, src, polys, min(10, n))
    build = "cached" if v["build_s"] is None else f"{v['build_s']:.1f} s"
    cpu_o, cpu_v = v["ours_cpu_s"] / n, statistics.median(v["per_isochrone_cpu_s"])
    info["ours_cpu_ms"], info["valhalla_cpu_ms"] = cpu_o * 1000, cpu_v * 1000
    return [
        (f"Valhalla {v['valhalla']}: `Actor.isochrone`, pedestrian "
         f"{settings.walk_speed_mps * 3.6:g} km/h, {len(bands)} contours, per facility",
         f"{per_v * 1000:.1f} ms (median over {len(v['per_isochrone_s'])} facilities of "
         f"each one's median of {repeats} runs)", "",
         f"tiles build {build}, actor load {v['load_s'] * 1000:.0f} ms; {v['failed']} failed; "
         f"false inclusion (our check, same 10 facilities) median {np.median(vfs):.1%}, max {vfs.max():.1%}"),
        ("RATIO: ours ÷ Valhalla, polygons per facility", f"{per_ours / per_v:.1f}×", "≤ 2×",
         f"{per_ours * 1000:.1f} vs {per_v * 1000:.1f} ms"),
        ("RATIO (CPU time): ours ÷ Valhalla, polygons per facility", f"{cpu_o / cpu_v:.1f}×",
         "≤ 2×", f"{cpu_o * 1000:.1f} vs {cpu_v * 1000:.2f} ms CPU (less sensitive to load)"),
    ]


def pandana_rows(net, x, y, limit: float, t_near: float, covered: float) -> list[tuple]:
    """pandana: contraction hierarchies, then every node's nearest facility."""
    try:
        import pandana
        import pandas as pd
    except ImportError:
        return [("pandana", "skipped", "", 'not installed (pip install ".[bench]")')]
    tail, head, w, _ = net.directed()
    t = time.perf_counter()
    pn = pandana.Network(pd.Series(net.node_x, index=net.node_id), pd.Series(net.node_y, index=net.node_id),
                         pd.Series(net.node_id[tail]), pd.Series(net.node_id[head]),
                         pd.DataFrame({"time": w}), twoway=False)
    pn.precompute(limit + 1)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    pn.set_pois("fac", limit, 1, pd.Series(x), pd.Series(y))
    near = pn.nearest_pois(limit, "fac", num_pois=1)
    t_q = time.perf_counter() - t
    share = float((near[1] < limit).mean())
    return [("pandana: `Network` + `precompute` (contraction hierarchies)", f"{t_build * 1000:.0f} ms", "",
             f"{net.n_nodes:,} nodes"),
            ("pandana: `set_pois` + `nearest_pois`, all facilities (coverage answer)",
             f"{t_q * 1000:.1f} ms", "", f"{share:.1%} of nodes within 15 min "
             f"(facilities moved to their nearest node; ours {covered:.1%})"),
            ("RATIO: pandana coverage answer ÷ our multi-source pass", f"{t_q / t_near:.1f}×", "",
             f"{t_q * 1000:.1f} vs {t_near * 1000:.1f} ms")]


def osmnx_rows(net, x, y, limit: float, per_ours: float, per_near: float, n_bands: int) -> list[tuple]:
    """The OSMnx recipe on the same network: ``ego_graph`` + hull or buffered edges (20 facilities)."""
    import networkx as nx
    from scipy.spatial import cKDTree

    G = nx_graph(net)
    _, nn = cKDTree(np.column_stack([net.node_x, net.node_y])).query(np.column_stack([x, y]))
    t_ego, t_hull, t_buf = [], [], []
    for u in nn[:20]:
        t = time.perf_counter()
        sub = nx.ego_graph(G, int(net.node_id[u]), radius=limit, distance="time")
        t_ego.append(time.perf_counter() - t)
        t = time.perf_counter()
        hull_poly(G, sub)
        t_hull.append(time.perf_counter() - t)
        t = time.perf_counter()
        buffered_poly(G, sub)
        t_buf.append(time.perf_counter() - t)
    m_ego, m_hull, m_buf = (statistics.median(v) for v in (t_ego, t_hull, t_buf))
    return [("OSMnx recipe: `ego_graph` 900 s + convex hull, per facility (1 band)",
             f"{(m_ego + m_hull) * 1000:.1f} ms", "", f"ego_graph {m_ego * 1000:.1f} ms"),
            ("OSMnx recipe: `ego_graph` + buffered edges 25 m (make_iso_polys), per facility",
             f"{(m_ego + m_buf) * 1000:.1f} ms", "", ""),
            ("RATIO: OSMnx recipe (ego_graph + hull) ÷ ours, polygons per facility",
             f"{(m_ego + m_hull) / per_ours:.2f}×", "≥ 1000×",
             f"theirs 1 band, ours {n_bands}; ÷ our amortised multi-source pass: "
             f"{(m_ego + m_hull) / per_near:,.0f}×")]


#: Extracts of the side-by-side section when no ``--extract`` is given: the shared ones, and
#: Liechtenstein and Harrisburg (issue 25) from the local extract cache where present.
EXTRACT_CACHE = Path.home() / ".cache" / "carecover" / "extracts"
DEFAULT_EXTRACTS = [ROOT.parent / "shared" / "data" / "osm" / "monaco.osm.pbf",
                    ROOT.parent / "shared" / "data" / "osm" / "andorra.osm.pbf",
                    EXTRACT_CACHE / "liechtenstein-latest.osm.pbf", EXTRACT_CACHE / "harrisburg.osm.pbf"]


def extract_section(args, say) -> list[str]:
    """Markdown of the side-by-side runs on every extract (absent ones skipped, said why)."""
    bands = list(settings.bands_min)
    vpy, why_not = valhalla_python(args.valhalla_python)
    ext_lines: list[str] = []
    for path in args.extract or args.extracts:
        if not path.exists():
            ext_lines += ["", f"**{path.name}**: skipped — {path} is absent (not shipped in `../shared`; "
                          "see the note above for where the extract comes from)."]
            say(f"{path}: absent, skipped")
            continue
        say(f"extract {path.name} …")
        erows, info = extract_rows(path, args, vpy, why_not)
        for a, b, c, d in erows:
            say(f"{a:<58} {b:>22}  {c:<8} {d}")
        ext_lines += ["", f"**{path.name}** (sha256 {info['sha256']}…; {info['nodes']:,} walk nodes, "
                      f"{info['segments']:,} segments, "
                      f"loaded in {info['load_s']:.1f} s; {args.extract_facilities} facilities on streets, "
                      f"seed {args.seed}; walk 1.0 m/s, bands {', '.join(f'{b:g}' for b in bands)} min):", "",
                      "| step | time | target | result |", "| --- | --- | --- | --- |",
                      *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in erows]]
    return ext_lines


#: What the side-by-side section says about its method.
EXTRACT_NOTE = (
    "Our polygons, Valhalla's isochrones of the same points, pandana's coverage answer and the "
    "OSMnx recipe in one run; our polygons and Valhalla's requests are timed in alternation "
    "(round after round, each facility's median of the rounds). Monaco and Andorra are in "
    "`../shared/data/osm`; Liechtenstein (`liechtenstein-latest.osm.pbf`, July 2015) and Harrisburg "
    "(`harrisburg.osm.pbf`) are the test extracts of the Valhalla repository (`test/data/`, "
    "OpenStreetMap data, ODbL), kept outside the repository in `~/.cache/carecover/extracts/` "
    "(`--extract PATH`, repeatable, to run on others). Valhalla: pyvalhalla in a separate Python 3.12 "
    "venv (`scripts/_valhalla_anchor.py`), tiles built once from the same .osm.pbf, pedestrian "
    "costing at 3.6 km/h, one request with three contours (or one) per facility, JSON string in and "
    "out; its walkable ways and snapping are its own. Valhalla's polygons are generalised outlines "
    "(tens of vertices), ours follow the streets (holes for blocks); both are checked by our "
    "false-inclusion measure. pandana moves each facility to its nearest node; ours start from "
    "the exact street position.")
