"""The bundle the outputs read: parameters from its RunParams, never from summary["parameters"]."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import carecover.outputs
import geopandas as gpd
import pytest
import shapely
from carecover.errors import InputError
from carecover.outputs.bundle import PlanBundle, ranked_gaps

OUTPUTS = Path(carecover.outputs.__file__).resolve().parent


def test_no_output_module_reads_summary_parameters() -> None:
    modules = sorted(OUTPUTS.rglob("*.py"))
    assert {"build.py", "legend.py", "sections.py", "export.py"} <= {p.name for p in modules}
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == "parameters"]
        assert not keys, f"{path.relative_to(OUTPUTS)} reads 'parameters' (lines {keys}): use bundle.params"


def test_run_params_and_title(hohhot_bundle, make_params) -> None:
    b = hohhot_bundle()
    assert b.run_params() is b.params
    with pytest.raises(InputError, match="params"):
        dataclasses.replace(b, params=None).run_params()
    # the title: the bundle's own, else the run's, else a generic one in the bundle's language
    assert b.display_title() == "一刻钟养老服务圈覆盖分析"
    assert dataclasses.replace(b, lang="en").display_title() == "15-minute elderly-care coverage"
    run = dataclasses.replace(b, params=make_params(title="呼和浩特市 Hohhot"))
    assert run.display_title() == "呼和浩特市 Hohhot"
    assert dataclasses.replace(run, title="Own").display_title() == "Own"
    # a summary's "parameters" (summary.json states them) is not where the title comes from
    assert dataclasses.replace(b, summary={"parameters": {"city": "Nowhere"}}).display_title() == b.display_title()


def test_make_params_defaults_and_changes(make_params) -> None:
    from carecover import settings
    from carecover.tiers import TIERS

    p = make_params()
    assert p.walk_speed_mps == settings.walk_speed_mps and p.tiers["street_centre"] == TIERS["street_centre"]
    q = make_params(walk_speed_mps=0.7, tier_changes={"street_centre": {"threshold_min": 10.0}})
    assert q.walk_speed_mps == 0.7 and q.tiers["street_centre"].threshold_min == 10.0
    assert q.tiers["community_centre"] == TIERS["community_centre"]
    assert TIERS["street_centre"].threshold_min == 15.0  # the catalogue is untouched


def test_ranked_gaps_given_or_by_elderly() -> None:
    pts = [shapely.Point(0, 0)] * 3
    g = gpd.GeoDataFrame({"gap_id": ["a", "b", "c"], "elderly": [5.0, 9.0, 5.0], "pop": [10.0, 20.0, 30.0]},
                         geometry=pts, crs=4326)
    r = ranked_gaps(g)
    assert r["gap_id"].tolist() == ["b", "c", "a"] and r["rank"].tolist() == [1, 2, 3]
    assert "rank" not in g  # a copy
    given = g.assign(rank=[3, 1, 2])
    assert ranked_gaps(given)["rank"].tolist() == [3, 1, 2]


def test_bundle_checks_crs_and_language(hohhot_bundle) -> None:
    b = hohhot_bundle()
    with pytest.raises(InputError):
        PlanBundle(facilities=b.facilities, isochrones=b.isochrones, demand=b.demand, lang="fr")
    with pytest.raises(InputError):
        PlanBundle(facilities=b.facilities.to_crs(3857), isochrones=b.isochrones, demand=b.demand)
