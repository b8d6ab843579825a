"""Report: bilingual HTML/Markdown with tables, charts and the reproducibility block; the
parameters it states come from the run's RunParams."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from carecover.errors import InputError
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.report import write_report


@pytest.fixture(scope="module")
def bundle(monaco_bundle: PlanBundle) -> PlanBundle:
    return monaco_bundle


@pytest.fixture(scope="module")
def written(bundle: PlanBundle, tmp_path_factory) -> dict[str, Path]:
    return write_report(bundle, tmp_path_factory.mktemp("rep"))


def test_sections_and_numbers(bundle: PlanBundle, written: dict[str, Path]) -> None:
    md = written["md"].read_text(encoding="utf-8")
    for heading in ("## 覆盖率 Coverage figures", "## 分旗县区覆盖率 Coverage by county",
                    "## 步行速度敏感性 Sensitivity to walking speed", "## 直线圆圈与路网比较 Circle vs network",
                    "## 声明核验 Claim checks", "## 未覆盖区域排序 Ranked gaps",
                    "## 建议新增站点（贪心与精确） Suggested sites (greedy vs exact)",
                    "## 等时圈多边形精度 Polygon fidelity", "## 可复现信息 Reproducibility"):
        assert heading in md, heading
    # county figure recomputed by hand from the demand table
    d = bundle.demand[bundle.demand["county"] == "La Turbie"]
    pct = 100 * d.loc[d["covered__street_centre"], "elderly"].sum() / d["elderly"].sum()
    assert re.search(rf"\| La Turbie \| 街道级养老服务中心 \| [\d,]+ \| [\d,]+ \| {pct:.1f}% \|", md)
    # sensitivity row: three speeds side by side
    fig = {f["speed_mps"]: f["value"] for f in bundle.summary["figures"]
           if f["kind"] == "population" and f["tiers"] == ["meal_point"]}
    row = f"| 老年助餐点 | elderly | 15 | {100 * fig[0.8]:.1f}% | {100 * fig[1.0]:.1f}% | {100 * fig[1.2]:.1f}% |"
    assert row in md
    # reproducibility: the input hash, the command and the timestamp
    assert bundle.summary["inputs"][0]["sha256"] in md
    assert bundle.summary["command"] in md and bundle.summary["generated_at"] in md


def test_html_claims_and_charts(written: dict[str, Path]) -> None:
    html = written["html"].read_text(encoding="utf-8")
    assert "<td class='fail'>FAIL</td>" in html
    for key in ("travel_time_cdf", "county_coverage"):
        png = written[key]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert f"src='{png.name}'" in html


def test_english_and_deterministic(bundle: PlanBundle, written: dict[str, Path], tmp_path: Path) -> None:
    again = write_report(bundle, tmp_path / "zh")
    assert again["md"].read_bytes() == written["md"].read_bytes()
    assert again["html"].read_bytes() == written["html"].read_bytes()
    en = write_report(dataclasses.replace(bundle, lang="en"), tmp_path / "en")
    md = en["md"].read_text(encoding="utf-8")
    assert "## Coverage by county" in md and "覆盖率 Coverage" not in md


# ----------------------------------------------------------------------------- parameters

def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def test_report_states_the_bundles_params(bundle: PlanBundle, written: dict[str, Path], change_params,
                                          tmp_path: Path) -> None:
    md = written["md"].read_text(encoding="utf-8")
    assert md.startswith(f"# {bundle.params.title}\n")
    repro = _section(md, "可复现信息 Reproducibility")
    assert "| speed_mps | 1.0000 |" in repro and "| max_snap_m | 300.0 |" in repro
    # circles are compared with the network figure at the run's walking speed
    figs = [f for f in bundle.summary["figures"] if f["tiers"] == ["meal_point"]]
    net = {f["speed_mps"]: f["value"] for f in figs if f["kind"] == "population"}
    circ = next(f["value"] for f in figs if f["kind"] == "circle")

    def circle_row(speed: float) -> str:
        return (f"| 老年助餐点 | circle_1000m | 15 min @ {speed:g} m/s | {100 * circ:.1f}% | {100 * net[speed]:.1f}% "
                f"| {100 * (circ - net[speed]):.1f}% |")

    assert circle_row(1.0) in _section(md, "直线圆圈与路网比较 Circle vs network")
    changed = change_params(bundle, walk_speed_mps=1.2, max_snap_m=150.0, circle_radius_m=800.0,
                            title="另一个标题 Another title")
    md2 = write_report(changed, tmp_path / "changed")["md"].read_text(encoding="utf-8")
    assert md2.startswith("# 另一个标题 Another title\n")
    repro2 = _section(md2, "可复现信息 Reproducibility")
    assert "| speed_mps | 1.2000 |" in repro2 and "| max_snap_m | 150.0 |" in repro2
    assert "| circle_radius_m | 800.0 |" in repro2
    assert circle_row(1.2) in _section(md2, "直线圆圈与路网比较 Circle vs network")


def test_report_does_not_read_summary_parameters(bundle: PlanBundle, written: dict[str, Path],
                                                 tmp_path: Path) -> None:
    without = dataclasses.replace(bundle, summary={k: v for k, v in bundle.summary.items() if k != "parameters"})
    wrong = dataclasses.replace(bundle, summary={**bundle.summary, "parameters": {
        "city": "Nowhere", "speed_mps": 9.9, "threshold_min": 99.0}})
    for name, b in (("without", without), ("wrong", wrong)):
        got = write_report(b, tmp_path / name)
        for key in ("md", "html", "travel_time_cdf", "county_coverage"):
            assert got[key].read_bytes() == written[key].read_bytes(), (name, key)


def test_report_needs_params(bundle: PlanBundle, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="params"):
        write_report(dataclasses.replace(bundle, params=None), tmp_path / "bare")
    assert not (tmp_path / "bare" / "report.md").exists()
