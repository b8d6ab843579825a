"""Stage 0 — resolve: options + city config + settings → one frozen :class:`RunParams`.

Each parameter is taken from the command line if given, else from the city config, else from
:mod:`carecover.settings`, and validated here, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from carecover import mobility, settings
from carecover.config import CityConfig, ranges
from carecover.config.projection import Projection, projection_for
from carecover.errors import InputError, check_inputs_exist
from carecover.filelimits import not_special
from carecover.notices import Notice
from carecover.params import RunParams
from carecover.plan.options import PlanOptions
from carecover.tiers import TIERS, Tier, tier_key, visible

#: Tiers that the shipped configs plan new centres for (the two regional tiers).
PLANNED_TIERS = ("street_centre", "township_centre")


def _first(*values: Any) -> Any:
    """The first value that is not ``None``."""
    return next((v for v in values if v is not None), None)


def _cfg(cfg: CityConfig | None, name: str) -> Any:
    return getattr(cfg, name, None) if cfg is not None else None


class _Numbers:
    """Numeric settings taken from the option, else the config, else :mod:`carecover.settings`,
    each checked against its range (:mod:`carecover.config.ranges`); errors and warnings name
    where the value came from (the option, or the config file and key)."""

    def __init__(self, cfg: CityConfig | None) -> None:
        self.cfg = cfg
        self.found: list[Notice] = []

    def _origin(self, option: str | None, key: str, given: Any) -> tuple[Any, ranges.Origin]:
        if given is not None:
            return given, ranges.Origin(option or key)
        value = _cfg(self.cfg, key)
        if value is not None:
            return value, ranges.Origin(key, self.cfg.path)
        return getattr(settings, key, None), ranges.Origin(key, "carecover.settings")

    def one(self, name: str, given: Any = None, option: str | None = None, key: str | None = None) -> Any:
        """One number (``None`` stays ``None``: not set anywhere)."""
        value, origin = self._origin(option, key or name, given)
        return None if value is None else ranges.check(name, value, origin, self.found)

    def many(self, name: str, key: str | None = None) -> tuple[float, ...]:
        """A list of numbers from the config, else the settings."""
        values, origin = self._origin(None, key or name, None)
        return tuple(ranges.check(name, v, ranges.Origin(f"{origin.field}[{i}]", origin.file), self.found)
                     for i, v in enumerate(values))

    def tiers(self, tiers: dict[str, Tier]) -> None:
        """Unusual tier thresholds (their accepted range was checked when the config was read)."""
        path = self.cfg.path if self.cfg is not None else "carecover.tiers"
        for key, tier in tiers.items():
            ranges.check("threshold_min", tier.threshold_min,
                         ranges.Origin(f"tiers.{key}.threshold_min", path), self.found)


def _capacity(cfg: CityConfig | None, num: _Numbers) -> MappingProxyType:
    """The config's capacity rules (checked when the file was read; unusual values warned)."""
    rules = dict(cfg.capacity) if cfg is not None else {}
    for key, rule in rules.items():
        for name in ("places_per_unit", "assumed", "new_site", "standard_per_1000"):
            value = getattr(rule, name)
            if value is not None:
                ranges.check(f"capacity_{name}", value, ranges.Origin(f"capacity.{key}.{name}", cfg.path),
                             num.found)
    return MappingProxyType(rules)


#: The tiers of the urban 15-minute (一刻钟) circle, whose threshold a run's title names.
_CIRCLE_TIERS = ("street_centre", "community_centre", "meal_point")


def _title(cfg: CityConfig | None, lang: str, tiers: dict | None = None) -> str:
    # the title names the walking threshold of the urban circle's tiers (street, community, meal)
    # as the run really uses it: 一刻钟 only for 15 minutes
    tiers = tiers or {}
    circle = [t for k, t in tiers.items() if k in _CIRCLE_TIERS and t.mode == "walk"]
    walk = sorted({float(t.threshold_min) for t in (circle or [t for t in tiers.values() if t.mode == "walk"])})
    if not walk or walk == [15.0]:
        zh, en = "一刻钟养老服务圈覆盖分析", "15-minute elderly-care coverage"
    else:
        span = f"{walk[0]:g}" if len(walk) == 1 else f"{walk[0]:g}–{walk[-1]:g}"
        zh, en = f"{span} 分钟步行养老服务圈覆盖分析", f"{span}-minute walk elderly-care coverage"
    if cfg is None:
        return f"{zh} / {en}"
    return (f"{cfg.name_zh} {zh} / {cfg.name_en}: {en}"
            if lang == "zh" else f"{cfg.name_en}: {en} / {cfg.name_zh}")


def _refuse_repeated_registers(facilities: tuple) -> None:
    """The same register given twice would count each of its facilities twice: refused."""
    seen: dict[Path, Any] = {}
    for f in facilities:
        real = Path(f).resolve()
        if real in seen:
            raise InputError(f"同一设施名录给出两次 / the same register is given twice: {seen[real]} and {f}",
                             file=f, field="--facilities", expected="each register once")
        seen[real] = f


def _inputs(opts: PlanOptions, cfg: CityConfig | None) -> dict[str, Any]:
    """Input files from the options, else the config; every missing one listed in one error."""
    # the files given as options first, in the words of the command line's early check
    check_inputs_exist([(opts.network, "--network"), *[(f, "--facilities") for f in opts.facilities or ()],
                        (opts.boundary, "--boundary"), (opts.population, "--population"),
                        (opts.elderly_raster, "--elderly-raster"), (opts.candidates, "--candidates"),
                        *[(f, "--units") for _, f in opts.units or ()]])
    network = _first(opts.network, _cfg(cfg, "network"))
    facilities = tuple(opts.facilities or ([cfg.facilities] if cfg is not None and cfg.facilities else []))
    population = opts.population
    cfg_pop = _cfg(cfg, "population")
    if population is None and cfg_pop is not None and Path(cfg_pop).exists():
        population = cfg_pop
    missing = []
    if network is None or not Path(network).exists():
        missing.append(f"路网 / network: {network or '(none given: --network FILE)'}")
    missing += [f"设施名录 / facility register: {f}" for f in facilities if not Path(f).exists()]
    if not facilities:
        missing.append("设施名录 / facility register: --facilities FILE")
    if population is None and opts.total_population is None and cfg_pop is not None and not opts.elderly_raster:
        # a different population method changes every figure: the user chooses it, not a fallback
        missing.append(f"人口栅格 / population raster: {cfg_pop} "
                       "(或用 --total-population N 按 OSM 建筑分配 / or --total-population N to spread "
                       "a total over OSM buildings)")
    if missing:
        hint = ""
        if cfg is not None and cfg.city not in ("sample",):
            hint = f"\n  → carecover fetch --city {cfg.city}  (路网与人口 / network and population)"
        if not facilities or any(not Path(f).exists() for f in facilities):
            hint += ("\n  → 设施名录模板 / register template: data/templates/facility_register_template.csv "
                     "(docs/register_schema.md)")
        raise InputError("missing inputs / 缺少输入:\n  " + "\n  ".join(missing) + hint, field="inputs")
    _refuse_repeated_registers(facilities)
    return {"network": Path(network), "facilities": tuple(Path(f) for f in facilities),
            "boundary": _path(_first(opts.boundary, _cfg(cfg, "boundary"))),
            "population": _path(population), "elderly_raster": _elderly_files(opts)[0] if _elderly_files(opts) else None,
            "elderly_rasters": _elderly_files(opts),
            "candidates": _path(opts.candidates),
            "units": tuple((k, Path(p)) for k, p in (opts.units or ()))}


def _elderly_files(opts: PlanOptions) -> tuple[Path, ...]:
    """Every ``--elderly-raster`` (WorldPop's age-sex groups come one file each)."""
    given = opts.elderly_raster
    if given is None:
        return ()
    return tuple(Path(p) for p in (given if isinstance(given, (list, tuple)) else [given]))


def _elderly_share(opts: PlanOptions, cfg: CityConfig | None, num: _Numbers) -> tuple[float | None, str]:
    """The elderly share where the population gives none, and its origin (option, config, default)."""
    if opts.elderly_share is not None:
        return num.one("elderly_share", opts.elderly_share, "--elderly-share"), "option"
    if cfg is not None:  # the config's default (None: every county must state its own)
        return cfg.default_elderly_share, "config"
    return settings.default_elderly_share, "default"


def _sheet(value: str | None) -> str | int | None:
    """A worksheet or layer: a whole number is a 0-based index, other text a name."""
    if value is None:
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def _path(p: Any) -> Path | None:
    return None if p is None else Path(p)


def _total_population(opts: PlanOptions, cfg: CityConfig | None, population: Path | None,
                      num: _Numbers) -> float | None:
    if opts.total_population is not None:
        return num.one("total_population", opts.total_population, "--total-population")
    if population is None and cfg is not None and cfg.census:
        census = cfg.census
        total = census.get("population") if isinstance(census, dict) else getattr(census, "population", None)
        if total is not None:
            return ranges.check("total_population", total, ranges.Origin("census.population", cfg.path), num.found)
    return None


def suggest_counts(pairs: Iterable[tuple[str, int | str]], tiers: Mapping[str, Tier],
                   found: list[Notice] | None = None) -> dict[str, int]:
    """New sites per tier as asked (``--suggest TIER=N``), checked once: every name is a tier of
    the run (any alias), every count a whole number in range.

    Parameters
    ----------
    pairs
        ``(tier name, count)`` pairs; the counts may be text as typed.
    tiers
        The run's tiers by key.
    found
        Where a warning about an unusual count is appended.

    Returns
    -------
    dict
        Count by tier key.

    Raises
    ------
    InputError
        An unknown tier, a tier named twice (under any two of its names), or a count that is
        not a whole number ≥ 0.
    """
    suggest: dict[str, int] = {}
    for name, count in pairs:
        key = tier_key(name) or name
        if key not in tiers:
            raise InputError(f"unknown tier '{visible(name)}' in --suggest", field="suggest", expected=", ".join(tiers))
        if key in suggest:
            raise InputError(f"--suggest 重复给出层级 / --suggest names tier '{key}' twice ({visible(name)}={count})",
                             field="--suggest", expected="each tier once, e.g. --suggest street_centre=8")
        suggest[key] = ranges.check("suggest", count, ranges.Origin("--suggest"), found)
    return suggest


def _suggest(opts: PlanOptions, cfg: CityConfig | None, tiers: dict[str, Tier],
             num: _Numbers) -> tuple[dict[str, int], dict[str, Any]]:
    """New sites per tier (the options', else the config's planned regional centres) and the
    region each is planned for."""
    suggest = suggest_counts(opts.suggest or (), tiers, num.found)
    if not opts.suggest and cfg is not None:
        suggest = {k: pl.count for k, pl in cfg.planned.items() if k in PLANNED_TIERS}
    regions: dict[str, Any] = {}
    if cfg is not None:
        for key in suggest:
            plan = cfg.planned.get(key)
            regions[key] = getattr(plan, "region", None) if plan is not None else None
    return suggest, regions


#: What the siting may maximise (``--objective``).
OBJECTIVES = ("coverage", "served", "both")


def _objective(opts: PlanOptions, suggest: dict[str, int], capacity: MappingProxyType,
               tiers: dict[str, Tier], cfg: CityConfig | None) -> str:
    """The siting objective (default ``"coverage"``); ``served`` needs every planned tier's
    capacity rule with the places of a new site."""
    objective = _first(opts.objective, "coverage")
    if objective not in OBJECTIVES:
        raise InputError(f"unknown siting objective {objective!r} / 未知选址目标", field="--objective",
                         expected=", ".join(OBJECTIVES))
    if objective == "coverage":
        return objective
    if opts.objective is not None and not any(n > 0 for n in suggest.values()):
        raise InputError(f"--objective {objective} 需要选址数量 / --objective {objective} chooses new sites, but none "
                         "are asked for", field="--objective",
                         expected="--suggest TIER=N (or planned counts in the config), or no --objective")
    for key in [k for k, n in suggest.items() if n > 0]:
        rule = capacity.get(key)
        name = tiers[key].name_zh if key in tiers else key
        if rule is None or rule.new_site is None:
            what = "no [capacity.{0}] table" if rule is None else "no new_site in [capacity.{0}]"
            raise InputError(
                f"--objective {objective} needs the places of a new {key}: {what.format(key)} / "
                f"按服务能力选址须配置「{name}」新站点的规模（[capacity.{key}] 的 new_site）",
                file=None if cfg is None else cfg.path, field=f"capacity.{key}.new_site",
                expected="a [capacity.<tier>] table with measure, places_per_unit and new_site")
    return objective


def _colocation(opts: PlanOptions, cfg: CityConfig | None, num: _Numbers) -> dict[str, Any]:
    """The co-location parameters (``--candidates-from-osm``, ``--candidates-mix``,
    ``--colocation-min``, ``--colocation-within``, else the config's ``[colocation]``)."""
    from carecover.inputs.osm_public import parse_kinds
    from carecover.siting.colocation import ANY

    table = dict(_cfg(cfg, "colocation") or {})
    kinds_given = _first(opts.candidates_from_osm, table.get("kinds"))
    where = "--candidates-from-osm" if opts.candidates_from_osm is not None else "colocation.kinds"
    kinds = parse_kinds(kinds_given, where) if kinds_given is not None else ()
    mins = dict(opts.colocation_min) if opts.colocation_min else dict(table.get("min_sites") or {})
    mix = _first(opts.candidates_mix, table.get("mix"))
    if not kinds and (any(mins.values()) or mix):
        what = "--colocation-min" if any(mins.values()) else "--candidates-mix"
        raise InputError(f"{what} 须与 --candidates-from-osm 同用 / {what} needs --candidates-from-osm "
                         "(which public facilities to read)", field=what,
                         expected="--candidates-from-osm school,clinic,… (or [colocation] kinds)")
    for key, k in mins.items():
        if key != ANY and key not in kinds:
            raise InputError(f"同址最少站点数针对「{key}」，但未读取该类设施 / at least {k} sites co-located with "
                             f"'{key}' asked for, but that kind is not read", field="--colocation-min",
                             expected=f"{ANY} or one of: {', '.join(kinds) or '(none: give --candidates-from-osm)'}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise InputError(f"同址最少站点数须为非负整数 / at least k co-located sites: k must be a whole "
                             f"number >= 0, not {k!r}", field=f"--colocation-min {key}", expected=">= 0")
    if kinds and opts.candidates is not None and not mix:
        raise InputError("同时给出候选地块文件与公共设施候选点：加 --candidates-mix 合并两者，或去掉其一 / --candidates "
                         "FILE and --candidates-from-osm given: add --candidates-mix to use both, or drop one",
                         field="--candidates-mix", expected="--candidates-mix")
    within = num.one("colocation_within_m", _first(opts.colocation_within_m, table.get("within_m")),
                     "--colocation-within")
    return {"colocation_kinds": kinds, "candidates_mix": bool(mix),
            "colocation_min": MappingProxyType({k: int(v) for k, v in mins.items() if v}),
            "colocation_within_m": float(within)}


def _out(opts: PlanOptions, inputs: list[Path]) -> Path:
    """The output folder, refused now (before any work) when it cannot be written or would
    replace an input file."""
    from carecover.outputs import outfolder

    out = Path(opts.out or "out")
    outfolder.check_folder(out)
    outfolder.refuse_inputs_early(out, outfolder.input_files(inputs))
    return out


def resolve(opts: PlanOptions) -> RunParams:
    """Resolve the options of a run into its :class:`RunParams`.

    Parameters
    ----------
    opts
        The options as given (``None`` = not given).

    Returns
    -------
    RunParams
        Every parameter resolved and validated.

    Raises
    ------
    InputError
        Missing inputs (all listed at once), an unknown tier, a number outside its accepted
        range (naming the option or the config file and key).
    """
    cfg = opts.config
    files = _inputs(opts, cfg)
    lang = _first(opts.lang, _cfg(cfg, "lang"), "zh")
    tiers = cfg.resolved_tiers() if cfg is not None else dict(TIERS)
    num = _Numbers(cfg)
    num.tiers(tiers)
    suggest, regions = _suggest(opts, cfg, tiers, num)
    drive = cfg.drive_speeds() if cfg is not None else dict(settings.drive_speeds_kph)
    for key, kph in drive.items():
        num.one("drive_speeds_kph", kph, f"drive_speeds_kph.{key}")
    cfg_files = [cfg.path, cfg.claims] if cfg is not None else []
    capacity = _capacity(cfg, num)
    objective = _objective(opts, suggest, capacity, tiers, cfg)
    share, share_origin = _elderly_share(opts, cfg, num)
    inputs = [*files["facilities"], files["network"], files["boundary"], files["population"],
              *files["elderly_rasters"], files["candidates"], *[p for _, p in files["units"]], *cfg_files]
    return RunParams(
        **files, out=_out(opts, [p for p in inputs if p is not None]),
        population_field=_first(opts.population_field, settings.population_field),
        elderly_field=opts.elderly_field,
        total_population=_total_population(opts, cfg, files["population"], num),
        config=cfg, lang=lang, walk_speed_mps=num.one("walk_speed_mps", opts.walk_speed_mps, "--speed"),
        sensitivity_speeds_mps=num.many("sensitivity_speeds_mps"),
        threshold_min=num.one("threshold_min"),
        tiers=MappingProxyType(tiers), drive_speeds_kph=MappingProxyType(drive),
        bands_min=num.many("bands_min"), max_snap_m=num.one("max_snap_m"),
        isochrone_buffer_m=num.one("isochrone_buffer_m"), circle_radius_m=num.one("circle_radius_m"),
        crs_in=_first(opts.crs_in, _cfg(cfg, "crs_in")), crs_explicit=opts.crs_in is not None,
        gap_link_m=num.one("gap_link_m", opts.gap_link_m, "--gap-link"),
        suggest=MappingProxyType(suggest), regions=MappingProxyType(regions),
        exact_time_limit_s=num.one("exact_time_limit_s", opts.exact_time_limit_s, "--exact-time-limit"),
        max_candidates=num.one("max_candidates", opts.max_candidates, "--max-candidates"),
        max_candidates_drive=num.one("max_candidates_drive", opts.max_candidates_drive, "--max-candidates-drive"),
        min_spacing_m=num.one("min_spacing_m", opts.min_spacing_m, "--min-spacing"),
        min_distance_existing_m=num.one("min_distance_existing_m", opts.min_distance_existing_m,
                                        "--min-distance-existing"),
        target_share=num.one("target_share", opts.target_share, "--target"),
        strict=bool(opts.strict), osm_facilities=bool(opts.osm_facilities),
        facility_isochrones=bool(opts.facility_isochrones), inline_assets=_first(opts.inline_assets, True),
        gaode_map=_first(opts.gaode_map, True), cache=_first(opts.cache, True),
        sample_note=opts.sample_note, command=opts.command or "", title=_title(cfg, lang, tiers),
        sheet=_sheet(opts.sheet), pdf=_pdf(opts.pdf), capacity=capacity, objective=objective,
        access_decay=_first(_cfg(cfg, "access_decay"), settings.access_decay),
        access_band_weights=tuple(_first(_cfg(cfg, "access_band_weights"), settings.access_band_weights)),
        warnings=tuple(num.found),
        map_min_gap_share=num.one("map_min_gap_share", opts.map_min_gap_share, "--map-min-gap-share"),
        workers=_workers(opts.workers), population_bands=opts.population_bands,
        elderly_bands=opts.elderly_bands, elderly_share=share, elderly_share_origin=share_origin,
        **_colocation(opts, cfg, num), **_mobility(opts, cfg, tiers, suggest), projection=_projection(opts, cfg),
    )


def _projection(opts: PlanOptions, cfg: CityConfig | None) -> Projection | None:
    """The projection of ``--year`` from the config's ``[projection]`` (``None`` without ``--year``)."""
    if opts.year is None:
        return None
    return projection_for(cfg.projection if cfg is not None else {}, int(opts.year),
                          None if cfg is None else cfg.path)


def _mobility(opts: PlanOptions, cfg: CityConfig | None, tiers: Mapping[str, Tier],
              suggest: Mapping[str, int]) -> dict[str, Any]:
    """``profiles`` and ``dem`` (the option, else the config), each walk tier's profile (config
    ``[tiers.<key>] profile``) and each planned walk tier's siting profile (``--site-profile``,
    else ``[planned.<key>] profile``, else the tier's own); a slope profile needs a DEM."""
    winter = {k: v for k, v in (("winter_factor", _cfg(cfg, "winter_speed_factor")),
                                ("winter_unpaved_factor", _cfg(cfg, "winter_unpaved_factor")))
              if v is not None}
    profiles = mobility.resolve_profiles(_first(opts.profiles, _cfg(cfg, "profiles")), **winter)
    tier_profiles = _tier_profiles(cfg, tiers, winter)
    site_profiles = _site_profiles(opts, cfg, tiers, suggest, tier_profiles, winter)
    dem = _path(_first(opts.dem, _cfg(cfg, "dem")))
    if any(p.slope for p in (*profiles, *tier_profiles.values(), *site_profiles.values())):
        if dem is None:
            raise InputError("the 'slope' profile needs a DEM (--dem FILE or the config's 'dem') / "
                             "坡度档案需要高程数据 (--dem)", field="dem")
        if not dem.exists():
            raise InputError("DEM file not found / 找不到高程文件", file=dem, field="dem")
        not_special(dem, "DEM / 高程数据")
    return {"profiles": profiles, "dem": dem, "tier_profiles": MappingProxyType(tier_profiles),
            "site_profiles": MappingProxyType(site_profiles)}


def _tier_profiles(cfg: CityConfig | None, tiers: Mapping[str, Tier], winter: dict) -> dict:
    """Walk tier → the profile its figures are measured with (``elderly`` tiers not named);
    step-free by default on its pessimistic tags (the figure holds where tags are missing too)."""
    out = {}
    for key, ov in (cfg.tiers if cfg is not None else {}).items():
        if "profile" not in ov:
            continue
        prof = mobility.make(ov["profile"], tags=ov.get("profile_tags", "pessimistic"), **winter)
        if prof.name == "elderly":
            continue
        if tiers[key].mode != "walk":
            raise InputError(f"a mobility profile applies to walk tiers only; '{key}' is {tiers[key].mode} / "
                             "出行能力档案只适用于步行层级", file=cfg.path, field=f"tiers.{key}.profile",
                             expected="mode = \"walk\", or no profile")
        out[key] = prof
    return out


def _site_profiles(opts: PlanOptions, cfg: CityConfig | None, tiers: Mapping[str, Tier],
                   suggest: Mapping[str, int], tier_profiles: dict, winter: dict) -> dict:
    """Planned walk tier → the profile its sites are chosen for, where that is not today's walk
    or differs from the tier's own profile."""
    out = {}
    planned = [k for k, n in suggest.items() if n > 0 and tiers[k].mode == "walk"]
    if opts.site_profile and not planned:
        raise InputError("--site-profile needs a walk tier to site (--suggest street_centre=N) / "
                         "按档案选址需要规划一个步行层级", field="site_profile", expected="--suggest TIER=N")
    for key in planned:
        plan = cfg.planned.get(key) if cfg is not None else None
        name = _first(opts.site_profile, plan.profile if plan is not None else None)
        if name is None:
            continue
        where = {"field": "site_profile"} if opts.site_profile else {"file": cfg.path, "field": f"planned.{key}.profile"}
        try:
            prof = mobility.make(name, tags="pessimistic", **winter)
        except InputError as exc:
            raise InputError(exc.message, expected=exc.expected, **where) from None
        own = tier_profiles.get(key)
        if prof.name != "elderly" or own is not None:
            out[key] = own if own is not None and own.name == prof.name else prof
    return out


def _workers(asked: int | None) -> int:
    """Processes the run may use: as asked (at least 1), else two when there are two cores."""
    from carecover.plan.background import default_workers

    if asked is None:
        return default_workers()
    if isinstance(asked, bool) or not isinstance(asked, int) or asked < 1:
        raise InputError(f"--workers 须为正整数，而非 {asked!r} / --workers must be a whole number ≥ 1, not {asked!r}",
                         field="--workers", expected="1, 2, …")
    return asked


def _pdf(asked: bool | None) -> bool:
    """Whether to print ``report.pdf``; asked without Chromium, the run stops now (exit 2),
    not after the analysis."""
    if asked:
        from carecover.outputs.report.pdf import need_chromium

        need_chromium("--pdf")
    return bool(asked)
