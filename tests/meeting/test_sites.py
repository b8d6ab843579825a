"""Meeting output names and numbers (issue 12 item 7): whole people, 百分点 for changes, sites by
★rank and the OSM name of their street, coordinates in the register's coordinate system, titles
with the real threshold.

Synthetic: the formatting helpers and the GCJ-02 conversion against :mod:`carecover.crs`.
Real world: the Helsinki demo plan (real OSM street names, a 5-minute threshold).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from carecover import cli
from carecover.crs import wgs84_to_gcj02
from carecover.meeting.sites import NAME_RADIUS_M, SiteNamer, people, points, register_crs, share
from carecover.siting.state import load_state

TIER = "street_centre"
HOHHOT = (111.670801, 40.818311)


class TestSynthetic:
    def test_numbers_for_people(self) -> None:
        assert people(357.5, signed=True) == "+358" and people(2713.0986657) == "2,713"
        assert people(-0.4, signed=True) == "+0" or people(-0.4, signed=True) == "-0"
        assert points(0.0903) == "+9.0 百分点" and points(-0.0581, "en") == "-5.8 pp"
        assert share(0.058167) == "5.8%" and people(float("nan")) == "—"

    def test_register_crs(self, tmp_path: Path) -> None:
        assert register_crs(None, {"parameters": {"crs_in": "gcj02"}}) == "gcj02"
        assert register_crs(tmp_path, {}) == "wgs84"  # no facilities.csv
        (tmp_path / "facilities.csv").write_text(
            "\ufefffid,source,crs_in\nA,register,gcj02\nB,register,gcj02\nC,register,wgs84\nD,osm,wgs84\nE,osm,wgs84\n",
            encoding="utf-8")
        assert register_crs(tmp_path, {"parameters": {"crs_in": None}}) == "gcj02"  # OSM rows do not count


class TestRealWorld:
    def test_gcj02_coordinates(self, meeting_out: Path) -> None:
        namer = SiteNamer(load_state(meeting_out, TIER), crs="gcj02")
        x, y = wgs84_to_gcj02(np.array([HOHHOT[0]]), np.array([HOHHOT[1]]))
        assert namer.coords(*HOHHOT) == f"{x[0]:.6f},{y[0]:.6f} GCJ-02"
        assert abs(x[0] - HOHHOT[0]) > 1e-3  # hundreds of metres: the shift is applied
        assert SiteNamer(load_state(meeting_out, TIER)).crs == "wgs84"  # the demo register is WGS-84

    def test_sites_by_rank_and_street(self, meeting_out: Path) -> None:
        st = load_state(meeting_out, TIER)
        namer = SiteNamer(st)
        net = st.network()
        import pyrosm

        osm_names = set(pyrosm.OSM(str(st.network_record.file)).get_network("all")["name"].dropna())
        with open(meeting_out / "sites.csv", encoding="utf-8-sig") as fh:
            exact = [r for r in csv.DictReader(fh) if r["method"] == "exact" and r["tier"] == TIER]
        for rank, k in enumerate(st.chosen.tolist(), start=1):
            label = namer.candidate(k)
            assert label.startswith(f"★{rank} ")
            # the plan's site of this rank is this candidate
            row = next(r for r in exact if int(r["rank"]) == rank)
            assert float(row["lon"]) == pytest.approx(st.cand_lon[k], abs=1e-6)
            # the name is the OSM name of a street at the junction (as the OSM file names its ways)
            node = int(st.cand_node[k])
            street = label.split(" ", 1)[1]
            assert street in osm_names
            names = set(net.segment_names((net.seg_a == node) | (net.seg_b == node))) - {""}
            if names:  # a street at the junction
                assert street in names
            else:  # a footway junction: the nearest named street (brute force over all segments)
                named = np.flatnonzero(net.segment_names() != "")
                d = shapely.distance(net.segment_lines(named),
                                     shapely.Point(net.node_x[node], net.node_y[node]))
                assert d.min() <= NAME_RADIUS_M and net.segment_names(named[[np.argmin(d)]])[0] == street
        other = next(k for k in range(st.n_candidates) if k not in set(st.chosen.tolist()))
        assert namer.candidate(other).startswith(f"候选 {other}")

    def test_whatif_output(self, meeting_out: Path, capsys) -> None:
        st = load_state(meeting_out, TIER)
        assert cli.main(["whatif", "--out", str(meeting_out), "--tier", TIER, "--add-candidate",
                         str(int(st.chosen[0])), "--remove-existing", "S001"]) == 0
        out = capsys.readouterr().out
        thr = st.threshold_s / 60
        assert f"{thr:g} 分钟" in out and "一刻钟" not in out  # the demo runs 5 minutes
        assert "★1" in out and "百分点" in out and "WGS-84" in out
        assert not re.search(r"[+-]\d[\d,]*\.\d+ 人", out)  # whole people
        assert not re.search(r"[+-]\d+\.\d+%\)", out)  # changes are 百分点, not "+9.03%"

    def test_scenarios_title(self, meeting_out: Path, tmp_path: Path, capsys) -> None:
        assert cli.main(["scenarios", "--out", str(meeting_out), "--csv", str(tmp_path / "s.csv")]) == 0
        out = capsys.readouterr().out
        thr = load_state(meeting_out, TIER).threshold_s / 60
        assert f"{thr:g} 分钟内覆盖率" in out and "一刻钟" not in out
        assert not re.search(r"\(\d[\d,]*\.\d+ 人\)", out)
