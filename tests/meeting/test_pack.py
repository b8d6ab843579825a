"""A folder that travels: ``carecover pack`` writes one archive; unpacked elsewhere, with the
plan's OSM file and network cache gone, ``whatif`` and ``meet`` still answer (offline), and the
figures are the same; ``--network`` points at another copy of the OSM file; a missing network
names the full paths tried."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from carecover.errors import InputError
from carecover.meeting.meet import build_room
from carecover.meeting.pack import pack
from carecover.siting.state import load_state
from carecover.siting.whatif import Session

ROOT = Path(__file__).resolve().parents[2]


def _carecover(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(ROOT / "coverage"), **(env or {})}
    return subprocess.run([sys.executable, "-c", "import sys; from carecover.cli import main; sys.exit(main())", *args], capture_output=True, text=True, env=e,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def moved(tmp_path_factory, helsinki_pbf: Path):
    """A plan with its own network copy and cache, packed; then both removed and the archive
    unpacked in another folder."""
    from carecover.cli import SAMPLE

    d = tmp_path_factory.mktemp("pack")
    net = d / "城市" / "helsinki.osm.pbf"
    net.parent.mkdir()
    shutil.copy(helsinki_pbf, net)
    out = d / "plan"
    r = _carecover("--quiet", "plan", "--config", str(SAMPLE / "helsinki.toml"), "--network", str(net),
                   "--facilities", str(SAMPLE / "helsinki_facilities.csv"), "--suggest", "street_centre=2",
                   "--out", str(out), env={"CARECOVER_CACHE": str(d / "cache")})
    assert r.returncode == 0, r.stderr
    lon, lat = float(load_state(out, "street_centre").demand_lon[30]), float(load_state(out, "street_centre").demand_lat[30])
    before = Session(load_state(out, "street_centre"))
    before.add_point(lon, lat)
    archive = pack(out, d / "meeting.zip")
    again = pack(out, d / "again.zip")
    keep = d / "kept.osm.pbf"
    shutil.move(net, keep)
    shutil.rmtree(d / "cache")
    dest = tmp_path_factory.mktemp("laptop") / "会议"
    with zipfile.ZipFile(archive) as z:
        z.extractall(dest)
    return {"out": dest / "plan", "archive": archive, "lonlat": (lon, lat), "expected": before.steps[-1].covered,
            "kept": keep, "again": again}


def test_archive_holds_state_maps_and_network_cache(moved) -> None:
    names = zipfile.ZipFile(moved["archive"]).namelist()
    assert "plan/state/street_centre.npz" in names and "plan/map.html" in names
    assert any(n.startswith("plan/cache/networks/") and n.endswith(".npz") for n in names)
    # the same folder packed twice: the same bytes
    assert moved["again"].read_bytes() == moved["archive"].read_bytes()


def test_whatif_runs_from_the_unpacked_copy(moved, tmp_path) -> None:
    lon, lat = moved["lonlat"]
    r = _carecover("whatif", "--out", str(moved["out"]), "--tier", "street_centre", "--add", f"{lon},{lat}",
                   cwd=tmp_path, env={"CARECOVER_CACHE": str(tmp_path / "nocache")})
    assert r.returncode == 0, r.stderr
    assert f"{round(moved['expected']['elderly']):,d}" in r.stdout
    s = Session(load_state(moved["out"], "street_centre"))
    s.add_point(lon, lat)
    assert s.steps[-1].covered == pytest.approx(moved["expected"])


def test_meet_runs_from_the_unpacked_copy(moved) -> None:
    room = build_room(moved["out"])
    lon, lat = moved["lonlat"]
    room.act("street_centre", {"action": "add", "lon": lon, "lat": lat})
    cov = room.tier("street_centre").engine.covered_weights()
    assert cov == pytest.approx(moved["expected"])


def test_network_override_and_full_paths(moved, tmp_path) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(moved["out"], bare)
    shutil.rmtree(bare / "cache")
    st = load_state(bare, "street_centre")
    with pytest.raises(InputError) as exc:
        st.network()
    assert str((bare / "cache").resolve()) in str(exc.value) and "--network" in str(exc.value)
    st.use_network(moved["kept"])  # another copy of the same file: hash checked, network built
    assert st.network().n_segments == st.network_record.segments
    r = _carecover("whatif", "--out", str(bare), "--tier", "street_centre", "--network", str(moved["kept"]),
                   "--add", "{},{}".format(*moved["lonlat"]), env={"CARECOVER_CACHE": str(tmp_path / "c2")})
    assert r.returncode == 0, r.stderr
    assert np.isfinite(moved["expected"]["elderly"])
