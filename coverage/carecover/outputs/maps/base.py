"""The folium map itself: deterministic element ids, base tiles, offline assets, the state
shared by the layers while a map is built, and fixed-position HTML blocks."""

from __future__ import annotations

import base64
import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import branca.element
import folium
import numpy as np

from carecover.outputs.bundle import PlanBundle, tr
from carecover.outputs.maps.geometry import Transform, display_transform
from carecover.outputs.maps.jsdata import Raw, add_script
from carecover.outputs.maps.names import layer_names, tiers_in
from carecover.outputs.maps.popups import esc
from carecover.outputs.maps.style import CIRCLE_COLOR, CIRCLE_RING, GAP_COLOR, SITE_COLOR
from carecover.outputs.maps.zones import DisplayGrid, LocalXY, shared

if TYPE_CHECKING:
    from carecover.params import RunParams

#: Vendored Leaflet, jQuery and their images (``scripts/vendor_assets.py`` refreshes them).
ASSETS = Path(__file__).resolve().parent.parent / "assets"

GAODE_URL = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
             "&x={x}&y={y}&z={z}")
GAODE_ATTR = "高德地图 &copy; AutoNavi"
POSITRON_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
POSITRON_ATTR = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                 'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>')
OSM_ATTR = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            'contributors')
BASEMAPS = ("osm", "light", "gaode")


@contextlib.contextmanager
def deterministic_ids(seed: int = 0) -> Iterator[None]:
    """Make branca/folium element ids a counter instead of random hex while inside.

    Parameters
    ----------
    seed
        First id.

    Yields
    ------
    None
        Inside, ``Element._generate_id`` counts ``00000000``, ``00000001``, …; restored after.
    """
    counter = itertools.count(seed)
    original = branca.element.Element.__dict__["_generate_id"]
    branca.element.Element._generate_id = classmethod(lambda cls: f"{next(counter):08x}")
    try:
        yield
    finally:
        branca.element.Element._generate_id = original


@dataclass
class MapContext:
    """What the layers of one map share while it is built.

    Attributes
    ----------
    bundle
        The results drawn.
    params
        The run's parameters (``bundle.params``).
    basemap
        ``"osm"``, ``"light"`` or ``"gaode"``.
    fn
        WGS-84 -> basemap coordinates (``None``: as is).
    names
        Layer names (:func:`~carecover.outputs.maps.names.layer_names`).
    tiers
        Tiers drawn, in order.
    notes
        Lines the title block adds (what was simplified, summed or left out); layers append.
    bounds
        ``[minx, miny, maxx, maxy]`` of everything drawn; layers append, the map fits them.
    legend
        ``(layer name, entry HTML)`` of every overlay drawn, in drawing order; each layer
        adds its own entry, so the legend lists exactly the layers drawn.
    """

    bundle: PlanBundle
    params: RunParams
    basemap: str
    fn: Transform | None
    names: dict[str, str]
    tiers: list[str]
    notes: list[str] = field(default_factory=list)
    bounds: list[np.ndarray] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    _grid: DisplayGrid | None = field(default=None, repr=False)
    _xy: LocalXY | None = field(default=None, repr=False)

    @classmethod
    def of(cls, bundle: PlanBundle, basemap: str) -> MapContext:
        """The context of a new map of ``bundle`` on ``basemap``.

        Parameters
        ----------
        bundle
            The results to draw (with ``params``).
        basemap
            ``"osm"``, ``"light"`` or ``"gaode"``.

        Returns
        -------
        MapContext
            With no notes and no bounds yet.
        """
        return cls(bundle=bundle, params=bundle.run_params(), basemap=basemap,
                   fn=display_transform(basemap), names=layer_names(bundle), tiers=tiers_in(bundle))

    @property
    def lang(self) -> str:
        """The language of the map (``bundle.lang``)."""
        return self.bundle.lang

    def grid(self) -> DisplayGrid:
        """The demand's display grid, computed on first use and shared by the zone layers
        (:mod:`carecover.outputs.maps.zones`)."""
        if self._grid is None:
            memo = shared(self.bundle.demand)
            if "grid" not in memo:
                memo["grid"] = DisplayGrid.of(self.bundle.demand, self.local_xy())
            self._grid = memo["grid"]
        return self._grid

    def local_xy(self) -> LocalXY:
        """The demand points in metres, computed on first use (population and zone layers)."""
        if self._xy is None:
            memo = shared(self.bundle.demand)
            if "xy" not in memo:
                memo["xy"] = LocalXY.of(self.bundle.demand)
            self._xy = memo["xy"]
        return self._xy

    def add_legend(self, layer: str, swatch: str, label: str, note: str = "") -> None:
        """Add the legend entry of an overlay that was drawn.

        Parameters
        ----------
        layer
            The overlay's name in the layer control (the entry is shown while it is).
        swatch
            HTML of the symbol (built here, no input text).
        label
            Text of the entry (escaped here).
        note
            A second, grey line (escaped here), e.g. what was left out.
        """
        extra = f"<div class='cc-lg-note'>{esc(note)}</div>" if note else ""
        self.legend.append((layer, f"<div class='cc-lg-row'>{swatch}<span>{esc(label)}</span></div>{extra}"))


def new_map(ctx: MapContext, inline_assets: bool) -> folium.Map:
    """An empty folium map with the basemap's tile layers (the first one shown).

    Parameters
    ----------
    ctx
        The map's context.
    inline_assets
        Embed Leaflet and jQuery (:func:`inline_into`) instead of linking CDNs.

    Returns
    -------
    folium.Map
        With the page title (the scale bar is added with the other controls).
    """
    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=False, prefer_canvas=False)
    m.get_root().title = esc(ctx.bundle.display_title())
    if inline_assets:
        m.default_js, m.default_css = [], []
        inline_into(m)
    add_script(m)  # after Leaflet: the functions that draw the data layers
    osm = dict(tiles="OpenStreetMap", name="OpenStreetMap", attr=OSM_ATTR)
    light = dict(tiles=POSITRON_URL, attr=POSITRON_ATTR, subdomains="abcd", max_zoom=20,
                 name=tr("浅色底图", "Light (CartoDB Positron)", ctx.lang))
    if ctx.basemap == "gaode":
        folium.TileLayer(tiles=GAODE_URL, attr=GAODE_ATTR, name=tr("高德地图", "Gaode/Amap", ctx.lang),
                         subdomains="1234", max_zoom=18).add_to(m)
    else:
        for i, spec in enumerate([osm, light] if ctx.basemap == "osm" else [light, osm]):
            folium.TileLayer(**spec, show=i == 0).add_to(m)  # the first one is shown
    return m


def inline_into(m: folium.Map) -> None:
    """Add Leaflet and jQuery inline to the page header (the map uses no other library).

    Parameters
    ----------
    m
        The map; the images ``leaflet.css`` refers to become data URIs.
    """
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        png = (ASSETS / match.group(1)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(png).decode() + ")"

    css = re.sub(r"url\(images/([\w-]+\.png)\)", data_uri, css)
    header = m.get_root().header
    header.add_child(Raw(f"<style>{css}</style>"), name="leaflet_css_inline")
    for name in ("leaflet.js", "jquery.min.js"):
        js = (ASSETS / name).read_text(encoding="utf-8").replace("</script", "<\\/script")
        header.add_child(Raw(f"<script>{js}</script>"), name=f"{name}_inline")


def check_offline(text: str) -> str:
    """Refuse to write an "offline" map that still loads scripts or styles from the web.

    Parameters
    ----------
    text
        The rendered HTML.

    Returns
    -------
    str
        ``text``.

    Raises
    ------
    RuntimeError
        A script or stylesheet is linked from the web, or an unvendored plugin is used.
    """
    remote = re.findall(r"<(?:script[^>]*\ssrc|link[^>]*\shref)=\"?(https?://[^\"\s>]+)", text)
    if remote:
        raise RuntimeError(f"inline_assets map still references {remote}")
    if "L.AwesomeMarkers" in text:
        raise RuntimeError("inline_assets map uses Leaflet.awesome-markers, which is not vendored")
    return text


def add_style(m: folium.Map) -> None:
    """The CSS of gap and site labels, the panels and the legend, into the page header.

    Parameters
    ----------
    m
        The map.
    """
    m.get_root().header.add_child(Raw(
        "<style>"
        ".cc-gap{background:#fff;border:2px solid " + GAP_COLOR + ";border-radius:50%;color:" + GAP_COLOR
        + ";font:bold 11px/18px sans-serif;text-align:center;width:18px;height:18px}"
        ".cc-site-sw{font-size:10px!important;line-height:14px!important}"
        ".cc-site,.cc-site-sw{background:" + SITE_COLOR + ";color:#fff;border:2px solid #fff;border-radius:4px;"
        "box-shadow:0 0 3px #000;font:bold 12px/18px sans-serif;text-align:center;white-space:nowrap;padding:0 3px}"
        ".leaflet-control-layers-list{font:12px/1.4 sans-serif}"
        # Leaflet 1.9 sizes text in rem (16 px without Bootstrap, which the map no longer loads)
        ".leaflet-container{font-size:12px}.leaflet-popup-content{font:12px/1.35 sans-serif;margin:10px 14px}"
        ".leaflet-popup-content td{vertical-align:top}.leaflet-tooltip{font:12px/1.3 sans-serif}"
        ".cc-tip table{margin:auto}.cc-tip tr{text-align:left}.cc-tip th{padding:2px 8px 2px 2px}"
        ".cc-panel{background:rgba(255,255,255,.94);border:1px solid #999;border-radius:4px;"
        "font:12px/1.4 sans-serif;padding:6px 9px;max-width:330px;box-shadow:0 1px 4px rgba(0,0,0,.3)}"
        ".cc-panel summary{cursor:pointer;font-weight:bold;outline:none}"
        "#cc-title summary{font-size:13px;max-width:300px}"
        "#cc-title table{margin-top:4px}#cc-title td{vertical-align:top}"
        "#cc-legend .cc-lg-body{overflow-y:auto;margin-top:3px}"
        ".cc-lg-row{display:flex;align-items:flex-start;gap:5px;margin:1px 0}"
        ".cc-lg-row>span:first-child{margin-top:3px}"
        ".cc-lg-note{color:#555;margin:0 0 2px 19px;font-size:11px}"
        ".cc-sw{display:inline-block;flex:none;width:14px;height:10px}"
        ".cc-dot{display:inline-block;flex:none;width:10px;height:10px;border-radius:50%;border:1px solid #333}"
        ".cc-circle-pt{background:" + CIRCLE_COLOR + ";border:1.5px solid " + CIRCLE_RING + "}"
        ".cc-ramp{display:flex;margin-left:19px}.cc-ramp span{flex:1;min-width:34px;text-align:center;"
        "font-size:10px;padding:0 1px}"
        "</style>"), name="cc_style")


def view_bounds(bounds: list[np.ndarray]) -> list[list[float]] | None:
    """The initial view: the bounds of everything drawn, as Leaflet takes them.

    Parameters
    ----------
    bounds
        ``[minx, miny, maxx, maxy]`` arrays, one per layer or marker.

    Returns
    -------
    list or None
        ``[[south, west], [north, east]]`` (``None`` when nothing with finite bounds was drawn).
    """
    b = np.vstack(bounds) if bounds else np.zeros((0, 4))
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        return None
    return [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]
