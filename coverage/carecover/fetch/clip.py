"""Clipping the regional downloads to a city: the OSM extract (osmium-tool or pyosmium) and the
population raster (a window read), both written atomically.

The city outline is read by :func:`load_boundary` through
:func:`carecover.inputs.boundaries.read_boundaries`, the project's one boundary reader (and its
CRS policy).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from carecover.errors import CarecoverError, InputError
from carecover.utils import atomic_path


def load_boundary(path: str | Path, buffer_m: float = 0.0):
    """City outline from a boundary file (the feature of ``level == "city"``, else all features).

    Parameters
    ----------
    path
        Boundary file, read by :func:`carecover.inputs.boundaries.read_boundaries` (its CRS
        policy).
    buffer_m
        Widen the outline by this many metres (in the local UTM zone); 0 keeps it as is.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        In EPSG:4326.

    Raises
    ------
    InputError
        The file is missing or not a readable boundary (from ``read_boundaries``).
    """
    import shapely

    from carecover.inputs.boundaries import buffered, read_boundaries

    gdf = read_boundaries(path)
    if (gdf["level"] == "city").any():
        gdf = gdf[gdf["level"] == "city"]
    geom = shapely.union_all(gdf.geometry.values)
    return buffered(geom, buffer_m) if buffer_m else geom


def _clip_pbf_osmium_cli(src: Path, dst: Path, boundary) -> None:
    """``osmium extract --strategy complete_ways`` with the outline as a GeoJSON polygon."""
    import tempfile

    import shapely

    with tempfile.TemporaryDirectory(prefix="carecover-clip-") as tmpdir, atomic_path(dst) as tmp:
        poly = Path(tmpdir) / "boundary.geojson"
        poly.write_text(json.dumps({"type": "Feature", "properties": {},
                                    "geometry": shapely.geometry.mapping(boundary)}))
        proc = subprocess.run(
            ["osmium", "extract", "--polygon", str(poly), "--strategy", "complete_ways",
             "--overwrite", "--no-progress", "-f", "pbf", "-o", str(tmp), str(src)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise CarecoverError(f"osmium extract failed: {proc.stderr.strip()}")


def _clip_pbf_pyosmium(src: Path, dst: Path, boundary) -> None:
    """Same result as ``osmium extract -s complete_ways``, with the ``osmium`` Python package.

    Keeps the nodes inside, every way touching them with all its nodes, and relations with a
    member inside (members outside not completed).
    """
    import numpy as np
    import osmium
    import shapely

    shapely.prepare(boundary)
    minx, miny, maxx, maxy = boundary.bounds
    tracker = osmium.IdTracker()

    def flush(ids: list[int], xs: list[float], ys: list[float]) -> None:
        if not ids:
            return
        inside = shapely.contains_xy(boundary, np.asarray(xs), np.asarray(ys))
        for i in np.flatnonzero(inside):
            tracker.add_node(ids[i])
        ids.clear(), xs.clear(), ys.clear()

    ids: list[int] = []
    xs: list[float] = []
    ys: list[float] = []
    for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
        loc = n.location
        if not loc.valid():
            continue
        lon, lat = loc.lon, loc.lat
        if minx <= lon <= maxx and miny <= lat <= maxy:
            ids.append(n.id), xs.append(lon), ys.append(lat)
            if len(ids) >= 500_000:
                flush(ids, xs, ys)
    flush(ids, xs, ys)
    kept_ways = [w.id for w in osmium.FileProcessor(str(src), osmium.osm.WAY)
                 if tracker.contains_any_references(w)]
    for wid in kept_ways:
        tracker.add_way(wid)
    tracker.complete_backward_references(str(src), relation_depth=0)  # all nodes of kept ways
    # Relations with a kept member, then their parent relations (as osmium extract does); the
    # relation pass is cheap, and nesting is shallow, so a few passes reach the fixed point.
    kept_rels: set[int] = set()
    for _ in range(8):
        new = {r.id for r in osmium.FileProcessor(str(src), osmium.osm.RELATION)
               if r.id not in kept_rels and tracker.contains_any_references(r)}
        if not new:
            break
        for rid in new:
            tracker.add_relation(rid)
        kept_rels |= new
    with atomic_path(dst) as tmp:
        writer = osmium.SimpleWriter(str(tmp))
        try:
            for obj in osmium.FileProcessor(str(src)).with_filter(tracker.id_filter()):
                writer.add(obj)
        finally:
            writer.close()


def _pyosmium_available() -> bool:
    """True when the ``osmium`` Python package (pyosmium) can be imported."""
    try:
        import osmium  # noqa: F401
    except ImportError:
        return False
    return True


def clip_pbf(src: str | Path, dst: str | Path, boundary, *, method: str = "auto") -> str:
    """Clip an OSM PBF to ``boundary``, written atomically to ``dst``.

    Parameters
    ----------
    src, dst
        Source extract and clipped output (``.osm.pbf``).
    boundary
        Shapely (Multi)Polygon in EPSG:4326.
    method
        ``"osmium"`` (the osmium-tool command), ``"pyosmium"`` (the ``osmium`` Python package),
        ``"none"`` (copy the whole extract; the network builder clips it later) or ``"auto"``
        (the first available, in that order).

    Returns
    -------
    str
        A description of what was done (recorded in ``fetched.json``).

    Raises
    ------
    CarecoverError
        ``osmium extract`` failed.
    ValueError
        Unknown ``method``.
    """
    src, dst = Path(src), Path(dst)
    if method == "auto":
        method = ("osmium" if shutil.which("osmium") else
                  "pyosmium" if _pyosmium_available() else "none")
    if method == "osmium":
        _clip_pbf_osmium_cli(src, dst, boundary)
        return "osmium extract --strategy complete_ways (osmium-tool)"
    if method == "pyosmium":
        _clip_pbf_pyosmium(src, dst, boundary)
        return "pyosmium (complete ways)"
    if method == "none":
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return "none: whole regional extract kept; clipping happens when the network is built"
    raise ValueError(f"unknown clip method {method!r}")


def clip_raster(src: str | Path, dst: str | Path, boundary) -> dict[str, Any]:
    """Write the window of raster ``src`` covering ``boundary``'s bounding box to ``dst``.

    Only that window is read; it is rounded outwards to whole pixels and written as a deflated
    GeoTIFF, atomically.

    Parameters
    ----------
    src, dst
        Source raster (any CRS) and output GeoTIFF.
    boundary
        Shapely geometry in EPSG:4326.

    Returns
    -------
    dict
        ``width``, ``height``, ``bounds``, ``crs``, ``nodata`` and ``window`` (col, row, width,
        height in ``src``).

    Raises
    ------
    InputError
        The raster has no CRS, or the boundary does not overlap it.
    """
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    src = Path(src)
    with rasterio.open(src) as ds:
        if ds.crs is None:
            raise InputError("raster has no CRS", file=src, expected="a georeferenced GeoTIFF")
        bounds = transform_bounds("EPSG:4326", ds.crs, *boundary.bounds, densify_pts=21)
        win = from_bounds(*bounds, transform=ds.transform)
        # Round outwards to whole pixels and keep inside the raster.
        col0, row0 = max(0, int(win.col_off // 1)), max(0, int(win.row_off // 1))
        col1 = min(ds.width, int(-(-(win.col_off + win.width) // 1)))
        row1 = min(ds.height, int(-(-(win.row_off + win.height) // 1)))
        if col1 <= col0 or row1 <= row0:
            raise InputError("the city boundary does not overlap the population raster", file=src,
                             expected=f"raster bounds {tuple(round(b, 4) for b in ds.bounds)}")
        window = Window(col0, row0, col1 - col0, row1 - row0)
        data = ds.read(window=window)
        profile = ds.profile.copy()
        profile.update(driver="GTiff", width=window.width, height=window.height,
                       transform=ds.window_transform(window), compress="deflate")
        profile.pop("blockxsize", None), profile.pop("blockysize", None)
        profile["tiled"] = False
        with atomic_path(Path(dst)) as tmp, rasterio.open(tmp, "w", **profile) as out:
            out.write(data)
            out_bounds = tuple(float(b) for b in rasterio.windows.bounds(window, ds.transform))
        return {"width": int(window.width), "height": int(window.height),
                "bounds": list(out_bounds), "crs": ds.crs.to_string(), "nodata": ds.nodata,
                "window": [col0, row0, int(window.width), int(window.height)]}
