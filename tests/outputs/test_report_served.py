"""The report's paragraph on siting with capacity (outputs/report/served.py, issue 13 item 5)."""

from __future__ import annotations

from types import SimpleNamespace

from carecover.outputs.report.served import served_paragraphs

SERVED = {"weight": "elderly", "capacity_rule": "beds × 1 places/bed; new sites 120 beds — test",
          "capacity_new_site": 120.0, "existing_without_capacity": 0,
          "greedy": {"objective": 230.0, "gap": 0.04}, "exact": {"objective": 240.0, "status": "optimal", "gap": 0.0},
          "served_before": 1000.0, "served_after": 1240.0, "total_weight": 4000.0, "places_added": 240.0,
          "served_by_new_sites": 240.0}


def test_states_served_before_after_places_rule_and_gap():
    b = SimpleNamespace(lang="en", summary={"sites": {"street_centre": {"served": SERVED}}})
    text, rule = served_paragraphs(b)
    assert "serve 1,000 elderly" in text and "1,240 with the new sites (120 places each)" in text
    assert "240 of the 240 places" in text and "Exact solution optimal, gap 0.0%" in text and "greedy adds 230" in text
    assert rule == "Capacity: beds × 1 places/bed; new sites 120 beds — test"
    zh, _ = served_paragraphs(SimpleNamespace(lang="zh", summary=b.summary))
    assert zh.startswith("按服务能力选址") and "Siting with capacity" in zh  # Chinese first


def test_nothing_when_only_coverage_was_asked():
    b = SimpleNamespace(lang="zh", summary={"sites": {"street_centre": {"exact": {"objective": 1.0}}}})
    assert served_paragraphs(b) == []
