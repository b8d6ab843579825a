"""The validated city configuration (:class:`CityConfig`) and its parts.

Run parameters (speeds, thresholds, bands, snap limit, ...) are ``None`` when the file does not
set them: like ``osmnx.settings``, the run looks the default up in :mod:`carecover.settings`
when it runs (``cfg.x if cfg.x is not None else settings.x``), so a change to the settings
after import is seen, and ``summary.json`` can tell a value the city chose from a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from carecover import settings
from carecover.config.capacity import CapacityRule
from carecover.config.schema import UNKNOWN
from carecover.errors import InputError
from carecover.tiers import TIERS, Tier, resolve_tiers, tier_for_unit

#: Run parameters of a config; ``None`` on a :class:`CityConfig` means "not set in the file".
#: ``crs_in`` has no counterpart in :mod:`carecover.settings` (``None``: the register's own
#: header, else WGS-84) and ``default_elderly_share`` stays ``None`` when unset (the run then
#: stops and names the key), so only the others resolve against the settings by name.
RUN_PARAMETERS = ("walk_speed_mps", "sensitivity_speeds_mps", "threshold_min", "bands_min",
                   "max_snap_m", "isochrone_buffer_m", "circle_radius_m", "crs_in",
                   "default_elderly_share")

#: Bilingual hints for inputs that may be missing: (what, how to get it).
_INPUT_HINTS = {
    "network": ("街道网络 OSM 文件 / street network (OSM .pbf)",
                "运行 / run `carecover fetch --city {city}`"),
    "population": ("人口栅格 / population raster",
                   "运行 / run `carecover fetch --city {city}`, 或用 / or pass `--population FILE`"),
    "facilities": ("设施台账 / facility register",
                   "用 / pass `--facilities FILE` (CSV/XLSX/GeoJSON/GPKG)"),
    "boundary": ("县级行政边界 / county boundaries",
                 "运行 / run `python scripts/prepare_admin.py {city}`"),
    "claims": ("声明文件 / claims TOML", "编写 / write a claims TOML (see data/hohhot/claims.toml)"),
}


@dataclass(frozen=True)
class County:
    """One county-level unit (district 区, county 县, banner 旗, county-level city 市).

    Attributes
    ----------
    name, name_en
        Chinese name (as in the boundary file) and English name.
    adcode
        Administrative division code, e.g. ``"150102"``.
    kind
        ``"urban"``, ``"rural"`` or ``"mixed"`` (mixed counties count in both groups).
    population, elderly_share
        Census figures; ``None`` when unknown (see ``note``).
    source, note
        Where the figures come from; free text.
    """

    name: str
    name_en: str = ""
    adcode: str = ""
    kind: str = "mixed"
    population: int | None = None
    elderly_share: float | None = None
    source: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dict; unknown figures are written ``"unknown"``."""
        d = dict(self.__dict__)
        for k in ("population", "elderly_share"):
            if d[k] is None:
                d[k] = UNKNOWN
        return d


@dataclass(frozen=True)
class AdminUnits:
    """Administrative totals for one unit type (e.g. townships): how many, how many with a centre.

    Attributes
    ----------
    unit
        One of :data:`carecover.config.ADMIN_UNITS`.
    total, with_centre
        Number of units and of units with a centre; ``None`` when unknown.
    tier
        Tier whose centres are counted; ``None``: the level-2 tier of that unit.
    source, note
        Where the figures come from; free text.
    """

    unit: str
    total: int | None = None
    with_centre: int | None = None
    tier: str | None = None
    source: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dict; unknown figures are written ``"unknown"``."""
        d = dict(self.__dict__)
        for k in ("total", "with_centre"):
            if d[k] is None:
                d[k] = UNKNOWN
        return d


#: ``[tiers.<key>]`` keys naming the mobility profile a tier is measured with (not Tier fields).
TIER_PROFILE_KEYS = ("profile", "profile_tags")


@dataclass(frozen=True)
class Planned:
    """Facilities of one tier planned to be built (e.g. 7 township regional centres in 2025).

    Attributes
    ----------
    tier
        Tier key.
    count
        How many facilities are planned.
    region
        ``"all"``, ``"urban"``, ``"rural"``, a county name or several (see
        :meth:`CityConfig.counties_in`).
    year, source, note
        Target year, the document that says so, free text.
    """

    tier: str
    count: int
    region: str | tuple[str, ...] = "all"
    year: int | None = None
    source: str = ""
    note: str = ""
    profile: str | None = None


@dataclass
class CityConfig:
    """A validated city configuration. Paths are absolute (resolved against the config file).

    Run parameters (``walk_speed_mps``, ``sensitivity_speeds_mps``, ``threshold_min``,
    ``bands_min``, ``max_snap_m``, ``isochrone_buffer_m``, ``circle_radius_m``, ``crs_in``,
    ``default_elderly_share``) are ``None`` when the file does not set them; the run resolves
    them against :mod:`carecover.settings`. The top-level ``threshold_min`` also reaches every
    tier without a threshold of its own through :meth:`resolved_tiers`. ``dem``,
    ``profiles`` and the winter factors are the mobility profiles' (:mod:`carecover.mobility`).
    """

    city: str
    name_zh: str
    name_en: str
    path: Path | None = None
    lang: str = "zh"
    walk_speed_mps: float | None = None
    sensitivity_speeds_mps: tuple[float, ...] | None = None
    threshold_min: float | None = None
    bands_min: tuple[float, ...] | None = None
    max_snap_m: float | None = None
    isochrone_buffer_m: float | None = None
    circle_radius_m: float | None = None
    crs_in: str | None = None
    tiers: dict[str, dict] = field(default_factory=dict)
    drive_speeds_kph: dict[str, float] = field(default_factory=dict)
    planned: dict[str, Planned] = field(default_factory=dict)
    counties: list[County] = field(default_factory=list)
    admin_units: dict[str, AdminUnits] = field(default_factory=dict)
    capacity: dict[str, CapacityRule] = field(default_factory=dict)
    #: ``[tier_names]``: tier key → the extra names a register may use for it.
    tier_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    access_decay: str | None = None
    access_band_weights: tuple[float, ...] | None = None
    census: dict = field(default_factory=dict)
    fetch: dict = field(default_factory=dict)
    colocation: dict = field(default_factory=dict)
    #: ``[projection]``, checked (:func:`carecover.config.projection.check_projection`); empty: none.
    projection: dict = field(default_factory=dict)
    default_elderly_share: float | None = None
    default_elderly_share_source: str = ""
    claims: Path | None = None
    boundary: Path | None = None
    network: Path | None = None
    population: Path | None = None
    facilities: Path | None = None
    notes: str = ""
    dem: Path | None = None
    profiles: str | list[str] | None = None
    winter_speed_factor: float | None = None
    winter_unpaved_factor: float | None = None
    timezone: str = ""

    # -- derived views -------------------------------------------------------------------------

    def resolved_tiers(self) -> dict[str, Tier]:
        """Tiers with this city's mode and threshold overrides applied.

        A threshold comes from, in order: the tier's own ``[tiers.<key>] threshold_min``; the
        config's top-level ``threshold_min`` (when the file sets one); the tier's default in
        :data:`carecover.tiers.TIERS`.

        Returns
        -------
        dict of str to Tier
            Every tier of :data:`~carecover.tiers.TIERS`, in its order.
        """
        overrides = {key: {k: v for k, v in values.items() if k not in TIER_PROFILE_KEYS}
                     for key, values in self.tiers.items()}
        if self.threshold_min is not None:
            for key in TIERS:
                overrides.setdefault(key, {}).setdefault("threshold_min", self.threshold_min)
        return resolve_tiers(overrides)

    def vocabulary(self) -> dict[str, str]:
        """The extra tier names of this city as a lookup table (:func:`carecover.tiers.vocabulary`)."""
        from carecover.tiers import vocabulary

        return vocabulary(self.tier_names)

    def drive_speeds(self) -> dict[str, float]:
        """Default drive speeds (km/h) by highway class with this city's overrides."""
        return {**settings.drive_speeds_kph, **self.drive_speeds_kph}

    def county(self, name: str) -> County | None:
        """The county named ``name`` (Chinese or English), or ``None``."""
        for c in self.counties:
            if name in (c.name, c.name_en):
                return c
        return None

    def counties_in(self, area: str | tuple[str, ...] | list[str]) -> list[str]:
        """Names of the counties an area refers to.

        Parameters
        ----------
        area
            ``"all"``; ``"urban"`` / ``"rural"`` (mixed counties belong to both); a county name
            (Chinese or English); or a list of those.

        Returns
        -------
        list of str
            Chinese county names.

        Raises
        ------
        InputError
            An area that is neither a group nor a county of this config.
        """
        if isinstance(area, (list, tuple)):
            return [n for a in area for n in self.counties_in(a)]
        if area == "all":
            return [c.name for c in self.counties]
        if area in ("urban", "rural"):
            return [c.name for c in self.counties if c.kind in (area, "mixed")]
        c = self.county(area)
        if c is None:
            raise InputError(f"unknown area '{area}' / 未知区域", file=self.path, field="area",
                             expected=f"all, urban, rural or a county: {', '.join(c.name for c in self.counties)}")
        return [c.name]

    def elderly_share(self, county: str | None = None) -> float | None:
        """Share aged 60+ for a county if known, else the config's default (may be ``None``)."""
        c = self.county(county) if county else None
        if c is not None and c.elderly_share is not None:
            return c.elderly_share
        return self.default_elderly_share

    def admin_figures(self, include_planned: bool = True) -> list[dict]:
        """Administrative coverage figures from ``admin_units`` (for :func:`carecover.analysis.claims.evaluate_claims`).

        One figure per unit whose totals are known (``scenario="current"``) and, when a tier of
        that unit has planned builds, one more with them added (``scenario="planned"``; at most
        one new centre per unit without one, so capped at the total). Units with unknown totals
        give no figure (the claim then reads NOT EVALUATED with the reason).

        Parameters
        ----------
        include_planned
            Add the ``"planned"`` figures.

        Returns
        -------
        list of dict
            Figure dicts in the form the coverage step writes.
        """
        out = []
        for unit, au in sorted(self.admin_units.items()):
            if au.total is None or au.with_centre is None or au.total <= 0:
                continue
            tier = au.tier or tier_for_unit(unit)
            base = {"kind": "administrative", "tiers": [tier] if tier else [], "unit": unit,
                    "area": "all", "population": None, "threshold_min": None, "speed_mps": None,
                    "mode": None,
                    "data": {"admin_units": au.source or "config", "config": str(self.path or "")}}
            out.append({**base, "scenario": "current", "covered": au.with_centre,
                        "total": au.total, "value": au.with_centre / au.total})
            plan = self.planned.get(tier) if tier else None
            if include_planned and plan is not None:
                covered = min(au.total, au.with_centre + plan.count)
                out.append({**base, "scenario": "planned", "covered": covered, "total": au.total,
                            "value": covered / au.total,
                            "data": {**base["data"], "planned": plan.source or "config"}})
        return out

    # -- inputs ---------------------------------------------------------------------------------

    def input_path(self, key: str) -> Path | None:
        """The configured path of input ``key`` (``"network"``, ``"population"``, ...), or ``None``.

        Raises
        ------
        KeyError
            ``key`` is not an input a config can name.
        """
        if key not in _INPUT_HINTS:
            raise KeyError(key)
        return getattr(self, key)

    def missing_inputs(self, keys: tuple[str, ...] | list[str] = tuple(_INPUT_HINTS)) -> list[str]:
        """Bilingual lines, one per input in ``keys`` that is not configured or not on disk.

        Parameters
        ----------
        keys
            Inputs to check; default all of them.

        Returns
        -------
        list of str
            What is missing and how to get it (e.g. ``carecover fetch --city hohhot``).
        """
        lines = []
        for key in keys:
            path = self.input_path(key)
            what, how = _INPUT_HINTS[key]
            how = how.format(city=self.city)
            if path is None:
                lines.append(f"{what}: 未配置 / not configured (`{key}`) — {how}")
            elif not path.exists():
                lines.append(f"{what}: 文件不存在 / file not found: {path} — {how}")
        return lines

    def require(self, *keys: str) -> None:
        """Raise :class:`InputError` listing every input in ``keys`` that is missing."""
        missing = self.missing_inputs(keys)
        if missing:
            raise InputError("缺少输入 / missing inputs:\n  " + "\n  ".join(missing),
                             file=self.path)

    # -- output -----------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """JSON-ready summary (for ``summary.json``).

        Run parameters are written as the file set them (``None`` when it did not); ``tiers``
        holds the resolved tiers, ``tier_overrides`` the file's ``[tiers.*]`` tables.
        """
        def p(x: Path | None) -> str | None:
            return str(x) if x is not None else None

        def seq(x: tuple[float, ...] | None) -> list[float] | None:
            return list(x) if x is not None else None

        return {
            "config": p(self.path),
            "city": self.city, "name_zh": self.name_zh, "name_en": self.name_en,
            "lang": self.lang,
            "walk_speed_mps": self.walk_speed_mps,
            "sensitivity_speeds_mps": seq(self.sensitivity_speeds_mps),
            "threshold_min": self.threshold_min,
            "bands_min": seq(self.bands_min),
            "max_snap_m": self.max_snap_m,
            "isochrone_buffer_m": self.isochrone_buffer_m,
            "circle_radius_m": self.circle_radius_m,
            "crs_in": self.crs_in,
            "tiers": {k: {"mode": t.mode, "threshold_min": t.threshold_min}
                      for k, t in self.resolved_tiers().items()},
            "tier_overrides": self.tiers,
            "tier_names": {k: list(v) for k, v in self.tier_names.items()},
            "drive_speeds_kph": self.drive_speeds_kph,
            "planned": {k: {**{n: x for n, x in v.__dict__.items() if n != "profile" or x is not None},
                            "region": list(v.region) if isinstance(v.region, tuple) else v.region}
                        for k, v in self.planned.items()},
            "counties": [c.to_dict() for c in self.counties],
            "admin_units": {k: v.to_dict() for k, v in self.admin_units.items()},
            "capacity": {k: v.to_dict() for k, v in self.capacity.items()},
            "access_decay": self.access_decay,
            "access_band_weights": seq(self.access_band_weights),
            "census": {k: (UNKNOWN if v is None else v) for k, v in self.census.items()},
            "default_elderly_share": self.default_elderly_share,
            "default_elderly_share_source": self.default_elderly_share_source,
            "inputs": {k: p(getattr(self, k)) for k in _INPUT_HINTS},
            "fetch": self.fetch,
            **({"colocation": dict(self.colocation)} if self.colocation else {}),
            **({"projection": self.projection} if self.projection else {}),
            "notes": self.notes,
        }
