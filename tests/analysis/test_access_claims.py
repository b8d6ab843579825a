"""Claims on capacity-aware accessibility (kind = "access", issue 13): validation and matching."""

from __future__ import annotations

import pytest
from carecover.analysis.claims import evaluate_claims, format_value, load_claims
from carecover.errors import InputError
from carecover.tiers import TIERS

HEAD = 'city = "t"\n'


def claim(body: str) -> str:
    return HEAD + '[[claim]]\nid = "a"\ntiers = ["community_centre"]\nop = ">="\n' + body


def fig(measure: str, method: str, value: float, area: str = "all") -> dict:
    return {"kind": "access", "tiers": ["community_centre"], "population": "elderly", "area": area,
            "threshold_min": 15.0, "speed_mps": 1.0, "mode": "walk", "scenario": "current", "method": method,
            "measure": measure, "value": value, "covered": 10.0, "total": 100.0, "data": {}}


FIGS = [fig("places_per_1000", "2sfca", 18.0), fig("places_per_1000", "e2sfca", 21.5),
        fig("share_below_standard", "e2sfca", 0.4), fig("gini", "e2sfca", 0.35)]


class TestAccessClaims:
    def test_defaults_and_matching(self, tmp_path):
        p = tmp_path / "c.toml"
        p.write_text(claim('kind = "access"\nvalue = 20.0\n'), encoding="utf-8")
        (c,) = load_claims(p)
        assert (c.measure, c.method, c.population) == ("places_per_1000", "e2sfca", "elderly")
        row = evaluate_claims([c], FIGS, TIERS, walk_speed_mps=1.0).iloc[0]
        assert row["computed"] == 21.5 and row["result"] == "PASS" and row["measure"] == "places_per_1000"
        p.write_text(claim('kind = "access"\nmethod = "2sfca"\nvalue = 20.0\n'), encoding="utf-8")
        assert evaluate_claims(load_claims(p), FIGS, TIERS, walk_speed_mps=1.0).iloc[0]["result"] == "FAIL"  # 18 < 20
        p.write_text(claim('kind = "access"\nmeasure = "share_below_standard"\nmethod = "2sfca"\nvalue = 0.5\n'),
                     encoding="utf-8")
        row = evaluate_claims(load_claims(p), FIGS, TIERS, walk_speed_mps=1.0).iloc[0]
        assert row["result"] == "NOT EVALUATED" and "share_below_standard" in row["reason"]

    @pytest.mark.parametrize("body, field, text", [
        ('kind = "access"\nmeasure = "places"\nvalue = 1.0\n', "claim[0].measure", "unknown measure"),
        ('kind = "access"\nmethod = "3sfca"\nvalue = 1.0\n', "claim[0].method", "unknown method"),
        ('kind = "access"\nmeasure = "gini"\nvalue = 1.5\n', "claim[0].value", "between 0 and 1"),
        ('kind = "access"\nvalue = -1.0\n', "claim[0].value", ">= 0"),
        ('kind = "access"\npopulation = "total"\nvalue = 1.0\n', "claim[0].population", "elderly only"),
        ('kind = "population"\nmeasure = "gini"\nvalue = 0.5\n', "claim[0].measure", "access claims only"),
    ])
    def test_bad_access_claims(self, tmp_path, body, field, text):
        p = tmp_path / "c.toml"
        p.write_text(claim(body), encoding="utf-8")
        with pytest.raises(InputError) as e:
            load_claims(p)
        assert e.value.field == field and text in str(e.value)

    def test_values_are_written_for_people(self):
        assert format_value(21.456, "places_per_1000") == "21.5 per 1,000"
        assert format_value(0.3512, "gini") == "0.351"
        assert format_value(0.4, "share_below_standard") == "40.0%"
