"""Warnings a reader must see (issue 11, item 3 and 12): a tier with no usable facility, unusual
values; said once on the console, written into summary.json and the report; ``--strict`` refuses.

Network: pyrosm's small real extract ``test.osm.pbf`` (lon 26.93-26.97, lat 60.52-60.54).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyrosm
from carecover import cli, notices

PBF = Path(pyrosm.get_data("test_pbf"))
HEADER = "编号,名称,层级,经度,纬度\n"
# the meal points stand 50 km away: outside the study area
MEAL_OUTSIDE = HEADER + ("A1,站1,社区养老服务站,26.95,60.53\n"
                         "B1,助餐1,老年助餐点,27.80,60.53\nB2,助餐2,老年助餐点,27.81,60.53\n")
ALL_OUTSIDE = HEADER + "B1,助餐1,老年助餐点,27.80,60.53\nC1,站1,社区养老服务站,27.85,60.50\n"


def _plan(tmp_path: Path, register: str, *extra: str, capsys) -> tuple[int, str, Path]:
    reg = tmp_path / "reg.csv"
    reg.write_text(register, encoding="utf-8")
    out = tmp_path / "out"
    rc = cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(reg),
                   "--total-population", "5000", "--out", str(out), *extra])
    return rc, capsys.readouterr().err, out


def _warnings(out: Path) -> list[dict]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["warnings"]


class TestNoUsableFacility:
    def test_tier_without_usable_facility_is_said_once(self, tmp_path: Path, capsys) -> None:
        rc, err, out = _plan(tmp_path, MEAL_OUTSIDE, capsys=capsys)
        assert rc == 0, err
        lines = [ln for ln in err.splitlines() if ln.startswith("⚠") and "no usable facility" in ln]
        assert len(lines) == 1, err
        # the data-quality ledger counts the register's unused rows (2 of 3 outside the area)
        assert any("ledger_registers" == x["code"] and "outside_area 2" in x["message"] for x in _warnings(out))
        assert "老年助餐点" in lines[0] and "outside_area 2" in lines[0]
        w = [x for x in _warnings(out) if x["code"] == "no_usable_facility"]
        assert len(w) == 1 and w[0]["field"] == "meal_point" and w[0]["file"] == "reg.csv"
        report = (out / "report.html").read_text(encoding="utf-8")
        assert "没有可用设施" in report and "no usable facility" in report

    def test_no_usable_facility_at_all(self, tmp_path: Path, capsys) -> None:
        rc, err, out = _plan(tmp_path, ALL_OUTSIDE, capsys=capsys)
        assert rc == 0, err
        codes = [x["code"] for x in _warnings(out)]
        assert codes.count("no_usable_facility") == 3  # two tiers and the run as a whole
        assert "no usable facility at all" in err

    def test_strict_refuses(self, tmp_path: Path, capsys) -> None:
        rc, err, out = _plan(tmp_path, MEAL_OUTSIDE, "--strict", capsys=capsys)
        assert rc == 2  # the register's strict mode refuses the first record outside
        assert "reg.csv" in err and "row 3" in err
        assert not out.exists()

    def test_strict_refuses_a_tier_left_without_facilities(self, tmp_path: Path, capsys) -> None:
        # a record inside the study area but 558 m from the nearest street (snap limit 300 m):
        # usable for the register, unsnapped for the network; only the tier check sees it
        rc, err, out = _plan(tmp_path, HEADER + "A1,站1,社区养老服务站,26.93,60.52\n", "--strict",
                             capsys=capsys)
        assert rc == 2, err
        assert "reg.csv" in err and "no usable facility" in err and "unsnapped 1" in err
        assert not out.exists()

    def test_all_usable_gives_no_warning(self, tmp_path: Path, capsys) -> None:
        rc, err, out = _plan(tmp_path, HEADER + "A1,站1,社区养老服务站,26.95,60.53\n", capsys=capsys)
        assert rc == 0, err
        assert not [ln for ln in err.splitlines() if ln.startswith("⚠")], err
        assert _warnings(out) == []


class TestUnusualValues:
    def test_unusual_speed_is_warned_with_its_option(self, tmp_path: Path, capsys) -> None:
        rc, err, out = _plan(tmp_path, HEADER + "A1,站1,社区养老服务站,26.95,60.53\n", "--speed", "2.5",
                             capsys=capsys)
        assert rc == 0, err
        assert "'--speed'" in err and "2.5" in err
        w = _warnings(out)
        assert [(x["code"], x["field"], x["value"]) for x in w] == [("unusual_value", "--speed", "2.5")]

    def test_cached_rerun_says_the_same(self, tmp_path: Path, capsys) -> None:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first = _plan(tmp_path / "a", MEAL_OUTSIDE, capsys=capsys)
        second = _plan(tmp_path / "b", MEAL_OUTSIDE, capsys=capsys)
        assert first[0] == second[0] == 0
        assert _warnings(first[2]) == _warnings(second[2])
        assert [ln for ln in first[1].splitlines() if ln.startswith("⚠")] == \
               [ln for ln in second[1].splitlines() if ln.startswith("⚠")]


class TestLibraryWarnings:
    def test_library_warnings_stay_off_the_console(self, capsys) -> None:
        import warnings

        with notices.collect() as found:
            warnings.warn("a library speaks", DeprecationWarning, stacklevel=1)
            notices.warn("ours", "我们的 / ours")
        err = capsys.readouterr().err
        assert "a library speaks" not in err and "我们的 / ours" in err
        assert [n.kind for n in found] == ["library", "warning"]
        assert notices.as_dicts(found) == [{"code": "ours", "message": "我们的 / ours", "kind": "warning",
                                            "file": None, "field": None, "value": None}]


class TestReductions:
    def test_thinned_candidates_and_p_above_candidates_are_said(self, tmp_path: Path, capsys) -> None:
        rc, err, out = _plan(tmp_path, HEADER + "A1,站1,社区养老服务站,26.95,60.53\n",
                             "--suggest", "community_centre=10", "--max-candidates", "3", capsys=capsys)
        assert rc == 0, err
        w = {x["code"]: x for x in _warnings(out)}
        assert w["reduced_input"]["kind"] == "reduction" and w["reduced_input"]["field"] == "--max-candidates"
        assert "thinned on a grid to 3" in w["reduced_input"]["message"]
        assert w["suggest_exceeds_candidates"]["value"] == "10" and "placing 3" in err
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert (s["sites"]["community_centre"]["asked"], s["sites"]["community_centre"]["placed"]) == (10, 3)
