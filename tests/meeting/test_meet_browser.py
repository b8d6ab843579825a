"""``carecover meet`` driven in headless Chromium (Debian's, through Playwright): click to add,
toggle, drag, undo/redo, save, compare, two tabs, bad coordinates; the numbers on the page equal
the what-if engine's (what ``carecover whatif`` prints) and the plan's own figures.

Screenshots at 1280×720 and 1920×1080 are written to ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from carecover.meeting.common import summary_figure
from carecover.siting.state import load_state, load_summary
from carecover.siting.whatif import Session

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed")

MONACO_REGISTER = """编号,名称,层级,经度,纬度
M1,社区站1,社区养老服务站,7.4173948,43.7416784
M2,社区站2,社区养老服务站,7.4353233,43.7484545
M3,社区站3,社区养老服务站,7.3995086,43.7358152
M4,助餐点1,老年助餐点,7.4236041,43.7331004
"""


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def _serve(out: Path, lang: str = "zh"):
    from carecover.meeting.meet import build_room
    from carecover.meeting.server import start

    room = build_room(out)
    served, url = start(room, lang=lang)
    return room, served, url


@pytest.fixture(scope="module")
def demo_meet(meeting_out: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("meetdemo") / "demo"
    shutil.copytree(meeting_out, out)
    room, served, url = _serve(out)
    yield out, room, url
    served.stop()


@pytest.fixture(scope="module")
def monaco_meet(monaco_pbf: Path, tmp_path_factory):
    from carecover import cli

    d = tmp_path_factory.mktemp("meetmonaco")
    reg = d / "register.csv"
    reg.write_text(MONACO_REGISTER, encoding="utf-8")
    out = d / "out"
    with contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["--quiet", "plan", "--network", str(monaco_pbf), "--facilities", str(reg),
                         "--total-population", "38000", "--suggest", "community_centre=2", "--out", str(out)]) == 0
    room, served, url = _serve(out, lang="en")
    yield out, room, url
    served.stop()


def _open(browser, url: str, width: int = 1280, height: int = 720):
    # the page's CSP forbids eval: Playwright's wait_for_function needs it
    page = browser.new_page(viewport={"width": width, "height": height}, bypass_csp=True)
    page.set_default_timeout(300_000)  # a hang guard only: a loaded machine is slow, not wrong
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.meet && window.meet.view !== null")
    page.wait_for_function("window.meet.streetsShown > 0")  # the streets under the points are drawn
    page.errors = errors
    return page


def _act_done(page, n_before: int) -> None:
    page.wait_for_function(f"window.meet.timings.length > {n_before} && window.meet.pending === 0")


def _click_lonlat(page, lon: float, lat: float) -> None:
    n = page.evaluate("window.meet.timings.length")
    pt = page.evaluate(f"(() => {{ const p = window.meet.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])
    _act_done(page, n)


def _act(page, body: str) -> None:
    n = page.evaluate("window.meet.timings.length")
    page.evaluate(f"window.meet.act({body})")
    _act_done(page, n)


def _view(page) -> dict:
    return page.evaluate("window.meet.view")


def _shown_people(page, pop: str) -> int:
    return int(page.locator(f'[data-count="{pop}"]').inner_text().split()[0].replace(",", "").replace("人", ""))


def _session_after(out: Path, tier: str, view: dict) -> Session:
    """The what-if engine (``carecover whatif``'s) on the page's scenario, applied as CLI steps."""
    s = Session(load_state(out, tier), base="current")
    for i in view["scenario"]["existing_off"]:
        s.remove_existing(str(s.state.existing_fid[i]))
    for k in view["scenario"]["candidates_on"]:
        s.add_candidate(k)
    for lon, lat in view["scenario"]["points"]:
        s.add_point(lon, lat)
    return s


def _demand_point(room, tier: str, i: int = 0) -> tuple[float, float]:
    st = room.tier(tier).state
    return float(st.demand_lon[i]), float(st.demand_lat[i])


def test_demo_click_toggle_drag_undo_save_compare(browser, demo_meet) -> None:
    out, room, url = demo_meet
    tier = "street_centre"
    page = _open(browser, url)
    assert page.locator("#title").inner_text().startswith("carecover 会议室")
    lon, lat = _demand_point(room, tier, 40)
    _click_lonlat(page, lon, lat)
    v = _view(page)
    assert len(v["scenario"]["points"]) == 1 and v["sites"][0]["name"].startswith("新增点")
    s = _session_after(out, tier, v)
    assert v["with"]["covered"]["elderly"] == pytest.approx(s.steps[-1].covered["elderly"], rel=1e-12)
    assert _shown_people(page, "elderly") == round(s.steps[-1].covered["elderly"])
    assert v["with"]["gained_elderly"] - v["with"]["lost_elderly"] == pytest.approx(
        s.steps[-1].covered["elderly"] - s.steps[0].covered["elderly"])
    # switch the plan's ★1 on by clicking its marker
    n = page.evaluate("window.meet.timings.length")
    page.locator(".site-icon.star").first.click()
    _act_done(page, n)
    v = _view(page)
    assert len(v["scenario"]["candidates_on"]) == 1
    assert any(x["name"].startswith("★") for x in v["sites"])
    assert v["with"]["covered"]["elderly"] == pytest.approx(_session_after(out, tier, v).steps[-1].covered["elderly"])
    # drag the new point elsewhere: it moves (routed again), the old position is gone
    icon = page.locator(".site-icon.point").first.bounding_box()
    n = page.evaluate("window.meet.timings.length")
    page.mouse.move(icon["x"] + 10, icon["y"] + 10)
    page.mouse.down()
    page.mouse.move(icon["x"] + 60, icon["y"] + 50, steps=8)
    page.mouse.up()
    _act_done(page, n)
    moved = _view(page)
    assert len(moved["scenario"]["points"]) == 1 and moved["scenario"]["points"][0] != v["scenario"]["points"][0]
    assert moved["with"]["covered"]["elderly"] == pytest.approx(
        _session_after(out, tier, moved).steps[-1].covered["elderly"])
    # undo the drag, redo it
    page.locator("#undo").click()
    page.wait_for_function("window.meet.view.scenario.points.length === 1 && "
                           f"window.meet.view.scenario.points[0][0] === {v['scenario']['points'][0][0]}")
    page.locator("#redo").click()
    page.wait_for_function(f"window.meet.view.scenario.points[0][0] === {moved['scenario']['points'][0][0]}")
    # save, compare
    page.locator("#sname").fill("东区 方案A")
    n = page.evaluate("window.meet.timings.length")
    page.locator("#savebtn").click()
    _act_done(page, n)
    saved = out / "scenarios" / f"{tier}--东区_方案A.json"
    assert saved.is_file() and "东区 方案A" in _view(page)["saved"]
    page.locator("#comparebtn").click()
    page.wait_for_selector("#compare tr[data-key='saved']")
    assert "东区 方案A" in page.locator("#compare").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meet_demo_1280x720.png"))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(ARTIFACTS / "meet_demo_1920x1080.png"))
    # the plan's sites: the page's figure equals the plan's own (summary.json, the siting model)
    _act(page, "{action: 'plan'}")
    planned = summary_figure(load_summary(out), tier, "planned", "elderly")
    assert _view(page)["with"]["covered"]["elderly"] == pytest.approx(planned.covered, rel=1e-9)
    page.evaluate("window.meet.buildHandout()")
    page.emulate_media(media="print")
    assert page.locator(".hpage").count() >= 3
    page.pdf(path=str(ARTIFACTS / "meet_demo_handout.pdf"), format="A4")
    page.screenshot(path=str(ARTIFACTS / "meet_demo_print.png"), full_page=True)
    assert not page.errors


#: Painted pixels of the streets' canvas (the pane under the demand points).
STREET_PIXELS = """(() => {
  const pane = document.querySelector('.leaflet-streets-pane'), c = pane.querySelector('canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  return [n, Number(getComputedStyle(pane).zIndex)];
})()"""


def test_streets_are_drawn_without_tiles(browser, demo_meet) -> None:
    from carecover.meeting.streets import MEET_STREET_VERTICES, streets_geojson

    _, room, url = demo_meet
    page = _open(browser, url)
    assert not page.locator("#tiles").is_checked()  # offline: no basemap
    tier = page.evaluate("window.meet.tier")
    fc = page.evaluate("window.meet.streets[window.meet.layers.mode]")
    # the maps' street layer of the tier's own (warm) network, simplified to the page's budget
    assert fc == streets_geojson(room.tier(tier).state.network())
    assert {f["properties"]["kind"] for f in fc["features"]} >= {"major", "minor"}
    assert 1000 < fc["vertices"] <= MEET_STREET_VERTICES
    pixels, z = page.evaluate(STREET_PIXELS)
    overlay = int(page.evaluate("getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex"))
    assert pixels > 5000 and z < overlay  # drawn, and under the demand points
    # the handout's picture draws them too (the tier's layer is cached per travel mode)
    page.evaluate("window.meet.buildHandout()")
    assert page.locator(".hpage img").count() >= 1
    assert not page.errors


def test_bad_coordinates_are_refused_on_the_page(browser, demo_meet) -> None:
    _, _, url = demo_meet
    page = _open(browser, url)
    before = _view(page)["scenario"]
    _act(page, "{action: 'add', lon: NaN, lat: 60.1}")
    assert "坐标" in page.locator("#message").inner_text()
    _act(page, "{action: 'add', lon: 116.4, lat: 39.9}")
    assert "规划范围之外" in page.locator("#message").inner_text()
    assert _view(page)["scenario"] == before


def test_two_tabs_stay_consistent(browser, demo_meet) -> None:
    _, room, url = demo_meet
    a, b = _open(browser, url), _open(browser, url)
    before = _view(a)["scenario"]
    lon, lat = _demand_point(room, "street_centre", 7)
    _click_lonlat(a, lon, lat)
    version = _view(a)["version"]
    b.wait_for_function(f"window.meet.view.version >= {version}")
    assert _view(b)["scenario"] == _view(a)["scenario"]
    # undo from the other tab with the keyboard: both tabs are back
    n = b.evaluate("window.meet.timings.length")
    b.keyboard.press("Control+z")
    _act_done(b, n)
    a.wait_for_function(f"window.meet.view.version > {version}")
    assert _view(a)["scenario"] == _view(b)["scenario"] == before


def test_token_is_required_and_bound_to_localhost(demo_meet) -> None:
    import httpx

    _, _, url = demo_meet
    root, token = url.split("/?token=")
    assert root.startswith("http://127.0.0.1:")
    assert httpx.get(root + "/").status_code == 403
    assert httpx.get(root + "/?token=wrong").status_code == 403
    assert httpx.get(root + "/api/tier/street_centre/view").status_code == 403
    assert httpx.post(root + "/api/tier/street_centre/action", json={"action": "reset"}).status_code == 403
    assert httpx.get(url).status_code == 200
    h = {"X-Carecover-Token": token}
    assert httpx.get(root + "/api/version", headers=h).status_code == 200
    assert httpx.get(root + "/static/..%2Fserver.py", headers=h).status_code == 404
    assert httpx.get(root + "/api/version", headers={**h, "Host": "evil.example"}).status_code == 400


def test_monaco_english_page_matches_engine(browser, monaco_meet) -> None:
    out, room, url = monaco_meet
    tier = "community_centre"
    page = _open(browser, url, 1920, 1080)
    assert page.locator("#title").inner_text() == "carecover meeting room"
    lon, lat = _demand_point(room, tier, 25)
    _click_lonlat(page, lon, lat)
    # switch an existing facility off
    n = page.evaluate("window.meet.timings.length")
    page.locator(".site-icon.existing").first.click()
    _act_done(page, n)
    v = _view(page)
    assert len(v["scenario"]["existing_off"]) == 1 and len(v["scenario"]["points"]) == 1
    s = _session_after(out, tier, v)
    for pop in ("elderly", "total"):
        assert v["with"]["covered"][pop] == pytest.approx(s.steps[-1].covered[pop], rel=1e-12)
        assert _shown_people(page, pop) == round(s.steps[-1].covered[pop])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meet_monaco_1920x1080.png"))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=str(ARTIFACTS / "meet_monaco_1280x720.png"))
    assert not page.errors


def test_every_tier_with_facilities_has_a_tab(browser, demo_meet) -> None:
    out, room, url = demo_meet
    page = _open(browser, url)
    tabs = page.locator("#tiers button")
    assert tabs.count() == 3
    tabs.nth(2).click()  # meal points: not sited by the demo plan
    page.wait_for_function("window.meet.view && window.meet.view.tier === 'meal_point'")
    fig = summary_figure(load_summary(out), "meal_point", "current", "elderly")
    assert _shown_people(page, "elderly") == round(fig.covered)
    assert page.locator("#plan").is_hidden()
    lon, lat = _demand_point(room, "meal_point", 3)
    _click_lonlat(page, lon, lat)
    v = _view(page)
    assert v["tier"] == "meal_point" and len(v["scenario"]["points"]) == 1
    page.screenshot(path=str(ARTIFACTS / "meet_demo_meal_point.png"))
    assert not page.errors
