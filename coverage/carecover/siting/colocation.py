"""Co-location (一老一小): candidate sites at public facilities, and what each site stands next to.

Public facilities (:func:`carecover.inputs.osm_public.read_public_facilities`) become candidates
at their entrance, else inside the feature (:func:`facility_candidates`), each placed on the
street with the run's snapper; a facility farther from every street than the snap limit is
reported and not used. Every candidate, whatever its source, is co-located with the facilities
within ``within_m`` metres of it (:func:`colocated_with`); the siting models can then be asked
for at least ``k`` co-located sites (per kind or of any kind, :func:`min_sites_rows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from carecover import notices
from carecover.errors import InputError
from carecover.inputs.osm_public import KINDS
from carecover.network import StreetNetwork
from carecover.network.snap import snap_xy
from carecover.siting.candidates import Candidates

__all__ = ["ANY", "Colocated", "colocated_with", "facility_candidates", "label_of", "merge", "min_sites_rows"]

#: The key of "co-located with a facility of any kind asked for" in ``min_sites``.
ANY = "any"


def label_of(kind: str, name: str, name_en: str) -> str:
    """``"长江路小学旁 / next to Changjiang Road Primary School"`` (the kind's name when unnamed)."""
    k = KINDS[kind]
    zh = f"{name}旁" if name else f"{k.zh}旁"
    en = f"next to {name_en or name}" if (name_en or name) else f"next to a {k.en}"
    return f"{zh} / {en}"


def facility_candidates(net: StreetNetwork, feats: gpd.GeoDataFrame, region, existing_xy: np.ndarray,
                        min_dist: float | None, max_snap_m: float) -> tuple[Candidates, tuple[str, ...]]:
    """One candidate per public facility inside ``region``, at its entrance or inside it.

    Parameters
    ----------
    net
        The tier's network.
    feats
        The facilities (:func:`~carecover.inputs.osm_public.read_public_facilities`).
    region
        WGS-84 polygon of the planned region, or ``None`` for everywhere.
    existing_xy
        Projected positions of the existing facilities, shape (n, 2).
    min_dist
        Minimum distance (m) from every existing facility, or ``None``.
    max_snap_m
        Snap limit: a facility farther from every street is reported (a warning) and not used.

    Returns
    -------
    (Candidates, names)
        The candidates (``ids`` the facilities' ``osm/<element>/<id>``, ``node`` -1) and each one's
        name, ``"XX小学旁 / next to XX Primary School"``.
    """
    from carecover.siting.candidates import far_from

    lon, lat = feats["lon"].to_numpy(float), feats["lat"].to_numpy(float)
    keep = np.ones(len(lon), bool) if region is None else shapely.contains_xy(region, lon, lat)
    x, y = (np.asarray(a) for a in net.project_lonlat(lon, lat))
    keep &= far_from(x, y, existing_xy, min_dist)
    snap = snap_xy(net, x, y, max_snap_m)
    far = keep & ~snap.ok
    if far.any():
        ids = ", ".join(feats["fid"].to_numpy()[far][:5])
        notices.warn("colocation_unsnapped",
                     f"{int(far.sum())} 处公共设施距最近道路超过 {max_snap_m:g} m，未作候选点（{ids}）/ "
                     f"{int(far.sum())} public facilities lie farther than {max_snap_m:g} m from every street "
                     f"and are not used as candidates ({ids})", field="--candidates-from-osm", value=int(far.sum()))
    keep &= snap.ok
    sub = feats[keep]
    names = tuple(label_of(k, n, e) for k, n, e in zip(sub["kind"], sub["name"], sub["name_en"], strict=True))
    cand = Candidates(x[keep], y[keep], lon[keep], lat[keep], np.full(int(keep.sum()), -1, np.int64),
                      tuple(sub["fid"].astype(str)))
    return cand, names


def merge(first: Candidates, second: Candidates) -> Candidates:
    """The candidates of ``first`` then ``second`` (``--candidates-mix``)."""
    return Candidates(np.r_[first.x, second.x], np.r_[first.y, second.y], np.r_[first.lon, second.lon],
                      np.r_[first.lat, second.lat], np.r_[first.node, second.node], first.ids + second.ids)


@dataclass(frozen=True)
class Colocated:
    """What each candidate stands next to.

    Attributes
    ----------
    member
        ``{kind: bool mask over the candidates}``: co-located with a facility of that kind
        (within ``within_m``), and ``{"any": ...}`` for any kind.
    kind, name, dist_m
        The nearest co-located facility of each candidate (its own facility first for a
        candidate made from one): kind key, name, distance in metres ("" / NaN when none).
    text
        Every co-located facility, nearest first: ``"学校 长江路小学 0 m; 医院 … 85 m"``.
    within_m
        The distance that counts as co-located.
    """

    member: Mapping[str, np.ndarray]
    kind: tuple[str, ...]
    name: tuple[str, ...]
    dist_m: np.ndarray
    text: tuple[str, ...]
    within_m: float


def colocated_with(net: StreetNetwork, cand: Candidates, feats: gpd.GeoDataFrame, within_m: float) -> Colocated:
    """The public facilities within ``within_m`` metres of each candidate (straight line to the
    facility's outline; 0 inside it).

    Parameters
    ----------
    net
        The network (its projection).
    cand
        The candidates.
    feats
        The facilities.
    within_m
        Distance that counts as co-located.
    """
    n = len(cand)
    member = {k: np.zeros(n, bool) for k in [*dict.fromkeys(feats["kind"]), ANY]}
    kind, name, text, dist = [""] * n, [""] * n, [""] * n, np.full(n, np.nan)
    if len(feats) and n:
        geoms = feats.geometry.to_crs(net.crs).values
        tree = shapely.STRtree(geoms)
        pts = shapely.points(cand.x, cand.y)
        ci, fi = tree.query(pts, predicate="dwithin", distance=float(within_m))
        d = shapely.distance(pts[ci], geoms[fi])
        fids = feats["fid"].to_numpy()
        own = np.asarray(cand.ids, dtype=object)[ci] == fids[fi]
        for c in np.unique(ci):
            at = np.flatnonzero(ci == c)
            at = at[np.lexsort((fi[at], d[at], ~own[at]))]
            parts = []
            for a in at:
                f = feats.iloc[fi[a]]
                member[f["kind"]][c] = member[ANY][c] = True
                parts.append(f"{KINDS[f['kind']].zh} {f['name'] or '（无名）'} {d[a]:.0f} m")
            f0 = feats.iloc[fi[at[0]]]
            kind[c], name[c], dist[c], text[c] = f0["kind"], f0["name"] or f0["name_en"], float(d[at[0]]), "; ".join(parts)
    return Colocated(member, tuple(kind), tuple(name), dist, tuple(text), float(within_m))


def min_sites_rows(col: Colocated, min_sites: Mapping[str, int]) -> dict[str, tuple[np.ndarray, int]]:
    """The "at least k co-located sites" rows of the siting models: ``{kind: (mask, k)}``.

    Parameters
    ----------
    col
        The candidates' co-location.
    min_sites
        ``{kind or "any": k}``; kinds without a facility near any candidate have an empty mask
        (the model then says the rule cannot hold).

    Raises
    ------
    InputError
        An unknown kind.
    """
    out = {}
    for key, k in min_sites.items():
        if key != ANY and key not in KINDS:
            raise InputError(f"未知公共设施类型 / unknown facility kind {key!r}", field="colocation.min_sites",
                             expected=", ".join([ANY, *KINDS]))
        if int(k) > 0:
            out[key] = (col.member.get(key, np.zeros(len(col.kind), bool)), int(k))
    return out
