"""Outlines from a contour grid: contourpy's filled polygons where a grid is ≤ 0
(:func:`filled`), and contoured rings simplified into valid polygons (:func:`simplified`);
used by :mod:`carecover.network.field`."""

from __future__ import annotations

import numpy as np
import shapely


def filled(z: np.ndarray) -> tuple:
    """contourpy's filled polygons where ``z ≤ 0`` (``ChunkCombinedOffsetOffset``, grid
    coordinates): what ``contour_generator(z=z, name="serial")`` gives, built directly (``z``
    has no invalid values to mask, and the conversion and masking cost more than the tracing
    on a facility's grid)."""
    import contourpy

    z = np.ascontiguousarray(z, dtype=np.float64)
    ny, nx = z.shape
    x, y = np.meshgrid(np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64))
    gen = contourpy.SerialContourGenerator(
        x, y, z, None, corner_mask=True, line_type=contourpy.LineType.Separate,
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, quad_as_tri=False,
        z_interp=contourpy.ZInterp.Linear, x_chunk_size=0, y_chunk_size=0)
    return gen.filled(-np.inf, 0.0)


def simplified(rings: np.ndarray, outer: np.ndarray, tolerance: float) -> np.ndarray:
    """Polygons of contoured rings (``outer`` as contourpy gives it: each polygon's shell, then
    its holes), each ring simplified within ``tolerance`` (plain Douglas–Peucker ring by ring:
    GEOS' polygon simplifiers, and its topology-preserving one on rings, are far slower on a
    city's lace of holes; the checks below catch what they would have prevented).

    A ring that would collapse (smaller than the tolerance) keeps its traced outline. A polygon whose simplified rings would cross themselves or one another
    keeps its traced outline: checked ring by ring (``is_simple``), shell against its holes
    (prepared) and hole against hole (their envelopes first), a third of ``is_valid``'s time on
    a lace of thousands of holes. Holes stay inside their shell: no ring crosses another and
    the kept vertices are traced ones."""
    part = np.repeat(np.arange(len(outer) - 1), np.diff(outer))
    simple = shapely.simplify(rings, tolerance, preserve_topology=False)
    collapsed = shapely.get_num_coordinates(simple) < 4
    shell = np.zeros(len(rings), bool)
    shell[outer[:-1]] = True
    simple = np.where(collapsed, rings, simple)
    bad = np.zeros(len(outer) - 1, bool)
    bad[part[~shapely.is_simple(simple)]] = True
    holes = np.flatnonzero(~shell)
    if len(holes):
        # each hole against its own shell (the shell prepared once) ...
        shells = simple[shell]
        lines = shapely.linestrings(shapely.get_coordinates(shells), indices=np.repeat(
            np.arange(len(shells)), shapely.get_num_coordinates(shells)))
        shapely.prepare(lines)
        bad[part[holes[shapely.intersects(lines[part[holes]], simple[holes])]]] = True
    if len(holes) > 1:
        # ... and against the holes whose envelopes meet its own: each such pair tested once
        # (the tree's own predicate tests both orders and every hole against itself)
        h = simple[holes]
        i, j = shapely.STRtree(h).query(h)
        pair = i < j
        i, j = i[pair], j[pair]
        hit = shapely.intersects(h[i], h[j])
        bad[part[holes[i[hit]]]] = True
        bad[part[holes[j[hit]]]] = True
    polys = shapely.polygons(simple, indices=part)
    for k in np.flatnonzero(bad):
        polys[k] = shapely.polygons(rings[outer[k]], rings[outer[k] + 1:outer[k + 1]])
    return polys
