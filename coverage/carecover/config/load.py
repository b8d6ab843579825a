"""Reading a city config TOML file into a :class:`~carecover.config.city.CityConfig`.

:func:`load_config` validates the file against the schema (:mod:`carecover.config.schema`),
then checks values section by section (scalars, tiers, drive speeds, counties, administrative
units, planned builds); each check raises :class:`~carecover.errors.InputError` naming the file
and the key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from carecover import filelimits, mobility
from carecover.config import ranges
from carecover.config.capacity import capacity_numbers, check_decay, load_capacity
from carecover.config.city import RUN_PARAMETERS, AdminUnits, CityConfig, County, Planned
from carecover.config.projection import check_projection
from carecover.config.schema import (
    ADMIN_UNITS,
    COUNTY_KINDS,
    CRS_NAMES,
    SCHEMA,
    did_you_mean,
    validate_schema,
)
from carecover.crs import normalize_crs_name
from carecover.errors import InputError
from carecover.tiers import TIERS, tier_key, visible, vocabulary

#: ``err(message, field, expected=None)``: an :class:`InputError` about one key of the file.
_Err = Callable[..., InputError]

_PATH_KEYS = ("claims", "boundary", "network", "population", "facilities", "dem")


def read_toml(path: Path, missing_message: str) -> dict:
    """A TOML file as a dict.

    Parameters
    ----------
    path
        The file.
    missing_message
        Message of the error raised when ``path`` is not a file.

    Raises
    ------
    InputError
        Naming the file: missing, not a regular file, larger than
        :data:`carecover.filelimits.MAX_TEXT_BYTES`, not UTF-8, not valid TOML or nested too
        deeply. A UTF-8 BOM is accepted.
    """
    return filelimits.read_toml(path, "TOML file", missing=missing_message)


def load_config(path: str | Path) -> CityConfig:
    """Read and validate a city config TOML file.

    Parameters
    ----------
    path
        The ``config.toml`` file. Relative paths inside it are resolved against its folder.

    Returns
    -------
    CityConfig
        Run parameters the file does not set are ``None`` (resolved against
        :mod:`carecover.settings` at run time).

    Raises
    ------
    InputError
        File missing or unreadable TOML, unknown key (with the closest valid key), wrong
        type, or an invalid value (tier, county kind, CRS, speed ...).
    """
    path = Path(path)
    raw = read_toml(path, "config file not found / 配置文件不存在")
    data = validate_schema(raw, SCHEMA, path)
    base = path.resolve().parent

    for key in ("city", "name_zh", "name_en"):
        if key not in data:
            raise InputError("required key missing / 缺少必填键", file=path, field=key)

    def err(msg: str, field_: str, expected: str | None = None) -> InputError:
        return InputError(msg, file=path, field=field_, expected=expected)

    check_numbers(data, path)
    lang, crs_in = _check_scalars(data, err)
    tiers = _check_tiers(data, err)
    tier_names = _check_tier_names(data, err)
    drive = _check_drive_speeds(data, err)
    counties = _load_counties(data, err)
    # planned regions name counties: check them against a config holding only the counties
    cfg_stub = CityConfig(city=data["city"], name_zh=data["name_zh"], name_en=data["name_en"],
                          path=path.resolve(), counties=counties)
    admin = _load_admin_units(data, err)
    planned = _load_planned(data, err, cfg_stub)
    capacity = load_capacity(data, err, path)
    decay, weights = check_decay(data, err)
    names = {n: c.name for c in counties for n in (c.name, c.name_en) if n}
    projection = check_projection(data, err, names)

    kwargs = {k: data[k] for k in (*RUN_PARAMETERS, "default_elderly_share_source", "notes", "timezone")
              if k in data and k != "crs_in"}
    return CityConfig(
        city=data["city"], name_zh=data["name_zh"], name_en=data["name_en"], path=path.resolve(),
        lang=lang, crs_in=crs_in, tiers=tiers, tier_names=tier_names, drive_speeds_kph=drive, planned=planned,
        counties=counties, admin_units=admin, census=data.get("census", {}), capacity=capacity,
        access_decay=decay, access_band_weights=weights,
        fetch=data.get("fetch", {}), colocation=data.get("colocation", {}), projection=projection,
        profiles=data.get("profiles"), winter_speed_factor=data.get("winter_speed_factor"),
        winter_unpaved_factor=data.get("winter_unpaved_factor"),
        **{k: _resolve(base, data.get(k)) for k in _PATH_KEYS},
        **kwargs,
    )


def _check_scalars(data: dict[str, Any], err: _Err) -> tuple[str, str | None]:
    """Check the top-level values; return the language and the normalised ``crs_in``.

    ``crs_in`` is ``None`` when the file does not set it.
    """
    lang = data.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise err(f"unknown language '{lang}'", "lang", "zh or en")
    crs_in = None
    if "crs_in" in data:
        try:
            crs_in = normalize_crs_name(data["crs_in"])
        except ValueError:
            raise err(f"unknown coordinate system '{data['crs_in']}' / 未知坐标系", "crs_in",
                      ", ".join(CRS_NAMES)) from None
    if "timezone" in data:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(data["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise err(f"unknown time zone '{data['timezone']}' / 未知时区", "timezone",
                      "an IANA zone such as Asia/Shanghai") from None
    return lang, crs_in


def _numbers(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every numeric value of a config as (range name, key as written, value)."""
    out = [(k, k, data[k]) for k in ("walk_speed_mps", "threshold_min", "max_snap_m", "circle_radius_m",
                                     "isochrone_buffer_m", "default_elderly_share") if k in data]
    for k in ("sensitivity_speeds_mps", "bands_min"):
        out += [(k, f"{k}[{i}]", v) for i, v in enumerate(data.get(k, []))]
    out += [("threshold_min", f"tiers.{k}.threshold_min", ov["threshold_min"])
            for k, ov in data.get("tiers", {}).items() if "threshold_min" in ov]
    out += [("drive_speeds_kph", f"drive_speeds_kph.{k}", v) for k, v in data.get("drive_speeds_kph", {}).items()]
    for i, c in enumerate(data.get("counties", [])):
        out += [(k, f"counties[{i}].{k}", c[k]) for k in ("population", "elderly_share") if k in c]
    out += [("count", f"planned.{k}.count", pl["count"]) for k, pl in data.get("planned", {}).items()
            if "count" in pl]
    out += capacity_numbers(data)
    census = data.get("census", {})
    if isinstance(census, dict) and "population" in census:
        out.append(("population", "census.population", census["population"]))
    return out


def check_numbers(data: dict[str, Any], path: Path) -> None:
    """Every numeric value in its accepted range (:mod:`carecover.config.ranges`), else an
    error naming the file and the key; unusual values are warned about when a run uses them."""
    for name, key, value in _numbers(data):
        if value is not None:  # "unknown" figures are None
            ranges.check(name, value, ranges.Origin(key, path))


def _tier(name: str, where: str, err: _Err) -> str:
    """The tier key of a name or alias (:func:`carecover.tiers.tier_key`), else an error."""
    key = tier_key(name)
    if key is None:
        raise err(f"unknown tier '{visible(name)}' / 未知层级" + did_you_mean(name, list(TIERS)), where)
    return key


def _check_tiers(data: dict[str, Any], err: _Err) -> dict[str, dict]:
    """The ``[tiers.<key>]`` overrides, checked (known tier, walk/drive, positive threshold)."""
    tiers: dict[str, dict] = {}
    for name, ov in data.get("tiers", {}).items():
        key = _tier(name, f"tiers.{name}", err)
        if key in tiers:
            raise err(f"tier given twice (as '{name}' and another name) / 层级重复", f"tiers.{name}")
        tiers[key] = ov
        if "mode" in ov and ov["mode"] not in ("walk", "drive"):
            raise err(f"unknown mode '{ov['mode']}'", f"tiers.{key}.mode", "walk or drive")
        if "threshold_min" in ov and not ov["threshold_min"] > 0:
            raise err("must be positive", f"tiers.{key}.threshold_min", "a number > 0")
        if "profile" in ov:
            _profile_name(ov["profile"], f"tiers.{key}.profile", err)
        if ov.get("profile_tags", "pessimistic") not in ("optimistic", "pessimistic"):
            raise err(f"unknown step-free tag assumption '{ov['profile_tags']}'", f"tiers.{key}.profile_tags",
                      "optimistic or pessimistic")
    return tiers


def _profile_name(name: str, where: str, err: _Err) -> str:
    """A mobility profile's name (:func:`carecover.mobility.make`), normalised, else an error
    naming the config key."""
    try:
        return mobility.make(name).name
    except InputError:
        raise err(f"unknown mobility profile '{visible(name)}' / 未知的出行能力档案", where,
                  "elderly, step_free, winter, slope or a + combination") from None


def _check_tier_names(data: dict[str, Any], err: _Err) -> dict[str, tuple[str, ...]]:
    """The ``[tier_names]`` table (tier → extra names a register may use), checked: a known
    tier, names not taken by another tier."""
    out: dict[str, tuple[str, ...]] = {}
    for name, names in data.get("tier_names", {}).items():
        key = _tier(name, f"tier_names.{name}", err)
        out[key] = out.get(key, ()) + tuple(str(n) for n in ([names] if isinstance(names, str) else names))
        try:
            vocabulary({key: out[key]})
        except ValueError as exc:
            raise err(str(exc), f"tier_names.{name}") from None
    try:
        vocabulary(out)
    except ValueError as exc:
        raise err(str(exc), "tier_names") from None
    return out


def _check_drive_speeds(data: dict[str, Any], err: _Err) -> dict[str, float]:
    """The ``[drive_speeds_kph]`` overrides, checked (every speed positive)."""
    drive = data.get("drive_speeds_kph", {})
    for key, v in drive.items():
        if not v > 0:
            raise err("must be positive", f"drive_speeds_kph.{key}", "km/h > 0")
    return drive


def _load_counties(data: dict[str, Any], err: _Err) -> list[County]:
    """The ``[[counties]]`` entries: named, unique, of a known kind, plausible census figures."""
    counties = []
    seen = set()
    for i, c in enumerate(data.get("counties", [])):
        where = f"counties[{i}]"
        if "name" not in c:
            raise err("required key missing / 缺少必填键", f"{where}.name")
        if c["name"] in seen:
            raise err(f"duplicate county '{c['name']}'", f"{where}.name")
        seen.add(c["name"])
        kind = c.get("kind", "mixed")
        if kind not in COUNTY_KINDS:
            raise err(f"unknown kind '{kind}'", f"{where}.kind", ", ".join(COUNTY_KINDS))
        es = c.get("elderly_share")
        if es is not None and not 0 <= es <= 1:
            raise err(f"share must be between 0 and 1, got {es}", f"{where}.elderly_share")
        pop = c.get("population")
        if pop is not None and pop < 0:
            raise err("must not be negative", f"{where}.population")
        counties.append(County(name=c["name"], name_en=c.get("name_en", ""),
                               adcode=c.get("adcode", ""), kind=kind, population=pop,
                               elderly_share=es, source=c.get("source", ""),
                               note=c.get("note", "")))
    return counties


def _load_admin_units(data: dict[str, Any], err: _Err) -> dict[str, AdminUnits]:
    """The ``[admin_units.<unit>]`` tables: known unit and tier, ``0 <= with_centre <= total``."""
    admin = {}
    for unit, au in data.get("admin_units", {}).items():
        where = f"admin_units.{unit}"
        if unit not in ADMIN_UNITS:
            raise err("unknown unit / 未知单位" + did_you_mean(unit, list(ADMIN_UNITS)), where)
        tier = au.get("tier")
        if tier is not None:
            tier = _tier(tier, f"{where}.tier", err)
        total, withc = au.get("total"), au.get("with_centre")
        if total is not None and withc is not None and not 0 <= withc <= total:
            raise err(f"with_centre ({withc}) must be between 0 and total ({total})",
                      f"{where}.with_centre")
        admin[unit] = AdminUnits(unit=unit, total=total, with_centre=withc, tier=tier,
                                 source=au.get("source", ""), note=au.get("note", ""))
    return admin


def _load_planned(data: dict[str, Any], err: _Err, cfg_stub: CityConfig) -> dict[str, Planned]:
    """The ``[planned.<tier>]`` tables: known tier, a count >= 0, a region of ``cfg_stub``."""
    planned = {}
    for name, pl in data.get("planned", {}).items():
        where = f"planned.{name}"
        key = _tier(name, where, err)
        if "count" not in pl:
            raise err("required key missing / 缺少必填键", f"{where}.count")
        if pl["count"] < 0:
            raise err("must not be negative", f"{where}.count")
        region = pl.get("region", "all")
        try:
            cfg_stub.counties_in(region)
        except InputError as exc:
            raise err(exc.message, f"{where}.region", exc.expected) from None
        profile = _profile_name(pl["profile"], f"{where}.profile", err) if "profile" in pl else None
        planned[key] = Planned(tier=key, count=pl["count"], region=region, year=pl.get("year"),
                               source=pl.get("source", ""), note=pl.get("note", ""), profile=profile)
    return planned


def _resolve(base: Path, value: str | None) -> Path | None:
    """``value`` as an absolute path (``~`` expanded, relative to ``base``); ``None`` if empty."""
    if value is None or value == "":
        return None
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p).resolve()
