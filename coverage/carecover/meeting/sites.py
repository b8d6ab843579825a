"""How the meeting output names places and numbers: sites by ★rank and street, coordinates in
the register's coordinate system, whole people, changes in percentage points (百分点).

A planned site is "★2 新华大街" (its rank in the plan and the OSM ``name`` of the street it
stands on), another candidate "候选 12 新华大街"; coordinates are shown in the coordinate system
the facility register was given in (GCJ-02 when the register came from Amap, :mod:`carecover.crs`),
so a planner can paste them into the map they use. Street names come from the plan's network
(:attr:`carecover.network.StreetNetwork.seg_name`): the street a candidate junction lies on, or the
named street nearest a point within :data:`NAME_RADIUS_M`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from carecover.errors import InputError
from carecover.siting.prepared import PreparedState
from carecover.summary_file import SummaryFile
from carecover.vocab import site_label

__all__ = ["NAME_RADIUS_M", "SiteNamer", "people", "points", "register_crs", "share"]

#: How far from a point a named street is looked for when the nearest street has no name.
NAME_RADIUS_M = 150.0
CRS_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def people(v: float, signed: bool = False) -> str:
    """Whole people: ``2,713`` (``+358`` with ``signed``)."""
    if not np.isfinite(v):
        return "—"
    r = round(float(v))
    return f"{r:+,d}" if signed else f"{r:,d}"


def share(v: float) -> str:
    """A share as a percentage with one decimal: ``5.8%``."""
    return f"{v:.1%}" if np.isfinite(v) else "—"


def points(d: float, lang: str = "zh") -> str:
    """A change of a share in percentage points: ``+9.0 百分点`` (``+9.0 pp``)."""
    if not np.isfinite(d):
        return "—"
    return f"{d * 100:+.1f} {'百分点' if lang == 'zh' else 'pp'}"


def register_crs(out_dir: str | Path | None, summary: dict | None = None) -> str:
    """The coordinate system the plan's facility register was given in.

    Parameters
    ----------
    out_dir
        The plan's output folder (its ``facilities.csv`` says per row), or ``None``.
    summary
        ``summary.json`` (``parameters.crs_in`` when the run was told one).

    Returns
    -------
    str
        ``wgs84``, ``gcj02`` or ``bd09``: the run's ``--crs``, else the most common ``crs_in``
        of the register rows, else ``wgs84``.
    """
    given = SummaryFile.of(summary or {}).crs_in
    if given in CRS_LABEL:
        return given
    path = Path(out_dir) / "facilities.csv" if out_dir is not None else None
    if path is None or not path.is_file():
        return "wgs84"
    import pandas as pd

    try:
        fac = pd.read_csv(path, encoding="utf-8-sig", usecols=["crs_in", "source"], dtype=str,
                          keep_default_na=False)
    except (ValueError, OSError):
        return "wgs84"
    crs = fac.loc[fac["source"] != "osm", "crs_in"]
    counts = Counter(c for c in crs if c in CRS_LABEL)
    return counts.most_common(1)[0][0] if counts else "wgs84"


def _segments_near(net, x: float, y: float, r: float) -> np.ndarray:
    """Segments whose bounding box comes within ``r`` of ``(x, y)``: the network's spatial index
    when it is built (the meeting room builds it once), else one vectorised pass over the segment
    ends (no index over the whole network for one point)."""
    from carecover.network.spatial import has_segment_index, segment_index

    if has_segment_index(net):
        import shapely

        return np.asarray(segment_index(net).query(shapely.box(x - r, y - r, x + r, y + r)), np.int64)
    ax, ay = net.node_x[net.seg_a], net.node_y[net.seg_a]
    bx, by = net.node_x[net.seg_b], net.node_y[net.seg_b]
    hit = ((np.minimum(ax, bx) <= x + r) & (np.maximum(ax, bx) >= x - r)
           & (np.minimum(ay, by) <= y + r) & (np.maximum(ay, by) >= y - r))
    return np.flatnonzero(hit)


class SiteNamer:
    """Names and coordinates of a tier's sites as the meeting shows them.

    Parameters
    ----------
    state
        The tier's prepared state (its network is loaded on first use, from the cache).
    crs
        Coordinate system to show (default: :func:`register_crs` of the state's plan).
    """

    def __init__(self, state: PreparedState, crs: str | None = None) -> None:
        self.state = state
        out_dir = state.path.parent.parent if state.path is not None else None
        self.crs = crs or register_crs(out_dir, state.summary)
        self.rank = {int(k): i + 1 for i, k in enumerate(np.asarray(state.chosen).tolist())}
        self._net = None
        self._net_failed = False
        self._labels: dict[str, str] | None = None

    def _plan_labels(self) -> dict[str, str]:
        """Candidate id → ``site_label`` of the tier's sites in the plan's ``sites.csv`` (the
        rows whose rank is the state's rank of the candidate), so the page and ``whatif`` show
        the very label of the map, report and workbook; ``{}`` without the file."""
        if self._labels is None:
            self._labels = plan_labels(self.state, self.rank)
        return self._labels

    def _network(self):
        if self._net is None and not self._net_failed:
            try:
                self._net = self.state.network()
            except (InputError, OSError):  # no network at hand: sites are named without streets
                self._net_failed = True
        return self._net

    def street(self, lon: float | None, lat: float | None, node: int | None = None) -> str:
        """OSM name of the street at a point (or candidate junction ``node``); ``""`` if none."""
        net = self._network()
        if net is None or net.seg_name is None or lon is None:
            return ""
        if node is not None and node >= 0 and node < net.n_nodes:
            segs = np.flatnonzero((net.seg_a == node) | (net.seg_b == node))
            names = [n for n in net.segment_names(segs) if n]
            if names:
                return Counter(names).most_common(1)[0][0]
        x, y = net.from_wgs84().transform(lon, lat)
        near = _segments_near(net, float(x), float(y), NAME_RADIUS_M)
        names = net.segment_names(near) if len(near) else np.zeros(0, str)
        named = near[names != ""]
        if len(named) == 0:
            return ""
        from carecover.network.streets import project_onto_segments

        _, d = project_onto_segments(net, named, np.full(len(named), float(x)), np.full(len(named), float(y)))
        best = int(np.argmin(d))
        return str(net.segment_names(named[[best]])[0]) if d[best] <= NAME_RADIUS_M else ""

    def coords(self, lon: float | None, lat: float | None) -> str:
        """``"111.700123,40.820456 GCJ-02"``: WGS-84 ``lon``/``lat`` in the shown system."""
        if lon is None or lat is None:
            return ""
        if self.crs != "wgs84":
            from carecover.crs import from_wgs84

            x, y = from_wgs84(np.array([lon]), np.array([lat]), self.crs)
            lon, lat = float(x[0]), float(y[0])
        return f"{lon:.6f},{lat:.6f} {CRS_LABEL[self.crs]}"

    def candidate(self, k: int) -> str:
        """``"★2 新华大街"`` for the plan's site of rank 2, ``"候选 12 新华大街"`` for another; a
        candidate made from a public facility (``--candidates-from-osm``) by the facility:
        ``"★1 长江路小学旁 / next to Changjiang Road Primary School"``."""
        st = self.state
        if k in self.rank and st.cand_id is not None and str(st.cand_id[k]) in self._plan_labels():
            return self._plan_labels()[str(st.cand_id[k])]
        names = (getattr(st, "extra", None) or {}).get("cand_name")
        name = str(names[k]) if names is not None and k < len(names) else ""
        if k in self.rank:
            street = "" if name else self.street(float(st.cand_lon[k]), float(st.cand_lat[k]), int(st.cand_node[k]))
            return site_label(self.rank[k], street, name)
        name = name or self.street(float(st.cand_lon[k]), float(st.cand_lat[k]), int(st.cand_node[k]))
        return f"候选 {k} {name}".strip()


def plan_labels(state: PreparedState, rank: dict[int, int]) -> dict[str, str]:
    """Candidate id → ``site_label`` from the plan's ``sites.csv`` for the state's tier, where
    the row's rank is the state's rank of that candidate; ``{}`` when the file or column is
    missing or cannot be read."""
    if state.path is None or state.cand_id is None:
        return {}
    path = state.path.parent.parent / "sites.csv"
    if not path.is_file():
        return {}
    import pandas as pd

    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (ValueError, OSError):
        return {}
    if not {"tier", "candidate", "rank", "site_label"} <= set(df.columns):
        return {}
    want = {str(state.cand_id[k]): str(r) for k, r in rank.items()}
    df = df[df["tier"] == str(state.tier)]
    return {c: lab for c, r, lab in zip(df["candidate"], df["rank"], df["site_label"], strict=True)
            if want.get(c) == r and lab}
