"""Every tier with facilities is in the meeting, not only the sited ones: a tier the plan did not
site is routed on the network of a sited tier of the same mode, and its coverage today equals the
plan's own figure for it (summary.json); its facilities can be switched off and points added."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.meeting.common import summary_figure
from carecover.meeting.meet import build_room
from carecover.siting.whatif import Session


def test_unsited_tiers_match_the_plan(meeting_out: Path) -> None:
    room = build_room(meeting_out)
    assert room.keys() == ["street_centre", "community_centre", "meal_point"]
    assert list(room.tiers) == ["street_centre"]  # the others are routed on first use
    for key in room.keys():
        t = room.tier(key)
        for pop in ("elderly", "total"):
            fig = summary_figure(t.state.summary, key, "current", pop)
            assert t.base_covered[pop] == pytest.approx(fig.covered, rel=1e-6), (key, pop)
        assert t.session.access is not None and t.base_access["places_per_1000"] > 0


def test_unsited_tier_actions(meeting_out: Path) -> None:
    room = build_room(meeting_out)
    t = room.tier("meal_point")
    i = int(t.state.existing_rows()[0])
    room.act("meal_point", {"action": "toggle", "kind": "existing", "id": i})
    lon, lat = float(t.state.demand_lon[10]), float(t.state.demand_lat[10])
    room.act("meal_point", {"action": "add", "lon": lon, "lat": lat})
    s = Session(t.state)
    s.remove_existing(str(t.state.existing_fid[i]))
    s.add_point(lon, lat)
    assert t.engine.covered_weights() == pytest.approx(s.steps[-1].covered)
    room.act("meal_point", {"action": "undo"})
    room.act("meal_point", {"action": "undo"})
    assert t.engine.covered_weights() == pytest.approx(t.base_covered)


def test_bad_actions_change_nothing(meeting_out: Path) -> None:
    from carecover.errors import InputError

    room = build_room(meeting_out, tiers=["street_centre"])
    t = room.tier("street_centre")
    for act in ({"action": "scenario", "scenario": {"existing_off": [99]}},
                {"action": "scenario", "scenario": {"candidates_on": [10**6]}},
                {"action": "scenario", "scenario": {"points": [["x", 1]]}},
                {"action": "add", "lon": float("nan"), "lat": 60.1}, {"action": "add", "lon": 0, "lat": 0},
                {"action": "toggle", "kind": "existing", "id": "S001"}, {"action": "toggle", "kind": "x", "id": 0},
                {"action": "undo"}, {"action": "explode"}):
        with pytest.raises(InputError):
            room.act("street_centre", act)
    assert t.scenario.to_dict() == {"existing_off": [], "candidates_on": [], "points": []}
    assert t.engine.covered_weights() == pytest.approx(t.base_covered)
    with pytest.raises(InputError, match="no tier"):
        room.tier("../etc")


def test_whatif_on_an_unsited_tier(meeting_out: Path, capsys) -> None:
    from carecover.cli import main
    from carecover.meeting.derived import load_any_state

    st = load_any_state(meeting_out, "老年助餐点")
    s = Session(st)
    s.remove_existing("0")
    assert main(["whatif", "--out", str(meeting_out), "--tier", "meal_point", "--remove-existing", "0"]) == 0
    out = capsys.readouterr().out
    assert f"{round(s.steps[-1].covered['elderly']):,d} 人" in out
