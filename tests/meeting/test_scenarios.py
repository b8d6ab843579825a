"""``carecover scenarios`` and ``scripts/compare_scenarios.py`` on real plan outputs."""

from __future__ import annotations

import csv
import time

import numpy as np
import pytest
from carecover import cli
from carecover.meeting import scenarios
from carecover.meeting.common import summary_figure
from carecover.siting.state import load_state

TIER = "street_centre"


def _rows(path):
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


class TestOneTier:
    def test_agrees_with_summary(self, meeting_out, capsys):
        t = time.perf_counter()
        assert scenarios.main(["--out", str(meeting_out)]) == 0
        elapsed = time.perf_counter() - t
        text = capsys.readouterr().out
        assert "现状" in text and "current" in text and text.index("现状") < text.index("current")
        raw = (meeting_out / "scenarios.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
        summary = load_state(meeting_out, TIER).summary
        by = {r["scenario"]: r for r in rows}
        assert set(by) == {"current", f"planned:{TIER}"}
        for sid, scen in (("current", "current"), (f"planned:{TIER}", "planned")):
            for pop, col in (("elderly", "elderly"), ("total", "pop")):
                fig = summary_figure(summary, TIER, scen, pop)
                assert float(by[sid][f"{col}_covered"]) == pytest.approx(fig.covered, abs=0.06)
                assert float(by[sid][f"{col}_share"]) == pytest.approx(fig.value, abs=1e-6)
        assert int(by[f"planned:{TIER}"]["sites_added"]) == 2
        print(f"compare_scenarios in-process: {elapsed:.3f} s")  # reported, not asserted (loaded machines)

    def test_carecover_scenarios_writes_the_same_table(self, meeting_out, tmp_path, capsys):
        assert scenarios.main(["--out", str(meeting_out), "--csv", str(tmp_path / "a.csv")]) == 0
        assert cli.main(["scenarios", "--out", str(meeting_out), "--csv", str(tmp_path / "b.csv")]) == 0
        out = capsys.readouterr().out
        assert "情景对比" in out and f"→ {tmp_path / 'b.csv'}" in out
        assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()

    def test_no_state_is_an_input_error(self, tmp_path, capsys):
        assert cli.main(["scenarios", "--out", str(tmp_path)]) == 2
        assert "--suggest" in capsys.readouterr().err


def test_two_tiers(two_tier_out, raw_state, raw_covered, capsys):
    assert cli.main(["scenarios", "--out", str(two_tier_out), "--tier", "street_centre",
                     "--tier", "community_centre"]) == 0
    capsys.readouterr()
    rows = _rows(two_tier_out / "scenarios.csv")
    get = {(r["scenario"], r["tier"]): r for r in rows}
    assert {r["scenario"] for r in rows} == {"current", "planned:street_centre", "planned:community_centre",
                                             "planned:all"}
    raws = {k: raw_state(two_tier_out, k) for k in ("street_centre", "community_centre")}
    elderly = raws["street_centre"]["demand_elderly"]
    masks = {}
    for k, r in raws.items():
        n_ex = int(r["n_existing"])
        cur = raw_covered(r, np.flatnonzero(r["existing_ok"]))
        plan = cur | raw_covered(r, n_ex + r["chosen"])
        masks[k] = (cur, plan)
        summary = load_state(two_tier_out, k).summary
        assert float(get[("current", k)]["elderly_covered"]) == pytest.approx(
            summary_figure(summary, k, "current").covered, abs=0.06)
        assert float(get[("planned:all", k)]["elderly_covered"]) == pytest.approx(
            summary_figure(summary, k, "planned").covered, abs=0.06)
        assert float(get[(f"planned:{k}", k)]["elderly_covered"]) == pytest.approx(
            float(elderly[plan].sum()), abs=0.06)
    # "any" = a resident reached by either tier, counted once
    for sid, use in (("current", (0, 0)), ("planned:street_centre", (1, 0)), ("planned:all", (1, 1))):
        union = masks["street_centre"][use[0]] | masks["community_centre"][use[1]]
        assert float(get[(sid, "any")]["elderly_covered"]) == pytest.approx(float(elderly[union].sum()), abs=0.06)
    assert int(get[("planned:all", "any")]["sites_added"]) == 5
