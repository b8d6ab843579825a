"""The city-config TOML schema and the strict validator that checks a file against it.

The schema maps each key to an expected type: ``"str"``, ``"int"``, ``"float"``, ``"bool"``,
``"list[float]"``, ``"str|list[str]"``, ``"int|unknown"``, ``"float|unknown"``, a nested dict
(a table with fixed keys), ``("table", inner)`` (a table of free keys, each value ``inner``) or
``("array", inner)`` (an array of tables). :func:`validate_schema` is also used for claims files
(:mod:`carecover.analysis.claims`), which is why it and :func:`did_you_mean` are re-exported by
:mod:`carecover.config` despite the leading underscore.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from carecover.errors import InputError

#: How a config (or claims file) writes a figure the documents do not give.
UNKNOWN = "unknown"
COUNTY_KINDS = ("urban", "rural", "mixed")
CRS_NAMES = ("wgs84", "gcj02", "bd09")
ADMIN_UNITS = ("county", "street", "township", "community", "village")
#: Area groups a claim or a planned build may name besides a county: all counties, or those of
#: one kind ("mixed" counties count in both groups).
AREA_GROUPS = ("all", "urban", "rural")

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
_PLANNED = {"count": "int", "region": "str|list[str]", "year": "int", "source": "str", "note": "str",
            "profile": "str"}
_TIER_OVERRIDE = {"mode": "str", "threshold_min": "float", "profile": "str", "profile_tags": "str"}
_CENSUS = {
    "population": "int|unknown",
    "elderly_share": "float|unknown",
    "elderly_registered": "int|unknown",
    "year": "int",
    "source": "str",
    "note": "str",
}
#: ``[capacity.<tier>]`` (see :mod:`carecover.config.capacity`, which checks the values).
_CAPACITY = {
    "measure": "str",
    "places_per_unit": "float",
    "assumed": "float",
    "new_site": "float",
    "standard_per_1000": "float",
    "source": "str",
    "note": "str",
}
#: ``[projection]`` (see :mod:`carecover.config.projection`, which checks the values).
_PROJECTION = {"kind": "str", "source": "str", "note": "str", "all": ("table", "float"),
               "counties": ("table", ("table", "float"))}
#: ``[colocation]``: public facilities as candidate sites, and the co-location preference.
_COLOCATION = {"kinds": "str|list[str]", "mix": "bool", "within_m": "float", "min_sites": ("table", "int")}
_FETCH = {"osm_url": "str", "osm_file": "str", "population_url": "str", "note": "str"}

SCHEMA: dict[str, Any] = {
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
    "timezone": "str",
    "census": _CENSUS,
    "fetch": _FETCH,
    "tiers": ("table", _TIER_OVERRIDE),
    "tier_names": ("table", "str|list[str]"),
    "drive_speeds_kph": ("table", "float"),
    "planned": ("table", _PLANNED),
    "capacity": ("table", _CAPACITY),
    "projection": _PROJECTION,
    "colocation": _COLOCATION,
    "access_decay": "str",
    "access_band_weights": "list[float]",
    "dem": "str",
    "profiles": "str|list[str]",
    "winter_speed_factor": "float",
    "winter_unpaved_factor": "float",
    "admin_units": ("table", _ADMIN_UNIT),
    "counties": ("array", _COUNTY),
}


def _type_name(value: Any) -> str:
    """TOML's name for the type of ``value`` (for "wrong type" messages)."""
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def did_you_mean(key: str, valid: list[str]) -> str:
    """Message tail for an unknown ``key``: the closest valid key, else all valid keys.

    Parameters
    ----------
    key
        The key as written.
    valid
        The keys allowed at that place.

    Returns
    -------
    str
        A bilingual suffix starting with a space or a semicolon, to append to a message.
    """
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'? / 是否应为 '{close[0]}'?)"
    return f"; valid keys / 可用键: {', '.join(sorted(valid))}"


def _check_value(value: Any, expected: str, file: Path, key: str) -> Any:
    """Check one scalar/list value against ``expected`` and return it normalised.

    Floats accept integers (returned as float), lists become tuples and ``"unknown"`` becomes
    ``None`` for the ``...|unknown`` types. Booleans are never taken for numbers.

    Raises
    ------
    InputError
        Naming ``file``, ``key`` and the expected type.
    """
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


def validate_schema(data: Any, schema: Any, file: Path, where: str = "") -> Any:
    """Validate ``data`` against ``schema`` (see ``SCHEMA``) and return normalised values.

    Parameters
    ----------
    data
        Parsed TOML (or a part of it).
    schema
        A type string, a fixed-key dict, or a ``("table" | "array", inner)`` tuple.
    file
        The file ``data`` came from, for error messages.
    where
        Dotted key path of ``data`` inside the file (``""`` at the top).

    Returns
    -------
    Any
        ``data`` with every value checked and normalised (see :func:`_check_value`).

    Raises
    ------
    InputError
        At the first unknown key (with the closest valid key) or value of the wrong type.
    """
    if isinstance(schema, str):
        return _check_value(data, schema, file, where)
    if isinstance(schema, tuple):
        kind, inner = schema
        if kind == "table":
            if not isinstance(data, dict):
                raise InputError(f"wrong type {_type_name(data)} / 类型错误", file=file,
                                 field=where, expected="table")
            return {k: validate_schema(v, inner, file, f"{where}.{k}") for k, v in data.items()}
        if kind == "array":
            if not isinstance(data, list):
                raise InputError(f"wrong type {_type_name(data)} / 类型错误", file=file,
                                 field=where, expected="array of tables ([[...]])")
            return [validate_schema(v, inner, file, f"{where}[{i}]") for i, v in enumerate(data)]
    # a fixed-key table
    if not isinstance(data, dict):
        raise InputError(f"wrong type {_type_name(data)} / 类型错误", file=file, field=where,
                         expected="table")
    out = {}
    for key, value in data.items():
        name = f"{where}.{key}" if where else key
        if key not in schema:
            raise InputError("unknown key / 未知键" + did_you_mean(key, list(schema)), file=file,
                             field=name)
        out[key] = validate_schema(value, schema[key], file, name)
    return out
