"""The demo's profiles table (issue 24): ``carecover demo --profiles …`` on the Nanjing sample
writes the report's "coverage by mobility profile" table, checked in headless Chromium: Chinese
first, plain words, percentages."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium_path, open_page
from carecover import cli

ROWS_JS = """[...document.querySelectorAll('section#profiles table tr')].map(
  tr => [...tr.querySelectorAll('th,td')].map(c => c.innerText.trim()))"""


@pytest.mark.slow
def test_demo_with_profiles_shows_the_table(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    out = tmp_path / "demo"
    assert cli.main(["--quiet", "demo", "--profiles", "elderly,step_free,winter", "--out", str(out)]) == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## 不同出行能力的覆盖率 Coverage by mobility profile" in md
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    res = open_page(out / "report.html", ready="document.querySelector('section#profiles') !== null",
                    evaluate={"rows": ROWS_JS}, final_screenshot=tmp_path / "report_profiles.png")
    assert res.js_errors == []
    head, *rows = res.values["rows"]
    assert head[0] == "出行能力档案 Mobility profile" and head[1].startswith("街道级养老服务中心")
    assert [r[0] for r in rows] == ["一般老年步行者 average older walker",
                                    "轮椅/助行器使用者 wheelchair and rollator users", "冬季冰雪 in winter"]
    for r in rows:  # every cell a percentage with one decimal, step-free as a low–high range
        for cell in r[1:]:
            parts = cell.split(" – ")
            assert all(p.endswith("%") and p[:-1].replace(".", "").isdigit() and p[-3] == "." for p in parts), cell
            assert [float(p[:-1]) for p in parts] == sorted(float(p[:-1]) for p in parts)
    # winter is slower for everyone: below the average older walker in every column
    assert all(float(w[:-1]) < float(e[:-1]) for w, e in zip(rows[2][1:], rows[0][1:], strict=True))
