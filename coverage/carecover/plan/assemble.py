"""Stage 10 — assemble: the :class:`PlanBundle` that maps, report and exports read, with the
content of ``summary.json`` (every figure with its parameters and inputs)."""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover import __version__, notices
from carecover.analysis.ledger import Ledger
from carecover.inputs.demand import Demand
from carecover.inputs.facilities import USABLE
from carecover.network import StreetNetwork
from carecover.network.names import place_names
from carecover.network.streetlines import street_lines
from carecover.outputs.bundle import PlanBundle
from carecover.params import RunParams
from carecover.plan import access as access_stage
from carecover.plan import serves
from carecover.plan.access import Access
from carecover.plan.area import Boundaries
from carecover.plan.figures import Figures
from carecover.plan.gaps import Gaps
from carecover.plan.inputs import Facilities
from carecover.plan.isochrones import Isochrones
from carecover.plan.siting import Siting
from carecover.plan.travel import Travel
from carecover.utils import file_sha256, json_ready, now_iso
from carecover.vocab import site_labels


@dataclass(frozen=True)
class Results:
    """Everything the stages computed, as the inputs of :func:`assemble`."""

    nets: Mapping[str, StreetNetwork]
    bounds: Boundaries
    facilities: Facilities
    demand: Demand
    travel: Travel
    isochrones: Isochrones
    figures: Figures
    gaps: Gaps
    siting: Siting
    claims: list[dict]
    access: Access = Access()
    #: The maps' light street layer (:func:`~carecover.network.streetlines.street_lines` of the
    #: walking network); made here when not given.
    streets: gpd.GeoDataFrame | None = None
    #: The data-quality ledger (:func:`carecover.plan.ledger.compute`), or ``None``.
    ledger: Ledger | None = None


def input_record(path: Path | None, role: str, extra: dict | None = None, sha256: str | None = None) -> dict | None:
    """One input file as ``summary.json`` lists it: role, path, hash, size and date."""
    if path is None:
        return None
    path = Path(path)
    st = path.stat()
    rec = {"role": role, "path": str(path), "sha256": sha256 or file_sha256(path), "bytes": st.st_size,
           "date": datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).date().isoformat()}
    rec.update(extra or {})
    return rec


def inputs_of(params: RunParams, walk: StreetNetwork, facilities: Facilities) -> list[dict]:
    """Every input file with its hash (the network's was taken when it was loaded)."""
    cfg = params.config
    claims = cfg.claims if cfg is not None and cfg.claims and Path(cfg.claims).exists() else None
    reads = {Path(r.get("file", "")).name: r for r in facilities.registers}
    recs = [input_record(params.network, "network", {"osm_replication_timestamp": walk.source.get("replication_timestamp")},
                         sha256=walk.source.get("sha256")),
            *[input_record(p, "facilities", {"read": json_ready(reads.get(Path(p).name, {}))}) for p in params.facilities],
            input_record(params.population, "population"), input_record(params.boundary, "boundary"),
            *[input_record(p, f"units:{k}") for k, p in params.units],
            input_record(cfg.path, "config") if cfg is not None and cfg.path else None,
            input_record(claims, "claims")]
    return [with_relative(r, params.out) for r in recs if r is not None]


def with_relative(rec: dict, out: Path | None) -> dict:
    """An input record with its path absolute and, as ``relative``, relative to the output
    folder (so a folder moved together with its inputs still finds them)."""
    import os

    path = Path(rec["path"]).resolve()
    rec = {**rec, "path": str(path)}
    if out is not None:
        try:
            rec["relative"] = Path(os.path.relpath(path, Path(out).resolve())).as_posix()
        except ValueError:  # another drive (Windows)
            rec["relative"] = None
    return rec


def _net_summary(net: StreetNetwork) -> dict:
    """``net.summary()`` without ``from_cache``: whether a cache was hit is not a property of the
    result, and equal inputs must give equal summary.json files."""
    out = net.summary()
    out["source"] = {k: v for k, v in out["source"].items() if k != "from_cache"}
    return out


def software() -> dict:
    """Versions of the software that made the figures (from the installed distributions, so
    nothing is imported just to ask)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"carecover": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("numpy", "scipy", "shapely", "geopandas", "pyrosm", "osmnx", "folium", "highspy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def population_summary(demand: Demand, travel: Travel) -> dict:
    pts = demand.points
    ok = travel.demand_snaps["walk"].ok
    return {"source": demand.source, "total_pop": float(pts["pop"].sum()),
            "total_elderly": float(pts["elderly"].fillna(0).sum()), "points": int(len(pts)),
            "unsnapped_points": int((~ok).sum()), "unsnapped_pop": float(pts.loc[~ok, "pop"].sum()),
            "pop_nearest_dropped_part": float(pts.loc[travel.demand_snaps["walk"].on_dropped, "pop"].sum())}


#: The keys of the combined coordinate-system check in ``summary["facilities"]`` (the verdict of
#: each register, with its evidence, is in ``summary["ledger"]``).
_CRS_KEYS = ("declared", "best", "medians", "n", "warning", "warning_zh", "warning_en", "reason")


def facilities_summary(facilities: Facilities, frame: gpd.GeoDataFrame) -> dict:
    crs = facilities.crs_check
    return {"records": int(len(frame)), "by_status": frame["status"].value_counts().sort_index().to_dict(),
            "crs_check": {k: v for k, v in crs.items() if k in _CRS_KEYS} if crs else crs,
            "by_tier": frame.loc[frame["status"].isin(USABLE), "tier"].value_counts().sort_index().to_dict()}


def summary(params: RunParams, r: Results) -> dict[str, Any]:
    """The content of ``summary.json``."""
    return {
        "title": params.title, "generated_at": now_iso(), "command": params.command,
        "sample_data": params.sample_note, "parameters": params.to_dict(),
        # every reduction between the inputs and the figures, first (plan/ledger.py)
        "ledger": r.ledger.to_dict() if r.ledger is not None else None,
        "inputs": inputs_of(params, r.nets["walk"], r.facilities),
        "networks": {m: _net_summary(n) for m, n in r.nets.items()},
        "population": population_summary(r.demand, r.travel),
        "facilities": facilities_summary(r.facilities, r.travel.facilities),
        "figures": json_ready(r.figures.items + r.siting.figures + r.access.figures),
        "access": access_summary(params, r.access),
        "sensitivity": dict(r.figures.sensitivity), "fidelity": dict(r.isochrones.fidelity),
        "gaps": {"link_m": r.gaps.link_m,
                 "method": "single linkage of uncovered populated points (1.5 × cell size for rasters, "
                           "100 m for points)"},
        "sites": json_ready(dict(r.siting.info)), "claims": r.claims,
        "warnings": notices.as_dicts(notices.current()), "software": software(),
        "runtime_s": None,  # the computation's seconds, filled by plan.run.compute (runtime_s)
    }


def runtime_s(seconds: float) -> float | None:
    """``summary.json``'s ``runtime_s``: the computation's wall seconds (the stage runner's clock,
    :meth:`~carecover.plan.runner.StageRunner.elapsed_s`), rounded to 0.1 s; ``None`` when
    ``SOURCE_DATE_EPOCH`` is set, so reproducible runs give byte-identical files."""
    import os

    return None if os.environ.get("SOURCE_DATE_EPOCH") else round(seconds, 1)


def access_summary(params: RunParams, acc: Access) -> dict[str, Any]:
    """How accessibility was computed, per tier: capacity rule, decay, facilities, Lorenz curve."""
    out = {}
    for key, ta in acc.tiers.items():
        x, y = acc.lorenz[key]
        out[key] = {"capacity": ta.rule.to_dict(), "capacity_text": ta.rule.describe(),
                    "decay": ta.decay.to_dict(), "facilities": int(len(ta.rows)),
                    "places": float(np.nansum(ta.supply)),
                    "facilities_without_capacity": int(np.isnan(ta.supply).sum()),
                    "elderly_within_reach": float(ta.assigned.sum()),
                    "lorenz_e2sfca": {"population_share": x[::10].round(2).tolist(),
                                      "places_share": np.round(y[::10], 4).tolist()}}
    return {"method": "2SFCA (binary catchment at the tier threshold) and E2SFCA (distance decay), "
                      "places per 1,000 elderly; load = elderly assigned by E2SFCA weights / places",
            "tiers": out}


def demand_table(demand: Demand, travel: Travel, figures: Figures, acc: Access | None = None,
                 siting: Siting | None = None) -> gpd.GeoDataFrame:
    """Demand points with their snapping and, per tier, time, coverage, the circle flag, the
    nearest facility, for planned tiers the suggested site serving it after the plan, and (with
    ``acc``) accessibility."""
    out = demand.points.copy()
    snap = travel.demand_snaps["walk"]
    out["snap_status"] = snap.status()
    out["snap_m"] = np.round(snap.dist, 2)
    # who serves whom: "" where no facility is within the search
    nearest = serves.nearest_fids(travel)
    for key, tt in travel.tiers.items():
        out[f"time_s__{key}"] = np.round(tt.time_s, 3)
        out[f"nearest_fid__{key}"] = nearest[key]
        out[f"covered__{key}"] = tt.covered
        if key in figures.circle_masks:
            out[f"circle_not_reached__{key}"] = figures.circle_masks[key]
    for col, values in access_stage.demand_columns(acc or Access()).items():
        out[col] = values
    for key, (site, covered) in serves.after_plan(siting.states if siting else {}, travel, len(out)).items():
        out[f"after_site__{key}"] = site
        out[f"covered_after__{key}"] = covered
    return out


def named(frame: pd.DataFrame | None, net: StreetNetwork, k: int) -> pd.DataFrame | None:
    """``frame`` with a ``place`` column: the ``k`` named streets nearest each row's point
    (gaps: their representative point; sites: the site), joined with "、"."""
    if frame is None or not len(frame):
        return frame
    if "lon" in frame and "lat" in frame:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    else:
        pts = gpd.GeoSeries(frame.geometry).to_crs(4326)
        lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    out = frame.copy()
    out["place"] = place_names(net, lon, lat, k)
    return out


def labelled(sites: pd.DataFrame | None) -> pd.DataFrame | None:
    """``sites`` with a ``site_label`` column: each site's one name, ``★1 碑亭巷``
    (:func:`carecover.vocab.site_label`)."""
    if sites is None or not len(sites):
        return sites
    return sites.assign(site_label=site_labels(sites))


def assemble(params: RunParams, r: Results) -> PlanBundle:
    """The bundle of a run.

    Parameters
    ----------
    params
        The run's parameters (carried by the bundle).
    r
        The stages' results.
    """
    s = summary(params, r)
    walk = r.nets["walk"]
    return PlanBundle(facilities=access_stage.facility_columns(r.travel.facilities, r.access),
                      isochrones=r.isochrones.frame,
                      demand=demand_table(r.demand, r.travel, r.figures, r.access, r.siting),
                      gaps=named(r.gaps.zones, walk, 2), sites=labelled(named(r.siting.sites, walk, 1)), boundaries=r.bounds.frame, summary=s, lang=params.lang,
                      title=s["title"], gap_hulls=r.gaps.hulls, cell_polygons=r.demand.cell_polygons,
                      params=params, streets=street_lines(r.nets["walk"]) if r.streets is None else r.streets)
