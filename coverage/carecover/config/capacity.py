"""Supply capacity per tier: which register column measures it and what is assumed where missing.

A city config states, per tier, a ``[capacity.<tier>]`` table::

    [capacity.community_centre]
    measure = "floor_area_m2"        # capacity | beds | floor_area_m2 | meal_seats
    places_per_unit = 0.04           # places per unit of the measure (here 25 m² per place)
    assumed = 350.0                  # measure value where a register row gives none
    new_site = 350.0                 # measure value of a new planned site
    standard_per_1000 = 20.0         # places per 1,000 elderly a stated standard asks for
    source = "…"                     # where these numbers come from (required)

Each table is resolved once into a frozen :class:`CapacityRule`
(``RunParams.capacity[tier]``); nothing reads the table back by key. A facility's capacity in
places is ``measure value × places_per_unit``; where the register gives no value the ``assumed``
value is used and said so (``capacity_source``), where neither exists the capacity is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carecover.config import ranges
from carecover.config.schema import did_you_mean
from carecover.errors import InputError
from carecover.tiers import TIERS, tier_key

__all__ = ["MEASURES", "MEASURE_COLUMNS", "CapacityRule", "check_decay", "load_capacity"]

#: E2SFCA distance decays a config may choose (``access_decay``).
DECAYS = ("bands", "gaussian")

#: Supply measures a rule may name, with the Facilities column holding the register's value
#: (the register's 服务能力/capacity in persons is ``capacity_persons``, so that ``capacity``
#: stays the resolved places of every facility).
MEASURE_COLUMNS: dict[str, str] = {
    "capacity": "capacity_persons",
    "beds": "beds",
    "floor_area_m2": "floor_area_m2",
    "meal_seats": "meal_seats",
}
MEASURES = tuple(MEASURE_COLUMNS)

#: Units of each measure as printed (中文 / English).
MEASURE_UNITS: dict[str, tuple[str, str]] = {
    "capacity": ("人", "persons"),
    "beds": ("张床位", "beds"),
    "floor_area_m2": ("m²", "m²"),
    "meal_seats": ("个座位", "seats"),
}

def _fmt(x: float) -> str:
    """A measure value for people: no needless decimals, thousands separated."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


@dataclass(frozen=True)
class CapacityRule:
    """How one tier's supply is measured, in places.

    Attributes
    ----------
    tier
        Tier key.
    measure
        The register field that measures supply (one of :data:`MEASURES`).
    places_per_unit
        Places per unit of the measure (1 per bed; for floor area the reciprocal of a
        m²-per-place norm).
    assumed
        Measure value used where a register row gives none (``None``: no assumption; such a
        facility's capacity is unknown).
    new_site
        Measure value of a new planned site (``None``: not stated).
    standard_per_1000
        Places per 1,000 elderly that a stated standard asks for (``None``: none stated).
    source
        Where the numbers come from.
    note
        Free text.
    """

    tier: str
    measure: str
    places_per_unit: float
    assumed: float | None = None
    new_site: float | None = None
    standard_per_1000: float | None = None
    source: str = ""
    note: str = ""

    @property
    def column(self) -> str:
        """The Facilities column holding the register's value of the measure."""
        return MEASURE_COLUMNS[self.measure]

    def places(self, value: float) -> float:
        """Places of a facility whose measure is ``value``."""
        return float(value) * self.places_per_unit

    @property
    def assumed_places(self) -> float | None:
        """Places of a facility without a register value (``None``: no assumption)."""
        return None if self.assumed is None else self.places(self.assumed)

    @property
    def new_site_places(self) -> float | None:
        """Places of a new planned site (``None``: not stated)."""
        return None if self.new_site is None else self.places(self.new_site)

    def unit_text(self) -> str:
        """The measure's unit, ``中文 / English``."""
        zh, en = MEASURE_UNITS[self.measure]
        return zh if zh == en else f"{zh} / {en}"

    def assumed_label(self) -> str:
        """``capacity_source`` of a facility given the assumed value, e.g. ``assumed:350 m² (config)``."""
        return f"assumed:{_fmt(self.assumed)} {MEASURE_UNITS[self.measure][1]} (config)"

    def new_site_label(self) -> str:
        """``capacity_source`` of a new site, e.g. ``new_site:1,000 m² (config)``."""
        return f"new_site:{_fmt(self.new_site)} {MEASURE_UNITS[self.measure][1]} (config)"

    def describe(self) -> str:
        """One line stating the rule (outputs say which capacity every figure used)."""
        unit = MEASURE_UNITS[self.measure][1]
        parts = [f"{self.measure} × {self.places_per_unit:g} places/{unit.rstrip('s')}"]
        if self.assumed is not None:
            parts.append(f"assumed {_fmt(self.assumed)} {unit} where missing")
        if self.new_site is not None:
            parts.append(f"new sites {_fmt(self.new_site)} {unit}")
        if self.standard_per_1000 is not None:
            parts.append(f"standard {self.standard_per_1000:g} places per 1,000 elderly")
        return "; ".join(parts) + (f" — {self.source}" if self.source else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``summary.json`` states every rule)."""
        return {"measure": self.measure, "places_per_unit": self.places_per_unit,
                "assumed": self.assumed, "new_site": self.new_site,
                "standard_per_1000": self.standard_per_1000, "source": self.source,
                "note": self.note, "assumed_places": self.assumed_places,
                "new_site_places": self.new_site_places}


def capacity_numbers(data: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """Every number of the ``[capacity.*]`` tables as (range name, key as written, value)."""
    out = []
    for name, rule in data.get("capacity", {}).items():
        for key in ("places_per_unit", "assumed", "new_site", "standard_per_1000"):
            if key in rule:
                out.append((f"capacity_{key}", f"capacity.{name}.{key}", rule[key]))
    return out


def load_capacity(data: Mapping[str, Any], err: Callable[..., InputError],
                  path: Path | None = None) -> dict[str, CapacityRule]:
    """The ``[capacity.<tier>]`` tables of a validated config as :class:`CapacityRule` objects.

    Parameters
    ----------
    data
        The config, already checked against the schema (types are right).
    err
        ``err(message, key, expected=None)`` → :class:`InputError` naming the file and key.
    path
        The config file (for range errors).

    Returns
    -------
    dict of str to CapacityRule
        By tier key, in the file's order.

    Raises
    ------
    InputError
        Unknown tier or measure, a missing ``source``, a floor-area rule without
        ``places_per_unit``, or a number out of range — each naming the key.
    """
    rules: dict[str, CapacityRule] = {}
    for name, table in data.get("capacity", {}).items():
        where = f"capacity.{name}"
        key = tier_key(name)
        if key is None:
            raise err("unknown tier / 未知层级" + did_you_mean(name, list(TIERS)), where)
        if key in rules:
            raise err(f"tier given twice (as '{name}' and another name) / 层级重复", where)
        measure = table.get("measure")
        if measure is None:
            raise err("required key missing / 缺少必填键", f"{where}.measure", " or ".join(MEASURES))
        if measure not in MEASURE_COLUMNS:
            raise err(f"unknown measure '{measure}' / 未知容量指标" + did_you_mean(measure, list(MEASURES)),
                      f"{where}.measure", " or ".join(MEASURES))
        if not table.get("source", "").strip():
            raise err("state where the capacity figures come from / 须注明容量数据来源 (source)",
                      f"{where}.source", "text naming the document or the assumption")
        if "places_per_unit" not in table and measure == "floor_area_m2":
            # a floor area is not a number of places: the m²-per-place norm must be stated
            raise err("floor area needs a stated norm / 建筑面积须给出每个床位(名额)面积标准",
                      f"{where}.places_per_unit", "places per m², e.g. 0.04 for 25 m² per place")
        nums = {k: ranges.check(f"capacity_{k}", table[k], ranges.Origin(f"{where}.{k}", path))
                for k in ("places_per_unit", "assumed", "new_site", "standard_per_1000") if k in table}
        rules[key] = CapacityRule(tier=key, measure=measure, places_per_unit=nums.get("places_per_unit", 1.0),
                                  assumed=nums.get("assumed"), new_site=nums.get("new_site"),
                                  standard_per_1000=nums.get("standard_per_1000"),
                                  source=table["source"], note=table.get("note", ""))
    return rules


def check_decay(data: Mapping[str, Any], err: Callable[..., InputError]) -> tuple[str | None, tuple[float, ...] | None]:
    """The config's ``access_decay`` (``bands`` | ``gaussian``) and ``access_band_weights`` (each
    in (0, 1], nearest band first, never rising); ``None`` where not set (the settings' then).

    Raises
    ------
    InputError
        An unknown decay, or weights outside (0, 1] or rising, naming the key.
    """
    decay = data.get("access_decay")
    if decay is not None and decay not in DECAYS:
        raise err(f"unknown decay '{decay}' / 未知距离衰减", "access_decay", " or ".join(DECAYS))
    weights = data.get("access_band_weights")
    if weights is not None:
        if not weights:
            raise err("at least one band weight is needed", "access_band_weights", "e.g. [1.0, 0.68, 0.22]")
        for i, w in enumerate(weights):
            if not 0 < w <= 1:
                raise err(f"band weight {w:g} is outside (0, 1] / 权重须在 0 到 1 之间", f"access_band_weights[{i}]",
                          "a number > 0 and <= 1")
        if any(b > a for a, b in zip(weights[:-1], weights[1:], strict=True)):
            raise err("band weights must not rise with time / 权重不能随时间增大", "access_band_weights",
                      "nearest band first, e.g. [1.0, 0.68, 0.22]")
        weights = tuple(float(w) for w in weights)
    return decay, weights
