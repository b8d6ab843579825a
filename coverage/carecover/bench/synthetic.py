"""Deterministic synthetic street networks and facilities at city scale (for benchmarks).

:func:`synthetic_city` builds a :class:`~carecover.network.streets.StreetNetwork` directly (no OSM file):
a jittered grid of blocks 80-120 m wide with a few diagonal arterials, some links missing, every
block side drawn as a *way* split into several straight segments (like OSM way nodes), and for
the drive profile a share of one-way streets. :func:`synthetic_facilities` scatters facilities
in clusters near streets. Both depend only on their arguments: the same seed gives the same
arrays, bit for bit.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from carecover import settings
from carecover.errors import InputError
from carecover.network.build import keep_largest_component
from carecover.network.build import subset_segments as _subset_segments
from carecover.network.profiles import make_profile
from carecover.network.streets import StreetNetwork

#: Probabilities of 0, 1, 2, 3 intermediate way nodes on a block side.
SPLIT_P = (0.4, 0.35, 0.2, 0.05)


def _way_classes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Highway class per grid line: an arterial every 8-12 lines, the rest residential."""
    cls = np.full(count, "residential", dtype=object)
    i = int(rng.integers(2, 8))
    k = 0
    while i < count:
        cls[i] = ("primary", "secondary", "tertiary")[k % 3]
        k += 1
        i += int(rng.integers(8, 13))
    return cls


def synthetic_city(n_nodes: int = 250_000, seed: int | None = None, *, profile: str | dict = "walk",
                   block_m: tuple[float, float] = (80.0, 120.0), jitter_m: float = 6.0,
                   missing_share: float = 0.06, oneway_share: float = 0.15, diagonals: int = 6,
                   center_lonlat: tuple[float, float] = (111.7, 40.8),
                   crs: str | int | CRS = "EPSG:32649") -> StreetNetwork:
    """A deterministic city-scale street network.

    Parameters
    ----------
    n_nodes
        Approximate number of nodes wanted (intersections + way nodes); the result is within a
        few percent (missing links and the largest-component rule remove some).
    seed
        Random seed; default ``settings.random_seed``.
    profile
        ``"walk"`` (all streets two-way, ``settings.walk_speed_mps``) or ``"drive"`` (class
        speeds from ``settings.drive_speeds_kph``; ``oneway_share`` of the non-primary ways are
        one-way, half of them drawn against the way's node order). A :func:`make_profile` dict
        is accepted too.
    block_m
        Range of block widths in metres (each grid row/column spacing drawn uniformly).
    jitter_m
        Standard deviation of the random displacement of intersections (metres).
    missing_share
        Share of residential block sides left out (dead ends, superblocks).
    oneway_share
        Share of ways that are one-way under the drive profile.
    diagonals
        Number of diagonal arterials cutting across the grid.
    center_lonlat
        WGS-84 centre of the city (default: Hohhot).
    crs
        Projected CRS of the output (default UTM 49N, the zone of Hohhot).

    Returns
    -------
    StreetNetwork
        With ``source`` describing the generator and its parameters.
    """
    if n_nodes < 100:
        raise InputError(f"n_nodes must be at least 100, got {n_nodes}", field="n_nodes")
    prof = make_profile(profile) if isinstance(profile, str) else profile
    seed = settings.random_seed if seed is None else int(seed)
    rng = np.random.default_rng(seed)  # one generator, drawn from in a fixed order below
    crs = CRS.from_user_input(crs)
    centre = Transformer.from_crs(4326, crs, always_xy=True).transform(*center_lonlat)
    # a jittered grid of intersections
    gx, gy, nid = _grid(rng, n_nodes, block_m, jitter_m, missing_share, centre)
    # ways: block sides and diagonal arterials, some residential links missing
    wa, wb, wcls = _ways(rng, nid, diagonals, missing_share)
    # each way split into straight segments through its way nodes
    x, y, seg_a, seg_b, seg_way = _split_ways(rng, gx.ravel(), gy.ravel(), wa, wb)
    # speeds and one-ways of the profile
    speed, fwd, rev, oneway = _directions(rng, prof, wcls, seg_way, oneway_share)
    net = StreetNetwork(
        crs=crs, node_x=x, node_y=y, node_id=np.arange(len(x), dtype=np.int64) + 1,
        seg_a=seg_a, seg_b=seg_b, seg_len=np.hypot(x[seg_b] - x[seg_a], y[seg_b] - y[seg_a]),
        seg_speed=speed, seg_fwd=fwd, seg_rev=rev, seg_highway=wcls[seg_way], profile=prof,
        source={"synthetic": "carecover.bench.synthetic.synthetic_city", "seed": seed,
                "n_nodes_requested": int(n_nodes), "grid": list(nid.shape), "ways": int(len(wa)),
                "oneway_ways": int(oneway.sum()), "block_m": list(block_m),
                "missing_share": missing_share, "diagonals": diagonals,
                "center_lonlat": list(center_lonlat)},
    )
    # drop intersections left without streets, then keep the largest connected part
    net = _subset_segments(net, np.ones(len(seg_a), bool))
    if prof.get("keep_largest", True):
        net = keep_largest_component(net)
    return net


def _grid(rng, n_nodes: int, block_m, jitter_m: float, missing_share: float, centre):
    """Intersection coordinates (R × C) and their ids, sized for about ``n_nodes`` nodes."""
    # nodes per intersection ≈ 1 + 2 block sides × mean way nodes per side
    per = 1 + 2 * float(np.dot(np.arange(len(SPLIT_P)), SPLIT_P)) * (1 - missing_share / 2)
    side = max(int(round(np.sqrt(n_nodes / per))), 4)
    R = C = side
    xs = np.concatenate([[0.0], np.cumsum(rng.uniform(*block_m, C - 1))])
    ys = np.concatenate([[0.0], np.cumsum(rng.uniform(*block_m, R - 1))])
    xs += centre[0] - xs[-1] / 2
    ys += centre[1] - ys[-1] / 2
    gx, gy = np.meshgrid(xs, ys)  # R × C
    gx = gx + rng.normal(0, jitter_m, gx.shape)
    gy = gy + rng.normal(0, jitter_m, gy.shape)
    return gx, gy, np.arange(R * C).reshape(R, C)


def _ways(rng, nid: np.ndarray, diagonals: int, missing_share: float):
    """Way end intersections and highway class: horizontal and vertical block sides, diagonal
    arterials; residential sides dropped with probability ``missing_share``."""
    R, C = nid.shape
    row_cls = _way_classes(rng, R)
    col_cls = _way_classes(rng, C)
    ha, hb = nid[:, :-1].ravel(), nid[:, 1:].ravel()
    va, vb = nid[:-1, :].ravel(), nid[1:, :].ravel()
    da, db = [], []
    for _ in range(diagonals):
        r = int(rng.integers(0, R // 2))
        c = int(rng.integers(0, C))
        step = 1 if c < C // 2 else -1
        while 0 <= r + 1 < R and 0 <= c + step < C:
            da.append(nid[r, c])
            db.append(nid[r + 1, c + step])
            r, c = r + 1, c + step
    wa = np.concatenate([ha, va, np.asarray(da, np.int64)])
    wb = np.concatenate([hb, vb, np.asarray(db, np.int64)])
    wcls = np.concatenate([np.repeat(row_cls, C - 1), np.tile(col_cls, R - 1),
                           np.full(len(da), "primary", dtype=object)]).astype(str)
    # missing links: residential sides only (arterials are continuous)
    drop = (wcls == "residential") & (rng.random(len(wa)) < missing_share)
    return wa[~drop], wb[~drop], wcls[~drop]


def _split_ways(rng, gx: np.ndarray, gy: np.ndarray, wa: np.ndarray, wb: np.ndarray):
    """Nodes and segments: each way split into k + 1 straight segments through k way nodes,
    gently bent. Returns node x, y, segment ends and each segment's way."""
    nw, n_int = len(wa), len(gx)
    k = rng.choice(len(SPLIT_P), size=nw, p=SPLIT_P)
    wx0, wy0, wx1, wy1 = gx[wa], gy[wa], gx[wb], gy[wb]
    w_of = np.repeat(np.arange(nw), k)                      # way of each intermediate node
    pos = np.arange(len(w_of)) - np.repeat(np.cumsum(k) - k, k) + 1   # 1..k within its way
    f = pos / (k[w_of] + 1)
    dx, dy = wx1 - wx0, wy1 - wy0
    ln = np.hypot(dx, dy)
    bend = rng.normal(0, 2.0, len(w_of))                    # gentle curvature, metres
    x = np.concatenate([gx, wx0[w_of] + f * dx[w_of] - bend * dy[w_of] / ln[w_of]])
    y = np.concatenate([gy, wy0[w_of] + f * dy[w_of] + bend * dx[w_of] / ln[w_of]])
    mid_id = n_int + np.arange(len(w_of))
    # chain per way: a, mids..., b
    first = np.cumsum(k + 1) - (k + 1)                      # first segment index of each way
    seg_way = np.repeat(np.arange(nw), k + 1)
    j = np.arange(int((k + 1).sum())) - first[seg_way]      # 0..k within the way
    mid_start = np.cumsum(k) - k                            # index into mid_id of each way
    seg_a = np.where(j == 0, wa[seg_way], mid_id[np.minimum(mid_start[seg_way] + j - 1, len(mid_id) - 1)])
    seg_b = np.where(j == k[seg_way], wb[seg_way], mid_id[np.minimum(mid_start[seg_way] + j, len(mid_id) - 1)])
    return x, y, seg_a.astype(np.int32), seg_b.astype(np.int32), seg_way


def _directions(rng, prof: dict, wcls: np.ndarray, seg_way: np.ndarray, oneway_share: float):
    """Segment speeds and allowed directions, and which ways are one-way (drive only)."""
    n_seg, nw = len(seg_way), len(wcls)
    if prof["name"] == "walk":
        return (np.full(n_seg, float(prof["speed_mps"])), np.ones(n_seg, bool), np.ones(n_seg, bool),
                np.zeros(nw, bool))
    kph = np.array([prof["speeds_kph"].get(c, prof["default_kph"]) for c in wcls])
    oneway = (wcls != "primary") & (rng.random(nw) < oneway_share)
    against = oneway & (rng.random(nw) < 0.5)
    return (kph / 3.6)[seg_way], ~against[seg_way], ~(oneway & ~against)[seg_way], oneway


def synthetic_facilities(net: StreetNetwork, n: int = 1105, seed: int | None = None, *,
                         n_clusters: int = 40, background: float = 0.15,
                         setback_m: tuple[float, float] = (5.0, 40.0)) -> tuple[np.ndarray, np.ndarray]:
    """Facility locations (projected x, y in ``net.crs``) clustered like real ones, near streets.

    Cluster centres lean towards the city centre; a share ``background`` is spread uniformly.
    Each point is then moved next to a street: onto a random position of a segment at its
    nearest node, set back ``setback_m`` metres to the side (a building beside the street).

    Returns
    -------
    (x, y)
        Two float arrays of length ``n``.
    """
    rng = np.random.default_rng(settings.random_seed + 1 if seed is None else int(seed))
    minx, maxx = float(net.node_x.min()), float(net.node_x.max())
    miny, maxy = float(net.node_y.min()), float(net.node_y.max())
    mx, my = (minx + maxx) / 2, (miny + maxy) / 2
    span = min(maxx - minx, maxy - miny)
    centres = np.column_stack([rng.normal(mx, span / 6, n_clusters), rng.normal(my, span / 6, n_clusters)])
    weight = rng.pareto(1.5, n_clusters) + 1
    n_bg = int(round(n * background))
    which = rng.choice(n_clusters, size=n - n_bg, p=weight / weight.sum())
    sd = rng.uniform(300.0, 1500.0, n_clusters)[which]
    pts = centres[which] + rng.normal(size=(n - n_bg, 2)) * sd[:, None]
    pts = np.vstack([pts, np.column_stack([rng.uniform(minx, maxx, n_bg), rng.uniform(miny, maxy, n_bg)])])
    pts[:, 0] = np.clip(pts[:, 0], minx, maxx)
    pts[:, 1] = np.clip(pts[:, 1], miny, maxy)
    _, node = cKDTree(np.column_stack([net.node_x, net.node_y])).query(pts)
    # incident segments per node in a fixed order (sorted by segment index)
    ends = np.concatenate([net.seg_a, net.seg_b])
    segs = np.concatenate([np.arange(net.n_segments)] * 2)
    order = np.lexsort((segs, ends))
    ends, segs = ends[order], segs[order]
    lo = np.searchsorted(ends, node, "left")
    cnt = np.searchsorted(ends, node, "right") - lo
    s = segs[lo + (rng.random(n) * cnt).astype(np.int64)]
    ax, ay = net.node_x[net.seg_a[s]], net.node_y[net.seg_a[s]]
    dx, dy = net.node_x[net.seg_b[s]] - ax, net.node_y[net.seg_b[s]] - ay
    ln = np.where(net.seg_len[s] > 0, net.seg_len[s], 1.0)
    t = rng.uniform(0.05, 0.95, n)
    off = rng.uniform(*setback_m, n) * np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return ax + t * dx - off * dy / ln, ay + t * dy + off * dx / ln
