"""The map's controls: a layer control collapsed on narrow screens, the title block and the
legend as collapsible Leaflet controls, a metric scale, and the initial view.

Everything is a Leaflet control, so Leaflet stacks the controls of one corner instead of
letting them overlap (the scale sits below the legend, the title block below the zoom
buttons). The script rendered here also

* shows a legend entry only while its layer is on the map (the legend lists exactly the
  layers drawn: :attr:`MapContext.legend <carecover.outputs.maps.base.MapContext>`),
* pans an opened popup clear of every panel (collapsing the panels when there is no room),
* fits the initial view to everything drawn, inside the part of the map no panel covers.
"""

from __future__ import annotations

import html
import json
import re

import branca.element
import folium
from folium.template import Template

from carecover.outputs.bundle import tr
from carecover.outputs.maps.base import MapContext, view_bounds
from carecover.outputs.maps.jsdata import RawMacro
from carecover.outputs.maps.popups import esc

#: Below this window width (px) the layer control starts collapsed and the title block
#: closed (a projector's 1280×720, a laptop's 1366 or 1440 px).
WIDE_PX = 1600

_CONTROL_TEMPLATE = """
{% macro script(this, kwargs) %}
    var {{ this.get_name() }}_layers = {
        base_layers : {
            {%- for key, val in this.base_layers.items() %}
            {{ key|tojson }} : {{val}},
            {%- endfor %}
        },
        overlays :  {
            {%- for key, val in this.overlays.items() %}
            {{ key|tojson }} : {{val}},
            {%- endfor %}
        },
    };
    let {{ this.get_name() }} = L.control.layers(
        {{ this.get_name() }}_layers.base_layers,
        {{ this.get_name() }}_layers.overlays,
        Object.assign({{ this.options|tojavascript }}, {collapsed: window.innerWidth < {{ this.wide_px }}})
    ).addTo({{this._parent.get_name()}});
{% endmacro %}
"""

_PANELS_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var ctl = {{ this.control }};
  var overlays = {{ this.control }}_layers.overlays;
  var wide = window.innerWidth >= {{ this.wide_px }};
  function panel(id, content, pos) {
    var C = L.Control.extend({onAdd: function () {
      var d = L.DomUtil.create('div', 'cc-panel');
      d.id = id;
      d.innerHTML = content;
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }});
    return new C({position: pos}).addTo(map);
  }
  panel('cc-title', {{ this.info_js }}, 'topleft');
  L.control.scale({imperial: false, maxWidth: 160, position: 'bottomleft'}).addTo(map);
  panel('cc-legend', {{ this.legend_js }}, 'bottomleft');
  document.querySelector('#cc-title details').open = wide;

  function syncLegend() {
    document.querySelectorAll('#cc-legend [data-layer]').forEach(function (el) {
      var lyr = overlays[el.getAttribute('data-layer')];
      el.style.display = lyr && map.hasLayer(lyr) ? '' : 'none';
    });
  }
  // the legend scrolls within the height left between the title block and the scale
  function fitLegend() {
    var body = document.querySelector('#cc-legend .cc-lg-body');
    var title = document.getElementById('cc-title').getBoundingClientRect();
    var legend = document.getElementById('cc-legend').getBoundingClientRect();
    var scale = document.querySelector('.leaflet-control-scale').getBoundingClientRect();
    var chrome = legend.height - body.getBoundingClientRect().height;  // header and padding
    body.style.maxHeight = Math.max(60, scale.top - title.bottom - 20 - chrome) + 'px';
  }
  map.on('overlayadd overlayremove', function () { syncLegend(); fitLegend(); });
  document.querySelector('#cc-title details').addEventListener('toggle', fitLegend);
  syncLegend();
  fitLegend();

  // rectangles of the panels (every control but the attribution line)
  function panelRects() {
    return Array.prototype.slice.call(
      document.querySelectorAll('.leaflet-control-container .leaflet-control:not(.leaflet-control-attribution)'))
      .map(function (p) { return p.getBoundingClientRect(); })
      .filter(function (r) { return r.width > 0 && r.height > 0; });
  }
  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }
  // the smallest shift [dx, dy] (px) that moves rect r inside the map and clear of every
  // panel, or null when there is none
  function clearShift(r) {
    var box = map.getContainer().getBoundingClientRect();
    var ps = panelRects(), m = 6;
    var xs = [0, box.left - r.left + m, box.right - r.right - m];
    var ys = [0, box.top - r.top + m, box.bottom - r.bottom - m - 20];
    ps.forEach(function (p) {
      xs.push(p.right - r.left + m, p.left - r.right - m);
      ys.push(p.bottom - r.top + m, p.top - r.bottom - m);
    });
    var best = null;
    xs.forEach(function (dx) { ys.forEach(function (dy) {
      var s = {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
      if (s.left < box.left || s.right > box.right || s.top < box.top || s.bottom > box.bottom) return;
      if (ps.some(function (p) { return overlaps(s, p); })) return;
      var cost = Math.abs(dx) + Math.abs(dy);
      if (best === null || cost < best[2]) best = [dx, dy, cost];
    }); });
    return best;
  }
  function clearPopup(popup) {
    var el = popup.getElement();
    if (!el || !map.hasLayer(popup)) return;
    var s = clearShift(el.getBoundingClientRect());
    if (s === null) {  // no room beside the panels: fold them away
      document.querySelectorAll('.cc-panel details').forEach(function (d) { d.open = false; });
      ctl.collapse();
      s = clearShift(el.getBoundingClientRect());
    }
    if (s !== null && (s[0] || s[1])) map.panBy([-s[0], -s[1]], {animate: false});
  }
  map.on('popupopen', function (e) { setTimeout(function () { clearPopup(e.popup); }, 350); });

  // initial view: everything drawn, inside the part of the map no panel covers
  var bounds = {{ this.bounds_js }};
  map.options.zoomSnap = 0.25;  // a tighter fit than whole zoom levels
  if (bounds) {
    var box = map.getContainer().getBoundingClientRect(), left = 0, right = 0;
    panelRects().forEach(function (p) {
      if (p.left + p.width / 2 < box.left + box.width / 2) left = Math.max(left, p.right - box.left);
      else right = Math.max(right, box.right - p.left);
    });
    map.fitBounds(bounds, {paddingTopLeft: [left + 12, 12], paddingBottomRight: [right + 12, 28]});
  }
  window.ccMap = {map: map, control: ctl, overlays: overlays, clearShift: clearShift};
})();
{% endmacro %}
"""


class LayerControl(folium.LayerControl, RawMacro):
    """folium's layer control, collapsed when the window is narrower than ``wide_px``.

    Parameters
    ----------
    wide_px
        Window width (px) from which the control starts expanded.
    """

    _template = Template(_CONTROL_TEMPLATE)

    def __init__(self, wide_px: int = WIDE_PX) -> None:
        super().__init__(position="topright", collapsed=True)
        self.wide_px = int(wide_px)


class Panels(RawMacro):
    """The title block, scale and legend controls and the script described in the module
    docstring.

    Parameters
    ----------
    control
        The map's layer control (rendered before this element).
    info, legend
        HTML of the title block and of the legend.
    bounds
        The initial view (:func:`~carecover.outputs.maps.base.view_bounds`).
    wide_px
        As :class:`LayerControl` takes it.
    """

    _template = Template(_PANELS_TEMPLATE)

    def __init__(self, control: LayerControl, info: str, legend: str, bounds: list | None,
                 wide_px: int = WIDE_PX) -> None:
        super().__init__()
        self._name = "Panels"
        self.control = control.get_name()
        self.info_js, self.legend_js = js_string(info), js_string(legend)
        self.bounds_js = json.dumps(bounds)
        self.wide_px = int(wide_px)


def js_string(text: str) -> str:
    """``text`` as a JavaScript string literal that is safe inside ``<script>`` (Chinese kept
    readable in the file).

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        A double-quoted literal.
    """
    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/").replace("\u2028", "\\u2028")


def legend_html(ctx: MapContext) -> str:
    """The legend: one block per overlay drawn (``ctx.legend``), each shown while its layer is.

    Parameters
    ----------
    ctx
        The map's context, after every layer was drawn.

    Returns
    -------
    str
        HTML (inside ``#cc-legend``).
    """
    rows = "".join(f"<div class='cc-lg' data-layer=\"{html.escape(name, quote=True)}\">{entry}</div>"
                   for name, entry in ctx.legend)
    return (f"<details open><summary>{esc(tr('图例', 'Legend', ctx.lang))}</summary>"
            f"<div class='cc-lg-body'>{rows}</div></details>")


def add_controls(m: folium.Map, ctx: MapContext, info: str) -> None:
    """Add the layer control, the title block, the scale, the legend and the initial view.

    Parameters
    ----------
    m
        The map, with every layer drawn.
    ctx
        Its context (legend entries and bounds of the layers).
    info
        HTML of the title block (a ``<details>`` element).
    """
    control = LayerControl()
    control.add_to(m)
    Panels(control, info, legend_html(ctx), view_bounds(ctx.bounds)).add_to(m)


def panel_html(text: str, panel_id: str) -> str:
    """The HTML of a panel (``"cc-title"`` or ``"cc-legend"``) in a rendered map.

    Parameters
    ----------
    text
        The map's HTML.
    panel_id
        The panel's id.

    Returns
    -------
    str
        Its HTML ("" when the map has no such panel).
    """
    m = re.search(r"panel\('" + panel_id + r"', (\".*?(?<!\\)\"), '(?:top|bottom)left'\)", text)
    return json.loads(m.group(1).replace("<\\/", "</")) if m else ""


def legend_names(text: str) -> list[str]:
    """The layer names of the legend entries of a rendered map (for tests and checks).

    Parameters
    ----------
    text
        The map's HTML.

    Returns
    -------
    list of str
        In legend order.
    """
    return [html.unescape(n) for n in re.findall(r'data-layer="([^"]*)"', panel_html(text, "cc-legend"))]
