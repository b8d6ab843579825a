"""Projected demand: the elderly of a future year, from a city config's ``[projection]`` table.

A city config states how many elderly a year is expected to hold, for the whole city and/or
per county, with its source (required, as for the capacity rules)::

    [projection]
    kind = "growth"        # growth: today's elderly × factor; share: population × elderly share
    source = "…"           # where the numbers come from (required; "illustrative" if they are)
    note = "…"

    [projection.all]       # the whole city (every county without a value of its own), by year
    2030 = 1.25

    [projection.counties."东河区"]
    2030 = 1.30

``--year 2030`` (``run_plan(year=2030)``) resolves the table once into a frozen
:class:`Projection` (``RunParams.projection``); :mod:`carecover.plan.projection` applies it to
every demand point at the same travel times.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from carecover.config.schema import did_you_mean
from carecover.errors import InputError

__all__ = ["KINDS", "Projection", "check_projection", "projection_for"]

#: How a projection value is read: a factor on today's elderly, or an elderly share of the population.
KINDS = ("growth", "share")


@dataclass(frozen=True)
class Projection:
    """The projection of one year, as a run uses it.

    Attributes
    ----------
    year
        The projected year.
    kind
        ``"growth"`` (each point's elderly × the factor of its county) or ``"share"`` (each
        point's population × the elderly share of its county).
    whole
        The value for points of a county without its own value (``None``: such points keep
        today's elderly, and the outputs say how many).
    counties
        County name → value.
    source, note
        Where the numbers come from; free text.
    """

    year: int
    kind: str
    whole: float | None
    counties: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""
    note: str = ""

    def value_for(self, county: str) -> float | None:
        """The factor (or share) of a county's points; ``None``: not projected."""
        return self.counties.get(county, self.whole)

    def to_dict(self) -> dict[str, Any]:
        """The record as ``summary.json`` states it."""
        return {"year": self.year, "kind": self.kind, "all": self.whole, "counties": dict(self.counties),
                "source": self.source, "note": self.note}


def _year(text: str, where: str, err: Callable[..., InputError]) -> int:
    if not str(text).isdigit() or not 1900 <= int(text) <= 2200:
        raise err(f"'{text}' is not a year / 不是年份", where, "a year such as 2030")
    return int(text)


def _value(kind: str, value: float, where: str, err: Callable[..., InputError]) -> float:
    """A growth factor ≥ 0 or a share in [0, 1], else an error naming the key."""
    if kind == "growth" and not value >= 0:
        raise err(f"growth factor {value:g} is below 0 / 增长系数不能为负", where, "a factor >= 0, e.g. 1.25")
    if kind == "share" and not 0 <= value <= 1:
        raise err(f"elderly share {value:g} is outside [0, 1] / 老年人口比例须在 0 到 1 之间", where,
                  "a share between 0 and 1")
    return float(value)


def check_projection(data: Mapping[str, Any], err: Callable[..., InputError],
                     counties: Mapping[str, str]) -> dict[str, Any]:
    """The ``[projection]`` table of a schema-checked config, its values checked.

    Parameters
    ----------
    data
        The config (types already checked).
    err
        ``err(message, key, expected=None)`` → :class:`InputError` naming the file and key.
    counties
        The config's county names (Chinese and English) → the Chinese name.

    Returns
    -------
    dict
        ``{"kind", "source", "note", "all": {year: value}, "counties": {name: {year: value}}}``;
        empty without a ``[projection]`` table.

    Raises
    ------
    InputError
        A missing ``source``, an unknown ``kind`` or county, a key that is not a year, a
        factor below 0 or a share outside [0, 1] — each naming its key.
    """
    table = data.get("projection")
    if table is None:
        return {}
    kind = table.get("kind", "growth")
    if kind not in KINDS:
        raise err(f"unknown kind '{kind}' / 未知预测方式" + did_you_mean(kind, list(KINDS)), "projection.kind",
                  " or ".join(KINDS))
    if not table.get("source", "").strip():
        raise err("state where the projection comes from / 须注明预测数据来源 (source)", "projection.source",
                  "text naming the document, or 'illustrative'")

    def years(values: Mapping[str, float], where: str) -> dict[int, float]:
        return {_year(y, f"{where}.{y}", err): _value(kind, v, f"{where}.{y}", err) for y, v in values.items()}

    by_county = {}
    for name, values in table.get("counties", {}).items():
        if name not in counties:
            raise err("unknown county / 未知区县" + did_you_mean(name, list(counties)), f"projection.counties.{name}")
        by_county[counties[name]] = years(values, f"projection.counties.{name}")
    whole = years(table.get("all", {}), "projection.all")
    if not whole and not by_county:
        raise err("no projected year / 未给出预测年份", "projection.all", "e.g. 2030 = 1.25")
    return {"kind": kind, "source": table["source"], "note": table.get("note", ""), "all": whole,
            "counties": by_county}


def projection_for(table: Mapping[str, Any], year: int, path: Path | None) -> Projection:
    """The projection of ``year`` (``--year``) from a checked ``[projection]`` table.

    Raises
    ------
    InputError
        No ``[projection]`` table, or ``year`` not in it (naming the years it has).
    """
    if not table:
        raise InputError(f"--year {year} needs a [projection] table in the city config / "
                         "预测年份须在城市配置中给出 [projection]", file=path, field="projection",
                         expected="[projection] with kind, source and [projection.all] 2030 = 1.25")
    years = set(table["all"]) | {y for v in table["counties"].values() for y in v}
    if year not in years:
        raise InputError(f"no projection for {year} / 配置中没有 {year} 年的预测", file=path,
                         field="projection.all", expected="one of " + ", ".join(str(y) for y in sorted(years)))
    counties = {name: v[year] for name, v in table["counties"].items() if year in v}
    return Projection(year=year, kind=table["kind"], whole=table["all"].get(year),
                      counties=MappingProxyType(counties), source=table["source"], note=table["note"])
