"""Interactive coverage map (folium/Leaflet) in one HTML file.

Layers: base maps, administrative boundaries, the elderly population as a choropleth,
isochrone bands per tier, facilities per tier, uncovered gap zones numbered by rank and
suggested new sites numbered by rank with their marginal gain; a legend, a layer control, a
scale bar and a title block with the run's parameters (from ``bundle.params``).

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
:mod:`.geometry` (display simplification, hole filling, GCJ-02), :mod:`.style` (colours),
:mod:`.legend` (title block and legend), :mod:`.popups`, and one module per layer family:
:mod:`.boundaries`, :mod:`.population`, :mod:`.isochrones`, :mod:`.facilities`,
:mod:`.circles`, :mod:`.gaps`, :mod:`.sites`.
"""

from carecover.outputs.maps.base import ASSETS, deterministic_ids
from carecover.outputs.maps.build import build_map, map_stats
from carecover.outputs.maps.names import layer_names

__all__ = ["ASSETS", "build_map", "deterministic_ids", "layer_names", "map_stats"]
