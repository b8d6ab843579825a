"""The meeting room's state: per tier, the scenario being discussed, its undo/redo history and
the figures the page shows.

A scenario is which existing facilities are switched off, which candidate sites are switched on
and which new points are added (WGS-84). :class:`TierRoom` keeps one
:class:`~carecover.siting.whatif.Session` of the tier's prepared state warm: every change of
scenario is applied as the difference of open sites (so a click touches only the demand of the
sites it switches), a new point is routed once on the plan's network and remembered (undo and
redo never route again). The figures are the what-if engine's, so they equal ``carecover whatif``
for the same set. :class:`Room` holds the tiers behind one lock (several browser tabs, one state)
and a version number that changes with every action.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from carecover.errors import InputError
from carecover.meeting.sites import SiteNamer
from carecover.siting.prepared import PreparedState
from carecover.siting.whatif import POPULATIONS, Session

__all__ = ["Room", "Scenario", "TierRoom", "check_lonlat"]

#: At most this many changed demand points are sent for drawing (the counts are always whole).
MAX_DRAWN = 20000
#: Margin (degrees) around the demand and sites within which a click may add a site.
AREA_MARGIN_DEG = 0.02
#: Undo steps kept per tier.
MAX_UNDO = 200


@dataclass(frozen=True)
class Scenario:
    """What differs from today: existing facilities off, candidates on, new points (WGS-84).

    Attributes
    ----------
    existing_off
        Indices of existing facilities switched off (sorted).
    candidates_on
        Candidate indices switched on (sorted).
    points
        New sites as ``(lon, lat)`` (in the order added).
    """

    existing_off: tuple[int, ...] = ()
    candidates_on: tuple[int, ...] = ()
    points: tuple[tuple[float, float], ...] = ()

    def to_dict(self) -> dict:
        """Plain lists (JSON)."""
        return {"existing_off": list(self.existing_off), "candidates_on": list(self.candidates_on),
                "points": [list(p) for p in self.points]}

    @classmethod
    def from_dict(cls, d: dict) -> Scenario:
        """The scenario of :meth:`to_dict` (validated: whole indices, finite points)."""
        try:
            off = tuple(sorted({int(i) for i in d.get("existing_off") or []}))
            on = tuple(sorted({int(i) for i in d.get("candidates_on") or []}))
            pts = tuple((float(p[0]), float(p[1])) for p in d.get("points") or [])
        except (TypeError, ValueError, IndexError) as exc:
            raise InputError(f"情景格式不对 / malformed scenario: {exc}", field="scenario") from exc
        for lon, lat in pts:
            check_lonlat(lon, lat)
        return cls(off, on, pts)


def check_lonlat(lon, lat) -> tuple[float, float]:
    """Finite WGS-84 degrees, or a clear error (NaN, text, out of range)."""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise InputError(f"坐标须为数字 / coordinates must be numbers, got {lon!r}, {lat!r}",
                         field="lonlat", expected="longitude, latitude in degrees") from exc
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"坐标无效 / not a valid longitude, latitude: {lon}, {lat}", field="lonlat",
                         expected="LON in -180..180, LAT in -90..90")
    return lon, lat


def _key(lon: float, lat: float) -> tuple[float, float]:
    return round(float(lon), 7), round(float(lat), 7)


@dataclass
class _Point:
    row: int
    lon: float
    lat: float
    dist: float
    street: str = ""


@dataclass
class TierRoom:
    """One tier in the meeting: the warm what-if session, the scenario and its history.

    Parameters
    ----------
    state
        The tier's prepared state (its network is loaded when a point is first routed, or by
        :meth:`warm`).
    namer
        Names and register coordinates of its sites.
    """

    state: PreparedState
    namer: SiteNamer
    scenario: Scenario = field(default_factory=Scenario)
    undo: list[Scenario] = field(default_factory=list)
    redo: list[Scenario] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = Session(self.state, base="current")
        self.engine = self.session.engine
        self.base_mask = self.engine.covered_mask().copy()
        self.base_covered = self.engine.covered_weights()
        self.base_access = self.session.access.score(self.engine.selected) if self.session.access else None
        self.points: dict[tuple[float, float], _Point] = {}
        self._names: dict[int, str] = {}
        st = self.state
        lons = [a for a in (st.demand_lon, st.cand_lon, st.existing_lon) if a is not None and len(a)]
        lats = [a for a in (st.demand_lat, st.cand_lat, st.existing_lat) if a is not None and len(a)]
        allx, ally = np.concatenate(lons), np.concatenate(lats)
        ok = np.isfinite(allx) & np.isfinite(ally)
        self.extent = (float(allx[ok].min()), float(ally[ok].min()), float(allx[ok].max()), float(ally[ok].max()))
        self.bbox = (float(allx[ok].min()) - AREA_MARGIN_DEG, float(ally[ok].min()) - AREA_MARGIN_DEG,
                     float(allx[ok].max()) + AREA_MARGIN_DEG, float(ally[ok].max()) + AREA_MARGIN_DEG)

    # -- warm-up and names
    def warm(self) -> None:
        """Load the network, the demand positions and the spatial index of the streets now."""
        from carecover.network.spatial import segment_index

        net = self.state.network()
        self.state.demand_snapped()
        segment_index(net)  # one index for the session: a new point searches only nearby streets

    def candidate_name(self, k: int) -> str:
        """``★1 新华大街`` / ``候选 12 新华大街`` (cached)."""
        k = int(k)
        if k not in self._names:
            self._names[k] = self.namer.candidate(k)
        return self._names[k]

    def existing_name(self, i: int) -> str:
        """Register id and name of an existing facility."""
        st = self.state
        return f"{st.existing_fid[i]} {st.existing_name[i]}".strip()

    # -- scenario → open rows
    def _route(self, lon: float, lat: float) -> _Point:
        key = _key(lon, lat)
        if key in self.points:
            return self.points[key]
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            raise InputError(f"该点在规划范围之外 / {lon:.6f}, {lat:.6f} is outside the plan's area "
                             f"({x0:.4f}..{x1:.4f}, {y0:.4f}..{y1:.4f})", field="lonlat",
                             expected="a point inside the study area")
        rows, snap = self.state.route_points([lon], [lat])
        if not snap.ok[0]:
            raise InputError(f"离街道太远，无法接入路网：{snap.dist[0]:.0f} 米 > {snap.max_snap_m:.0f} 米 / "
                             f"too far from a street: {snap.dist[0]:.0f} m > {snap.max_snap_m:.0f} m",
                             field="lonlat", expected="a point near a street")
        row = int(self.engine.append_rows(rows)[0])
        if self.session.access is not None:
            self.session.access.append(rows)
        p = _Point(row, float(lon), float(lat), float(snap.dist[0]), self.namer.street(lon, lat))
        self.points[key] = p
        return p

    def rows_of(self, sc: Scenario) -> set[int]:
        """Engine rows open in a scenario (new points routed on first use)."""
        st = self.state
        bad = [i for i in sc.existing_off if not 0 <= int(i) < st.n_existing]
        if bad:
            raise InputError(f"没有这处现有设施 / no existing facility {bad[0]}", field="existing_off",
                             expected=f"0..{st.n_existing - 1}")
        rows = {int(r) for r in st.existing_rows()} - {int(i) for i in sc.existing_off}
        rows |= {st.candidate_row(k) for k in sc.candidates_on}
        rows |= {self._route(lon, lat).row for lon, lat in sc.points}
        return rows

    def _apply(self, sc: Scenario) -> None:
        want = self.rows_of(sc)  # routes first: a refused point changes nothing
        have = set(self.engine.selected)
        for r in sorted(have - want):
            self.engine.remove(r)
        for r in sorted(want - have):
            self.engine.add(r)
        self.scenario = sc

    def change(self, sc: Scenario) -> None:
        """Move to scenario ``sc`` (undoable)."""
        if sc == self.scenario:
            return
        before = self.scenario
        self._apply(sc)
        self.undo = (self.undo + [before])[-MAX_UNDO:]
        self.redo = []

    def step_back(self, forward: bool = False) -> None:
        """Undo (or redo with ``forward``) the last change."""
        src, dst = (self.redo, self.undo) if forward else (self.undo, self.redo)
        if not src:
            raise InputError("没有可撤销/重做的操作 / nothing to undo or redo", field="history")
        target = src.pop()
        dst.append(self.scenario)
        self._apply(target)

    # -- actions
    def action(self, act: dict) -> None:
        """One action of the page: ``add``, ``toggle``, ``move``, ``undo``, ``redo``, ``reset``,
        ``plan`` (the plan's sites), ``scenario`` (a saved one)."""
        kind = act.get("action")
        sc = self.scenario
        if kind in ("undo", "redo"):
            return self.step_back(forward=kind == "redo")
        if kind == "add":
            lon, lat = check_lonlat(act.get("lon"), act.get("lat"))
            return self.change(Scenario(sc.existing_off, sc.candidates_on, sc.points + ((lon, lat),)))
        if kind == "toggle":
            return self.change(self._toggled(sc, str(act.get("kind")), act.get("id")))
        if kind == "move":
            lon, lat = check_lonlat(act.get("lon"), act.get("lat"))
            moved = self._toggled(sc, str(act.get("kind")), act.get("id"), off_only=True)
            return self.change(Scenario(moved.existing_off, moved.candidates_on, moved.points + ((lon, lat),)))
        if kind == "reset":
            return self.change(Scenario())
        if kind == "plan":
            return self.change(Scenario((), tuple(sorted(int(k) for k in self.state.chosen)), ()))
        if kind == "scenario":
            return self.change(Scenario.from_dict(act.get("scenario") or {}))
        raise InputError(f"未知操作 / unknown action {kind!r}", field="action",
                         expected="add, toggle, move, undo, redo, reset, plan, scenario")

    def _toggled(self, sc: Scenario, kind: str, ident, off_only: bool = False) -> Scenario:
        st = self.state
        try:
            i = int(ident)
        except (TypeError, ValueError) as exc:
            raise InputError(f"站点编号须为整数 / site id must be a whole number, got {ident!r}",
                             field="id") from exc
        off, on, pts = set(sc.existing_off), set(sc.candidates_on), list(sc.points)
        if kind == "existing":
            if not 0 <= i < st.n_existing or not st.existing_ok[i]:
                raise InputError(f"没有这处现有设施 / no routed existing facility {i}", field="id")
            off = off | {i} if off_only else off ^ {i}
        elif kind == "candidate":
            st.candidate_row(i)
            on = on - {i} if off_only else on ^ {i}
        elif kind == "point":
            if not 0 <= i < len(pts):
                raise InputError(f"没有这个新增点 / no added site {i}", field="id")
            pts.pop(i)
        else:
            raise InputError(f"未知站点类型 / unknown site kind {kind!r}", field="kind",
                             expected="existing, candidate or point")
        return Scenario(tuple(sorted(off)), tuple(sorted(on)), tuple(pts))

    # -- figures
    def figures(self, rows: set[int] | None = None) -> dict:
        """Coverage (and accessibility) of the open sites, or of ``rows``, against today."""
        if rows is None:
            mask, covered = self.engine.covered_mask(), self.engine.covered_weights()
            rows = set(self.engine.selected)
        else:
            mask = np.zeros(self.state.n_demand, bool)
            for r in rows:
                mask[self.engine.row(r)] = True
            covered = {p: float(w[mask].sum()) for p, w in self.engine.weight_sets.items()}
        tot = self.engine.totals()
        w_old = self.engine.weight_sets["elderly"]
        gained, lost = mask & ~self.base_mask, self.base_mask & ~mask
        access = self.session.access.score(rows) if self.session.access is not None else None
        return {"covered": covered, "total": tot,
                "share": {p: covered[p] / tot[p] if tot[p] > 0 else None for p in POPULATIONS},
                "gained_elderly": float(w_old[gained].sum()), "lost_elderly": float(w_old[lost].sum()),
                "gained_total": float(self.engine.weight_sets["total"][gained].sum()),
                "lost_total": float(self.engine.weight_sets["total"][lost].sum()),
                "access": _clean(access), "mask": mask, "gained": gained, "lost": lost}


def _clean(d: dict | None) -> dict | None:
    """JSON-safe figures (NaN → None)."""
    if d is None:
        return None
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


class Room:
    """Every tier of a meeting behind one lock, with a version that changes on every action.

    Parameters
    ----------
    tiers
        ``{tier key: TierRoom}``.
    later
        ``{tier key: () -> TierRoom}``: tiers built on first use (routing their facilities
        takes a moment; the server is ready before).
    """

    def __init__(self, tiers: dict[str, TierRoom], later: dict | None = None) -> None:
        self.tiers = tiers
        self.later = dict(later or {})
        self.lock = threading.RLock()
        self.version = 0

    def keys(self) -> list[str]:
        """Every tier of the meeting (those built first, then those built on first use)."""
        return [*self.tiers, *(k for k in self.later if k not in self.tiers)]

    def tier(self, key) -> TierRoom:
        """The room of tier ``key`` (built now if it waited; a clear error for another name)."""
        with self.lock:
            if key not in self.tiers and key in self.later:
                self.tiers[key] = self.later.pop(key)()
            if key not in self.tiers:
                raise InputError(f"没有该层级 / no tier {key!r}", field="tier", expected=", ".join(self.keys()))
            return self.tiers[key]

    def warm_later(self) -> None:
        """Build the waiting tiers one by one (a background thread after the server is ready):
        each is built outside the lock, so the open tier keeps answering meanwhile."""
        for key in list(self.later):
            with self.lock:
                factory = self.later.get(key)
            if factory is None:
                continue
            try:
                built = factory()
            except Exception:  # noqa: BLE001 — the tab shows the error when it is opened
                continue
            with self.lock:
                if self.later.pop(key, None) is not None:
                    self.tiers[key] = built

    def act(self, key: str, act: dict) -> None:
        """Apply one page action to tier ``key`` and bump the version."""
        with self.lock:
            self.tier(key).action(act)
            self.version += 1
