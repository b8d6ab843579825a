"""The halo of a task: how far beyond its area (or tile) streets and facilities are read.

区域任务的外延：路网和设施在区域外读取的距离。

A resident inside the area reaches a facility within the searched time ``T`` (the tier's
threshold × its search factor) along a path no longer than ``T × v_max`` (``v_max`` the
fastest speed of the tier's mode; access legs count at the street's speed), so every node of
the path lies within that distance. The facility's own snap leg adds at most the snap limit,
and a street segment is kept only when both of its ends are inside the clip, so the halo adds
the longest segment a path may run along partly (:data:`SEGMENT_ALLOWANCE_M`):

    halo(tier) = threshold × 60 × search_factor × v_max(mode) + max_snap_m + SEGMENT_ALLOWANCE_M

Drive tiers use the fastest class speed of the profile; a tagged ``maxspeed`` above it is
reported by the task (:func:`carecover.region.task.run_task`), as the halo may then be short.
"""

from __future__ import annotations

from carecover import settings
from carecover.params import RunParams
from carecover.tiers import Tier

__all__ = ["SEGMENT_ALLOWANCE_M", "fastest_mps", "tier_halo_m", "mode_halos_m"]

#: Longest street segment (m) a path may use partly at the clip edge (OSM way nodes are
#: rarely farther apart in built-up areas).
SEGMENT_ALLOWANCE_M = 500.0


def fastest_mps(params: RunParams, mode: str) -> float:
    """The fastest speed (m/s) of a travel mode under the run's profile."""
    if mode == "walk":
        return float(params.walk_speed_mps)
    return max([*params.drive_speeds_kph.values(), settings.drive_default_kph]) / 3.6


def tier_halo_m(params: RunParams, tier: Tier) -> float:
    """Halo (m) of one tier (formula in the module docstring)."""
    reach = tier.threshold_min * 60.0 * params.search_factor(tier) * fastest_mps(params, tier.mode)
    return reach + float(params.max_snap_m) + SEGMENT_ALLOWANCE_M


def mode_halos_m(params: RunParams) -> dict[str, float]:
    """Halo (m) per travel mode: the widest of its tiers (walk always present)."""
    out: dict[str, float] = {}
    for tier in params.tiers.values():
        out[tier.mode] = max(out.get(tier.mode, 0.0), tier_halo_m(params, tier))
    out.setdefault("walk", float(params.max_snap_m) + SEGMENT_ALLOWANCE_M)
    return out
