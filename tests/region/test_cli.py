"""``carecover region`` through the command line: a run on an existing scheduler (by address),
and a bad areas file stopping before any cluster starts."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from carecover import cli, settings


def test_region_command_on_an_existing_scheduler(region_inputs: Path, two_cache: Path, cluster_client, tmp_path,
                                                 monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", two_cache)
    out = tmp_path / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        rc = cli.main(["region", "--areas", str(region_inputs / "two_list.toml"), "--out", str(out),
                       "--scheduler", cluster_client.scheduler.address, "--quiet", "--suggest", "community_centre=2"])
    assert rc == 0
    for name in ("sites.csv", "areas.csv", "region.csv", "region_report.html", "areas/west/coverage.csv",
                 "areas/east/facilities.csv"):
        assert (out / name).is_file(), name
    areas = (out / "areas.csv").read_text(encoding="utf-8-sig").splitlines()
    assert areas[0].startswith("area,tier") and any(line.startswith("east,community_centre") for line in areas)
    # the facility across the border is listed by the area it lies in only
    assert "W1" in (out / "areas/west/facilities.csv").read_text(encoding="utf-8-sig")
    assert "W1" not in (out / "areas/east/facilities.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("body", ["tile_km = 1\n", "[[areas]]\nname = 'x'\n"])
def test_bad_areas_file_exit_2(tmp_path, body):
    p = tmp_path / "areas.toml"
    p.write_text(body, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["region", "--areas", str(p), "--out", str(tmp_path / "out")])
    assert rc == 2 and "areas.toml" in err.getvalue() and "Traceback" not in err.getvalue()
    assert not (tmp_path / "out").exists()
