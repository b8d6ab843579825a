"""Test helpers for the map, report and export tests.

* :func:`open_page` drives headless Chromium through the DevTools protocol over a pipe
  (``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3/4),
  so no extra Python package and no browser download are needed, only ``/usr/bin/chromium``.
* :func:`monaco_bundle` builds a small but real :class:`~carecover.outputs.bundle.PlanBundle` from the
  Monaco OSM extract: real facilities (POIs), real building footprints as demand, real streets
  buffered as stand-in isochrones. Travel times are straight-line x 1.3 (a placeholder until the
  tests switch to the output of ``carecover plan``).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """The Chromium executable, or None."""
    for c in CHROMIUM_CANDIDATES:
        if os.path.exists(c):
            return c
    return shutil.which("chromium")


# ---------------------------------------------------------------------------------------
# DevTools protocol over a pipe
# ---------------------------------------------------------------------------------------

@dataclass
class PageResult:
    """What a page did while it was open."""

    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    network_errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None


class _Cdp:
    def __init__(self, exe: str, user_dir: str) -> None:
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--mute-audio", f"--user-data-dir={user_dir}",
                # no internet in tests: fail every host name at once instead of waiting on DNS
                "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe", "about:blank"]
        # Chromium reads commands on fd 3 and writes replies on fd 4: map them onto our pipes.
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._id = 0
        self.replies: dict[int, dict] = {}
        self.events: queue.Queue[dict] = queue.Queue()
        self._cond = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(1 << 16)
            if not chunk:
                with self._cond:
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self.replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        self._id += 1
        mid = self._id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"no reply to {method}")
                self._cond.wait(left)
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def open_page(html_path: str | Path, *, evaluate: dict[str, str], screenshot: str | Path | None = None,
              ready: str = "document.querySelector('.leaflet-control-layers') !== null",
              width: int = 1280, height: int = 860, timeout: float = 40.0) -> PageResult:
    """Open ``html_path`` in headless Chromium and report errors, values and a screenshot.

    Parameters
    ----------
    evaluate
        name -> JavaScript expression (JSON-serialisable value) evaluated once ``ready`` is true.
    screenshot
        PNG written here when given.
    """
    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("Chromium not found")
    res = PageResult()
    with tempfile.TemporaryDirectory(prefix="cc-chromium-") as user_dir:
        cdp = _Cdp(exe, user_dir)
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            sid = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for method in ("Page.enable", "Runtime.enable", "Log.enable"):
                cdp.send(method, session=sid)
            cdp.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=sid)
            cdp.send("Page.navigate", {"url": Path(html_path).resolve().as_uri()}, session=sid)
            deadline = time.monotonic() + timeout
            loaded = False
            while time.monotonic() < deadline:
                _drain(cdp, res)
                if not loaded:
                    r = cdp.send("Runtime.evaluate", {"expression": f"Boolean({ready})", "returnByValue": True},
                                 session=sid)
                    loaded = bool(r.get("result", {}).get("value"))
                    if loaded:
                        time.sleep(0.5)  # let Leaflet finish drawing
                        continue
                else:
                    break
                time.sleep(0.1)
            if not loaded:
                raise TimeoutError(f"map not ready after {timeout} s: {ready}")
            for name, expr in evaluate.items():
                r = cdp.send("Runtime.evaluate", {"expression": f"JSON.stringify({expr})", "returnByValue": True},
                             session=sid)
                if "exceptionDetails" in r:
                    res.js_errors.append(f"evaluate {name}: {r['exceptionDetails'].get('text')}")
                    continue
                res.values[name] = json.loads(r["result"]["value"])
            if screenshot is not None:
                png = cdp.send("Page.captureScreenshot", {"format": "png"}, session=sid)["data"]
                Path(screenshot).write_bytes(base64.b64decode(png))
                res.screenshot = Path(screenshot)
            time.sleep(0.2)
            _drain(cdp, res)
        finally:
            cdp.close()
    return res


def _drain(cdp: _Cdp, res: PageResult) -> None:
    while True:
        try:
            ev = cdp.events.get_nowait()
        except queue.Empty:
            return
        method, p = ev.get("method"), ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            res.js_errors.append(str(d.get("exception", {}).get("description") or d.get("text")))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            res.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") == "error":
                # failed tile/network loads are expected without internet; JS errors are not
                (res.network_errors if e.get("source") == "network" else res.console_errors).append(
                    f"{e.get('source')}: {e.get('text')} {e.get('url', '')}")


# ---------------------------------------------------------------------------------------
# A real small bundle from the Monaco extract
# ---------------------------------------------------------------------------------------

#: OSM amenity -> tier used for the test facilities.
AMENITY_TIER = {"townhall": "street_centre", "post_office": "street_centre",
                "community_centre": "street_centre", "social_facility": "street_centre",
                "pharmacy": "community_centre", "doctors": "community_centre", "clinic": "community_centre",
                "restaurant": "meal_point"}
SPEED = 1.0
DETOUR = 1.3
TIMESTAMP = "2025-06-25T00:00:00+00:00"


@functools.lru_cache(maxsize=2)
def monaco_bundle(pbf: str, lang: str = "zh"):
    """A :class:`PlanBundle` built from real Monaco data (see the module docstring)."""
    import geopandas as gpd
    import pyrosm
    import shapely
    from carecover.outputs.bundle import PlanBundle
    from carecover.utils import file_sha256

    osm = pyrosm.OSM(pbf)
    pois = osm.get_pois(custom_filter={"amenity": list(AMENITY_TIER)})
    pois = pois[pois["name"].notna()].sort_values("id").reset_index(drop=True)
    pois = pd.concat([pois[pois["amenity"] != "restaurant"], pois[pois["amenity"] == "restaurant"].head(15)])
    pois = pois.reset_index(drop=True)
    utm = "EPSG:32632"
    pts = gpd.GeoSeries(pois.geometry.values, crs=4326).to_crs(utm).representative_point().to_crs(4326)
    fac = gpd.GeoDataFrame({
        "fid": [f"N{int(i)}" for i in pois["id"]],
        "name": pois["name"].astype(str).values,
        "tier": [AMENITY_TIER[a] for a in pois["amenity"]],
        "tier_raw": pois["amenity"].astype(str).values,
        "address": (pois.get("addr:street", pd.Series("", index=pois.index)).fillna("").astype(str)).values,
        "street": "", "township": "", "county": "", "source": "osm", "source_file": Path(pbf).name,
        "row": np.arange(1, len(pois) + 1), "crs_in": "wgs84",
        "lon_in": pts.x.values, "lat_in": pts.y.values, "status": "ok", "note": "",
    }, geometry=pts.values, crs=4326)
    # one record without coordinates and one outside the area: both must survive into outputs
    extra = gpd.GeoDataFrame({
        "fid": ["X1", "X2"], "name": ["无坐标站点", "Outside point"], "tier": ["community_centre", "street_centre"],
        "tier_raw": ["社区养老服务站", "街道级"], "address": ["", ""], "street": "", "township": "", "county": "",
        "source": "register", "source_file": "register.csv", "row": [2, 3], "crs_in": "wgs84",
        "lon_in": [np.nan, 7.60], "lat_in": [np.nan, 43.80], "status": ["missing_coords", "outside_area"],
        "note": ["no coordinates", "outside the network area"],
    }, geometry=[None, shapely.Point(7.60, 43.80)], crs=4326)
    fac = pd.concat([fac, extra], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs=4326)

    # demand: building footprints, one resident per 40 m2 of footprint, 25% aged 60+
    b = osm.get_buildings()
    b = b[b.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].sort_values("id").reset_index(drop=True)
    bu = gpd.GeoSeries(b.geometry.values, crs=4326).to_crs(utm)
    area = bu.area.to_numpy()
    pop = np.round(area / 40.0, 2)
    bnd = osm.get_boundaries()
    quarters = bnd[bnd["admin_level"] == "10"][["name", "geometry"]]
    communes = bnd[bnd["admin_level"] == "8"][["name", "geometry"]]
    cent = bu.representative_point()
    cent_ll = cent.to_crs(4326)
    dem = gpd.GeoDataFrame({"cell_id": np.arange(len(b)), "pop": pop, "elderly": np.round(pop * 0.25, 2),
                            "area_m2": np.round(area, 1)}, geometry=cent_ll.values, crs=4326)
    county = pd.Series("", index=dem.index, dtype=object)
    for layer in (communes, quarters):  # finest level wins
        j = gpd.sjoin(dem[["geometry"]], layer, how="left", predicate="within")
        j = j[~j.index.duplicated(keep="first")]
        county = county.where(j["name"].isna(), j["name"])
    dem["county"] = county.fillna("").astype(str).values

    fac_u = fac[fac["status"] == "ok"].to_crs(utm)
    tiers = ["street_centre", "community_centre", "meal_point"]
    for t in tiers:
        src = fac_u[fac_u["tier"] == t].geometry
        d = np.full(len(dem), np.inf)
        for g in src:
            d = np.minimum(d, cent.distance(g).to_numpy())
        tt = np.round(d * DETOUR / SPEED, 1)
        tt[tt > 1800] = np.inf  # bounded search: beyond twice the threshold is "not reached"
        dem[f"time_s__{t}"] = tt
        dem[f"covered__{t}"] = tt <= 900

    # isochrones: real streets within reach of each facility, buffered 25 m
    streets = osm.get_network("walking")
    st = gpd.GeoSeries(streets.geometry.values, crs=4326).to_crs(utm)
    rows = []
    bands = (5.0, 10.0, 15.0)
    for t in tiers:
        src = fac_u[fac_u["tier"] == t]
        full = {}  # fid -> buffered streets within the 15-min radius
        for fid, g in zip(src["fid"], src.geometry, strict=True):
            circle = g.buffer(15 * 60 * SPEED / DETOUR)
            near = st.values[st.sindex.query(circle, predicate="intersects")]
            full[fid] = shapely.union_all(shapely.buffer(shapely.intersection(near, circle), 25, quad_segs=2))
            rows.append({"tier": t, "band_min": 15.0, "fid": fid, "geometry": full[fid]})
        for band in bands:  # smaller bands: the 15-min streets cut by the smaller radius
            radius = band * 60 * SPEED / DETOUR
            polys = [full[fid].intersection(g.buffer(radius + 25))
                     for fid, g in zip(src["fid"], src.geometry, strict=True)]
            rows.append({"tier": t, "band_min": band, "fid": "", "geometry": shapely.union_all(polys)})
    iso = gpd.GeoDataFrame(rows, geometry="geometry", crs=utm).to_crs(4326)

    # gaps: uncovered buildings (street tier) summed on a 300 m grid
    unc = ~dem["covered__street_centre"].to_numpy()
    cu = cent[unc]
    ix = np.floor(cu.x.to_numpy() / 300).astype(int)
    iy = np.floor(cu.y.to_numpy() / 300).astype(int)
    g = pd.DataFrame({"ix": ix, "iy": iy, "pop": dem["pop"].to_numpy()[unc],
                      "elderly": dem["elderly"].to_numpy()[unc], "area_m2": dem["area_m2"].to_numpy()[unc],
                      "county": dem["county"].to_numpy()[unc],
                      "t": dem["time_s__street_centre"].to_numpy()[unc], "geom": cu.values})
    gaps_rows, hulls = [], []
    for (gx, gy), grp in g.groupby(["ix", "iy"], sort=True):
        if grp["elderly"].sum() < 20:
            continue
        hull = shapely.MultiPoint(list(grp["geom"])).convex_hull.buffer(20)
        gaps_rows.append({"gap_id": f"G{gx}_{gy}", "pop": round(grp["pop"].sum(), 2),
                          "elderly": round(grp["elderly"].sum(), 2), "area_m2": round(hull.area, 1),
                          "county": grp["county"].mode().iloc[0], "time_to_nearest_s": float(grp["t"].min()),
                          "geometry": hull.representative_point()})
        hulls.append(hull)
    gaps = gpd.GeoDataFrame(gaps_rows, geometry="geometry", crs=utm).to_crs(4326)
    gap_hulls = gpd.GeoSeries(hulls, crs=utm).to_crs(4326)
    order = gaps.sort_values(["elderly", "gap_id"], ascending=[False, True]).reset_index(drop=True)

    # sites: the three largest gaps (greedy) and the same set in another order (exact)
    top = order.head(3)
    srows = []
    for method, idx in (("greedy", [0, 1, 2]), ("exact", [1, 0, 2])):
        for rank, i in enumerate(idx, start=1):
            r = top.iloc[i]
            srows.append({"rank": rank, "tier": "street_centre", "method": method,
                          "gain_elderly": r["elderly"], "gain_pop": r["pop"], "lon": round(r.geometry.x, 6),
                          "lat": round(r.geometry.y, 6), "county": r["county"], "gap_id": r["gap_id"]})
    sites = pd.DataFrame(srows)

    boundaries = pd.concat([communes.assign(level="city"), quarters.assign(level="county")])
    boundaries = gpd.GeoDataFrame(boundaries[["name", "level", "geometry"]], geometry="geometry", crs=4326)
    boundaries = boundaries[boundaries["name"] == "Monaco"].pipe(lambda x: pd.concat([x, boundaries[boundaries["level"] == "county"]]))
    boundaries = gpd.GeoDataFrame(boundaries.reset_index(drop=True), geometry="geometry", crs=4326)

    figures = []
    tot_e = float(dem["elderly"].sum())
    for t in tiers:
        for speed in (0.8, 1.0, 1.2):
            cov = dem[f"time_s__{t}"].to_numpy() * SPEED / speed <= 900
            figures.append({"kind": "population", "tiers": [t], "population": "elderly", "area": "all",
                            "threshold_min": 15.0, "speed_mps": speed, "mode": "walk",
                            "value": float(dem["elderly"][cov].sum() / tot_e), "covered": float(dem["elderly"][cov].sum()),
                            "total": tot_e})
        dist = np.minimum.reduce([cent.distance(gg).to_numpy() for gg in fac_u[fac_u["tier"] == t].geometry])
        cov = dist <= 1000
        figures.append({"kind": "circle", "tiers": [t], "population": "elderly", "area": "all",
                        "threshold_min": 15.0, "speed_mps": None, "mode": "circle_1000m",
                        "value": float(dem["elderly"][cov].sum() / tot_e), "covered": float(dem["elderly"][cov].sum()),
                        "total": tot_e})
    street = next(f for f in figures if f["tiers"] == ["street_centre"] and f["speed_mps"] == 1.0)
    summary = {
        "parameters": {"city": "Monaco", "speed_mps": SPEED, "sensitivity_speeds_mps": [0.8, 1.2],
                       "bands_min": list(bands), "max_snap_m": 300.0,
                       "tiers": {t: {"mode": "walk", "threshold_min": 15.0} for t in tiers}},
        "inputs": [{"path": pbf, "sha256": file_sha256(pbf), "date": "", "osm_replication_timestamp": None}],
        "figures": figures,
        # same columns as carecover.analysis.claims.evaluate_claims
        "claims": [{"id": "street-100", "claim_zh": "街道级养老服务中心覆盖率100%",
                    "claim_en": "street-level coverage 100%", "kind": "population", "tiers": "street_centre",
                    "population": "elderly", "area": "all", "threshold_min": 15.0, "speed_mps": 1.0,
                    "scenario": "current", "op": ">=", "target": 1.0, "computed": street["value"],
                    "result": "PASS" if street["value"] >= 1.0 else "FAIL", "reason": "", "source": "test"},
                   {"id": "community-90", "claim_zh": "社区级覆盖率90%以上", "claim_en": "community coverage > 90%",
                    "kind": "population", "tiers": "community_centre", "population": "elderly", "area": "all",
                    "threshold_min": 15.0, "speed_mps": 1.0, "scenario": "current", "op": ">=",
                    "target": 0.9, "computed": 0.5, "result": "FAIL", "reason": "", "source": "test"}],
        "sensitivity": [{"tier": f["tiers"][0], "speed_mps": f["speed_mps"], "value": f["value"]}
                        for f in figures if f["kind"] == "population"],
        "fidelity": {"street_centre": {"buffer_m": 25.0, "method": "field (raster 5 m)",
                                       "bands": [{"band_min": 15.0, "area_km2": 1.2, "samples": 500,
                                                  "false_share": 0.02, "unsnapped_share": 0.0}]}},
        "software": {"carecover": "0.1.0"},
        "command": f"carecover plan --osm {pbf} --out out",
        "generated_at": TIMESTAMP,
    }
    return PlanBundle(facilities=fac, isochrones=iso, demand=dem, gaps=gaps, sites=sites,
                      boundaries=boundaries, summary=summary, lang=lang, title="", gap_hulls=gap_hulls)
