"""Typed records of what ``summary.json`` states: one figure (:class:`Figure`), one tier's
siting (:class:`SiteInfo`).

``to_dict``/``from_dict`` are the one place the keys of these records are spelled; readers
(claims, meeting commands, the report, region runs, :func:`carecover.read_plan`) use the
attributes. ``Figure.from_dict(d).to_dict() == d`` for every figure a plan writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Figure", "SiteInfo"]



def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Figure:
    """One coverage (or accessibility, or administrative) figure.

    Attributes
    ----------
    kind
        ``population`` | ``all_of`` | ``circle`` | ``administrative`` | ``access``.
    tiers
        Tier keys (one, or several for ``all_of``).
    population
        ``elderly`` | ``total`` (``None`` for administrative figures).
    area
        ``all`` | ``urban`` | ``rural`` | a county | ``<unit kind>:<name>``.
    scenario
        ``current`` | ``planned``.
    threshold_min, speed_mps, mode
        The threshold, walking speed (``None`` for drive tiers) and travel mode it is stated at.
    value, covered, total
        The share (``covered / total``; ``None`` when there is nothing to count), and its parts.
    data
        The inputs it was computed from.
    extra
        What only some kinds state: ``median_min``, ``p90_min``, ``share_within_<n>min``
        (population), ``radius_m`` (circle), ``unit`` (administrative), ``measure``, ``method``,
        ``decay``, ``capacity``, ``standard_per_1000`` (access) …
    """

    kind: str
    tiers: tuple[str, ...]
    population: str | None = None
    area: str = "all"
    scenario: str = "current"
    threshold_min: float | None = None
    speed_mps: float | None = None
    mode: str | None = None
    value: float | None = None
    covered: float | None = None
    total: float | None = None
    data: Mapping[str, Any] = field(default_factory=_empty)
    extra: Mapping[str, Any] = field(default_factory=_empty)

    #: The keys every figure has, in the order of the attributes.
    KEYS = ("kind", "tiers", "population", "area", "scenario", "threshold_min", "speed_mps", "mode",
            "value", "covered", "total", "data")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Figure:
        """A figure as ``summary.json`` lists it (missing keys take their defaults)."""
        base = {k: d[k] for k in cls.KEYS if k in d}
        base["tiers"] = tuple(d.get("tiers") or ())
        base["data"] = MappingProxyType(dict(d.get("data") or {}))
        extra = {k: v for k, v in d.items() if k not in cls.KEYS}
        return cls(**base, extra=MappingProxyType(extra))

    @classmethod
    def of(cls, f: Figure | Mapping[str, Any]) -> Figure:
        """``f`` as a :class:`Figure` (a dict is read with :meth:`from_dict`)."""
        return f if isinstance(f, Figure) else cls.from_dict(f)

    def to_dict(self) -> dict[str, Any]:
        """The figure as ``summary.json`` lists it."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self.KEYS}
        out["tiers"] = list(self.tiers)
        out["data"] = dict(self.data)
        out.update(self.extra)
        return out

    def get(self, key: str, default: Any = None) -> Any:
        """An attribute, or a kind-specific value of :attr:`extra`, by its ``summary.json`` key."""
        if key in self.KEYS:
            value = getattr(self, key)
            return list(value) if key == "tiers" else dict(value) if key == "data" else value
        return self.extra.get(key, default)

    @property
    def tier(self) -> str:
        """The tier keys joined by ``+`` (one key for every kind but ``all_of``)."""
        return "+".join(self.tiers)

    @property
    def measure(self) -> str | None:
        """An access figure's measure (``places_per_1000``, ``share_below_standard``, ``gini``)."""
        return self.extra.get("measure")

    @property
    def method(self) -> str | None:
        """An access figure's method (``2sfca`` | ``e2sfca``)."""
        return self.extra.get("method")

    @property
    def unit(self) -> str | None:
        """An administrative figure's unit kind (``street``, ``township`` …)."""
        return self.extra.get("unit")

    def row(self) -> dict[str, Any]:
        """One row of :attr:`carecover.Plan.figures`: the attributes, ``tier``, and the
        kind-specific values as columns (``data`` stays one dict)."""
        return {**{k: getattr(self, k) for k in self.KEYS}, "data": dict(self.data), "tier": self.tier,
                **self.extra}


@dataclass(frozen=True)
class SiteInfo:
    """One tier's siting as ``summary.json["sites"][tier]`` states it.

    Attributes
    ----------
    tier, mode, threshold_min, region, weight
        The tier, its travel mode and threshold, where sites may go, what is maximised.
    asked, placed, count, candidates
        Sites asked for, placed (fewer when there are fewer candidates), solved for, and the
        candidates considered.
    covered_before, covered_after, total_weight
        The weight covered today, with the best solution, and in all.
    greedy, exact
        The solvers' results (``objective``; the exact one also ``status`` and ``gap``).
    curve
        The coverage curve (``p``, ``covered_weight``, ``share``, ``marginal_gain``, ``site``).
    target_share, min_sites_for_target
        The target share and the fewest sites reaching it (``None`` when not reached).
    extra
        What only some runs state (the served objective's results …).
    """

    tier: str
    mode: str | None = None
    threshold_min: float | None = None
    region: str | None = "all"
    weight: str | None = None
    asked: int | None = None
    placed: int | None = None
    count: int | None = None
    candidates: int | None = None
    covered_before: float | None = None
    covered_after: float | None = None
    total_weight: float | None = None
    greedy: Mapping[str, Any] = field(default_factory=_empty)
    exact: Mapping[str, Any] = field(default_factory=_empty)
    curve: tuple[Mapping[str, Any], ...] = ()
    target_share: float | None = None
    min_sites_for_target: int | None = None
    extra: Mapping[str, Any] = field(default_factory=_empty)

    KEYS = ("tier", "mode", "threshold_min", "region", "weight", "asked", "placed", "count", "candidates",
            "covered_before", "covered_after", "total_weight", "greedy", "exact", "curve", "target_share",
            "min_sites_for_target")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], tier: str | None = None) -> SiteInfo:
        """A tier's entry of ``summary.json["sites"]`` (``tier``: its key there)."""
        base = {k: d[k] for k in cls.KEYS if k in d}
        base["tier"] = d.get("tier", tier)
        base["greedy"] = MappingProxyType(dict(d.get("greedy") or {}))
        base["exact"] = MappingProxyType(dict(d.get("exact") or {}))
        base["curve"] = tuple(MappingProxyType(dict(c)) for c in d.get("curve") or ())
        return cls(**base, extra=MappingProxyType({k: v for k, v in d.items() if k not in cls.KEYS}))

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``summary.json`` states it."""
        out = {k: getattr(self, k) for k in self.KEYS}
        out["greedy"], out["exact"] = dict(self.greedy), dict(self.exact)
        out["curve"] = [dict(c) for c in self.curve]
        out.update(self.extra)
        return out

    @property
    def share_before(self) -> float | None:
        """The covered share today (``None`` without a total)."""
        return self.covered_before / self.total_weight if self.total_weight else None

    @property
    def share_after(self) -> float | None:
        """The covered share with the best solution (``None`` without a total)."""
        return self.covered_after / self.total_weight if self.total_weight else None
