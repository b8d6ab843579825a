"""One frozen object holding every parameter of a run, resolved once.

Like ``osmnx.settings``: functions take their arguments as ``None`` and the run resolves them
once (:func:`carecover.plan.resolve.resolve`) into a :class:`RunParams`; every stage reads its
parameters from it and nothing is read back from dictionaries by key. ``summary.json`` states
``params.to_dict()``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from carecover import settings
from carecover.config import CityConfig
from carecover.config.capacity import CapacityRule
from carecover.config.projection import Projection
from carecover.mobility import MobilityProfile
from carecover.notices import Notice
from carecover.tiers import Tier


@dataclass(frozen=True)
class RunParams:
    """Every input and parameter of one ``carecover plan`` run.

    Attributes
    ----------
    network, facilities, out, boundary, population, elderly_raster, candidates, units
        Input files (``units``: ``(unit kind, file)`` pairs, e.g. ``("township", path)``) and
        the output folder.
    population_field, elderly_field, total_population
        How population is read: a vector field, or a total spread over OSM buildings.
    config
        The city configuration (read-only), or ``None``.
    lang
        ``"zh"`` (Chinese first) or ``"en"``.
    walk_speed_mps, sensitivity_speeds_mps
        Main walking speed and the speeds of the sensitivity band.
    threshold_min
        The run's default threshold (the config's top-level value, else the settings').
    tiers
        Every tier with its mode and threshold as used in this run.
    drive_speeds_kph
        Drive speeds by highway class.
    bands_min, max_snap_m, isochrone_buffer_m, circle_radius_m, crs_in
        Isochrone bands, snap limit, isochrone buffer, straight-line circle radius
        (``None``: each tier's threshold × walking speed), register
        coordinate system (``None``: from each register or WGS-84).
    gap_link_m
        Gap linkage distance (``--gap-link``); ``None`` = automatic (1.5 × cell size for rasters,
        else 100 m: :func:`carecover.plan.gaps.link_distance`).
    suggest, regions
        New sites per tier and the region each is planned for (``None`` = everywhere).
    exact_time_limit_s, max_candidates, max_candidates_drive, min_spacing_m,
    min_distance_existing_m, target_share
        Siting options.
    strict, osm_facilities, facility_isochrones, inline_assets, gaode_map, cache, pdf
        Switches (``cache``: ``False``, ``True`` for the default folder, or a folder; ``pdf``:
        also print ``report.pdf`` with headless Chromium).
    sample_note, command, title
        Sample-data note, the command as run, the run's title.
    sheet
        Worksheet (XLSX) or layer (GeoPackage) of the registers, name or 0-based index.
    capacity
        How each tier's supply is measured in places (:class:`~carecover.config.capacity.CapacityRule`
        by tier key, from the config's ``[capacity.<tier>]`` tables); a tier without a rule has
        no capacity (``NaN``) and no accessibility figures.
    objective
        What the siting maximises: ``"coverage"`` (elderly newly within reach), ``"served"``
        (elderly newly served within reach and every facility's capacity) or ``"both"`` (side by
        side; the planned scenario then uses the coverage sites).
    access_decay, access_band_weights
        Distance decay of the enhanced 2SFCA: ``"bands"`` (the threshold cut into as many equal
        bands as there are weights, default 1.00 / 0.68 / 0.22 for 0–5 / 5–10 / 10–15 min) or
        ``"gaussian"``.
    map_min_gap_share
        The map draws a gap only when it holds at least this share of its tier's uncovered
        elderly (or a suggested site serves it); the tables keep every gap.
    profiles, dem
        Mobility profiles compared side by side (``--profiles``, :mod:`carecover.mobility`; each
        step-free profile as its optimistic and pessimistic pair) and the DEM of ``slope``.
    tier_profiles
        The profile each walk tier is measured with (config ``[tiers.<key>] profile``), tier key
        → profile; a tier not named is measured with ``elderly`` (today's walk).
    site_profiles
        The profile each planned walk tier is sited for (``--site-profile``, config
        ``[planned.<key>] profile``, else the tier's own profile); only tiers whose siting
        profile is not today's walk, or differs from the tier's own, are named.
    colocation_kinds, candidates_mix, colocation_min, colocation_within_m
        Co-location (一老一小, :mod:`carecover.siting.colocation`): the kinds of public facility
        read from the network file as candidates (``()``: none), whether they are added to the
        file's or the junction candidates (else used alone), at least how many suggested sites
        must be co-located (``{kind or "any": k}``), and the distance that counts as co-located.
    workers
        Processes the run may use (:mod:`carecover.plan.background`): with 2, the isochrones
        and the second map are made in a worker process while the rest goes on; the outputs
        are the same byte for byte.
    elderly_rasters, elderly_bands
        Every elderly raster (``elderly_raster`` is the first), summed, and the bands of each
        to sum (``None``: all).
    population_bands
        Bands of the population raster to sum (``None``: band 1 of a single-band raster; a
        multi-band raster then is refused).
    elderly_share, elderly_share_origin
        The elderly share where the population gives none, and where it comes from
        (``option`` ``--elderly-share``, ``config`` ``default_elderly_share``, ``default``
        :data:`carecover.settings.default_elderly_share`, said in the ledger).
    projection
        The projected elderly of ``--year`` (:class:`~carecover.config.projection.Projection`,
        from the config's ``[projection]``); ``None``: today only.
    crs_explicit
        ``--crs`` was given on the command line: a coordinate-system check sure of a mistake
        then warns instead of stopping the run.
    warnings
        Unusual values found while resolving (each names its value and origin); raised
        again when the run starts, so they reach the console, the summary and the report.
        What the outputs say about the run.
    """

    network: Path
    facilities: tuple[Path, ...]
    out: Path
    boundary: Path | None
    population: Path | None
    population_field: str
    elderly_field: str | None
    elderly_raster: Path | None
    total_population: float | None
    candidates: Path | None
    units: tuple[tuple[str, Path], ...]
    config: CityConfig | None
    lang: str
    walk_speed_mps: float
    sensitivity_speeds_mps: tuple[float, ...]
    threshold_min: float
    tiers: Mapping[str, Tier]
    drive_speeds_kph: Mapping[str, float]
    bands_min: tuple[float, ...]
    max_snap_m: float
    isochrone_buffer_m: float
    circle_radius_m: float | None
    crs_in: str | None
    gap_link_m: float | None
    suggest: Mapping[str, int]
    regions: Mapping[str, Any]
    exact_time_limit_s: float
    max_candidates: int
    max_candidates_drive: int
    min_spacing_m: float | None
    min_distance_existing_m: float | None
    target_share: float
    strict: bool
    osm_facilities: bool
    facility_isochrones: bool
    inline_assets: bool
    gaode_map: bool
    cache: bool | Path
    sample_note: str | None
    command: str
    title: str
    warnings: tuple[Notice, ...] = ()
    sheet: str | int | None = None
    pdf: bool = False
    capacity: Mapping[str, CapacityRule] = field(default_factory=lambda: MappingProxyType({}))
    access_decay: str = "bands"
    access_band_weights: tuple[float, ...] = (1.0, 0.68, 0.22)
    objective: str = "coverage"
    map_min_gap_share: float = settings.map_min_gap_share
    workers: int = 1
    crs_explicit: bool = False
    elderly_rasters: tuple[Path, ...] = ()
    population_bands: tuple[int, ...] | None = None
    elderly_bands: tuple[int, ...] | None = None
    elderly_share: float | None = settings.default_elderly_share
    elderly_share_origin: str = "default"
    profiles: tuple[MobilityProfile, ...] = ()
    dem: Path | None = None
    tier_profiles: Mapping[str, MobilityProfile] = field(default_factory=lambda: MappingProxyType({}))
    site_profiles: Mapping[str, MobilityProfile] = field(default_factory=lambda: MappingProxyType({}))
    colocation_kinds: tuple[str, ...] = ()
    candidates_mix: bool = False
    colocation_min: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    colocation_within_m: float = settings.colocation_within_m
    projection: Projection | None = None

    # ------------------------------------------------------------------ a factory
    @classmethod
    def defaults(cls, **overrides: Any) -> RunParams:
        """Parameters from :mod:`carecover.settings` and the default tiers, any field changed.

        Nothing is checked (no file needs to exist): for tests, and for building parameters
        in code. A run's parameters come from :func:`carecover.plan.resolve.resolve`.

        Parameters
        ----------
        **overrides
            Any field. ``tiers`` may give changes per tier (``{"street_centre":
            {"threshold_min": 10.0}}``) or :class:`~carecover.tiers.Tier` objects; mappings
            (``suggest``, ``regions``, ``drive_speeds_kph``, ``capacity``, ``colocation_min``) may be
            plain dicts.

        Returns
        -------
        RunParams
        """
        import dataclasses

        from carecover.tiers import TIERS

        tiers = dict(TIERS)
        for key, change in dict(overrides.pop("tiers", None) or {}).items():
            tiers[key] = change if isinstance(change, Tier) else dataclasses.replace(tiers[key], **change)
        numbers = ("walk_speed_mps", "threshold_min", "max_snap_m", "isochrone_buffer_m", "circle_radius_m",
                   "exact_time_limit_s", "max_candidates", "max_candidates_drive", "target_share",
                   "map_min_gap_share", "population_field", "access_decay")
        values: dict[str, Any] = {
            "network": Path("network.osm.pbf"), "facilities": (Path("register.csv"),), "out": Path("out"),
            "boundary": None, "population": None, "elderly_field": None, "elderly_raster": None,
            "total_population": None, "candidates": None, "units": (), "config": None, "lang": "zh",
            **{n: getattr(settings, n) for n in numbers},
            "sensitivity_speeds_mps": tuple(settings.sensitivity_speeds_mps), "bands_min": tuple(settings.bands_min),
            "access_band_weights": tuple(settings.access_band_weights), "tiers": MappingProxyType(tiers),
            "drive_speeds_kph": MappingProxyType(dict(settings.drive_speeds_kph)), "crs_in": None,
            "gap_link_m": None, "suggest": MappingProxyType({}), "regions": MappingProxyType({}),
            "min_spacing_m": None, "min_distance_existing_m": None, "strict": False, "osm_facilities": False,
            "facility_isochrones": False, "inline_assets": True, "gaode_map": True, "cache": True,
            "sample_note": None, "command": "",
            "title": "一刻钟养老服务圈覆盖分析 / 15-minute elderly-care coverage",
        }
        if overrides.get("elderly_raster") is not None and "elderly_rasters" not in overrides:
            overrides["elderly_rasters"] = (Path(overrides["elderly_raster"]),)  # the first is the only one
        for name in ("suggest", "regions", "drive_speeds_kph", "capacity", "colocation_min", "tier_profiles",
                     "site_profiles"):
            if isinstance(overrides.get(name), dict):
                overrides[name] = MappingProxyType(dict(overrides[name]))
        return cls(**{**values, **overrides})

    # ------------------------------------------------------------------ derived views
    def speed_of(self, tier: Tier) -> float | None:
        """The walking speed a tier's figures are stated at (``None`` for drive tiers)."""
        return self.walk_speed_mps if tier.mode == "walk" else None

    def net_of(self, key: str) -> str:
        """The network (a key of a run's networks) tier ``key`` is routed on: its mode, or its
        mobility profile's network (:attr:`carecover.mobility.MobilityProfile.key`)."""
        prof = self.tier_profiles.get(key)
        return prof.key if prof is not None else self.tiers[key].mode

    def site_net_of(self, key: str) -> str:
        """The network tier ``key`` is sited on (its siting profile's, else :meth:`net_of`)."""
        prof = self.site_profiles.get(key)
        return prof.key if prof is not None else self.net_of(key)

    def circle_radius_of(self, tier: Tier) -> tuple[float, str]:
        """Radius (m) of a walk tier's straight-line circle and where it comes from: the
        configured ``circle_radius_m``, else the tier's threshold × the walking speed (so the
        circle and the network answer the same question)."""
        if self.circle_radius_m is not None:
            return float(self.circle_radius_m), "config"
        return tier.threshold_min * 60.0 * self.walk_speed_mps, "threshold × speed"

    def search_factor(self, tier: Tier) -> float:
        """How much farther than the threshold a tier is searched: walk tiers up to the slowest
        sensitivity speed (so the sensitivity figures are exact rescalings), drive tiers 1."""
        if tier.mode != "walk":
            return 1.0
        return self.walk_speed_mps / min([self.walk_speed_mps, *self.sensitivity_speeds_mps])

    def input_paths(self) -> list[Path]:
        """Every input file of the run (none of them may ever be overwritten)."""
        cfg = self.config
        paths = [self.network, *self.facilities, self.boundary, self.population, *self.elderly_rasters,
                 self.candidates, *[p for _, p in self.units]]
        if cfg is not None:
            paths += [cfg.path, cfg.claims]
        return [Path(p) for p in paths if p is not None]

    @property
    def county_kinds(self) -> dict[str, str] | None:
        """County name → ``urban``/``rural``/``mixed`` from the config."""
        return {c.name: c.kind for c in self.config.counties} if self.config is not None else None

    # ------------------------------------------------------------------ outputs
    def to_dict(self) -> dict[str, Any]:
        """The parameters as ``summary.json`` states them."""
        return {
            "speed_mps": self.walk_speed_mps,
            "sensitivity_speeds_mps": list(self.sensitivity_speeds_mps),
            "bands_min": list(self.bands_min),
            "threshold_min": self.threshold_min,
            "tiers": {k: {"mode": t.mode, "threshold_min": t.threshold_min,
                          **({"profile": self.tier_profiles[k].short} if k in self.tier_profiles else {})}
                      for k, t in self.tiers.items()},
            "max_snap_m": self.max_snap_m,
            "isochrone_buffer_m": self.isochrone_buffer_m,
            "circle_radius_m": self.circle_radius_m,
            "crs_in": self.crs_in,
            "gap_link_m": self.gap_link_m,
            "suggest": dict(self.suggest),
            "regions": {k: list(v) if isinstance(v, tuple) else v for k, v in self.regions.items()},
            "exact_time_limit_s": self.exact_time_limit_s,
            "max_candidates": self.max_candidates,
            "min_spacing_m": self.min_spacing_m,
            "target_share": self.target_share,
            "objective": self.objective,
            "capacity": {k: r.to_dict() for k, r in self.capacity.items()},
            "access_decay": self.access_decay,
            "access_band_weights": list(self.access_band_weights),
            **({"colocation": {"kinds": list(self.colocation_kinds), "mix": self.candidates_mix,
                               "min_sites": dict(self.colocation_min), "within_m": self.colocation_within_m}}
               if self.colocation_kinds else {}),
            **({"site_profiles": {k: p.short for k, p in self.site_profiles.items()}}
               if self.site_profiles else {}),
            **({"projection": self.projection.to_dict()} if self.projection is not None else {}),
        }

    def fingerprint(self, *names: str) -> str:
        """Hash of the named fields (for the stage cache): equal values, equal hash."""
        def plain(v: Any) -> Any:
            if isinstance(v, Tier):
                return [v.key, v.mode, v.threshold_min]
            if isinstance(v, Mapping):
                return {str(k): plain(x) for k, x in sorted(v.items())}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            if isinstance(v, CityConfig):
                return v.to_dict()
            if isinstance(v, (CapacityRule, Projection)):
                return v.to_dict()
            return str(v) if isinstance(v, Path) else v

        text = json.dumps({n: plain(getattr(self, n)) for n in names}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
