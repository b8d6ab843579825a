"""The accepted and the usual range of every numeric setting, checked the same way everywhere.

A value outside its accepted range (not a finite number, negative, physically impossible) is an
:class:`~carecover.errors.InputError` naming where it came from (the option, or the config file and
key); a value that is legal but unusual (a walking speed of 3 m/s, 10 billion residents) gives a
warning naming the value, and the run goes on. Both ranges are stated in ``docs/bad_inputs.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from carecover.errors import InputError
from carecover.notices import Notice


@dataclass(frozen=True)
class Bound:
    """Accepted and usual range of one numeric setting.

    Attributes
    ----------
    label
        What it is, ``中文 / English``.
    unit
        Unit as printed.
    low, high
        Accepted range; ``low_open`` excludes ``low`` itself (``> 0`` rather than ``>= 0``);
        ``None``: unbounded on that side.
    usual
        Range outside which a legal value is warned about (``None``: never).
    integer
        Whole numbers only.
    """

    label: str
    unit: str
    low: float | None
    high: float | None
    usual: tuple[float, float] | None = None
    low_open: bool = True
    integer: bool = False

    def accepted(self) -> str:
        lo = "" if self.low is None else (f"> {self.low:g}" if self.low_open else f">= {self.low:g}")
        hi = "" if self.high is None else f"<= {self.high:g}"
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} {' and '.join(x for x in (lo, hi) if x)} {self.unit}".strip()


_SPEED = Bound("步行速度 / walking speed", "m/s", 0.05, 10.0, (0.5, 2.0))
_MINUTES = Bound("时间阈值 / time threshold", "min", 0.0, 24 * 60, (2.0, 60.0))

#: Every numeric setting by its name in RunParams / the config.
BOUNDS: dict[str, Bound] = {
    "walk_speed_mps": _SPEED,
    "sensitivity_speeds_mps": _SPEED,
    "threshold_min": _MINUTES,
    "bands_min": _MINUTES,
    "max_snap_m": Bound("最大吸附距离 / snap limit", "m", 0.0, 50_000.0, (10.0, 2_000.0)),
    "isochrone_buffer_m": Bound("等时圈缓冲 / isochrone buffer", "m", 0.0, 1_000.0, (2.0, 200.0)),
    "gap_link_m": Bound("缺口连接距离 / gap linkage distance", "m", 0.0, 100_000.0, (10.0, 2_000.0)),
    "circle_radius_m": Bound("直线圆半径 / circle radius", "m", 0.0, 100_000.0, (100.0, 5_000.0)),
    "total_population": Bound("总人口 / total population", "persons", 0.0, 2e9, (100.0, 5e7)),
    "population": Bound("人口 / population", "persons", 0.0, 2e9, None, low_open=False),
    "exact_time_limit_s": Bound("求解时限 / solver time limit", "s", 0.0, 7 * 86_400.0, (1.0, 3_600.0)),
    "max_candidates": Bound("候选点上限 / most candidates", "", 1, None, (20, 100_000), low_open=False,
                            integer=True),
    "max_candidates_drive": Bound("驾车候选点上限 / most drive candidates", "", 1, None, (20, 20_000),
                                  low_open=False, integer=True),
    "min_spacing_m": Bound("最小间距 / minimum spacing", "m", 0.0, 1e6, (0.0, 20_000.0), low_open=False),
    "min_distance_existing_m": Bound("与现有设施最小距离 / minimum distance from existing", "m", 0.0, 1e6,
                                     (0.0, 20_000.0), low_open=False),
    "colocation_within_m": Bound("同址距离 / co-location distance", "m", 0.0, 10_000.0, (10.0, 500.0)),
    "target_share": Bound("目标比例 / target share", "", 0.0, 1.0, (0.3, 1.0)),
    "map_min_gap_share": Bound("地图绘制缺口的最小占比 / least share of a gap drawn on the map", "", 0.0, 1.0,
                               (0.0, 0.2), low_open=False),
    "default_elderly_share": Bound("老年人口比例 / elderly share", "", 0.0, 0.999, (0.05, 0.5)),
    "elderly_share": Bound("老年人口比例 / elderly share", "", 0.0, 0.999, (0.05, 0.5)),
    "drive_speeds_kph": Bound("车速 / drive speed", "km/h", 0.0, 300.0, (5.0, 130.0)),
    "suggest": Bound("新增站点数 / new sites", "", 0, 100_000, (0, 1_000), low_open=False, integer=True),
    "count": Bound("计划数量 / planned count", "", 0, 100_000, (0, 1_000), low_open=False, integer=True),
    # [capacity.<tier>] (carecover.config.capacity): a measure value is beds, m², seats or persons
    "capacity_places_per_unit": Bound("每单位名额 / places per unit", "places", 0.0, 1_000.0, (0.005, 10.0)),
    "capacity_assumed": Bound("假定容量 / assumed measure", "", 0.0, 1e7, (1.0, 100_000.0)),
    "capacity_new_site": Bound("新站点容量 / new-site measure", "", 0.0, 1e7, (1.0, 100_000.0)),
    "capacity_standard_per_1000": Bound("千名老人名额标准 / places per 1,000 elderly", "places", 0.0, 1_000.0,
                                        (1.0, 200.0)),
}


@dataclass(frozen=True)
class Origin:
    """Where a value came from: an option (``field`` like ``--speed``) or a file's key."""

    field: str
    file: str | Path | None = None


def check(name: str, value: object, origin: Origin, found: list[Notice] | None = None) -> float:
    """``value`` as a number if it lies in ``name``'s accepted range.

    Parameters
    ----------
    name
        Key of :data:`BOUNDS`.
    value
        The value as given (number or text).
    origin
        Where it came from (named in the error or warning).
    found
        Where a warning about an unusual value is appended (``None``: not warned).

    Raises
    ------
    InputError
        Not a finite number, or outside the accepted range.
    """
    b = BOUNDS[name]
    where = {"file": origin.file, "field": origin.field, "expected": b.accepted()}
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{b.label}: not a number: {value!r} / 不是数字", **where) from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise InputError(f"{b.label}: must be a finite number, got {value!r} / 须为有限数值", **where)
    if b.integer and x != int(x):
        raise InputError(f"{b.label}: must be a whole number, got {value!r} / 须为整数", **where)
    too_low = b.low is not None and (x <= b.low if b.low_open else x < b.low)
    if too_low and x <= 0:
        rule = "must not be negative / 不能为负数" if b.low == 0 and not b.low_open else "must be positive / 须为正数"
        raise InputError(f"{b.label}: {rule}, got {x:g}", **where)
    if too_low or (b.high is not None and x > b.high):
        raise InputError(f"{b.label}: {x:g} {b.unit} is out of range / 超出允许范围".replace("  ", " "),
                         **where)
    if found is not None and b.usual is not None and not b.usual[0] <= x <= b.usual[1]:
        found.append(Notice("unusual_value",
                            f"{b.label} = {x:g} {b.unit}，超出常见范围 {b.usual[0]:g}–{b.usual[1]:g}，请确认 / "
                            f"unusual value {x:g} {b.unit} (usually {b.usual[0]:g}–{b.usual[1]:g}); "
                            "check it", "warning", None if origin.file is None else str(origin.file),
                            origin.field, f"{x:g}"))
    return int(x) if b.integer else x
