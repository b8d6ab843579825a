"""A mobility profile applied to the walk network (:mod:`carecover.network.mobility`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from carecover.errors import InputError
from carecover.mobility import UNPAVED_SURFACES, MobilityProfile
from carecover.network.build import subset_segments
from carecover.network.dem import slopes
from carecover.network.mobility import step_free_mask
from carecover.network.streets import StreetNetwork


def apply_profile(net: StreetNetwork, profile: MobilityProfile,
                  dem: Path | None = None) -> tuple[StreetNetwork, dict]:
    """The walk network as the profile's walkers use it.

    Parameters
    ----------
    net
        The walk network (flat, every walkable way).
    profile
        The profile.
    dem
        DEM file; required by ``slope``.

    Returns
    -------
    (StreetNetwork, dict)
        The network (excluded segments removed — parts cut off by them stay, unreachable —,
        speeds and slope factors set) and a record: segments excluded, DEM figures.

    Raises
    ------
    InputError
        For ``slope`` without a DEM, or a DEM that does not cover the network.
    """
    tags = net.seg_tags or {}
    keep = np.ones(net.n_segments, bool)
    if profile.step_free:
        keep &= step_free_mask(tags, net.seg_highway, profile.tags == "pessimistic")
    if profile.winter_steps_excluded:
        keep &= net.seg_highway != "steps"
    info: dict = {"excluded_segments": int((~keep).sum()),
                  "excluded_km": round(float(net.seg_len[~keep].sum()) / 1000, 3)}
    out = net if keep.all() else subset_segments(net, keep)
    if profile.winter_factor != 1.0:
        surface = (out.seg_tags or {}).get("surface", np.full(out.n_segments, ""))
        factor = np.where(np.isin(surface, list(UNPAVED_SURFACES)),
                          profile.winter_factor * profile.winter_unpaved_factor, profile.winter_factor)
        out = replace(out, seg_speed=out.seg_speed * factor)
    if profile.slope:
        if dem is None:
            raise InputError("the 'slope' profile needs a DEM (--dem FILE or the config's 'dem') / "
                             "坡度档案需要高程数据", field="dem")
        sl = slopes(out, Path(dem), profile.downhill_cap)
        out = replace(out, seg_slope_ab=sl.ab, seg_slope_ba=sl.ba)
        info["dem"] = sl.info
    return out, info
