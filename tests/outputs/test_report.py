"""Report: an executive summary first (per tier: coverage now and after the suggested sites,
claims, the largest gaps), then the detail; one self-contained HTML page (pictures as data URIs),
the same in Markdown, a PDF through headless Chromium. Figures come from summary.json; the
parameters it states (each tier's threshold in its own chart) from the run's RunParams."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from browser import chromium_path
from carecover import cli
from carecover.errors import InputError
from carecover.outputs.bundle import PlanBundle, tier_name
from carecover.outputs.report import Section, write_report
from carecover.outputs.report import pdf as report_pdf
from carecover.outputs.report import sections as sec
from carecover.outputs.report.charts import (
    chart_style,
    county_figure,
    png_bytes,
    travel_time_figure,
)
from carecover.outputs.report.document import num, pct, points
from carecover.outputs.report.overview import overview_figure
from carecover.outputs.report.render import to_html, to_markdown
from carecover.outputs.report.summary import elderly_figure, summary_blocks, tier_summaries
from carecover.outputs.report.write import SECTIONS, ReportContext, build_sections
from carecover.vocab import gap_label, local_time


@pytest.fixture(scope="module")
def bundle(monaco_bundle: PlanBundle) -> PlanBundle:
    return monaco_bundle


@pytest.fixture(scope="module")
def written(bundle: PlanBundle, tmp_path_factory) -> dict[str, Path]:
    return write_report(bundle, tmp_path_factory.mktemp("rep"))


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def _summary_md(b: PlanBundle) -> str:
    """The summary's text and table in Markdown (without its maps: they take seconds)."""
    return to_markdown("t", [Section("摘要 Summary", summary_blocks(b, b.params))])


def _vlines(ax) -> list[float]:
    """x of the vertical lines of a chart panel (axvline: two points at the same x)."""
    out = []
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), float)
        if len(x) == 2 and x[0] == x[1]:
            out.append(float(x[0]))
    return out


# ----------------------------------------------------------------------------- synthetic cases

class TestSummaryFigures:
    """The summary's figures picked from a hand-written summary.json."""

    FIGS = [
        {"kind": "population", "tiers": ["street_centre"], "population": "elderly", "area": "all",
         "threshold_min": 5.0, "speed_mps": 0.8, "scenario": "current", "value": 0.1, "covered": 10, "total": 100},
        {"kind": "population", "tiers": ["street_centre"], "population": "elderly", "area": "all",
         "threshold_min": 5.0, "speed_mps": 1.0, "scenario": "current", "value": 0.2, "covered": 20, "total": 100},
        {"kind": "population", "tiers": ["street_centre"], "population": "total", "area": "all",
         "threshold_min": 5.0, "speed_mps": 1.0, "scenario": "current", "value": 0.3, "covered": 60, "total": 200},
        {"kind": "population", "tiers": ["street_centre"], "population": "elderly", "area": "urban",
         "threshold_min": 5.0, "speed_mps": 1.0, "scenario": "current", "value": 0.9, "covered": 9, "total": 10},
        {"kind": "population", "tiers": ["street_centre"], "population": "elderly", "area": "all",
         "threshold_min": 5.0, "speed_mps": 1.0, "scenario": "planned", "value": 0.55, "covered": 55, "total": 100},
        {"kind": "circle", "tiers": ["street_centre"], "population": "elderly", "area": "all",
         "threshold_min": 5.0, "speed_mps": 1.0, "scenario": "current", "value": 0.7, "covered": 70, "total": 100},
        {"kind": "population", "tiers": ["township_centre"], "population": "elderly", "area": "all",
         "threshold_min": 15.0, "speed_mps": None, "mode": "drive", "scenario": "current", "value": 0.4,
         "covered": 40, "total": 100},
    ]

    def test_elderly_figure_of_the_whole_area_at_the_speed(self) -> None:
        assert elderly_figure(self.FIGS, "street_centre", "current", 1.0)["value"] == 0.2
        assert elderly_figure(self.FIGS, "street_centre", "current", 0.8)["value"] == 0.1
        assert elderly_figure(self.FIGS, "street_centre", "planned", 1.0)["value"] == 0.55
        assert elderly_figure(self.FIGS, "street_centre", "planned", 0.8) is None
        # a drive tier's figure states no speed: found at the walking speed too
        assert elderly_figure(self.FIGS, "township_centre", "current", 1.0)["value"] == 0.4
        assert elderly_figure(self.FIGS, "meal_point", "current", 1.0) is None

    def test_number_formats(self) -> None:
        assert (pct(0.424052), points(0.424052 - 0.058167), num(1448.9)) == ("42.4%", "+36.6", "1,449")
        assert (pct(float("nan")), points(None)) == ("–", "–")


# ----------------------------------------------------------------------------- Monaco bundle

def test_summary_first_then_the_detail(bundle: PlanBundle, written: dict[str, Path]) -> None:
    md = written["md"].read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings[0] == "摘要 Summary"
    for heading in ("覆盖率 Coverage figures", "分旗县区覆盖率 Coverage by county",
                    "步行速度敏感性 Sensitivity to walking speed", "直线圆圈与路网比较 Circle vs network",
                    "声明核验 Claim checks", "未覆盖区域排序（分层级） Ranked gaps by tier",
                    "建议新增站点（贪心与精确） Suggested sites (greedy vs exact)", "图表 Charts",
                    "等时圈多边形精度 Polygon fidelity", "可复现信息 Reproducibility"):
        assert heading in headings[1:], heading
    # the 30-row figures table is detail, below the summary
    assert headings.index("覆盖率 Coverage figures") > 0
    # county figure recomputed by hand from the demand table
    d = bundle.demand[bundle.demand["county"] == "La Turbie"]
    share = 100 * d.loc[d["covered__street_centre"], "elderly"].sum() / d["elderly"].sum()
    assert re.search(rf"\| La Turbie \| 街道级养老服务中心 \| [\d,]+ \| [\d,]+ \| {share:.1f}% \|", md)
    fig = {f["speed_mps"]: f["value"] for f in bundle.summary["figures"]
           if f["kind"] == "population" and f["tiers"] == ["meal_point"]}
    row = f"| 老年助餐点 | 老年人口 | 15 | {100 * fig[0.8]:.1f}% | {100 * fig[1.0]:.1f}% | {100 * fig[1.2]:.1f}% |"
    assert row in md
    assert bundle.summary["inputs"][0]["sha256"] in md
    # the time in the city's zone (issue 23: not a UTC ISO stamp)
    assert bundle.summary["command"] in md and local_time(bundle.summary["generated_at"], "Asia/Shanghai") in md


def test_summary_figures_match_summary_json(bundle: PlanBundle, written: dict[str, Path]) -> None:
    summary = _section(written["md"].read_text(encoding="utf-8"), "摘要 Summary")
    claims = bundle.summary["claims"]
    rows = tier_summaries(bundle, bundle.params)
    assert [r.tier for r in rows] == ["street_centre", "community_centre", "meal_point"]
    for r in rows:
        f = next(f for f in bundle.summary["figures"] if f["kind"] == "population" and f["tiers"] == [r.tier]
                 and f["speed_mps"] == 1.0 and f["population"] == "elderly")
        assert r.now is f
        cell = f"{pct(f['value'])} ({num(f['covered'])} / {num(f['total'])})"
        assert f"| {tier_name(r.tier, 'zh', both=False)} | 步行 15 分钟（1.0 m/s） | {cell} |" in summary, cell
        about = [c["result"] for c in claims if c["tiers"] == r.tier]
        assert (r.passed, r.failed) == (about.count("PASS"), about.count("FAIL"))
    # Monaco's gaps state no tier: named once, the largest by elderly, not under every tier
    top = bundle.gaps.sort_values(["elderly", "pop", "gap_id"], ascending=[False, False, True]).head(3)
    assert all(r.gaps == [] and r.n_gaps == 0 for r in rows)
    # "缺口 1：2,713 名老人", never "缺口1 2,713 人" (read as 12,713; issue 23)
    named = "、".join(gap_label(g, e, "", "zh") + (f"（{c}）" if c else "")
                     for g, e, c in zip(top["gap_id"], top["elderly"], top["county"], strict=True))
    assert f"共 {len(bundle.gaps)} 个未覆盖缺口（未分层级），最大的：{named}" in summary
    # the exact solution's three sites are what the summary counts
    assert rows[0].sites == 3 and "| 3 |" in summary
    assert "声明核验共 2 项：0 项通过，2 项未通过" in summary


def test_summary_after_the_plan(bundle: PlanBundle, tmp_path: Path) -> None:
    # a planned figure (as the pipeline writes for tiers with suggested sites) gives "after"
    now = next(f for f in bundle.summary["figures"] if f["kind"] == "population" and f["tiers"] == ["street_centre"]
               and f["speed_mps"] == 1.0)
    planned = {**now, "scenario": "planned", "value": now["value"] + 0.1234, "covered": now["covered"] + 50}
    b = dataclasses.replace(bundle, summary={**bundle.summary, "figures": [*bundle.summary["figures"], planned]})
    summary = _summary_md(b)
    assert f"| 3 | {pct(planned['value'])} | +12.3 |" in summary
    # the bundle's sites carry no street names: each is its ★rank and "unnamed street"
    unnamed = "（无名道路 / unnamed street）"
    assert f"建议新建 3 处街道级养老服务中心：★1{unnamed}、★2{unnamed}、★3{unnamed}。" in summary
    assert f"建成后覆盖 {num(planned['covered'])} 人（{pct(planned['value'])}），增加 50 人，+12.3 个百分点。" in summary


def test_html_is_self_contained(written: dict[str, Path]) -> None:
    html = written["html"].read_text(encoding="utf-8")
    assert "<td class='fail'><bdi>FAIL</bdi></td>" in html
    srcs = re.findall(r"""\bsrc=['"]([^'"]*)""", html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"<link\b|<script\b|url\(|https?://[^\s'\"<]*\.(png|css|js)", html)
    # every picture is embedded, and is the PNG written beside report.md
    for key in ("chart_travel_time", "chart_county_coverage", "map_overview_street_centre"):
        png = written[key].read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        assert "data:image/png;base64," + base64.b64encode(png).decode() in html
        assert f"]({written[key].name})" in written["md"].read_text(encoding="utf-8")
    assert "@media print" in html and "@page" in html


def test_english_and_deterministic(bundle: PlanBundle, written: dict[str, Path], tmp_path: Path) -> None:
    again = write_report(bundle, tmp_path / "zh")
    assert again.keys() == written.keys()
    for key in written:
        assert again[key].read_bytes() == written[key].read_bytes(), key
    en = write_report(dataclasses.replace(bundle, lang="en"), tmp_path / "en")
    md = en["md"].read_text(encoding="utf-8")
    assert md.split("\n## ", 2)[1].startswith("Summary")
    assert "## Coverage by county" in md and "覆盖率 Coverage" not in md


class TestChartThresholds:
    """Each tier's panel marks its own threshold (no 15-minute line on a 5-minute tier)."""

    def test_travel_time_panels(self, bundle: PlanBundle, change_params) -> None:
        b = change_params(bundle, tier_changes={"street_centre": {"threshold_min": 5.0},
                                                "meal_point": {"threshold_min": 10.0}})
        with chart_style("zh") as zh:
            fig, panels = travel_time_figure(b, b.params, zh)
            titles = {k: ax.get_title() for k, ax in panels.items()}
            lines = {k: _vlines(ax) for k, ax in panels.items()}
            xmax = {k: ax.get_xlim()[1] for k, ax in panels.items()}
        assert lines == {"street_centre": [5.0], "community_centre": [15.0], "meal_point": [10.0]}
        assert "5 min" in titles["street_centre"] or "5 分钟" in titles["street_centre"]
        # the axis ends just past the searched reach (threshold × walk speed / slowest speed)
        assert xmax["street_centre"] == pytest.approx(1.1 * 5.0 * 1.0 / 0.8)

    def test_in_the_summary(self, bundle: PlanBundle, change_params) -> None:
        b = change_params(bundle, tier_changes={"street_centre": {"threshold_min": 5.0}})
        summary = _summary_md(b)
        assert re.search(r"^\| 街道级养老服务中心 \| 步行 5 分钟（1.0 m/s） \|", summary, flags=re.M)
        assert re.search(r"^\| 老年助餐点 \| 步行 15 分钟（1.0 m/s） \|", summary, flags=re.M)


class TestOverviewMap:
    """The static map draws what the run has and its legend lists exactly that."""

    def test_legend_lists_the_drawn_layers(self, bundle: PlanBundle) -> None:
        with chart_style("en") as zh:
            _, legend = overview_figure(dataclasses.replace(bundle, lang="en"), bundle.params, "street_centre", zh)
        n_fac = int(((bundle.facilities["tier"] == "street_centre") & (bundle.facilities["status"] == "ok")).sum())
        assert legend == ["Boundaries", "Reached within 15 min walk", f"Uncovered gaps ({len(bundle.gaps)})",
                          f"Existing street-level centre ({n_fac})", "Suggested sites (3)"]

    def test_streets_drawn_when_the_bundle_has_them(self, bundle: PlanBundle, monaco_pbf: Path) -> None:
        from carecover.network import load_network
        from carecover.network.streetlines import street_lines
        from carecover.outputs.report.overview import map_crs, street_segments

        net = load_network(monaco_pbf, "walk")
        lines = street_lines(net)
        xy, major = street_segments(lines, map_crs(bundle))
        # every drawn piece is a segment of the (simplified) street lines; main roads marked
        assert xy.shape[1:] == (2, 2) and len(xy) > 1000 and 0 < major.sum() < len(major)
        with chart_style("en") as zh:
            _, legend = overview_figure(dataclasses.replace(bundle, lang="en", streets=lines), bundle.params,
                                        "street_centre", zh)
        assert legend[0] == "Streets (OSM)"

    def test_street_picture_is_the_streets_drawn_in_place(self, bundle: PlanBundle, monaco_pbf: Path) -> None:
        # the streets are drawn once per extent as a picture under every tier's map: pixel for
        # pixel what drawing their segments on the map's own axes gives
        import io

        import matplotlib.pyplot as plt
        from carecover.network import load_network
        from carecover.network.streetlines import street_lines
        from carecover.outputs.report.overview import map_base
        from matplotlib.collections import LineCollection

        b = dataclasses.replace(bundle, lang="en", streets=street_lines(load_network(monaco_pbf, "walk")))
        base = map_base(b)

        def as_vectors(fig) -> None:  # the streets as the map drew them before: segments on its axes
            ax = fig.axes[0]
            fig.artists.clear()
            ax.patch.set_visible(True)
            xy, major = base.streets
            for sel, lw, c in ((~major, 0.35, "#c9c9c9"), (major, 0.9, "#a9a9a9")):
                ax.add_collection(LineCollection(xy[sel], colors=c, linewidths=lw, zorder=1))

        def at_double_dpi(fig) -> bytes:  # another size than the picture's: segments drawn instead
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=220, metadata={"Software": None})
            plt.close(fig)
            return buf.getvalue()

        with chart_style("en") as zh:
            pics = [overview_figure(b, b.params, "street_centre", zh, base)[0] for _ in range(4)]
            assert len(base.pictures) == 1 and all(len(f.artists) == 1 for f in pics)  # drawn once, under each
            for f in pics[2:]:
                as_vectors(f)
            assert png_bytes(pics[0], tight=True) == png_bytes(pics[2], tight=True)
            assert at_double_dpi(pics[1]) == at_double_dpi(pics[3])


def test_sections_are_a_list_of_builders(bundle: PlanBundle, tmp_path: Path) -> None:
    assert len(SECTIONS) >= 10
    extra = [SECTIONS[3], lambda ctx: Section("容量 Capacity", [f"{len(ctx.tiers)} tiers"], key="capacity")]
    built = build_sections(ReportContext(bundle, bundle.params), extra)
    assert [s.title for s in built] == ["覆盖率 Coverage figures", "容量 Capacity"]
    html = write_report(bundle, tmp_path, sections=extra)["html"].read_text(encoding="utf-8")
    assert "<section id='capacity'>" in html and "href='#capacity'" in html


# ----------------------------------------------------------------------------- parameters

def test_report_states_the_bundles_params(bundle: PlanBundle, written: dict[str, Path], change_params,
                                          tmp_path: Path) -> None:
    md = written["md"].read_text(encoding="utf-8")
    assert md.startswith(f"# {bundle.params.title}\n")
    repro = _section(md, "可复现信息 Reproducibility")
    # parameters in words, not summary.json's codes (issue 23)
    assert "| 步行速度(米/秒) | 1 |" in repro and "| 最大接入道路距离(米) | 300 |" in repro
    assert "speed_mps" not in repro and "street_centre" not in repro
    figs = [f for f in bundle.summary["figures"] if f["tiers"] == ["meal_point"]]
    net = {f["speed_mps"]: f["value"] for f in figs if f["kind"] == "population"}
    circ = next(f["value"] for f in figs if f["kind"] == "circle")

    def circle_row(speed: float) -> str:
        return (f"| 老年助餐点 | circle_1000m | 15 min @ {speed:g} m/s | {100 * circ:.1f}% | {100 * net[speed]:.1f}% "
                f"| {100 * (circ - net[speed]):.1f}% |")

    assert circle_row(1.0) in _section(md, "直线圆圈与路网比较 Circle vs network")
    changed = change_params(bundle, walk_speed_mps=1.2, max_snap_m=150.0, circle_radius_m=800.0,
                            title="另一个标题 Another title")
    # the sections that state parameters (the pictures, which take seconds, are left out)
    md2 = to_markdown(changed.display_title(), build_sections(ReportContext(changed, changed.params), [
        lambda c: sec.circle_section(c.bundle, c.params), lambda c: sec.repro_section(c.bundle, c.params)]))
    assert md2.startswith("# 另一个标题 Another title\n")
    repro2 = _section(md2, "可复现信息 Reproducibility")
    assert "| 步行速度(米/秒) | 1.2 |" in repro2 and "| 最大接入道路距离(米) | 150 |" in repro2
    assert "| 直线圆半径(米) | 800 |" in repro2
    assert circle_row(1.2) in _section(md2, "直线圆圈与路网比较 Circle vs network")


def test_report_does_not_read_summary_parameters(bundle: PlanBundle, written: dict[str, Path],
                                                 tmp_path: Path) -> None:
    without = dataclasses.replace(bundle, summary={k: v for k, v in bundle.summary.items() if k != "parameters"})
    wrong = dataclasses.replace(bundle, summary={**bundle.summary, "parameters": {
        "city": "Nowhere", "speed_mps": 9.9, "threshold_min": 99.0}})
    for name, b in (("without", without), ("wrong", wrong)):
        got = write_report(b, tmp_path / name)
        assert got.keys() == written.keys()
        for key in written:
            assert got[key].read_bytes() == written[key].read_bytes(), (name, key)


class TestTextFromInputs:
    """Names from the inputs reach the HTML escaped and the pictures literally."""

    def test_html_escaped(self, bundle: PlanBundle) -> None:
        gaps = bundle.gaps.copy()
        gaps["gap_id"] = gaps["gap_id"].astype(object)
        gaps.loc[gaps["elderly"].idxmax(), "gap_id"] = "<img src=x onerror=alert(1)>"  # the largest: shown
        gaps["county"] = "<b>县</b>"
        b = dataclasses.replace(bundle, gaps=gaps)
        page = to_html("t", [Section("摘要 Summary", summary_blocks(b, b.params)), sec.gaps_section(b, b.params)], "zh")
        assert "<img" not in page and "<b>" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;b&gt;县&lt;/b&gt;" in page

    def test_dollar_signs_drawn_literally(self, bundle: PlanBundle) -> None:
        import pandas as pd

        cc = pd.DataFrame({"county": ["$x_$", "B"], "tier": "street_centre", "total": [10.0, 10.0],
                           "covered": [5.0, 2.0], "after": [6.0, 2.0], "after_exact": True})
        with chart_style("en") as zh:
            fig = county_figure(cc, bundle.params, zh, {"street_centre"})
            labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
            assert png_bytes(fig)[:4] == b"\x89PNG"  # "$x_$" as mathtext would not draw
        assert labels[0] == r"\$x_\$"


# ----------------------------------------------------------------------------- errors

class TestErrors:
    def test_report_needs_params(self, bundle: PlanBundle, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="params"):
            write_report(dataclasses.replace(bundle, params=None), tmp_path / "bare")
        assert not (tmp_path / "bare" / "report.md").exists()

    def test_pdf_without_chromium(self, written: dict[str, Path], monkeypatch, capsys) -> None:
        monkeypatch.setattr(report_pdf, "find_chromium", lambda: None)
        folder = written["html"].parent
        assert cli.main(["report", "--out", str(folder), "--pdf"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Chromium" in err and "apt-get install chromium" in err
        assert not (folder / "report.pdf").exists()

    def test_plan_pdf_without_chromium_stops_before_the_run(self, monkeypatch, tmp_path: Path, capsys) -> None:
        monkeypatch.setattr(report_pdf, "find_chromium", lambda: None)
        assert cli.main(["--quiet", "demo", "--pdf", "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--pdf" in err and "Chromium" in err
        assert not (tmp_path / "run").exists()  # nothing computed, nothing written

    def test_report_of_a_folder_without_a_run(self, tmp_path: Path, capsys) -> None:
        assert cli.main(["report", "--out", str(tmp_path), "--pdf"]) == 2
        assert "report.html" in capsys.readouterr().err
        assert cli.main(["report", "--out", str(tmp_path)]) == 2  # nothing asked
        assert "--pdf" in capsys.readouterr().err


# ----------------------------------------------------------------------------- real Chromium, real run

def test_pdf_printed_by_chromium(written: dict[str, Path], tmp_path: Path) -> None:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    pdf = report_pdf.write_pdf(written["html"], tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 50_000
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages >= 3  # the summary page, then the detail
    assert not list(tmp_path.glob(".*part*"))  # no temporary file left


def test_demo_report(demo_out: Path, tmp_path: Path) -> None:
    """The real run: summary figures equal summary.json's, the planned sites' change, a PDF
    from the finished folder."""
    summary = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    md = (demo_out / "report.md").read_text(encoding="utf-8")
    front = _section(md, "摘要 Summary")

    def fig(tier: str, scenario: str) -> dict:
        return next(f for f in summary["figures"] if f["kind"] == "population" and f["tiers"] == [tier]
                    and f["population"] == "elderly" and f["area"] == "all" and f["speed_mps"] == 1.0
                    and f["scenario"] == scenario)

    for tier, name in (("street_centre", "街道级养老服务中心"), ("community_centre", "社区养老服务中心/站"),
                       ("meal_point", "老年助餐点")):
        now = fig(tier, "current")
        assert f"| {name} | 步行 5 分钟（1.0 m/s） | {pct(now['value'])} ({num(now['covered'])} / {num(now['total'])}) |" \
            in front, tier
    now, after = fig("street_centre", "current"), fig("street_centre", "planned")
    n_sites = summary["sites"]["street_centre"]["count"]
    assert f"| {n_sites} | {pct(after['value'])} | {points(after['value'] - now['value'])} |" in front
    # per-tier gap tables under the tier's own threshold
    gaps = _section(md, "未覆盖区域排序（分层级） Ranked gaps by tier")
    assert gaps.count("### ") == 3 and "### 老年助餐点 · 步行 5 分钟（1.0 m/s）" in gaps
    # the front page's map is the street tier's, with its streets
    html = (demo_out / "report.html").read_text(encoding="utf-8")
    front_html = html.split("<section id='summary'>", 1)[1].split("</section>", 1)[0]
    assert "data-name='map_overview_street_centre.png'" in front_html
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    # the finished folder printed to PDF by the command (a copy: the session's folder stays as written)
    folder = tmp_path / "run"
    subprocess.run(["cp", "-a", str(demo_out), str(folder)], check=True)
    assert cli.main(["--quiet", "report", "--out", str(folder), "--pdf"]) == 0
    assert (folder / "report.pdf").read_bytes()[:5] == b"%PDF-"
    manifest = json.loads((folder / ".carecover-manifest.json").read_text(encoding="utf-8"))
    assert "report.pdf" in manifest["files"]


def test_circle_rows_name_their_population(written: dict[str, Path]) -> None:
    """One row per tier and population: with a uniform elderly share the elderly and total rows
    have the same percentages, and without the population they read as a repeated row."""
    rows = [ln for ln in _section(written["md"].read_text(encoding="utf-8"), "直线圆圈与路网比较 Circle vs network")
            .splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    assert rows and len(set(rows)) == len(rows), rows
    assert all(r.rsplit("|", 2)[1].strip().startswith(("老年人口", "全部居民")) for r in rows), rows
