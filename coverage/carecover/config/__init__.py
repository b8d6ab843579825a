"""City configurations (TOML) → :class:`CityConfig`.

A city config gathers what a run needs to know about one city: display names, speeds and
thresholds, per-tier overrides, the county-level units (urban or rural, census figures where
they are known), administrative totals for the *administrative* coverage rate, planned builds,
and the default input paths. Shipped configs live in ``data/<city>/config.toml``.

Validation is strict: an unknown key or a value of the wrong type raises
:class:`~carecover.errors.InputError` naming the file and key. Input files that a config refers
to are only required when a step needs them (:meth:`CityConfig.require`).

Unknown figures are written as the string ``"unknown"`` (or left out) and become ``None``
here; they are never guessed. Run parameters the file does not set are ``None`` too, and are
resolved against :mod:`carecover.settings` when the run starts.

Modules: :mod:`~carecover.config.schema` (the TOML schema and validator),
:mod:`~carecover.config.city` (the dataclasses), :mod:`~carecover.config.load` (reading a
file), :mod:`~carecover.config.paths` (finding a city's file).
"""

from carecover.config.city import AdminUnits, CityConfig, County, Planned
from carecover.config.load import load_config, read_toml
from carecover.config.paths import DATA_DIR, available_cities, find_city_config
from carecover.config.schema import (
    ADMIN_UNITS,
    AREA_GROUPS,
    COUNTY_KINDS,
    CRS_NAMES,
    UNKNOWN,
    did_you_mean,
    validate_schema,
)

__all__ = [
    "ADMIN_UNITS",
    "AREA_GROUPS",
    "COUNTY_KINDS",
    "CRS_NAMES",
    "DATA_DIR",
    "UNKNOWN",
    "AdminUnits",
    "CityConfig",
    "County",
    "Planned",
    "did_you_mean",
    "validate_schema",
    "available_cities",
    "find_city_config",
    "load_config",
    "read_toml",
]
