"""Projected demand (issue 22 item 3): the config's ``[projection]`` and ``--year``.

A hand-checked small case (each county's factor applied exactly), the config checks (exit 2
naming the key), and real runs on pyrosm's small extract split into two counties.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyrosm
import pytest
from carecover import cli
from carecover.analysis.projection import projected_elderly, projection_figures, projection_gaps
from carecover.config import load_config
from carecover.config.projection import Projection, projection_for
from carecover.errors import InputError

PBF = Path(pyrosm.get_data("test_pbf"))  # lon 26.93-26.97, lat 60.52-60.54
REG = "编号,名称,层级,经度,纬度\nA1,站1,社区养老服务站,26.96,60.53\nA2,站2,社区养老服务站,26.94,60.525\n"
HEAD = '''city = "t"
name_zh = "测试"
name_en = "Test"
default_elderly_share = 0.2
default_elderly_share_source = "test value"

[[counties]]
name = "西区"
name_en = "West"
kind = "urban"

[[counties]]
name = "东区"
name_en = "East"
kind = "urban"
'''
PROJ = '''
[projection]
kind = "growth"
source = "illustrative: test factors"

[projection.counties."东区"]
2030 = 2.0

[projection.all]
2030 = 1.5
2025 = 1.2
'''


def _points() -> pd.DataFrame:
    return pd.DataFrame({"pop": [100.0, 200.0, 50.0, 10.0], "elderly": [10.0, 30.0, 5.0, np.nan],
                         "county": ["东区", "西区", "", "东区"]})


class TestHandChecked:
    def test_growth_factor_per_county_exactly(self):
        proj = Projection(2030, "growth", 1.5, MappingProxyType({"东区": 2.0}), "s")
        eld, done = projected_elderly(_points(), proj)
        assert eld.tolist() == [20.0, 45.0, 7.5, 0.0]  # 10×2, 30×1.5, 5×1.5, NaN → 0
        assert done.all()

    def test_share_and_unprojected_county(self):
        proj = Projection(2030, "share", None, MappingProxyType({"西区": 0.25}), "s")
        eld, done = projected_elderly(_points(), proj)
        assert eld.tolist() == [10.0, 50.0, 5.0, 0.0]  # only 西区: 200 × 0.25; the rest as today
        assert done.tolist() == [False, True, False, False]

    def test_figures_today_beside_projected_at_same_times(self):
        proj = Projection(2030, "growth", 1.5, MappingProxyType({"东区": 2.0}), "s")
        time_s = np.array([60.0, 2000.0, 100.0, 50.0])  # 15 min = 900 s: points 0, 2, 3 covered
        areas = {"all": np.ones(4, bool), "东区": np.array([True, False, False, True])}
        rows = {r["area"]: r for r in projection_figures(_points(), proj, {"t": (time_s, 15.0, "walk")}, areas)}
        assert {r["scenario"] for r in rows.values()} == {"current"}
        a = rows["all"]
        assert (a["elderly_today"], a["covered_today"]) == (45.0, 15.0)
        assert (a["elderly_projected"], a["covered_projected"], a["uncovered_projected"]) == (72.5, 27.5, 45.0)
        assert rows["东区"]["share_projected"] == 1.0 and a["projected"] is True and a["year"] == 2030


    def test_gaps_ranked_again_by_projected_elderly(self):
        member = np.array([1, 1, 2, 0])  # today: gap 1 holds 10 + 30, gap 2 holds 5
        today, future = np.array([10.0, 30.0, 5.0, 1.0]), np.array([10.0, 30.0, 50.0, 1.0])
        got = projection_gaps({"t": member}, None, today, future)
        assert [(g["gap_id"], g["rank_projected"], g["elderly_today"], g["elderly_projected"]) for g in got] == \
            [(2, 1, 5.0, 50.0), (1, 2, 40.0, 40.0)]


class TestConfig:
    def _cfg(self, tmp_path, text):
        p = tmp_path / "c.toml"
        p.write_text(HEAD + text, encoding="utf-8")
        return load_config(p)

    def test_resolved_per_year(self, tmp_path):
        cfg = self._cfg(tmp_path, PROJ)
        p = projection_for(cfg.projection, 2030, cfg.path)
        assert (p.whole, dict(p.counties), p.kind) == (1.5, {"东区": 2.0}, "growth")
        assert projection_for(cfg.projection, 2025, cfg.path).counties == {}
        with pytest.raises(InputError, match="2025, 2030") as e:
            projection_for(cfg.projection, 2040, cfg.path)
        assert e.value.field == "projection.all"

    def test_english_county_name(self, tmp_path):
        cfg = self._cfg(tmp_path, PROJ.replace('"东区"', '"East"'))
        assert projection_for(cfg.projection, 2030, None).counties == {"东区": 2.0}

    @pytest.mark.parametrize("change, field", [
        (("2030 = 1.5", "2030 = -0.5"), "projection.all.2030"),
        (('source = "illustrative: test factors"', 'source = " "'), "projection.source"),
        (('kind = "growth"', 'kind = "grow"'), "projection.kind"),
        (('kind = "growth"', 'kind = "share"'), "projection.counties.东区.2030"),  # share 2.0 > 1
        (('"东区"]', '"北区"]'), "projection.counties.北区"),
        (("2025 = 1.2", "twenty = 1.2"), "projection.all.twenty"),
    ])
    def test_bad_values_name_the_key(self, tmp_path, change, field):
        with pytest.raises(InputError) as e:
            self._cfg(tmp_path, PROJ.replace(*change))
        assert e.value.field == field


def _files(tmp_path: Path, proj: str = PROJ) -> None:
    """The config, the register and a boundary of two counties (west and east of lon 26.95)."""
    (tmp_path / "c.toml").write_text(HEAD + proj, encoding="utf-8")
    (tmp_path / "r.csv").write_text(REG, encoding="utf-8")
    feats = [{"type": "Feature", "properties": {"name": n},
              "geometry": {"type": "Polygon", "coordinates": [[[a, 60.51], [b, 60.51], [b, 60.55], [a, 60.55],
                                                               [a, 60.51]]]}}
             for n, a, b in (("西区", 26.92, 26.95), ("东区", 26.95, 26.98))]
    (tmp_path / "b.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}), "utf-8")


def _run(tmp_path: Path, capsys, *extra: str, proj: str = PROJ) -> tuple[int, str, Path]:
    _files(tmp_path, proj)
    out = tmp_path / "out"
    rc = cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(tmp_path / "r.csv"),
                   "--boundary", str(tmp_path / "b.geojson"), "--total-population", "5000",
                   "--config", str(tmp_path / "c.toml"), "--out", str(out), "--no-cache", *extra])
    return rc, capsys.readouterr().err, out


class TestRun:
    def test_year_on_a_real_extract(self, tmp_path, capsys):
        rc, err, out = _run(tmp_path, capsys, "--year", "2030", "--suggest", "community_centre=1",
                            "--exact-time-limit", "5")
        assert rc == 0, err
        s = json.loads((out / "summary.json").read_text("utf-8"))
        p = s["projection"]
        assert p["record"]["source"] == "illustrative: test factors" and p["year"] == 2030
        demand = pd.read_parquet(out / "demand.parquet")
        east = demand["county"] == "东区"
        want = 2.0 * demand.loc[east, "elderly"].sum() + 1.5 * demand.loc[~east, "elderly"].sum()
        assert east.any() and (~east).any()
        assert p["elderly_projected"] == pytest.approx(want, abs=0.2)
        rows = {(r["tier"], r["area"]): r for r in p["figures"] if r["scenario"] == "current"}
        east_row, west_row = rows[("community_centre", "东区")], rows[("community_centre", "西区")]
        assert east_row["covered_today"] > 10 and west_row["covered_today"] > 10
        assert east_row["covered_projected"] == pytest.approx(2.0 * east_row["covered_today"], abs=0.15)
        assert west_row["covered_projected"] == pytest.approx(1.5 * west_row["covered_today"], abs=0.15)
        assert east_row["share_projected"] == pytest.approx(east_row["share_today"], abs=1e-4)
        # the suggested site, chosen for today's elderly, evaluated for 2030's too
        plan = {r["area"]: r for r in p["figures"] if r["scenario"] == "planned" and r["tier"] == "community_centre"}
        today = {(f["area"], f["population"]): f for f in s["figures"]
                 if f.get("scenario") == "planned" and f.get("tiers") == ["community_centre"] and f["kind"] == "population"}
        assert plan["all"]["covered_today"] == pytest.approx(today[("all", "elderly")]["covered"], abs=0.1)
        assert plan["all"]["covered_projected"] >= plan["all"]["covered_today"] >= east_row["covered_today"]
        assert "share with the new sites" in (out / "report.md").read_text("utf-8")
        gaps = [g for g in p["gaps"] if g["tier"] == "community_centre"]
        assert gaps and all(g["elderly_projected"] >= g["elderly_today"] for g in gaps)
        assert sum(g["elderly_today"] for g in gaps) <= east_row["uncovered_today"] + west_row["uncovered_today"] + 1
        report = (out / "report.md").read_text("utf-8")
        assert "Today vs 2030 (projected)" in report and "A projection, not a count" in report
        assert "ranked again by the projected elderly" in report
        table = pd.read_csv(out / "projection.csv", encoding="utf-8-sig")
        assert table["projected"].all() and (table["source"] == "illustrative: test factors").all()
        assert set(table["scenario"]) == {"current", "planned"}
        assert s["parameters"]["projection"]["counties"] == {"东区": 2.0}

    def test_without_year_no_projection_key(self, tmp_path, capsys):
        rc, err, out = _run(tmp_path, capsys)
        assert rc == 0, err
        assert "projection" not in json.loads((out / "summary.json").read_text("utf-8"))
        assert "(projected)" not in (out / "report.md").read_text("utf-8")
        assert not (out / "projection.csv").exists()

    def test_year_without_projection_exits_2(self, tmp_path, capsys):
        rc, err, out = _run(tmp_path, capsys, "--year", "2030", proj="")
        assert rc == 2 and "[projection]" in err and "projection" in err
        assert not out.exists() or not any(out.iterdir())

    def test_negative_factor_exits_2(self, tmp_path, capsys):
        rc, err, _ = _run(tmp_path, capsys, "--year", "2030", proj=PROJ.replace("2030 = 1.5", "2030 = -1.0"))
        assert rc == 2 and "projection.all.2030" in err


def test_run_plan_year_exposes_projection(tmp_path, caplog):
    """``run_plan(year=2030)``: :attr:`Plan.projection` holds today beside 2030; the console
    (the ``carecover`` logger) says it is a projection."""
    import logging

    import carecover

    caplog.set_level(logging.INFO, logger="carecover")
    _files(tmp_path)
    plan = carecover.run_plan(PBF, tmp_path / "r.csv", config=tmp_path / "c.toml", boundary=tmp_path / "b.geojson",
                              total_population=5000, year=2030, cache=False, out=tmp_path / "o2")
    f = plan.projection
    row = f[(f.tier == "community_centre") & (f.area == "all")].iloc[0]
    assert row.year == 2030 and row.projected and row.elderly_projected > row.elderly_today
    said = "\n".join(r.getMessage() for r in caplog.records)
    assert "projected elderly in 2030" in said and "a projection, not a count" in said
    assert "Community centre" in said and "2030 projected" in said
    assert carecover.run_plan(PBF, tmp_path / "r.csv", total_population=5000, cache=False,
                              out=tmp_path / "o3").projection.empty


def test_county_without_a_value_is_said(tmp_path, capsys):
    """Only 东区 projected: the 西区 elderly stay as today, and a warning says how many."""
    proj = PROJ.replace("[projection.all]\n2030 = 1.5\n2025 = 1.2\n", "")
    rc, err, out = _run(tmp_path, capsys, "--year", "2030", proj=proj)
    assert rc == 0, err
    s = json.loads((out / "summary.json").read_text("utf-8"))
    west = [r for r in s["projection"]["figures"] if r["area"] == "西区" and r["scenario"] == "current"][0]
    assert west["elderly_projected"] == west["elderly_today"] > 0
    assert s["projection"]["not_projected_elderly"] == pytest.approx(west["elderly_today"], abs=0.1)
    assert any(w.get("code") == "projection_incomplete" for w in s["warnings"])
