"""One name per site: ``whatif`` and the meeting page accept ★R, the ★ label with its street,
``候选 K`` and the index for the same candidate; ``--base planned`` never answers "use --base
planned"."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.errors import InputError
from carecover.meeting.sites import SiteNamer
from carecover.siting.state import load_state
from carecover.siting.whatif import Session


def test_star_label_and_index_name_the_same_candidate(meeting_out: Path) -> None:
    st = load_state(meeting_out, "street_centre")
    first = int(st.chosen[0])
    label = SiteNamer(st).candidate(first)
    assert label.startswith("★1 ")
    for name in ("★1", label, f"候选 {first}", f"candidate {first}", str(first)):
        assert st.find_candidate(name) == first
    with pytest.raises(InputError, match="★9"):
        st.find_candidate("★9")


def test_base_planned_removal_message(meeting_out: Path) -> None:
    s = Session(load_state(meeting_out, "street_centre"), base="planned")
    step = s.remove_candidate("★1")
    assert step.delta["elderly"] < 0
    not_planned = next(k for k in range(s.state.n_candidates) if k not in s.state.chosen)
    with pytest.raises(InputError) as exc:
        s.remove_candidate(str(not_planned))
    assert "use --base planned" not in str(exc.value) and "★1 =" in str(exc.value)


def test_whatif_at_80_columns_cuts_no_site(meeting_out: Path, capsys, monkeypatch) -> None:
    from carecover.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    st = load_state(meeting_out, "street_centre")
    assert main(["whatif", "--out", str(meeting_out), "--tier", "street_centre", "--add-candidate", "★1"]) == 0
    out = capsys.readouterr().out
    table = out.split("┏", 1)[1].split("可达性与负荷")[0]
    assert "…" not in table
    assert f"{float(st.cand_lat[int(st.chosen[0])]):.6f}" in table
