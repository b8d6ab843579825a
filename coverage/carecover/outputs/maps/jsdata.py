"""Layers drawn from one JSON data array each, by a small script in the page header.

folium renders every marker, popup and tooltip through its own Jinja template; at city scale
(1,105 facilities, their load markers, gap labels, sites) that was most of a map's build time
(issue 14). Here a layer is one element whose script is a single call, ``ccPoints(group,
DATA)`` or ``ccGeo(group, GEOJSON, OPTIONS)``; the functions in :data:`JS` make the markers,
popups and tooltips in the browser.

Escaping. Popup and tooltip text is HTML built in Python with every input-derived part
escaped (:func:`~carecover.outputs.maps.popups.esc`); Leaflet sets it as ``innerHTML``. The
JSON is written as :func:`safe_json` writes it: ``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes,
so no text can end the ``<script>`` element it sits in.
"""

from __future__ import annotations

import json
import re
from typing import Any

import branca.element
import folium
import numpy as np
import shapely
from folium.template import Template

_HTML_SAFE = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027"))
#: NaN and Infinity are written as JavaScript reads them (the data is a script literal, as folium's was)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

#: The functions every data layer calls (added once to the page header).
JS = """<script>
function ccTable(labels, rows) {
  return '<table>' + rows.map(function (r) {
    return "<tr><td style='color:#555;padding-right:6px'>" + labels[r[0]] + '</td><td>' + r[1] + '</td></tr>';
  }).join('') + '</table>';
}
function ccPoints(group, d) {
  d.p.forEach(function (p) {
    var m;
    if (d.i) {
      m = L.marker([p[0], p[1]], {icon: L.divIcon({html: d.i.pre + p[4] + d.i.post, iconSize: d.i.size,
                                                  iconAnchor: d.i.anchor, className: d.i.cls})});
    } else {
      m = L.circleMarker([p[0], p[1]], p[4] ? Object.assign({}, d.s, p[4]) : d.s);
    }
    if (p[3]) m.bindPopup(ccTable(d.l, p[3]), {maxWidth: d.mw});
    if (p[2]) m.bindTooltip('<div>' + p[2] + '</div>', {sticky: true});
    group.addLayer(m);
  });
}
function ccGeo(group, fc, o) {
  var opts = {};
  if (o.s || o.sp) opts.style = function (f) {
    var s = Object.assign({}, o.s || {});
    for (var k in o.sp || {}) s[k] = f.properties[o.sp[k]];
    return s;
  };
  if (o.pt) opts.pointToLayer = function (f, ll) { return L.circleMarker(ll, o.pt); };
  if (o.ni) opts.interactive = false;
  if (o.cv) opts.renderer = L.canvas({padding: 0.5});
  var g = L.geoJson(fc, opts);
  if (o.t) g.bindTooltip(function (l) {
    var p = l.feature.properties;
    return '<table>' + o.t.f.map(function (k, i) {
      var v = p[k] == null ? '' : p[k];
      return '<tr>' + (o.t.a ? '<th>' + o.t.a[i] + '</th>' : '') + '<td>' + v + '</td></tr>';
    }).join('') + '</table>';
  }, {sticky: true, className: 'cc-tip'});
  group.addLayer(g);
}
</script>"""


class Raw(branca.element.Element):
    """Page text written as it is (a ``branca.element.Element`` compiles its text as a Jinja
    template: seconds for the inlined Leaflet and jQuery).

    Parameters
    ----------
    text
        HTML.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """The text."""
        return self.text


class RawMacro(folium.MacroElement):
    """A ``MacroElement`` whose rendered header, html and script go into the page as text.

    branca adds them as new ``Element`` s, which compile their text as a Jinja template again:
    megabytes of layer data were lexed for seconds, and text from an input holding ``{{ … }}``
    would have been evaluated by Jinja.
    """

    def render(self, **kwargs: Any) -> None:
        """Render into the page (children after)."""
        figure = self.get_root()
        module = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            if module.get(part) is not None:
                target.add_child(Raw(module[part](self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


def safe_json(obj: Any) -> str:
    """JSON that can stand inside an HTML ``<script>`` element.

    Parameters
    ----------
    obj
        Any JSON-serialisable value.

    Returns
    -------
    str
        Compact JSON (UTF-8 text kept) with ``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes.
    """
    text = _ENCODER.encode(obj)
    for ch, sub in _HTML_SAFE:
        text = text.replace(ch, sub)
    return text


def add_script(m: folium.Map) -> None:
    """Add :data:`JS` to the page header (once).

    Parameters
    ----------
    m
        The map.
    """
    header = m.get_root().header
    if "cc_layers_js" not in header._children:
        header.add_child(Raw(JS), name="cc_layers_js")


def feature_collection_json(geoms: np.ndarray, props: list[dict]) -> str:
    """A GeoJSON FeatureCollection of the non-empty geometries with their properties, as
    :func:`safe_json` text (geometries written by GEOS, vectorised).

    Parameters
    ----------
    geoms
        Shapely geometries (``None`` or empty ones are left out).
    props
        One properties dict per geometry.

    Returns
    -------
    str
        JSON text.
    """
    geoms = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    texts = shapely.to_geojson(geoms[keep])
    encode = _ENCODER.encode
    feats = [f'{{"type":"Feature","properties":{encode(p)},"geometry":{g}}}'
             for g, p in zip(texts, (p for p, k in zip(props, keep, strict=True) if k), strict=True)]
    # made safe once, not per feature: GEOS's geometry text and the frame hold none of the characters
    text = '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"
    for ch, sub in _HTML_SAFE:
        text = text.replace(ch, sub)
    return text


class GeoLayer(RawMacro):
    """A GeoJSON layer inside a feature group, styled and with tooltips from its properties.

    Parameters
    ----------
    data
        FeatureCollection text (:func:`feature_collection_json`).
    style
        Leaflet path options shared by every feature.
    style_props
        Path option -> property whose value it takes per feature (e.g. ``{"fillColor": "c"}``).
    tooltip
        Property names shown in a sticky tooltip table (their values are HTML: escape input text).
    aliases
        Row labels of the tooltip (constant text, escaped here); ``None``: values only.
    point
        Circle-marker options for point features.
    interactive
        ``False``: no tooltips, clicks pass through.
    canvas
        Draw on a canvas renderer (thousands of lines stay fast).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    ccGeo({{ this._parent.get_name() }}, {{ this.data }}, {{ this.options }});
{% endmacro %}
""")

    def __init__(self, data: str, *, style: dict | None = None, style_props: dict[str, str] | None = None,
                 tooltip: list[str] | None = None, aliases: list[str] | None = None, point: dict | None = None,
                 interactive: bool = True, canvas: bool = False) -> None:
        from carecover.outputs.maps.popups import esc

        super().__init__()
        self._name = "GeoLayer"
        opts: dict[str, Any] = {}
        if style:
            opts["s"] = style
        if style_props:
            opts["sp"] = style_props
        if point:
            opts["pt"] = point
        if tooltip:
            opts["t"] = {"f": tooltip, "a": [esc(a) for a in aliases] if aliases is not None else None}
        if not interactive:
            opts["ni"] = 1
        if canvas:
            opts["cv"] = 1
        self.data = data
        self.options = safe_json(opts)


class PointLayer(RawMacro):
    """Markers inside a feature group from one data array: circle markers (``style``) or
    labelled badges (``icon``), each with its tooltip and popup table.

    Parameters
    ----------
    points
        ``(lat, lon, tooltip HTML or "", popup rows or None, extra)`` per marker: popup rows
        are ``(label, value HTML)`` pairs (labels escaped here, values escaped by the caller);
        ``extra`` is a dict of circle-marker options for this marker, or the badge's text.
    style
        Circle-marker options shared by all markers (``className`` names the kind).
    icon
        Badge markers instead: ``{"cls": icon class, "pre": html before the text, "post": html
        after it, "size": [w, h], "anchor": [x, y]}`` (constant HTML, no input text).
    max_width
        Popup width (px).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    ccPoints({{ this._parent.get_name() }}, {{ this.data }});
{% endmacro %}
""")

    def __init__(self, points: list[tuple], *, style: dict | None = None, icon: dict | None = None,
                 max_width: int = 300) -> None:
        from carecover.outputs.maps.popups import esc

        super().__init__()
        self._name = "PointLayer"
        labels: dict[str, int] = {}
        rows_out = []
        for lat, lon, tip, rows, extra in points:
            table = None if rows is None else [[labels.setdefault(esc(k), len(labels)), v] for k, v in rows]
            rows_out.append([lat, lon, tip, table, extra])
        data: dict[str, Any] = {"l": list(labels), "mw": max_width, "p": rows_out}
        if icon is not None:
            data["i"] = icon
        else:
            data["s"] = style or {}
        self.data = safe_json(data)


_POINTS = re.compile(r"ccPoints\(\w+, (\{.*\})\);$", flags=re.M)


def point_layers(text: str) -> list[dict]:
    """The data of every :class:`PointLayer` in a written map.

    Parameters
    ----------
    text
        The map's HTML.

    Returns
    -------
    list of dict
        ``s`` (shared style) or ``i`` (badge), ``l`` (popup labels), ``p`` (markers:
        ``[lat, lon, tooltip, popup rows, extra]``), in drawing order.
    """
    return [json.loads(m) for m in _POINTS.findall(text)]
