"""Claims: loading, validation and hand-checked PASS / FAIL / NOT EVALUATED."""

from __future__ import annotations

import pytest
from carecover.analysis.claims import (
    COLUMNS,
    FAIL,
    NOT_EVALUATED,
    PASS,
    claims_table_text,
    evaluate_claims,
    load_claims,
)
from carecover.config import find_city_config, load_config
from carecover.errors import InputError
from carecover.tiers import TIERS

CLAIMS = """
[[claim]]
id = "community-90"
text_zh = "社区级养老服务设施覆盖率达90%以上"
text_en = "Community-level facilities cover over 90%"
source = "test 2025-06-25"
kind = "population"
tiers = ["community_centre"]
population = "elderly"
op = ">="
value = 0.90
area = "urban"

[[claim]]
id = "community-90-slow"
text_zh = "同上，0.8 m/s"
kind = "population"
tiers = ["community_centre"]
speed_mps = 0.8
op = ">="
value = 0.90
area = "urban"

[[claim]]
id = "meal-all"
text_zh = "助餐全覆盖"
kind = "population"
tiers = ["meal_point"]
op = ">="
value = 1.0

[[claim]]
id = "township-68.9"
text_zh = "乡镇区域养老服务中心覆盖率68.9%"
kind = "administrative"
tiers = ["township_centre"]
op = "=="
value = 0.689

[[claim]]
id = "township-80"
text_zh = "乡镇区域养老服务中心覆盖率提升至80%以上"
kind = "administrative"
tiers = ["township_centre"]
op = ">="
value = 0.80

[[claim]]
id = "township-80-planned"
text_zh = "新建7个后"
kind = "administrative"
tiers = ["township_centre"]
op = ">="
value = 0.80
scenario = "planned"

[[claim]]
id = "both-any"
text_zh = "街道或社区"
kind = "population"
tiers = ["community_centre", "street_centre"]
population = "total"
threshold_min = 10
op = ">"
value = 0.5
"""


def fig(**kw):
    base = {"kind": "population", "tiers": ["community_centre"], "population": "elderly",
            "area": "urban", "threshold_min": 15.0, "speed_mps": 1.0, "mode": "walk",
            "value": None, "covered": None, "total": None, "data": {"population": "worldpop"}}
    return {**base, **kw}


def admin(covered, total, scenario="current"):
    return {"kind": "administrative", "tiers": ["township_centre"], "unit": "township",
            "area": "all", "population": None, "threshold_min": None, "speed_mps": None,
            "mode": None, "value": covered / total, "covered": covered, "total": total,
            "scenario": scenario, "data": {"admin_units": "report"}}


@pytest.fixture()
def claims(tmp_path):
    p = tmp_path / "claims.toml"
    p.write_text(CLAIMS, encoding="utf-8")
    return load_claims(p)


def by_id(df):
    return {r["id"]: r for r in df.to_dict("records")}


def test_hand_checked_results(claims):
    figures = [
        # 9,150 of 10,000 urban elderly within 15 min at 1.0 m/s: 91.5% >= 90% -> PASS
        fig(value=0.915, covered=9150, total=10000),
        # at 0.8 m/s only 8,420: 84.2% < 90% -> FAIL
        fig(value=0.842, covered=8420, total=10000, speed_mps=0.8),
        # a figure for the wrong area must not be used for the urban claim
        fig(value=0.5, covered=1, total=2, area="all"),
        # any-of two tiers, total population, 10 min: 0.5 is not > 0.5 -> FAIL
        fig(tiers=["street_centre", "community_centre"], population="total", threshold_min=10.0,
            area="all", value=0.5, covered=5, total=10),
        admin(31, 45),
        admin(38, 45, "planned"),
    ]
    df = evaluate_claims(claims, figures, TIERS, walk_speed_mps=1.0)
    assert list(df.columns) == COLUMNS
    assert list(df["id"]) == [c.id for c in claims]  # every claim, in file order
    r = by_id(df)
    assert r["community-90"]["result"] == PASS and r["community-90"]["computed"] == 0.915
    assert r["community-90"]["covered"] == 9150
    assert r["community-90-slow"]["result"] == FAIL and r["community-90-slow"]["speed_mps"] == 0.8
    assert r["meal-all"]["result"] == NOT_EVALUATED
    assert "meal_point" in r["meal-all"]["reason"]
    # 31/45 = 68.89% matches the reported 68.9% (to 0.1%); fails the 80% target
    assert r["township-68.9"]["result"] == PASS
    assert r["township-80"]["result"] == FAIL
    assert r["township-80"]["computed"] == pytest.approx(31 / 45)
    # 38/45 = 84.4% after the 7 planned centres
    assert r["township-80-planned"]["result"] == PASS
    assert r["township-80-planned"]["computed"] == pytest.approx(0.8444, abs=1e-4)
    assert r["both-any"]["result"] == FAIL
    assert r["township-80"]["data"] == '{"admin_units": "report"}'


def test_main_speed_default_and_reasons(claims):
    # only a 1.2 m/s figure: the claim (default speed = the run's main speed) is not evaluated...
    df = evaluate_claims(claims, [fig(value=0.95, covered=95, total=100, speed_mps=1.2)], TIERS, walk_speed_mps=1.0)
    r = by_id(df)["community-90"]
    assert r["result"] == NOT_EVALUATED and "1.0 m/s" in r["reason"]
    # ...unless the run's main speed is 1.2 m/s
    df = evaluate_claims(claims, [fig(value=0.95, covered=95, total=100, speed_mps=1.2)], TIERS,
                         walk_speed_mps=1.2)
    assert by_id(df)["community-90"]["result"] == PASS
    # no administrative figures: says which unit is missing
    r = by_id(evaluate_claims(claims, [], TIERS, walk_speed_mps=1.0))["township-80"]
    assert r["result"] == NOT_EVALUATED and "township" in r["reason"]
    # only the current scenario: the planned claim says so
    r = by_id(evaluate_claims(claims, [admin(31, 45)], TIERS, walk_speed_mps=1.0))["township-80-planned"]
    assert r["result"] == NOT_EVALUATED and "planned" in r["reason"]
    # a figure at a different threshold is not used
    r = by_id(evaluate_claims(claims, [fig(value=1.0, threshold_min=20.0)], TIERS, walk_speed_mps=1.0))["community-90"]
    assert r["result"] == NOT_EVALUATED and "15" in r["reason"]


def test_threshold_follows_city_tier_override(claims):
    from carecover.tiers import resolve_tiers

    tiers = resolve_tiers({"community_centre": {"threshold_min": 10.0}})
    df = evaluate_claims(claims, [fig(value=0.93, threshold_min=10.0)], tiers=tiers, walk_speed_mps=1.0)
    assert by_id(df)["community-90"]["result"] == PASS


def test_admin_claims_from_hohhot_config():
    cfg = load_config(find_city_config("hohhot"))
    claims = load_claims(cfg.claims, [c.name for c in cfg.counties])
    r = by_id(evaluate_claims(claims, cfg.admin_figures(), cfg.resolved_tiers(), walk_speed_mps=cfg.walk_speed_mps))
    assert r["hohhot-township-68.9"]["result"] == PASS
    assert r["hohhot-township-80-now"]["result"] == FAIL
    assert r["hohhot-township-80-2025"]["result"] == PASS
    assert (r["hohhot-township-80-2025"]["covered"], r["hohhot-township-80-2025"]["total"]) == (38, 45)
    # the number of streets is unknown: not evaluated, never assumed
    assert r["hohhot-street-100-admin"]["result"] == NOT_EVALUATED
    assert r["hohhot-community-90"]["result"] == NOT_EVALUATED


@pytest.mark.parametrize("city", ["hohhot", "baotou", "hulunbuir"])
def test_shipped_claims_load(city):
    cfg = load_config(find_city_config(city))
    claims = load_claims(cfg.claims, [c.name for c in cfg.counties])
    assert claims and all(c.source and c.text_zh and c.text_en for c in claims)
    assert all(c.id.startswith(city) for c in claims)
    # every claim cites a dated document
    assert all(any(ch.isdigit() for ch in c.source) for c in claims)


def test_table_text(claims):
    df = evaluate_claims(claims, [admin(31, 45), admin(38, 45, "planned")], TIERS, walk_speed_mps=1.0)
    zh = claims_table_text(df, "zh")
    assert "通过 PASS" in zh and "未通过 FAIL" in zh and "未评估" in zh
    assert "68.9% (31/45)" in zh and "84.4% (38/45)" in zh
    assert zh.index("编号") < zh.index("ID")  # Chinese first
    en = claims_table_text(df, "en")
    assert "PASS" in en and "FAIL" in en and "未通过" not in en and "编号" not in en


@pytest.mark.parametrize("body, match", [
    ('id = "a"\nkind = "population"\ntiers = ["community_centre"]\nop = ">="\nvalu = 0.9\n', "value"),
    ('id = "a"\nkind = "population"\ntiers = ["comunity_centre"]\nop = ">="\nvalue = 0.9\n', "community_centre"),
    ('id = "a"\nkind = "spatial"\ntiers = ["community_centre"]\nop = ">="\nvalue = 0.9\n', "kind"),
    ('id = "a"\nkind = "population"\ntiers = ["community_centre"]\nop = "=>"\nvalue = 0.9\n', "op"),
    ('id = "a"\nkind = "population"\ntiers = ["community_centre"]\nop = ">="\nvalue = 90\n', "between 0 and 1"),
    ('id = "a"\nkind = "population"\ntiers = ["community_centre"]\nop = ">="\nvalue = "90%"\n', "float"),
    ('id = "a"\nkind = "population"\ntiers = ["community_centre"]\nop = ">="\nvalue = 0.9\narea = "Mars"\n', "area"),
])
def test_invalid_claims(tmp_path, body, match):
    p = tmp_path / "c.toml"
    p.write_text("[[claim]]\n" + body, encoding="utf-8")
    with pytest.raises(InputError, match=match) as exc:
        load_claims(p, counties=["新城区"])
    assert exc.value.file == str(p)


def test_duplicate_ids(tmp_path):
    one = '[[claim]]\nid = "a"\nkind = "administrative"\ntiers = ["township_centre"]\nop = ">="\nvalue = 0.8\n'
    p = tmp_path / "c.toml"
    p.write_text(one + one, encoding="utf-8")
    with pytest.raises(InputError, match="duplicate"):
        load_claims(p)
    p.write_text(one, encoding="utf-8")
    assert load_claims(p)[0].unit == "township"  # the unit defaults to the tier's
