"""A published output folder read back into a :class:`~carecover.plan.result.Plan`
(:func:`carecover.read_plan`).

``summary.json`` gives the figures, siting and parameters (:class:`~carecover.summary_file.SummaryFile`);
``carecover.gpkg`` the tables; ``state/`` the what-if states (read when :meth:`Plan.whatif`
asks). Parameters a summary does not state take their defaults (:meth:`RunParams.defaults`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from carecover import mobility
from carecover.analysis.ledger import Ledger
from carecover.config.capacity import CapacityRule
from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.mobility import MobilityProfile
from carecover.outputs.bundle import PlanBundle
from carecover.params import RunParams
from carecover.plan.result import Plan
from carecover.summary_file import SummaryFile
from carecover.tiers import TIERS

__all__ = ["params_of", "read_plan"]

#: Parameters stated in ``summary.json`` under the same name as the :class:`RunParams` field.
_SAME = ("sensitivity_speeds_mps", "bands_min", "threshold_min", "max_snap_m", "isochrone_buffer_m",
         "circle_radius_m", "crs_in", "gap_link_m", "exact_time_limit_s", "max_candidates", "min_spacing_m",
         "target_share", "objective", "access_decay", "access_band_weights")


def params_of(summary: SummaryFile, out: Path) -> RunParams:
    """The parameters a run's summary states (others at their defaults); ``out`` is the folder."""
    import dataclasses

    p = summary.parameters
    values: dict[str, Any] = {k: p[k] for k in _SAME if k in p}
    for k in ("sensitivity_speeds_mps", "bands_min", "access_band_weights"):
        if k in values:
            values[k] = tuple(values[k])
    if "speed_mps" in p:
        values["walk_speed_mps"] = p["speed_mps"]
    tiers = {k: dataclasses.replace(TIERS[k], mode=t["mode"], threshold_min=float(t["threshold_min"]))
             for k, t in (p.get("tiers") or {}).items() if k in TIERS}
    inputs: dict[str, list[Path]] = {}
    for rec in summary.data.get("inputs") or []:
        inputs.setdefault(rec.get("role", ""), []).append(Path(rec.get("path", "")))
    files = {"network": inputs.get("network", [Path("")])[0], "facilities": tuple(inputs.get("facilities", ())),
             "population": (inputs.get("population") or [None])[0], "boundary": (inputs.get("boundary") or [None])[0],
             "units": tuple((r.split(":", 1)[1], ps[0]) for r, ps in inputs.items() if r.startswith("units:"))}
    fields = ("measure", "places_per_unit", "assumed", "new_site", "standard_per_1000", "source", "note")
    capacity = {k: CapacityRule(tier=k, **{f: v[f] for f in fields if f in v})
                for k, v in (p.get("capacity") or {}).items()}
    return RunParams.defaults(
        **values, **files, out=out, tiers=tiers, suggest=dict(p.get("suggest") or {}),
        regions={k: tuple(v) if isinstance(v, list) else v for k, v in (p.get("regions") or {}).items()},
        capacity=capacity, title=summary.title, command=str(summary.data.get("command") or ""),
        sample_note=summary.data.get("sample_data"), cache=False,
        tier_profiles={k: _profile(t["profile"]) for k, t in (p.get("tiers") or {}).items() if t.get("profile")},
        site_profiles={k: _profile(v) for k, v in (p.get("site_profiles") or {}).items()})


def _profile(short: str) -> MobilityProfile:
    """A profile as ``summary.json`` states it (``step_free (pessimistic)``), rebuilt (the
    winter factors at their defaults: the summary's ``profiles`` record holds the run's own)."""
    name, _, tags = str(short).partition(" (")
    return mobility.make(name, tags=tags.rstrip(")") or "optimistic")


def _layer(path: Path, name: str, present: set[str], empty: bool = False) -> gpd.GeoDataFrame | None:
    """One layer of the GeoPackage (``None``, or an empty frame with ``empty``, when absent)."""
    if name not in present:
        return gpd.GeoDataFrame(geometry=[], crs=4326) if empty else None
    return gpd.read_file(not_special(path, "carecover.gpkg"), layer=name)


def _demand(out: Path, gpkg: Path, present: set[str]) -> gpd.GeoDataFrame:
    """The demand points: ``demand.parquet`` (without the ``lon``/``lat`` columns its geometry
    repeats), or the GeoPackage layer of a folder written before it existed."""
    path = out / "demand.parquet"
    if not path.is_file():
        return _layer(gpkg, "demand", present, True)
    d = gpd.read_parquet(path)
    return d.drop(columns=[c for c in ("lon", "lat") if c in d.columns])


def read_plan(out: Path) -> Plan:
    """:func:`carecover.read_plan`."""
    import pyogrio

    summary = SummaryFile.read(out / "summary.json")
    gpkg = out / "carecover.gpkg"
    if not gpkg.is_file():
        raise InputError("no carecover.gpkg in the folder: not a finished `carecover plan` run / 缺少 carecover.gpkg",
                         file=gpkg)
    present = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    params = params_of(summary, out)
    zones = _layer(gpkg, "gap_zones", present)
    bundle = PlanBundle(
        facilities=_layer(gpkg, "facilities", present, True), isochrones=_layer(gpkg, "isochrones", present, True),
        demand=_demand(out, gpkg, present), gaps=_layer(gpkg, "gaps", present),
        sites=_layer(gpkg, "sites", present), boundaries=_layer(gpkg, "boundaries", present),
        summary=dict(summary.data), lang=params.lang, title=summary.title,
        gap_hulls=None if zones is None else zones.geometry, params=params)
    ledger = summary.data.get("ledger")
    return Plan(params, bundle, summary, notices=(), folder=out,
                ledger=None if ledger is None else Ledger.from_dict(ledger))

