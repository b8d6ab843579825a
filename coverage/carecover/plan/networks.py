"""Stage 2 — street networks: one per travel mode the run needs, through the network cache."""

from __future__ import annotations

from pathlib import Path

from carecover import settings, timing
from carecover.errors import NetworkError
from carecover.inputs.facilities import USABLE
from carecover.network import StreetNetwork, load_network
from carecover.network.load import forget_read
from carecover.network.profiles import profile_for
from carecover.params import RunParams
from carecover.plan.area import Boundaries
from carecover.plan.inputs import Facilities


def profile_of(params: RunParams, mode: str) -> dict:
    """Network profile of a travel mode with this run's (resolved) speeds."""
    return profile_for(mode, walk_speed_mps=params.walk_speed_mps, drive_speeds_kph=dict(params.drive_speeds_kph),
                       drive_default_kph=settings.drive_default_kph)


def load_mode(params: RunParams, bounds: Boundaries, mode: str) -> StreetNetwork:
    """The network of one travel mode, clipped to the boundary plus the routing margin.

    Raises
    ------
    NetworkError
        No streets at all, or (with a boundary) none inside the boundary: wrong place or CRS.
    """
    try:
        return load_network(params.network, profile_of(params, mode), boundary=bounds.clip, cache=params.cache,
                            keep_read=True)
    except NetworkError as exc:
        if params.boundary is None or "no streets" not in exc.message:
            raise
        raise NetworkError(
            f"{exc.message}; the boundary {Path(params.boundary).name} (+2 km) holds none of this "
            "network's streets: wrong place or CRS? / 边界与路网不重叠", file=params.boundary,
            expected=f"a boundary overlapping {Path(params.network).name}") from exc


def modes_needed(params: RunParams, facilities: Facilities) -> list[str]:
    """Travel modes of the tiers that have usable facilities or planned sites (walk always)."""
    frame = facilities.frame
    used = frame["status"].isin(USABLE) & frame["tier"].notna()
    modes = {"walk"} | {params.tiers[k].mode for k in frame.loc[used, "tier"].unique() if k in params.tiers}
    modes |= {params.tiers[k].mode for k in params.suggest}
    return sorted(modes)


def load_networks(params: RunParams, bounds: Boundaries, walk: StreetNetwork,
                  facilities: Facilities) -> dict[str, StreetNetwork]:
    """Every network the run needs, by mode (``walk`` is the one already loaded)."""
    nets = {"walk": walk}
    for mode in modes_needed(params, facilities):
        if mode not in nets:
            with timing.step(f"network {mode}"):
                nets[mode] = load_mode(params, bounds, mode)
    forget_read()  # every network of the run is built: the streets read for them can go
    return nets
