"""One name per parameter from the command line to the outputs, resolved (and checked) once."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from carecover import cli
from carecover.config import load_config
from carecover.errors import InputError
from carecover.inputs.demand import Demand
from carecover.plan import PlanOptions, resolve
from carecover.plan.gaps import link_distance
from carecover.plan.options import key_values
from carecover.plan.resolve import suggest_counts
from carecover.tiers import TIERS

SAMPLE = Path(cli.__file__).resolve().parent / "sample"


def _config(tmp_path: Path):
    src = (SAMPLE / "helsinki.toml").read_text(encoding="utf-8")
    head = src.split("[census]")[0].replace('claims = "helsinki_claims.toml"\n', "")
    head = head.replace('facilities = "helsinki_facilities.csv"',
                        f'facilities = "{(SAMPLE / "helsinki_facilities.csv").as_posix()}"')
    p = tmp_path / "city.toml"
    p.write_text(head + '\n[census]\npopulation = 20000\n', encoding="utf-8")
    return load_config(p)


def _plan_args(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["plan", *argv])


class TestSuggestParsedOnce:
    def test_the_command_line_only_splits_and_resolve_checks(self, tmp_path, helsinki_pbf):
        opts = cli.plan_options(_plan_args("--suggest", "街道级=2", "--network", str(helsinki_pbf)))
        assert opts.suggest == (("街道级", "2"),)  # text as typed: nothing checked yet
        p = resolve(PlanOptions(network=helsinki_pbf, config=_config(tmp_path), suggest=opts.suggest))
        assert dict(p.suggest) == {"street_centre": 2}

    @pytest.mark.parametrize("value, says", [("street_centre=eight", "not a number"),
                                             ("street_centre=-1", "negative"),
                                             ("street_centre=1.5", "whole number"),
                                             ("nursing_home=2", "unknown tier")])
    def test_one_check_for_plan_and_region(self, value, says):
        pairs = key_values([value], "--suggest", "TIER=N")
        with pytest.raises(InputError, match=says):
            suggest_counts(pairs, TIERS)

    def test_region_passes_its_budget_as_typed(self):
        args = cli.build_parser().parse_args(["region", "--areas", "a.toml", "--out", "o", "--suggest", "乡镇=7",
                                  "--speed", "0.8"])
        assert args.walk_speed_mps == 0.8
        assert suggest_counts(key_values(args.suggest, "--suggest", "TIER=N"), TIERS) == {"township_centre": 7}

    def test_a_value_without_equals_sign_is_one_line(self):
        with pytest.raises(InputError, match="--suggest expects TIER=N"):
            key_values(["street_centre"], "--suggest", "TIER=N, e.g. street_centre=8")


class TestWalkingSpeedName:
    def test_speed_option_is_walk_speed_mps_to_the_summary(self, tmp_path, helsinki_pbf):
        args = _plan_args("--speed", "0.9", "--network", str(helsinki_pbf))
        assert args.walk_speed_mps == 0.9
        p = resolve(PlanOptions(network=helsinki_pbf, config=_config(tmp_path),
                                walk_speed_mps=cli.plan_options(args).walk_speed_mps))
        assert p.walk_speed_mps == 0.9 and p.to_dict()["speed_mps"] == 0.9


def test_offline_map_is_accepted_and_changes_nothing(helsinki_pbf):
    """Every map is self-contained already: the option is kept for old scripts and says so."""
    import dataclasses

    plain = cli.plan_options(_plan_args("--network", str(helsinki_pbf)))
    offline = cli.plan_options(_plan_args("--network", str(helsinki_pbf), "--offline-map"))
    assert dataclasses.replace(offline, command=plain.command) == plain
    assert "no effect" in cli.OFFLINE_MAP_HELP


class TestGapLink:
    def test_the_option_is_resolved_checked_and_used(self, tmp_path, helsinki_pbf):
        cfg = _config(tmp_path)
        args = _plan_args("--gap-link", "250", "--network", str(helsinki_pbf))
        p = resolve(PlanOptions(network=helsinki_pbf, config=cfg, gap_link_m=cli.plan_options(args).gap_link_m))
        assert p.gap_link_m == 250.0 and p.to_dict()["gap_link_m"] == 250.0
        demand = Demand(points=_points(), source={"method": "raster"})
        assert link_distance(p, demand) == 250.0
        # not given: automatic (1.5 × the raster cell), stated as null
        auto = resolve(PlanOptions(network=helsinki_pbf, config=cfg))
        assert auto.gap_link_m is None and link_distance(auto, demand) == pytest.approx(1.5 * 100.0)
        with pytest.raises(InputError, match="gap linkage distance"):
            resolve(PlanOptions(network=helsinki_pbf, config=cfg, gap_link_m=-5.0))


def _points():
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame({"area_m2": np.full(3, 100.0 * 100.0)},
                            geometry=[shapely.Point(24.9 + i * 1e-3, 60.17) for i in range(3)], crs=4326)
