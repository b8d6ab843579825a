"""``build_map``: the map of a bundle, one call per layer, written as one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium

from carecover.errors import InputError
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.maps.after import add_after_plan
from carecover.outputs.maps.base import BASEMAPS, MapContext, add_style, check_offline, deterministic_ids, new_map
from carecover.outputs.maps.boundaries import add_boundaries
from carecover.outputs.maps.catchments import add_catchments
from carecover.outputs.maps.circles import add_circles
from carecover.outputs.maps.controls import add_controls
from carecover.outputs.maps.facilities import add_facilities
from carecover.outputs.maps.gaps import add_gaps
from carecover.outputs.maps.isochrones import add_isochrones
from carecover.outputs.maps.jsdata import point_layers
from carecover.outputs.maps.legend import title_block
from carecover.outputs.maps.load import add_load
from carecover.outputs.maps.population import add_population
from carecover.outputs.maps.profiles import add_profiles
from carecover.outputs.maps.sites import add_sites
from carecover.outputs.maps.streets import add_streets
from carecover.utils import atomic_write


def build_map(bundle: PlanBundle, path: str | Path, *, basemap: str = "osm",
              inline_assets: bool = True, max_cells: int = 20000) -> Path:
    """Write the coverage map of ``bundle`` to ``path`` (one self-contained HTML file).

    Parameters
    ----------
    bundle
        Results to draw, with the run's parameters (``bundle.params``) for the title block.
    path
        Output HTML file (written atomically).
    basemap
        ``"osm"`` (OpenStreetMap first, Positron as alternative), ``"light"`` (Positron first,
        OpenStreetMap as alternative) or ``"gaode"`` (Gaode tiles only; all overlays converted
        to GCJ-02, see :mod:`carecover.outputs.maps`).
    inline_assets
        Embed Leaflet and jQuery from ``carecover/outputs/assets`` (the default), so the map
        (all but the background tiles) works offline; ``False`` links folium's CDNs instead.
    max_cells
        Most population cells drawn; finer data is summed into coarser square cells.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        An unknown basemap, or a bundle without ``params``.
    """
    if basemap not in BASEMAPS:
        raise InputError(f"unknown basemap {basemap!r}", field="basemap", expected="osm, light or gaode")
    path = Path(path)
    with deterministic_ids():
        m = make_map(bundle, basemap, inline_assets, max_cells)
        text = m.get_root().render()
    if inline_assets:
        text = check_offline(text)
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path


def make_map(bundle: PlanBundle, basemap: str, inline_assets: bool, max_cells: int) -> folium.Map:
    """The folium map of ``bundle``.

    Layers are added in drawing order (later ones on top); element ids are a counter
    (:func:`~carecover.outputs.maps.base.deterministic_ids`), so the order is part of the
    output.

    Parameters
    ----------
    bundle, basemap, inline_assets, max_cells
        As :func:`build_map` takes them.

    Returns
    -------
    folium.Map
        Not yet rendered.
    """
    ctx = MapContext.of(bundle, basemap)
    # base tiles, and Leaflet/jQuery inline for an offline map
    m = new_map(ctx, inline_assets)
    # the study area's own streets, so the map orients without tiles
    add_streets(m, ctx)
    # administrative boundaries
    add_boundaries(m, ctx)
    # elderly population per cell
    add_population(m, ctx, max_cells)
    # isochrone bands per tier
    add_isochrones(m, ctx)
    # who serves whom: each facility's nearest-facility catchment per tier (hidden at start)
    add_catchments(m, ctx)
    # the suggested sites' catchments and the coverage after the plan
    add_after_plan(m, ctx)
    # facilities per tier and those not used
    add_facilities(m, ctx)
    # inside the straight-line circle but not reached on the network (hidden at start)
    add_circles(m, ctx)
    # who each mobility profile's walkers reach from one walk tier (--profiles; hidden at start)
    add_profiles(m, ctx)
    # ranked gap zones per tier, the larger ones
    add_gaps(m, ctx)
    # suggested sites per method
    add_sites(m, ctx)
    # facility load: sized by places, coloured by load, with its legend box (hidden at start)
    add_load(m, ctx)
    # page style; layer control, title block, scale, legend of the layers drawn, initial view
    add_style(m)
    add_controls(m, ctx, title_block(ctx))
    return m


def map_stats(path: str | Path) -> dict[str, Any]:
    """Small facts about a written map.

    Parameters
    ----------
    path
        A map written by :func:`build_map`.

    Returns
    -------
    dict
        ``bytes`` (file size), ``facility_markers`` (number of facility markers) and
        ``gap_labels`` (number of gap labels).
    """
    text = Path(path).read_text(encoding="utf-8")
    layers = point_layers(text)
    facilities = sum(len(d["p"]) for d in layers if d.get("s", {}).get("className", "").startswith("cc-facility "))
    gaps = sum(len(d["p"]) for d in layers if d.get("i", {}).get("cls") == "cc-gap-icon")
    return {"bytes": len(text.encode("utf-8")), "facility_markers": facilities, "gap_labels": gaps}
