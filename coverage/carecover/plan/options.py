"""What the user asked for: the options of one ``carecover plan`` run, unresolved.

Every field defaults to ``None`` ("not given"); :func:`carecover.plan.resolve.resolve` turns
options, the city config and :mod:`carecover.settings` into one frozen
:class:`~carecover.params.RunParams`, the only place a default is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from carecover.config import CityConfig
from carecover.errors import InputError


def key_values(values: list[str] | None, flag: str, example: str) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` command-line values split once (the values stay text; :func:`resolve`
    checks them).

    Parameters
    ----------
    values
        The option's values as given, e.g. ``["street_centre=8"]``.
    flag
        The option, named in the error (``--suggest``).
    example
        What is expected, e.g. ``"TIER=N, e.g. street_centre=8"``.

    Raises
    ------
    InputError
        A value without ``=``.
    """
    out = []
    for v in values or []:
        if "=" not in v:
            raise InputError(f"{flag} expects {example.split(',')[0]}, got {v!r}", field=flag,
                             expected=example)
        k, val = v.split("=", 1)
        out.append((k, val))
    return tuple(out)


@dataclass(frozen=True)
class PlanOptions:
    """Options of ``carecover plan`` as given (see ``carecover plan --help``).

    Attributes mirror the command-line options; ``None`` means "not given" and is resolved
    against the city config, then :mod:`carecover.settings`.
    """

    network: Path | None = None
    facilities: tuple[Path, ...] | None = None
    out: Path | None = None
    config: CityConfig | None = None
    boundary: Path | None = None
    population: Path | None = None
    population_field: str | None = None
    elderly_field: str | None = None
    elderly_raster: Path | tuple[Path, ...] | None = None
    population_bands: tuple[int, ...] | None = None
    elderly_bands: tuple[int, ...] | None = None
    elderly_share: float | None = None
    year: int | None = None
    candidates: Path | None = None
    candidates_from_osm: str | tuple[str, ...] | None = None
    candidates_mix: bool | None = None
    colocation_min: tuple[tuple[str, int], ...] | None = None
    colocation_within_m: float | None = None
    min_distance_existing_m: float | None = None
    total_population: float | None = None
    suggest: tuple[tuple[str, int | str], ...] | None = None
    units: tuple[tuple[str, Path], ...] | None = None
    walk_speed_mps: float | None = None
    profiles: str | tuple[str, ...] | None = None
    dem: Path | None = None
    site_profile: str | None = None
    crs_in: str | None = None
    sheet: str | None = None
    strict: bool | None = None
    osm_facilities: bool | None = None
    facility_isochrones: bool | None = None
    exact_time_limit_s: float | None = None
    max_candidates: int | None = None
    max_candidates_drive: int | None = None
    min_spacing_m: float | None = None
    gap_link_m: float | None = None
    target_share: float | None = None
    objective: str | None = None
    inline_assets: bool | None = None
    map_min_gap_share: float | None = None
    gaode_map: bool | None = None
    pdf: bool | None = None
    cache: bool | Path | None = None
    workers: int | None = None
    sample_note: str | None = None
    command: str | None = None
    lang: str | None = None
