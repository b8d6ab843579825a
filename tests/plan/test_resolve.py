"""Stage 0: options + city config + settings → one frozen RunParams."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from carecover import cli, settings
from carecover.config import load_config
from carecover.errors import InputError
from carecover.plan import PlanOptions, resolve

SAMPLE = Path(cli.__file__).resolve().parent / "sample"


def sample_config(tmp_path: Path, text: str = "") -> Path:
    """The demo's config without its per-tier thresholds, plus ``text``."""
    src = (SAMPLE / "helsinki.toml").read_text(encoding="utf-8")
    head = src.split("[census]")[0].replace('claims = "helsinki_claims.toml"\n', "")
    head = head.replace('facilities = "helsinki_facilities.csv"',
                        f'facilities = "{(SAMPLE / "helsinki_facilities.csv").as_posix()}"')
    p = tmp_path / "city.toml"
    p.write_text(head + text + '\n[census]\npopulation = 20000\n', encoding="utf-8")
    return p


class TestPrecedence:
    def test_command_line_then_config_then_settings(self, tmp_path, helsinki_pbf):
        cfg = load_config(sample_config(tmp_path, "max_snap_m = 150.0\n"))
        p = resolve(PlanOptions(network=helsinki_pbf, config=cfg, walk_speed_mps=0.9))
        assert p.walk_speed_mps == 0.9  # the option
        assert p.max_snap_m == 150.0  # the config
        assert p.isochrone_buffer_m == settings.isochrone_buffer_m  # the settings
        assert p.facilities == (SAMPLE / "helsinki_facilities.csv",)  # the config's register
        assert p.total_population == 20000  # the config's census total
        assert p.to_dict()["speed_mps"] == 0.9 and p.to_dict()["max_snap_m"] == 150.0
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.walk_speed_mps = 1.0  # resolved once

    def test_suggest_takes_every_tier_name_and_alias(self, tmp_path, helsinki_pbf):
        cfg = load_config(sample_config(tmp_path))
        p = resolve(PlanOptions(network=helsinki_pbf, config=cfg, suggest=(("街道级", 2),)))
        assert dict(p.suggest) == {"street_centre": 2}


class TestTopLevelThreshold:
    def test_applies_to_every_tier_without_its_own(self, tmp_path, helsinki_pbf):
        cfg = load_config(sample_config(tmp_path, "threshold_min = 7.0\n[tiers.meal_point]\nthreshold_min = 3.0\n"))
        p = resolve(PlanOptions(network=helsinki_pbf, config=cfg))
        assert p.threshold_min == 7.0
        assert p.tiers["community_centre"].threshold_min == 7.0
        assert p.tiers["county_institution"].threshold_min == 7.0
        assert p.tiers["meal_point"].threshold_min == 3.0  # its own value wins

    @pytest.mark.slow
    def test_a_changed_value_changes_the_figures(self, tmp_path, helsinki_pbf):
        shares = {}
        for minutes in (3.0, 6.0):
            d = tmp_path / f"t{minutes:g}"
            d.mkdir()
            cfg = sample_config(d, f"threshold_min = {minutes}\n")
            rc = cli.main(["--quiet", "plan", "--config", str(cfg), "--network", str(helsinki_pbf),
                           "--no-cache", "--out", str(d / "out")])
            assert rc == 0
            s = json.loads((d / "out" / "summary.json").read_text(encoding="utf-8"))
            figs = [f for f in s["figures"] if f["kind"] == "population" and f["tiers"] == ["community_centre"]
                    and f["population"] == "elderly" and f["area"] == "all" and f["speed_mps"] == 1.0]
            assert len(figs) == 1 and figs[0]["threshold_min"] == minutes  # stated with the figure
            assert s["parameters"]["tiers"]["community_centre"]["threshold_min"] == minutes
            shares[minutes] = figs[0]["value"]
        assert shares[3.0] < shares[6.0]


class TestErrors:
    def test_every_missing_input_is_listed_at_once(self, tmp_path):
        with pytest.raises(InputError) as e:
            resolve(PlanOptions(network=tmp_path / "none.osm.pbf", facilities=(tmp_path / "none.csv",)))
        assert "none.osm.pbf" in str(e.value) and "none.csv" in str(e.value)

    def test_unknown_tier_and_bad_speed(self, tmp_path, helsinki_pbf):
        reg = SAMPLE / "helsinki_facilities.csv"
        with pytest.raises(InputError, match="unknown tier 'nursing'"):
            resolve(PlanOptions(network=helsinki_pbf, facilities=(reg,), suggest=(("nursing", 1),)))
        with pytest.raises(InputError, match="--speed"):
            resolve(PlanOptions(network=helsinki_pbf, facilities=(reg,), walk_speed_mps=-1.0))

    def test_output_path_that_is_a_file(self, tmp_path, helsinki_pbf):
        f = tmp_path / "out"
        f.write_text("x")
        with pytest.raises(InputError, match="not a folder"):
            resolve(PlanOptions(network=helsinki_pbf, facilities=(SAMPLE / "helsinki_facilities.csv",), out=f))


class TestSitingObjective:
    """``--objective`` (issue 13 item 5): coverage by default; served needs each planned tier's
    capacity rule with the places of a new site."""

    def test_served_needs_a_capacity_rule(self, tmp_path, helsinki_pbf):
        cfg = load_config(sample_config(tmp_path))
        assert resolve(PlanOptions(network=helsinki_pbf, config=cfg)).objective == "coverage"
        with pytest.raises(InputError, match="new_site") as err:
            resolve(PlanOptions(network=helsinki_pbf, config=cfg, suggest=(("street_centre", 2),), objective="served"))
        assert err.value.field == "capacity.street_centre.new_site"

    def test_unknown_objective(self, tmp_path, helsinki_pbf):
        cfg = load_config(sample_config(tmp_path))
        with pytest.raises(InputError, match="objective"):
            resolve(PlanOptions(network=helsinki_pbf, config=cfg, objective="votes"))
