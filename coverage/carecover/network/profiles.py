"""Travel profiles: which OSM ways are usable, in which directions, and how fast.

* ``walk`` — footways, paths, steps, pedestrian and living streets and all roads except motorways;
  ``foot=no`` and ``access=no|private`` (without a ``foot`` permission) excluded; one-way tags
  ignored (pedestrians may walk both ways); one speed for all segments.
* ``drive`` — roads by class; ``maxspeed`` where tagged, class defaults otherwise
  (``settings.drive_speeds_kph``); one-ways respected (``oneway=yes|true|1|-1|reverse``,
  roundabouts, motorways).

The tag rules read a frame with the :data:`TAG_COLUMNS` (one row per segment, raw OSM tag
strings): the segments every reader in :mod:`carecover.network.readers` returns.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from carecover import settings
from carecover.errors import InputError

WALK_EXCLUDE = {
    "motorway", "motorway_link", "construction", "proposed", "abandoned", "platform", "raceway",
    "bus_guideway", "razed", "planned", "no", "escape", "elevator", "disused", "rest_area",
    "services",
}
FOOT_YES = {"yes", "designated", "permissive", "official"}
DRIVE_SERVICE_EXCLUDE = {"parking", "parking_aisle", "driveway", "private", "emergency_access"}
NO_ACCESS = {"no", "private"}

#: Way tags that put a street off the ground: the slope profile grades a bridge or tunnel from the
#: ground heights at its ends (:mod:`carecover.network.dem`). A reader whose source cannot carry
#: them (a GraphML/GeoPackage graph or street arrays without the column) leaves the column out:
#: "unknown", not "none".
STRUCTURE_TAGS = ["bridge", "tunnel"]
#: Way tags the mobility profiles read (:mod:`carecover.network.mobility`), kept per segment.
MOBILITY_TAGS = ["kerb", "incline", "surface", "smoothness", "width", "wheelchair", *STRUCTURE_TAGS]
#: The OSM way tags the profiles read; every reader gives its segments these columns.
TAG_COLUMNS = ["highway", "oneway", "foot", "access", "area", "service", "junction", "maxspeed",
               "motor_vehicle", "motorcar", "name", *MOBILITY_TAGS]


def profile_for(name: str, *, walk_speed_mps: float, drive_speeds_kph: dict[str, float],
                drive_default_kph: float, keep_largest: bool = True) -> dict:
    """Profile parameters from values already resolved (a run's :class:`~carecover.params.RunParams`):
    nothing is defaulted or checked again here.

    Parameters
    ----------
    name
        ``"walk"`` or ``"drive"``.
    walk_speed_mps
        Walking speed.
    drive_speeds_kph, drive_default_kph
        Speeds by highway class, and for a class without one.
    keep_largest
        Keep only the largest connected part (strongly connected for drive).

    Returns
    -------
    dict
        JSON-serialisable; part of the network cache key.

    Raises
    ------
    InputError
        For an unknown profile name.
    """
    if name == "walk":
        return {"name": "walk", "speed_mps": float(walk_speed_mps), "oneway": "ignored",
                "excluded_highways": sorted(WALK_EXCLUDE), "keep_largest": keep_largest,
                "access": "foot=no and access=no|private (without foot permission) excluded"}
    if name == "drive":
        return {"name": "drive", "speeds_kph": dict(drive_speeds_kph), "default_kph": drive_default_kph,
                "maxspeed": "used where tagged", "oneway": "respected", "keep_largest": keep_largest,
                "access": "motor_vehicle/motorcar=no, access=no|private, parking/driveway services excluded"}
    raise InputError(f"unknown profile '{name}'", field="profile", expected="walk or drive")


def make_profile(name: str = "walk", *, walk_speed_mps: float | None = None,
                 drive_speeds_kph: dict[str, float] | None = None,
                 keep_largest: bool = True) -> dict:
    """Profile parameters for use outside a run (a run builds its profiles with
    :func:`profile_for` from its resolved parameters): unset values from :mod:`carecover.settings`.

    Parameters
    ----------
    name
        ``"walk"`` or ``"drive"``.
    walk_speed_mps
        Walking speed; default ``settings.walk_speed_mps``.
    drive_speeds_kph
        Speeds by highway class overriding ``settings.drive_speeds_kph``.
    keep_largest
        Keep only the largest connected part (strongly connected for drive).

    Returns
    -------
    dict
        JSON-serialisable; part of the network cache key.

    Raises
    ------
    InputError
        For an unknown profile name or a walking speed that is not positive.
    """
    speed = float(walk_speed_mps if walk_speed_mps is not None else settings.walk_speed_mps)
    if name == "walk" and not speed > 0:
        raise InputError(f"walking speed must be positive, got {speed}", field="walk_speed_mps")
    return profile_for(name, walk_speed_mps=speed,
                       drive_speeds_kph={**settings.drive_speeds_kph, **(drive_speeds_kph or {})},
                       drive_default_kph=settings.drive_default_kph, keep_largest=keep_largest)


def lower(s: pd.Series) -> pd.Series:
    """Tag values as stripped lower-case strings (missing values stay missing).

    Parameters
    ----------
    s
        A tag column.

    Returns
    -------
    pandas.Series
        Of the ``string`` dtype.
    """
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return s.astype("string").str.strip().str.lower()
    # text only: each distinct value once (a street network repeats a few dozen values)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    low = pd.Series(uniq, dtype=object).astype("string").str.strip().str.lower()
    return pd.Series(low.array.take(codes, allow_fill=True), index=s.index, name=s.name)


def lower_text(s: pd.Series) -> np.ndarray:
    """:func:`lower` with missing values as ``""``, as a numpy ``str`` array (each distinct
    value converted once).

    Parameters
    ----------
    s
        A tag column.

    Returns
    -------
    numpy.ndarray
        Of a ``<U`` dtype as wide as the longest value.
    """
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return lower(s).fillna("").to_numpy(str)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    vals = lower(pd.Series(uniq, dtype=object)).fillna("").to_numpy(str)
    return np.append(vals, np.array([""], dtype=str))[codes]  # code -1 (missing): ""


def usable(tags: pd.DataFrame, profile: dict) -> np.ndarray:
    """Which segments the profile may use (highway class, access, area and service tags).

    Parameters
    ----------
    tags
        One row per segment with the :data:`TAG_COLUMNS`.
    profile
        From :func:`make_profile`.

    Returns
    -------
    numpy.ndarray
        Boolean mask over the rows.
    """
    hw = lower(tags["highway"]).fillna("")
    foot = lower(tags["foot"]).fillna("")
    access = lower(tags["access"]).fillna("")
    area = lower(tags["area"]).fillna("")
    service = lower(tags["service"]).fillna("")
    ok = (hw != "") & (area != "yes")
    if profile["name"] == "walk":
        ok &= ~hw.isin(WALK_EXCLUDE) & (foot != "no") & (service != "private")
        ok &= ~(access.isin(NO_ACCESS) & ~foot.isin(FOOT_YES))
        ok &= (hw != "cycleway") | foot.isin(FOOT_YES)
    else:
        mv = lower(tags["motor_vehicle"]).fillna("")
        mc = lower(tags["motorcar"]).fillna("")
        ok &= hw.isin(profile["speeds_kph"].keys()) & ~service.isin(DRIVE_SERVICE_EXCLUDE)
        ok &= (mv != "no") & (mc != "no")
        ok &= ~(access.isin(NO_ACCESS) & ~mv.isin(FOOT_YES) & ~mc.isin(FOOT_YES))
    return ok.to_numpy(bool)


_NUM = re.compile(r"(\d+(?:\.\d+)?)")


def parse_maxspeed(values: pd.Series) -> np.ndarray:
    """Km/h from OSM ``maxspeed`` strings.

    Parameters
    ----------
    values
        Raw tag values such as ``"50"``, ``"30 mph"``, ``"50;40"`` (the first number counts),
        ``"walk"`` (5 km/h).

    Returns
    -------
    numpy.ndarray
        Float km/h; NaN where no positive speed is given (``"none"``, ``"RU:urban"``, empty).
    """
    s = lower(values).fillna("")
    num = s.str.extract(_NUM, expand=False).astype(float)
    num = np.where(s.str.contains("mph"), num * 1.609344, num)
    num = np.where(s == "walk", 5.0, num)
    return np.where(np.asarray(num, float) > 0, num, np.nan)


def directions(tags: pd.DataFrame, profile: dict) -> tuple[np.ndarray, np.ndarray]:
    """Allowed travel directions per segment.

    Parameters
    ----------
    tags
        One row per segment with the :data:`TAG_COLUMNS`; ``oneway`` is relative to the
        segment's drawn direction ``u→v``.
    profile
        From :func:`make_profile`; ``walk`` ignores one-way tags.

    Returns
    -------
    (fwd, rev)
        Boolean arrays: travel ``u→v`` / ``v→u`` allowed.
    """
    n = len(tags)
    if profile["name"] == "walk":
        return np.ones(n, bool), np.ones(n, bool)
    ow = lower(tags["oneway"]).fillna("")
    hw = lower(tags["highway"]).fillna("")
    junction = lower(tags["junction"]).fillna("")
    fwd_only = ow.isin({"yes", "true", "1"}) | (
        (ow == "") & (junction.isin({"roundabout", "circular"}) | hw.isin({"motorway"})))
    rev_only = ow.isin({"-1", "reverse"})
    fwd = (~rev_only).to_numpy(bool)
    rev = (~fwd_only).to_numpy(bool)
    return fwd, rev


def speeds(tags: pd.DataFrame, profile: dict) -> np.ndarray:
    """Travel speed per segment in m/s.

    Parameters
    ----------
    tags
        One row per segment with the :data:`TAG_COLUMNS`.
    profile
        From :func:`make_profile`: one walking speed, or class speeds with ``maxspeed``
        overriding them where tagged.

    Returns
    -------
    numpy.ndarray
        Float m/s.
    """
    if profile["name"] == "walk":
        return np.full(len(tags), profile["speed_mps"])
    hw = lower(tags["highway"]).fillna("")
    kph = hw.map(profile["speeds_kph"]).astype(float).fillna(profile["default_kph"]).to_numpy()
    tagged = parse_maxspeed(tags["maxspeed"])
    kph = np.where(np.isfinite(tagged), tagged, kph)
    return kph / 3.6
