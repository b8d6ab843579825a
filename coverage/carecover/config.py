"""City configurations (TOML) → :class:`CityConfig`.

A city config gathers what a run needs to know about one city: display names, speeds and
thresholds, per-tier overrides, the county-level units (urban or rural, census figures where
they are known), administrative totals for the *administrative* coverage rate, planned builds,
and the default input paths. Shipped configs live in ``data/<city>/config.toml``.

Validation is strict: an unknown key or a value of the wrong type raises
:class:`~carecover.errors.InputError` naming the file and key. Input files that a config refers
to are only required when a step needs them (:meth:`CityConfig.require`).

Unknown figures are written as the string ``"unknown"`` (or left out) and become ``None``
here; they are never guessed.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib

from carecover import settings
from carecover.crs import normalize_crs_name
from carecover.errors import InputError
from carecover.tiers import TIERS, Tier, resolve_tiers

#: Where shipped city configs live (``data/<city>/config.toml`` beside the package, which holds
#: for a source checkout and an editable install). ``CARECOVER_DATA_DIR`` adds another root.
DATA_DIR: Path = Path(__file__).resolve().parents[2] / "data"

UNKNOWN = "unknown"
COUNTY_KINDS = ("urban", "rural", "mixed")
CRS_NAMES = ("wgs84", "gcj02", "bd09")
ADMIN_UNITS = ("county", "street", "township", "community", "village")
#: Area groups a claim or a planned build may name besides a county: all counties, or those of
#: one kind ("mixed" counties count in both groups).
AREA_GROUPS = ("all", "urban", "rural")

# ---------------------------------------------------------------------------------------------
# schema: key -> expected type. Types: "str", "float", "int", "bool", "list[float]",
# "int|unknown", "float|unknown", or a nested dict schema; "table[...]" maps free keys.
# ---------------------------------------------------------------------------------------------

_COUNTY = {
    "name": "str",
    "name_en": "str",
    "adcode": "str",
    "kind": "str",
    "population": "int|unknown",
    "elderly_share": "float|unknown",
    "source": "str",
    "note": "str",
}
_ADMIN_UNIT = {
    "total": "int|unknown",
    "with_centre": "int|unknown",
    "tier": "str",
    "source": "str",
    "note": "str",
}
_PLANNED = {"count": "int", "region": "str|list[str]", "year": "int", "source": "str", "note": "str"}
_TIER_OVERRIDE = {"mode": "str", "threshold_min": "float"}
_CENSUS = {
    "population": "int|unknown",
    "elderly_share": "float|unknown",
    "elderly_registered": "int|unknown",
    "year": "int",
    "source": "str",
    "note": "str",
}
_FETCH = {"osm_url": "str", "osm_file": "str", "population_url": "str", "note": "str"}

_SCHEMA: dict[str, Any] = {
    "city": "str",
    "name_zh": "str",
    "name_en": "str",
    "lang": "str",
    "walk_speed_mps": "float",
    "sensitivity_speeds_mps": "list[float]",
    "threshold_min": "float",
    "bands_min": "list[float]",
    "max_snap_m": "float",
    "isochrone_buffer_m": "float",
    "circle_radius_m": "float",
    "crs_in": "str",
    "claims": "str",
    "boundary": "str",
    "network": "str",
    "population": "str",
    "facilities": "str",
    "default_elderly_share": "float",
    "default_elderly_share_source": "str",
    "notes": "str",
    "census": _CENSUS,
    "fetch": _FETCH,
    "tiers": ("table", _TIER_OVERRIDE),
    "drive_speeds_kph": ("table", "float"),
    "planned": ("table", _PLANNED),
    "admin_units": ("table", _ADMIN_UNIT),
    "counties": ("array", _COUNTY),
}

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


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'? / 是否应为 '{close[0]}'?)"
    return f"; valid keys / 可用键: {', '.join(sorted(valid))}"


def _check_value(value: Any, expected: str, file: Path, key: str) -> Any:
    """Check one scalar/list value against ``expected`` and return it normalised."""
    def bad() -> InputError:
        return InputError(f"wrong type {_type_name(value)} / 类型错误", file=file, field=key,
                          expected=expected.replace("|", " or "))

    if expected == "str":
        if not isinstance(value, str):
            raise bad()
        return value
    if expected == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return value
    if expected == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        return float(value)
    if expected == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if expected in ("int|unknown", "float|unknown"):
        if isinstance(value, str) and value.strip().lower() == UNKNOWN:
            return None
        return _check_value(value, expected.split("|")[0], file, key)
    if expected == "list[float]":
        if not isinstance(value, list):
            raise bad()
        return tuple(_check_value(v, "float", file, f"{key}[{i}]") for i, v in enumerate(value))
    if expected == "str|list[str]":
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise bad()
        return tuple(_check_value(v, "str", file, f"{key}[{i}]") for i, v in enumerate(value))
    raise AssertionError(expected)  # pragma: no cover - schema typo


def _validate(data: Any, schema: Any, file: Path, where: str = "") -> Any:
    """Validate ``data`` against ``schema`` (see ``_SCHEMA``); return normalised values."""
    if isinstance(schema, str):
        return _check_value(data, schema, file, where)
    if isinstance(schema, tuple):
        kind, inner = schema
        if kind == "table":
            if not isinstance(data, dict):
                raise InputError(f"wrong type {_type_name(data)} / 类型错误", file=file,
                                 field=where, expected="table")
            return {k: _validate(v, inner, file, f"{where}.{k}") for k, v in data.items()}
        if kind == "array":
            if not isinstance(data, list):
                raise InputError(f"wrong type {_type_name(data)} / 类型错误", file=file,
                                 field=where, expected="array of tables ([[...]])")
            return [_validate(v, inner, file, f"{where}[{i}]") for i, v in enumerate(data)]
    # a fixed-key table
    if not isinstance(data, dict):
        raise InputError(f"wrong type {_type_name(data)} / 类型错误", file=file, field=where,
                         expected="table")
    out = {}
    for key, value in data.items():
        name = f"{where}.{key}" if where else key
        if key not in schema:
            raise InputError("unknown key / 未知键" + _suggest(key, list(schema)), file=file,
                             field=name)
        out[key] = _validate(value, schema[key], file, name)
    return out


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class County:
    """One county-level unit (district 区, county 县, banner 旗, county-level city 市).

    ``population`` / ``elderly_share`` are ``None`` when unknown (see ``note``).
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
        d = dict(self.__dict__)
        for k in ("population", "elderly_share"):
            if d[k] is None:
                d[k] = UNKNOWN
        return d


@dataclass(frozen=True)
class AdminUnits:
    """Administrative totals for one unit type (e.g. townships): how many, how many with a centre."""

    unit: str
    total: int | None = None
    with_centre: int | None = None
    tier: str | None = None
    source: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        for k in ("total", "with_centre"):
            if d[k] is None:
                d[k] = UNKNOWN
        return d


@dataclass(frozen=True)
class Planned:
    """Facilities of one tier planned to be built (e.g. 7 township regional centres in 2025)."""

    tier: str
    count: int
    region: str | tuple[str, ...] = "all"
    year: int | None = None
    source: str = ""
    note: str = ""


@dataclass
class CityConfig:
    """A validated city configuration. Paths are absolute (resolved against the config file)."""

    city: str
    name_zh: str
    name_en: str
    path: Path | None = None
    lang: str = "zh"
    walk_speed_mps: float = settings.walk_speed_mps
    sensitivity_speeds_mps: tuple[float, ...] = settings.sensitivity_speeds_mps
    threshold_min: float = settings.threshold_min
    bands_min: tuple[float, ...] = settings.bands_min
    max_snap_m: float = settings.max_snap_m
    isochrone_buffer_m: float = settings.isochrone_buffer_m
    circle_radius_m: float = settings.circle_radius_m
    crs_in: str = "wgs84"
    tiers: dict[str, dict] = field(default_factory=dict)
    drive_speeds_kph: dict[str, float] = field(default_factory=dict)
    planned: dict[str, Planned] = field(default_factory=dict)
    counties: list[County] = field(default_factory=list)
    admin_units: dict[str, AdminUnits] = field(default_factory=dict)
    census: dict = field(default_factory=dict)
    fetch: dict = field(default_factory=dict)
    default_elderly_share: float | None = None
    default_elderly_share_source: str = ""
    claims: Path | None = None
    boundary: Path | None = None
    network: Path | None = None
    population: Path | None = None
    facilities: Path | None = None
    notes: str = ""

    # -- derived views -------------------------------------------------------------------------

    def resolved_tiers(self) -> dict[str, Tier]:
        """Tiers with this city's mode/threshold overrides applied."""
        return resolve_tiers(self.tiers)

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

        ``"all"``; ``"urban"`` / ``"rural"`` (mixed counties belong to both); a county name;
        or a list of county names.
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
        """Share aged 60+ for a county if known, else the config's default."""
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
        """
        out = []
        for unit, au in sorted(self.admin_units.items()):
            if au.total is None or au.with_centre is None or au.total <= 0:
                continue
            tier = au.tier or _default_tier_for_unit(unit)
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
        if key not in _INPUT_HINTS:
            raise KeyError(key)
        return getattr(self, key)

    def missing_inputs(self, keys: tuple[str, ...] | list[str] = tuple(_INPUT_HINTS)) -> list[str]:
        """Bilingual lines, one per input in ``keys`` that is not configured or not on disk."""
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
        """JSON-ready summary (for ``summary.json``)."""
        def p(x: Path | None) -> str | None:
            return str(x) if x is not None else None

        return {
            "config": p(self.path),
            "city": self.city, "name_zh": self.name_zh, "name_en": self.name_en,
            "lang": self.lang,
            "walk_speed_mps": self.walk_speed_mps,
            "sensitivity_speeds_mps": list(self.sensitivity_speeds_mps),
            "threshold_min": self.threshold_min,
            "bands_min": list(self.bands_min),
            "max_snap_m": self.max_snap_m,
            "isochrone_buffer_m": self.isochrone_buffer_m,
            "circle_radius_m": self.circle_radius_m,
            "crs_in": self.crs_in,
            "tiers": {k: {"mode": t.mode, "threshold_min": t.threshold_min}
                      for k, t in self.resolved_tiers().items()},
            "tier_overrides": self.tiers,
            "drive_speeds_kph": self.drive_speeds_kph,
            "planned": {k: {**v.__dict__, "region": list(v.region) if isinstance(v.region, tuple)
                            else v.region} for k, v in self.planned.items()},
            "counties": [c.to_dict() for c in self.counties],
            "admin_units": {k: v.to_dict() for k, v in self.admin_units.items()},
            "census": {k: (UNKNOWN if v is None else v) for k, v in self.census.items()},
            "default_elderly_share": self.default_elderly_share,
            "default_elderly_share_source": self.default_elderly_share_source,
            "inputs": {k: p(getattr(self, k)) for k in _INPUT_HINTS},
            "fetch": self.fetch,
            "notes": self.notes,
        }


def _default_tier_for_unit(unit: str) -> str | None:
    for t in TIERS.values():
        if t.unit == unit and t.level == 2:
            return t.key
    for t in TIERS.values():
        if t.unit == unit:
            return t.key
    return None


def _resolve(base: Path, value: str | None) -> Path | None:
    if value is None or value == "":
        return None
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p).resolve()


def read_toml(path: Path, missing_message: str) -> dict:
    """A TOML file as a dict; missing or malformed files raise :class:`InputError` naming it."""
    if not path.is_file():
        raise InputError(missing_message, file=path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML / TOML 格式错误: {exc}", file=path) from exc


def load_config(path: str | Path) -> CityConfig:
    """Read and validate a city config TOML file.

    Parameters
    ----------
    path
        The ``config.toml`` file. Relative paths inside it are resolved against its folder.

    Returns
    -------
    CityConfig

    Raises
    ------
    InputError
        File missing or unreadable TOML, unknown key (with the closest valid key), wrong
        type, or an invalid value (tier, county kind, CRS, speed ...).
    """
    path = Path(path)
    raw = read_toml(path, "config file not found / 配置文件不存在")
    data = _validate(raw, _SCHEMA, path)
    base = path.resolve().parent

    for key in ("city", "name_zh", "name_en"):
        if key not in data:
            raise InputError("required key missing / 缺少必填键", file=path, field=key)

    def err(msg: str, field_: str, expected: str | None = None) -> InputError:
        return InputError(msg, file=path, field=field_, expected=expected)

    lang = data.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise err(f"unknown language '{lang}'", "lang", "zh or en")
    try:
        crs_in = normalize_crs_name(data.get("crs_in", "wgs84"))
    except ValueError:
        raise err(f"unknown coordinate system '{data['crs_in']}' / 未知坐标系", "crs_in",
                  ", ".join(CRS_NAMES)) from None
    for key in ("walk_speed_mps", "threshold_min", "max_snap_m", "circle_radius_m"):
        if key in data and not data[key] > 0:
            raise err(f"must be positive, got {data[key]}", key, "a number > 0")
    for key in ("sensitivity_speeds_mps", "bands_min"):
        if key in data and not all(v > 0 for v in data[key]):
            raise err("all values must be positive", key, "numbers > 0")
    share = data.get("default_elderly_share")
    if share is not None and not 0 < share < 1:
        raise err(f"share must be between 0 and 1, got {share}", "default_elderly_share",
                  "a fraction such as 0.198")

    tiers = data.get("tiers", {})
    for key, ov in tiers.items():
        if key not in TIERS:
            raise err("unknown tier / 未知层级" + _suggest(key, list(TIERS)), f"tiers.{key}")
        if "mode" in ov and ov["mode"] not in ("walk", "drive"):
            raise err(f"unknown mode '{ov['mode']}'", f"tiers.{key}.mode", "walk or drive")
        if "threshold_min" in ov and not ov["threshold_min"] > 0:
            raise err("must be positive", f"tiers.{key}.threshold_min", "a number > 0")

    drive = data.get("drive_speeds_kph", {})
    for key, v in drive.items():
        if not v > 0:
            raise err("must be positive", f"drive_speeds_kph.{key}", "km/h > 0")

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
        if es is not None and not 0 < es < 1:
            raise err(f"share must be between 0 and 1, got {es}", f"{where}.elderly_share")
        pop = c.get("population")
        if pop is not None and pop < 0:
            raise err("must not be negative", f"{where}.population")
        counties.append(County(name=c["name"], name_en=c.get("name_en", ""),
                               adcode=c.get("adcode", ""), kind=kind, population=pop,
                               elderly_share=es, source=c.get("source", ""),
                               note=c.get("note", "")))
    cfg_stub = CityConfig(city=data["city"], name_zh=data["name_zh"], name_en=data["name_en"],
                          path=path.resolve(), counties=counties)

    admin = {}
    for unit, au in data.get("admin_units", {}).items():
        where = f"admin_units.{unit}"
        if unit not in ADMIN_UNITS:
            raise err("unknown unit / 未知单位" + _suggest(unit, list(ADMIN_UNITS)), where)
        tier = au.get("tier")
        if tier is not None and tier not in TIERS:
            raise err("unknown tier / 未知层级" + _suggest(tier, list(TIERS)), f"{where}.tier")
        total, withc = au.get("total"), au.get("with_centre")
        if total is not None and withc is not None and not 0 <= withc <= total:
            raise err(f"with_centre ({withc}) must be between 0 and total ({total})",
                      f"{where}.with_centre")
        admin[unit] = AdminUnits(unit=unit, total=total, with_centre=withc, tier=tier,
                                 source=au.get("source", ""), note=au.get("note", ""))

    planned = {}
    for key, pl in data.get("planned", {}).items():
        where = f"planned.{key}"
        if key not in TIERS:
            raise err("unknown tier / 未知层级" + _suggest(key, list(TIERS)), where)
        if "count" not in pl:
            raise err("required key missing / 缺少必填键", f"{where}.count")
        if pl["count"] < 0:
            raise err("must not be negative", f"{where}.count")
        region = pl.get("region", "all")
        try:
            cfg_stub.counties_in(region)
        except InputError as exc:
            raise err(exc.message, f"{where}.region", exc.expected) from None
        planned[key] = Planned(tier=key, count=pl["count"], region=region, year=pl.get("year"),
                               source=pl.get("source", ""), note=pl.get("note", ""))

    kwargs = {k: data[k] for k in ("walk_speed_mps", "sensitivity_speeds_mps", "threshold_min",
                                   "bands_min", "max_snap_m", "isochrone_buffer_m",
                                   "circle_radius_m", "default_elderly_share",
                                   "default_elderly_share_source", "notes") if k in data}
    return CityConfig(
        city=data["city"], name_zh=data["name_zh"], name_en=data["name_en"], path=path.resolve(),
        lang=lang, crs_in=crs_in, tiers=tiers, drive_speeds_kph=drive, planned=planned,
        counties=counties, admin_units=admin, census=data.get("census", {}),
        fetch=data.get("fetch", {}),
        **{k: _resolve(base, data.get(k)) for k in ("claims", "boundary", "network",
                                                      "population", "facilities")},
        **kwargs,
    )


def _data_roots() -> list[Path]:
    roots = []
    env = os.environ.get("CARECOVER_DATA_DIR")
    if env:
        roots.append(Path(env))
    roots.append(DATA_DIR)
    return roots


def available_cities() -> list[str]:
    """City keys that have a ``<root>/<city>/config.toml``."""
    found = set()
    for root in _data_roots():
        if root.is_dir():
            found.update(p.parent.name for p in root.glob("*/config.toml"))
    return sorted(found)


def find_city_config(city: str) -> Path:
    """Path of the shipped config for ``city`` (e.g. ``"hohhot"``), or of a given TOML file.

    Looks in ``$CARECOVER_DATA_DIR/<city>/config.toml`` then ``data/<city>/config.toml`` of
    the repository. Raises :class:`InputError` listing the available cities when none is found.
    """
    p = Path(city)
    if p.suffix == ".toml" and p.is_file():
        return p
    key = city.strip().lower()
    for root in _data_roots():
        candidate = root / key / "config.toml"
        if candidate.is_file():
            return candidate
    avail = available_cities()
    raise InputError(
        f"no config for city '{city}' / 找不到城市配置; available / 可用: "
        f"{', '.join(avail) if avail else 'none'}",
        field="city", expected="one of " + ", ".join(avail) if avail else None)
