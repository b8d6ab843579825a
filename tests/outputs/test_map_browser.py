"""The demo map in real headless Chromium (Debian's ``chromium``; CI installs it), opened offline
as a planner would, on a projector (1280×720) and a large screen (1920×1080).

Checked: nothing but basemap tiles is requested from the network; no JavaScript errors; the
layer control is collapsed on the projector and open on the large screen; no panel covers a
suggested site at start or an opened popup; the legend lists exactly the layers drawn (also
after a layer is switched on); the scale is metric and clear of the legend; the page has a
title. Screenshots are written as test artifacts into pytest's temporary folder and copied to
a stable folder, printed and recorded as the ``map_screenshots`` property:
``$CARECOVER_SCREENSHOT_DIR``, else ``<system temp>/carecover-map-screenshots``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from browser import chromium_path, open_page

#: Tile servers a map may ask for (the only requests allowed to leave the machine).
TILE_URL = re.compile(r"^https://([a-d]\.)?(tile\.openstreetmap\.org|basemaps\.cartocdn\.com)/"
                      r"(light_all/)?\d+/\d+/\d+(@2x)?\.png$|^https://webrd0[1-4]\.is\.autonavi\.com/appmaptile\?")
LOCAL_URL = re.compile(r"^(file|data|about|blob):")

#: Rectangles of every panel (Leaflet control but the one-line attribution), in page pixels.
PANELS_JS = """(() => [...document.querySelectorAll(
    '.leaflet-control-container .leaflet-control:not(.leaflet-control-attribution)')]
  .map(p => p.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0)
  .map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom})))()"""

#: Suggested-site labels that a panel covers (at least partly).
SITES_COVERED_JS = """(() => {
  const ps = PANELS;
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return [...document.querySelectorAll('.cc-site')].map(s => s.getBoundingClientRect())
    .filter(r => ps.some(p => hit(r, p))).map(r => [r.left, r.top]);
})()""".replace("PANELS", PANELS_JS)

#: Open the popup of every site and facility marker shown, one after the other; report each
#: popup that a panel covers or that leaves the map after the map's own adjustment.
POPUPS_JS = """(async () => {
  const cc = window.ccMap, out = [], wait = ms => new Promise(r => setTimeout(r, ms));
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const markers = [];
  for (const [name, layer] of Object.entries(cc.overlays)) {
    if (!cc.map.hasLayer(layer)) continue;
    layer.eachLayer(l => { if (l.getPopup && l.getPopup() && l.getLatLng) markers.push([name, l]); });
  }
  for (const [name, m] of markers) {
    m.openPopup();
    await wait(500);
    const el = m.getPopup().getElement();
    const r = el.getBoundingClientRect(), box = cc.map.getContainer().getBoundingClientRect();
    const ps = PANELS;
    const covered = ps.filter(p => hit(r, p)).length;
    const outside = r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom;
    if (covered || outside) out.push({layer: name, covered: covered, outside: outside,
                                       text: el.innerText.slice(0, 40)});
    m.closePopup();
  }
  return {opened: markers.length, bad: out};
})()""".replace("PANELS", PANELS_JS)

#: Legend entries shown, and the overlays on the map (names as in the layer control).
LEGEND_JS = """(() => ({
  legend: [...document.querySelectorAll('#cc-legend [data-layer]')]
      .filter(e => e.style.display !== 'none').map(e => e.getAttribute('data-layer')),
  legend_all: [...document.querySelectorAll('#cc-legend [data-layer]')].map(e => e.getAttribute('data-layer')),
  drawn: Object.entries(window.ccMap.overlays).filter(([n, l]) => window.ccMap.map.hasLayer(l)).map(([n]) => n),
  overlays: Object.keys(window.ccMap.overlays),
}))()"""

#: Switch every hidden overlay on, then report legend and overlays again.
ALL_ON_JS = """(() => {
  for (const l of Object.values(window.ccMap.overlays)) window.ccMap.map.addLayer(l);
  return LEGEND;
})()""".replace("LEGEND", LEGEND_JS)

SCALE_JS = """(() => {
  const s = document.querySelector('.leaflet-control-scale'), g = document.getElementById('cc-legend');
  const a = s.getBoundingClientRect(), b = g.getBoundingClientRect();
  return {lines: [...s.querySelectorAll('.leaflet-control-scale-line')].map(e => e.innerText),
          overlaps: a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom};
})()"""


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("map-screenshots")


@pytest.fixture(scope="module")
def stable_dir(record_testsuite_property) -> Path:
    """Where the screenshots are kept after the run (pytest rotates its temporary folders)."""
    d = Path(os.environ.get("CARECOVER_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "carecover-map-screenshots")
    d.mkdir(parents=True, exist_ok=True)
    print(f"\nmap screenshots: {d}")
    record_testsuite_property("map_screenshots", str(d))
    return d


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1280, 720), (1920, 1080)])
def test_demo_map_offline_on_screens(demo_out: Path, screenshot_dir: Path, stable_dir: Path, width: int,
                                     height: int) -> None:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    shot = screenshot_dir / f"demo_map_{width}x{height}.png"
    after = screenshot_dir / f"demo_map_{width}x{height}_all_layers.png"
    res = open_page(demo_out / "map.html", width=width, height=height, screenshot=shot,
                    final_screenshot=after, evaluate={
        "title": "document.title",
        "collapsed": "!document.querySelector('.leaflet-control-layers')"
                     ".classList.contains('leaflet-control-layers-expanded')",
        "sites": "document.querySelectorAll('.cc-site').length",
        "sites_covered": SITES_COVERED_JS,
        "legend": LEGEND_JS,
        "scale": SCALE_JS,
        "popups": POPUPS_JS,
        "all_on": ALL_ON_JS,
    })
    assert res.js_errors == [] and res.console_errors == []
    # offline: the page itself, and nothing but tiles from the network
    remote = [u for u in res.requests if not LOCAL_URL.match(u)]
    assert remote, "the map asked for no basemap tiles at all"
    assert [u for u in remote if not TILE_URL.match(u)] == []
    v = res.values
    # the title names the threshold the demo runs (5 minutes), not 一刻钟
    assert ("5 分钟" in v["title"] or "5-minute" in v["title"]) and "一刻钟" not in v["title"]
    assert v["collapsed"] is (width < 1600)
    # the suggested sites are drawn and none is under a panel
    assert v["sites"] == 2 and v["sites_covered"] == []
    # every popup of a shown marker opens clear of the panels and inside the map
    assert v["popups"]["opened"] >= 16 and v["popups"]["bad"] == []
    # the legend lists exactly the layers on the map, in both states
    for state in ("legend", "all_on"):
        lg = v[state]
        assert lg["legend"] == [n for n in lg["legend_all"] if n in lg["drawn"]], state
        assert sorted(lg["legend"]) == sorted(lg["drawn"]), state
        assert sorted(lg["legend_all"]) == sorted(lg["overlays"]), state
    assert len(v["legend"]["drawn"]) < len(v["legend"]["overlays"]) == len(v["all_on"]["drawn"])
    # a metric scale (no feet), clear of the legend
    assert len(v["scale"]["lines"]) == 1 and re.fullmatch(r"\d+ k?m", v["scale"]["lines"][0])
    assert not v["scale"]["overlaps"]
    assert shot.stat().st_size > 20_000 and after.stat().st_size > 20_000
    for p in (shot, after):
        shutil.copy(p, stable_dir / p.name)
