"""The data-quality ledger: every reduction between the inputs and the figures, stated once.

数据质量账：从输入到数字之间的每一处折减（未吸附人口、删除的路网碎片、路网覆盖的边界比例、
老年人口比例及其来源、栅格波段与覆盖、名录各状态行数、坐标系核查、街道类型），每项一行，
超过阈值即为警告。

A :class:`Ledger` is computed once per run (:func:`carecover.plan.ledger.compute`) and shown in
three places: a block on the console (:meth:`Ledger.console`), the first section of the report
(数据质量 / Data quality) and ``summary.json["ledger"]`` (:meth:`Ledger.to_dict`). A line beyond
its threshold (defaults in :mod:`carecover.settings`, ``ledger_*``) is a warning; with
``--strict`` any warning ends the run with exit status 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from carecover.utils import json_ready

__all__ = ["Ledger", "LedgerLine"]


@dataclass(frozen=True)
class LedgerLine:
    """One line of the ledger.

    Attributes
    ----------
    key
        Stable identifier (``unsnapped``, ``network_dropped``, ``boundary_covered``,
        ``elderly_share``, ``raster``, ``registers``, ``tier_names``, ``crs``, ``streets``).
    label
        What the line is about, ``中文 / English``.
    text
        The finding, ``中文 / English``.
    warning
        Beyond its threshold.
    threshold
        The threshold as stated (e.g. ``"> 5%"``), "" when the line has none.
    data
        The numbers behind the text (JSON-ready), for ``summary.json``.
    """

    key: str
    label: str
    text: str
    warning: bool = False
    threshold: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """The line as ``summary.json`` states it."""
        return {"key": self.key, "label": self.label, "text": self.text, "warning": self.warning,
                "threshold": self.threshold, "data": json_ready(dict(self.data))}


@dataclass(frozen=True)
class Ledger:
    """The data-quality ledger of a run.

    Attributes
    ----------
    lines
        The lines, in the order they are shown.
    thresholds
        Every threshold used (name → value), as stated in the outputs.
    """

    lines: tuple[LedgerLine, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def warnings(self) -> tuple[LedgerLine, ...]:
        """The lines beyond their thresholds."""
        return tuple(line for line in self.lines if line.warning)

    def line(self, key: str) -> LedgerLine | None:
        """The first line with ``key`` (``None`` when absent)."""
        return next((line for line in self.lines if line.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """``summary.json["ledger"]``: the lines, how many are warnings, the thresholds."""
        return {"lines": [line.to_dict() for line in self.lines], "warnings": len(self.warnings),
                "thresholds": json_ready(dict(self.thresholds))}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Ledger:
        """The ledger back from ``summary.json`` (for ``carecover report --out``)."""
        d = d or {}
        lines = tuple(LedgerLine(str(x.get("key", "")), str(x.get("label", "")), str(x.get("text", "")),
                                 bool(x.get("warning")), str(x.get("threshold", "")),
                                 MappingProxyType(dict(x.get("data") or {})))
                      for x in d.get("lines", []) or [])
        return cls(lines, MappingProxyType(dict(d.get("thresholds") or {})))

    def console(self) -> str:
        """The block the console shows: one line per entry, ⚠ for a warning."""
        out = [f"数据质量 / Data quality ({len(self.warnings)} 项警告 / warning(s)):"]
        for line in self.lines:
            mark = "⚠" if line.warning else "·"
            limit = f"  [{line.threshold}]" if line.warning and line.threshold else ""
            out.append(f"  {mark} {line.label}: {line.text}{limit}")
        return "\n".join(out)
