"""Bridges and tunnels: where the DEM's ground is not the street.

A street on a bridge or in a tunnel does not follow the ground under or over it: sampled on the
DEM, a tunnel under a hill climbs the hill and a bridge over a valley dives into it. As Valhalla
does, such a street is graded from its ends only: a straight grade between the ground heights at
the two ends of the whole bridge or tunnel **run** (the connected bridge/tunnel segments, whatever
ways they belong to), the nodes inside the run taking heights interpolated by distance along it.

A run's inner nodes (every segment at them a bridge/tunnel one) get the heights that solve
``Σ_j (z_i − z_j) / L_ij = 0`` over their run segments, the run's ground nodes (where a street on
the ground meets it) held at the DEM: along a simple run this is exactly the linear interpolation
by distance between its two ends; at a junction inside a tunnel it is the length-weighted mean of
the ways meeting there. A run that touches no ground node (cut off from the rest of the network)
is taken as flat, and counted.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

from carecover.network.profiles import STRUCTURE_TAGS
from carecover.network.streets import StreetNetwork

#: ``bridge``/``tunnel`` values that leave a way on the ground. ``tunnel=culvert`` carries water
#: under the street, which stays on the ground.
NOT_A_STRUCTURE = frozenset({"", "no", "false", "0", "culvert"})

#: How the grade of a bridge or tunnel is taken (written into the run's record).
GRADE_RULE = ("straight grade between the ground heights at the two ends of each bridge/tunnel "
              "run (inner nodes interpolated by distance along it), not the DEM under or over it")


def structure_mask(tags: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, list[str]]:
    """Which segments are on a bridge or in a tunnel.

    ``bridge=*`` or ``tunnel=*`` with any value but those of :data:`NOT_A_STRUCTURE`
    (``yes``, ``viaduct``, ``building_passage`` …). ``layer`` alone is not read (it orders the
    drawing; the OSM wiki says it is not an elevation), nor ``covered`` (a street under a roof or
    colonnade is on the ground).

    Parameters
    ----------
    tags
        Lower-case tag strings per segment (``""`` = untagged); ``bridge``/``tunnel`` absent
        when the network's source could not say.
    n
        Number of segments.

    Returns
    -------
    (numpy.ndarray, list of str)
        The boolean mask, and the tags the network does not carry (unknown: taken as absent).
    """
    mask = np.zeros(n, bool)
    for key in STRUCTURE_TAGS:
        if key in tags:
            mask |= ~np.isin(tags[key], list(NOT_A_STRUCTURE))
    return mask, [k for k in STRUCTURE_TAGS if k not in tags]


def run_heights(net: StreetNetwork, z: np.ndarray, on: np.ndarray) -> tuple[np.ndarray, dict]:
    """Node heights with the nodes inside bridge/tunnel runs interpolated from the runs' ends.

    Parameters
    ----------
    net
        The network.
    z
        Ground (DEM) height of every node.
    on
        Bridge/tunnel segments (:func:`structure_mask`).

    Returns
    -------
    (numpy.ndarray, dict)
        Heights (``z`` where a node is on the ground), and ``runs`` (connected bridge/tunnel
        runs), ``runs_without_ground_end`` (taken as flat).
    """
    z = np.asarray(z, float).copy()
    if not on.any():
        return z, {"runs": 0, "runs_without_ground_end": 0}
    n = net.n_nodes
    a, b = net.seg_a[on], net.seg_b[on]
    w = 1.0 / np.maximum(net.seg_len[on], 1e-3)
    W = sp.coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    touched = np.zeros(n, bool)
    touched[a] = touched[b] = True
    ground = np.zeros(n, bool)
    ground[net.seg_a[~on]] = ground[net.seg_b[~on]] = True
    _, label = connected_components(W, directed=False)
    runs = np.unique(label[a])
    anchored = np.zeros(label.max() + 1, bool)
    anchored[label[touched & ground]] = True
    inner = touched & ~ground & anchored[label]
    loose = touched & ~anchored[label]  # runs with no ground end: flat at their mean height
    if loose.any():
        mean = np.bincount(label[loose], z[loose]) / np.maximum(np.bincount(label[loose]), 1)
        z[loose] = mean[label[loose]]
    if inner.any():
        u, k = np.flatnonzero(inner), np.flatnonzero(touched & ground)
        lap = sp.diags(np.asarray(W[u].sum(axis=1)).ravel()) - W[u][:, u]
        z[u] = spsolve(lap.tocsc(), W[u][:, k] @ z[k])
    return z, {"runs": int(len(runs)), "runs_without_ground_end": int((~anchored[runs]).sum())}
