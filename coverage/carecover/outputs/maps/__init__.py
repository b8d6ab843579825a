"""Interactive coverage map (folium/Leaflet) in one HTML file that works offline.

Layers: the study area's streets, administrative boundaries, the elderly population as a
choropleth, isochrone bands per tier, nearest-facility catchments per tier, what the plan
changes (newly covered area, suggested sites' catchments), facilities per tier, residents
inside the straight-line circle but not reached, the larger uncovered gaps numbered by rank,
and suggested new sites numbered by rank; a layer control (collapsed below 1,600 px), a
collapsible title block with the run's parameters (from ``bundle.params``), a metric scale and
a collapsible legend that lists exactly the layers on the map.

Offline. Leaflet and jQuery are inlined from ``outputs/assets`` (vendored from npm with their
licences); nothing else is loaded; only basemap tiles need the web.

Coordinates. All bundle layers are WGS-84. Gaode/Amap tiles are drawn in GCJ-02, shifted by
several hundred metres from WGS-84 inside China. Leaflet cannot switch the coordinates of the
overlays when the user switches base layer, so a map is built for one family of base maps:
``basemap="osm"``/``"light"`` (OpenStreetMap and CartoDB Positron, overlays in WGS-84) or
``basemap="gaode"`` (Gaode tiles only, every overlay converted WGS-84 -> GCJ-02 with
:mod:`carecover.crs`). The pipeline writes the Gaode variant as a separate file.

Determinism. folium/branca give every element a random id; :func:`build_map` replaces the id
generator with a counter while it builds, so equal bundles give byte-identical HTML (the only
date in it is ``summary["generated_at"]``, shown in the title block).

Modules: :mod:`.build` (:func:`build_map`, one call per layer), :mod:`.base` (the folium map,
tiles, deterministic ids, offline assets), :mod:`.names` (layer names and tier order),
:mod:`.geometry` (display simplification, hole filling, GCJ-02), :mod:`.style` (colours and
legend symbols), :mod:`.legend` (title block), :mod:`.controls` (layer control, panels, legend,
scale, initial view), :mod:`.zones` (areas from labelled demand points), :mod:`.popups`, and one
module per layer family: :mod:`.streets`, :mod:`.boundaries`, :mod:`.population`,
:mod:`.isochrones`, :mod:`.catchments`, :mod:`.after`, :mod:`.facilities`, :mod:`.circles`,
:mod:`.gaps`, :mod:`.sites`.
"""

from carecover.outputs.maps.base import ASSETS, deterministic_ids
from carecover.outputs.maps.build import build_map, map_stats
from carecover.outputs.maps.names import layer_names

__all__ = ["ASSETS", "build_map", "deterministic_ids", "layer_names", "map_stats"]
