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
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import shapely

from carecover.network.streets import StreetNetwork

_SEGMENT_INDEX: weakref.WeakKeyDictionary[StreetNetwork, shapely.STRtree] = weakref.WeakKeyDictionary()
_END_TREE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
T = TypeVar("T")


def once_per_network(memo: weakref.WeakKeyDictionary, net: StreetNetwork, make: Callable[[StreetNetwork], T]) -> T:
    """``make(net)``, kept in ``memo`` for as long as ``net`` lives (one build per network object).

    Examples
    --------
    >>> memo = weakref.WeakKeyDictionary()
    >>> once_per_network(memo, net, lambda n: n.n_nodes)  # doctest: +SKIP
    """
    value = memo.get(net)
    if value is None:
        value = make(net)
        memo[net] = value
    return value


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
    return once_per_network(_SEGMENT_INDEX, net, lambda n: shapely.STRtree(n.segment_lines()))


def end_tree(net: StreetNetwork):
    """KD-tree (:class:`scipy.spatial.cKDTree`) of the nodes some segment ends at: the snap's
    bound on the nearest segment (built once per network object, as :func:`segment_index`; a
    plan snaps each tier's facilities on the same network).

    Parameters
    ----------
    net
        The network; its arrays must not change afterwards.

    Returns
    -------
    scipy.spatial.cKDTree
        The same tree for every call on the same network object.
    """
    return once_per_network(_END_TREE, net, _end_tree)


def _end_tree(net: StreetNetwork):
    from scipy.spatial import cKDTree

    used = np.zeros(net.n_nodes, bool)
    used[net.seg_a] = True
    used[net.seg_b] = True
    return cKDTree(np.column_stack([net.node_x[used], net.node_y[used]]))


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
