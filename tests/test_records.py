"""Typed records of summary.json (issue 20, item 3): ``Figure`` and ``SiteInfo`` spell the keys
once and round-trip every figure and siting entry a plan writes; ``SummaryFile`` is the one
reader (claims, meeting commands, ``read_plan``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from carecover.errors import InputError
from carecover.records import Figure, SiteInfo
from carecover.summary_file import SummaryFile

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"


def _summaries(demo_out: Path) -> list[dict]:
    files = [demo_out / "summary.json", *sorted(GOLDEN.glob("*/expected/summary.json"))]
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


def test_every_figure_and_site_round_trips(demo_out: Path) -> None:
    kinds = set()
    for summary in _summaries(demo_out):
        for d in summary["figures"]:
            f = Figure.from_dict(d)
            assert f.to_dict() == d
            kinds.add(f.kind)
        for key, d in summary.get("sites", {}).items():
            info = SiteInfo.from_dict(d, key)
            assert info.to_dict() == d
            assert info.tier == key and 0 <= info.share_before <= info.share_after <= 1
    assert {"population", "circle", "all_of"} <= kinds


def test_figure_attributes_name_the_keys(demo_out: Path) -> None:
    run = SummaryFile.read(demo_out / "summary.json")
    f = run.figure("street_centre", "planned")
    assert f is not None and f.kind == "population" and f.tiers == ("street_centre",)
    assert f.scenario == "planned" and f.population == "elderly" and f.area == "all"
    assert f.speed_mps == run.speed_mps == 1.0 and f.value == pytest.approx(f.covered / f.total)
    assert "median_min" in f.extra and f.get("median_min") == f.extra["median_min"]
    # each tier at the threshold the run used
    assert run.tiers()["street_centre"].threshold_min == run.parameters["tiers"]["street_centre"]["threshold_min"]
    site = run.sites["street_centre"]
    assert site.placed == site.asked and site.exact["status"] in ("optimal", "time_limit")


@pytest.mark.parametrize("text, says", [
    (None, "summary.json not found"), ("{", "not valid JSON"), ('{"figures": 1}', "no 'figures' list"),
])
def test_one_reader_one_line_errors(tmp_path: Path, text: str | None, says: str) -> None:
    p = tmp_path / "summary.json"
    if text is not None:
        p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=says):
        SummaryFile.read(p)
    with pytest.raises(InputError, match="is a folder"):
        SummaryFile.read(tmp_path)


def test_a_region_summary_is_read_too() -> None:
    """region_summary.json states its parameters under the same key; its sites are a list."""
    run = SummaryFile.of({"title": "区域", "parameters": {"speed_mps": 1.2, "max_snap_m": 300.0},
                          "sites": [{"tier": "street_centre", "area": "A"}]})
    assert run.speed_mps == 1.2 and run.parameters["max_snap_m"] == 300.0 and run.title == "区域"
    assert run.figures == () and dict(run.sites) == {}
