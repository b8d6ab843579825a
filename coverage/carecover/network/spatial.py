"""Spatial index over a network's segments, built once per network object.

Snapping, the engine's routing windows and the per-facility isochrone windows all query the
same STRtree of segment lines. Building it dominates snapping small point sets, so it is kept
for as long as the network object lives: in a weak-keyed memo beside the network rather than
as an attribute on it (a :class:`StreetNetwork` carries its arrays and records, nothing else).
Networks hash by identity (``eq=False``), so two networks with equal arrays keep two trees, and
the tree is dropped with its network. Forked worker processes inherit the memo.
"""

from __future__ import annotations

import weakref

import shapely

from carecover.network.streets import StreetNetwork

_SEGMENT_INDEX: weakref.WeakKeyDictionary[StreetNetwork, shapely.STRtree] = weakref.WeakKeyDictionary()


def segment_index(net: StreetNetwork) -> shapely.STRtree:
    """STRtree of the network's segment lines (tree index ``i`` is segment ``i``).

    Parameters
    ----------
    net
        The network; its arrays must not change afterwards (no code changes them in place).

    Returns
    -------
    shapely.STRtree
        The same tree for every call on the same network object.
    """
    tree = _SEGMENT_INDEX.get(net)
    if tree is None:
        tree = shapely.STRtree(net.segment_lines())
        _SEGMENT_INDEX[net] = tree
    return tree


def has_segment_index(net: StreetNetwork) -> bool:
    """Whether :func:`segment_index` has already built the tree of this network.

    Parameters
    ----------
    net
        The network.

    Returns
    -------
    bool
    """
    return net in _SEGMENT_INDEX
