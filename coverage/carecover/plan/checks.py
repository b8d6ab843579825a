"""Stage 4b — checks: what a reader must know before trusting the figures, said once.

A tier whose register records are all unusable (outside the study area, beyond the snap limit,
without coordinates) is said in one prominent line, written into summary.json and the report, and
refused with ``--strict``; so is a run with no usable facility at all, and a coordinate system
that puts the facilities off the streets.
"""

from __future__ import annotations

from collections import Counter

from carecover import notices
from carecover.errors import InputError
from carecover.inputs.facilities import USABLE
from carecover.params import RunParams
from carecover.plan.inputs import Facilities
from carecover.plan.travel import Travel


def _status_text(statuses: Counter) -> str:
    return ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))


def unusable_tiers(params: RunParams, travel: Travel) -> list[tuple[str, Counter]]:
    """Tiers that have register records but no usable facility, with those records' statuses."""
    frame = travel.facilities
    out = []
    for key in params.tiers:
        rows = frame[frame["tier"] == key]
        if len(rows) and not rows["status"].isin(USABLE).any():
            out.append((key, Counter(rows["status"].astype(str))))
    return out


def check(params: RunParams, facilities: Facilities, travel: Travel) -> None:
    """Warn (or, with ``--strict``, refuse) where a tier or the whole run has no usable facility.

    Parameters
    ----------
    params
        Tiers and strict mode.
    facilities
        The records as read (their coordinate-system check).
    travel
        The records after snapping (statuses final).

    Raises
    ------
    InputError
        With ``--strict``, when a tier (or the run) has no usable facility (exit 2).
    """
    files = ", ".join(p.name for p in params.facilities)
    problems = []
    for key, statuses in unusable_tiers(params, travel):
        tier = params.tiers[key]
        problems.append((f"层级「{tier.name_zh}」没有可用设施（{_status_text(statuses)}），该层级覆盖率为 0 / "
                         f"tier '{tier.name_en}' has no usable facility ({_status_text(statuses)}); "
                         "its coverage is 0", key))
    frame = travel.facilities
    if len(frame) and not frame["status"].isin(USABLE).any():
        problems.append(("没有任何可用设施：请检查坐标系（--crs）、路网范围与边界 / no usable facility at all: "
                         "check the coordinate system (--crs), the network's extent and the boundary",
                         "status"))
    for message, field in problems:
        if params.strict:
            raise InputError(message, file=files or None, field=field)
        notices.warn("no_usable_facility", message, file=files or None, field=field)
    crs = facilities.crs_check or {}
    if crs.get("warning"):
        notices.warn("crs_check", str(crs["warning"]), file=files or None, field="crs")
