"""Co-location (一老一小) end to end on the real Monaco extract: candidates from its schools,
hospitals and libraries, the plan with at least k co-located sites, and its price in the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from carecover import cli
from carecover.config import load_config
from carecover.errors import InputError
from carecover.network import streets as network
from carecover.plan import PlanOptions, resolve

KINDS = "school,kindergarten,hospital,library"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, monaco_pbf):
    tmp = tmp_path_factory.mktemp("coloc_plan")
    net = network.load_network(monaco_pbf, "walk", cache=tmp / "cache")
    lon, lat = net.to_wgs84().transform(net.node_x, net.node_y)
    deg = np.bincount(np.concatenate([net.seg_a, net.seg_b]), minlength=net.n_nodes)
    j = np.flatnonzero(deg >= 3)
    rows = [(f"C{i + 1}", f"社区站 {i + 1}", "社区养老服务站", lon[k], lat[k])
            for i, k in enumerate(j[:: max(len(j) // 3, 1)][:3])]
    pd.DataFrame(rows, columns=["编号", "名称", "层级", "经度", "纬度"]).to_csv(
        tmp / "register.csv", index=False, encoding="utf-8-sig")
    common = ["--quiet", "plan", "--network", str(monaco_pbf), "--facilities", str(tmp / "register.csv"),
              "--total-population", "38000", "--suggest", "community_centre=3", "--exact-time-limit", "20",
              "--max-candidates", "200", "--candidates-from-osm", KINDS]
    mixed, only = tmp / "mixed", tmp / "only"
    assert cli.main([*common, "--candidates-mix", "--colocation-min", "2", "--out", str(mixed)]) == 0
    assert cli.main([*common, "--out", str(only)]) == 0
    return mixed, only


def test_every_site_says_what_it_is_colocated_with(runs):
    mixed, _ = runs
    sites = pd.read_csv(mixed / "sites.csv", encoding="utf-8-sig")
    assert {"site_name", "colocated_kind", "colocated_name", "colocated_m", "colocated_with"} <= set(sites.columns)
    for _, grp in sites.groupby("method"):
        co = grp[grp["colocated_kind"].notna()]
        assert len(co) >= 2  # the rule: at least 2 co-located sites
        assert (co["colocated_m"] <= 100).all() and co["colocated_name"].notna().all()
        assert co["colocated_kind"].isin(KINDS.split(",")).all()
    fac = sites[sites["candidate"].str.startswith("osm/")]
    assert len(fac) and fac["site_name"].str.contains("旁 / next to ").all()
    assert (fac["colocated_m"] == 0).all()  # at its own facility
    # one name per site: a facility site keeps its facility's name after its ★rank
    assert (fac["site_label"] == "★" + fac["rank"].astype(str) + " " + fac["site_name"]).all()


def test_summary_and_report_state_the_price_of_the_rule(runs):
    mixed, _ = runs
    summary = json.loads((mixed / "summary.json").read_text(encoding="utf-8"))
    c = summary["sites"]["community_centre"]["colocation"]
    assert c["min_sites"] == {"any": 2} and c["with"]["colocated_sites"] >= 2
    assert c["without"]["covered_after"] >= c["with"]["covered_after"] - 1e-6  # a rule only costs
    assert c["difference_elderly"] == pytest.approx(c["with"]["covered_after"] - c["without"]["covered_after"])
    assert c["difference_points"] == pytest.approx(100 * c["difference_elderly"] / c["total_weight"])
    # the plan's coverage is the one with the rule
    assert summary["sites"]["community_centre"]["covered_after"] == pytest.approx(c["with"]["covered_after"])
    html = (mixed / "report.html").read_text(encoding="utf-8")
    assert "一老一小同址" in html and "百分点" in html and "percentage points" in html
    assert f"{c['difference_points']:+.2f}" in html
    assert "有同址要求 With the rule" in html and "无同址要求 Without the rule" in html


def test_only_facility_candidates_without_mix(runs):
    _, only = runs
    sites = pd.read_csv(only / "sites.csv", encoding="utf-8-sig")
    assert sites["candidate"].str.startswith("osm/").all()
    summary = json.loads((only / "summary.json").read_text(encoding="utf-8"))
    c = summary["sites"]["community_centre"]["colocation"]
    assert "with" not in c and c["mix"] is False  # no rule asked: nothing to compare


def test_config_table_and_errors(tmp_path, monaco_pbf):
    reg = tmp_path / "r.csv"
    reg.write_text("编号,名称,层级,经度,纬度\nC1,a,社区养老服务站,7.42,43.73\n", encoding="utf-8-sig")
    cfg_path = tmp_path / "city.toml"
    cfg_path.write_text('city = "t"\nname_zh = "测"\nname_en = "T"\n'
                        '[colocation]\nkinds = ["学校", "clinic"]\nmix = true\nwithin_m = 80.0\n'
                        '[colocation.min_sites]\nschool = 1\n', encoding="utf-8")
    cfg = load_config(cfg_path)
    base = {"network": Path(monaco_pbf), "facilities": (reg,), "out": tmp_path / "o", "config": cfg,
            "total_population": 1000.0}
    p = resolve(PlanOptions(**base))
    assert (p.colocation_kinds, p.candidates_mix, dict(p.colocation_min), p.colocation_within_m) == (
        ("school", "clinic"), True, {"school": 1}, 80.0)
    assert p.to_dict()["colocation"]["kinds"] == ["school", "clinic"]
    # the command line wins over the config
    p2 = resolve(PlanOptions(**base, candidates_from_osm="library", colocation_min=(("any", 2),)))
    assert p2.colocation_kinds == ("library",) and dict(p2.colocation_min) == {"any": 2}
    with pytest.raises(InputError, match="'hospital'"):
        resolve(PlanOptions(**base, colocation_min=(("hospital", 1),)))
    # a rule or a mix without facilities to read is an error, not silently ignored
    bare = {k: v for k, v in base.items() if k != "config"}
    for extra in ({"colocation_min": (("any", 1),)}, {"candidates_mix": True}):
        with pytest.raises(InputError, match="needs --candidates-from-osm"):
            resolve(PlanOptions(**bare, **extra))
    # without the option nothing changes in the parameters the outputs state
    plain = resolve(PlanOptions(network=Path(monaco_pbf), facilities=(reg,), out=tmp_path / "o2",
                                total_population=1000.0))
    assert plain.colocation_kinds == () and "colocation" not in plain.to_dict()


def test_colocation_min_option_parsing():
    assert cli._colocation_min(["2", "school=1"]) == (("any", 2), ("school", 1))
    with pytest.raises(InputError, match="KIND=K"):
        cli._colocation_min(["school=two"])


def test_meeting_names_facility_sites_by_their_facility(runs, tmp_path):
    mixed, _ = runs
    assert cli.main(["--quiet", "rankings", "--out", str(mixed), "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    sheet = pd.read_excel(tmp_path / "r.xlsx", sheet_name="选址 社区养老服务中心、站", header=1)
    sites = pd.read_csv(mixed / "sites.csv", encoding="utf-8-sig")
    exact = sites[(sites["method"] == "exact") & sites["candidate"].str.startswith("osm/")]
    assert len(exact)
    labels = set(sheet["站点"])
    for _, r in exact.iterrows():
        assert f"★{int(r['rank'])} {r['site_name']}" in labels
    assert {"同址设施类型", "同址设施名称", "与同址设施距离(米)"} <= set(sheet.columns)


@pytest.mark.parametrize("args, field", [
    (["--candidates-from-osm", "school,church"], "--candidates-from-osm"),
    (["--colocation-min", "2"], "--colocation-min"),
    (["--candidates-from-osm", "school", "--colocation-min", "hospital=1"], "--colocation-min"),
    (["--candidates-from-osm", "school", "--candidates", "{reg}"], "--candidates-mix"),
])
def test_bad_colocation_options_exit_2_before_any_output(tmp_path, monaco_pbf, capsys, args, field):
    reg = tmp_path / "r.csv"
    reg.write_text("编号,名称,层级,经度,纬度\nC1,a,社区养老服务站,7.42,43.73\n", encoding="utf-8-sig")
    out = tmp_path / "out"
    code = cli.main(["--quiet", "plan", "--network", str(monaco_pbf), "--facilities", str(reg),
                     "--total-population", "1000", "--suggest", "community_centre=1",
                     *[a.format(reg=reg) for a in args], "--out", str(out)])
    assert code == 2
    assert f"field '{field}'" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
