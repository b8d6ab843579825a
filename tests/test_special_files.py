"""A pipe, device or socket where a file belongs is refused in one line, never opened.

Opening a named pipe for reading waits until something writes to it, so before this check a
FIFO given as the network, population, boundary, DEM or elderly raster, or left in an output
folder under the name of its summary, state or manifest, hung the command (GDAL, pyogrio, numpy
and osmium open the files themselves). Each case runs the real command in a child process with
a time limit: the old code fails by running out of time; the new one exits 2 with one line
naming the file. The network is pyrosm's small real extract, so the cases are quick.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyrosm
import pytest

ROOT = Path(__file__).resolve().parents[1]
PBF = Path(pyrosm.get_data("test_pbf"))  # lon 26.93-26.97, lat 60.52-60.54
REG = "编号,名称,层级,经度,纬度\nA1,站1,社区养老服务站,26.95,60.53\nA2,站2,老年助餐点,26.94,60.525\n"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")


def carecover(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "coverage"), "CARECOVER_CACHE": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-c", "import sys; from carecover.cli import main; sys.exit(main())",
                           "--quiet", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def one_line(r: subprocess.CompletedProcess, *says: str) -> None:
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("错误 / error: ")]
    assert len(lines) == 1, r.stderr
    for s in ("not a regular file", *says):
        assert s in lines[0], f"{s!r} not in {lines[0]!r}"


def plan_args(d: Path, **over: str) -> list[str]:
    (d / "reg.csv").write_text(REG, encoding="utf-8")
    opts = {"--network": str(PBF), "--facilities": str(d / "reg.csv"), "--total-population": "5000",
            "--out": str(d / "out"), **over}
    if "--population" in opts:
        del opts["--total-population"]
    return ["plan", *[x for kv in opts.items() for x in kv]]


@pytest.mark.parametrize(("option", "name", "extra"), [
    ("--network", "streets.osm.pbf", {}),
    ("--population", "pop.tif", {}),
    ("--population", "pop.geojson", {}),
    ("--boundary", "counties.geojson", {}),
    ("--elderly-raster", "elderly.tif", {"--population": "pop.tif"}),
    ("--dem", "n60.hgt", {"--profiles": "slope"}),
])
def test_plan_refuses_a_pipe_as_input(option: str, name: str, extra: dict, tmp_path: Path) -> None:
    pipe = fifo(tmp_path / name)
    over = {option: str(pipe), **extra}
    if over.get("--population") == "pop.tif" and option != "--population":
        import numpy as np
        import rasterio
        from rasterio.transform import from_origin

        with rasterio.open(tmp_path / "pop.tif", "w", driver="GTiff", height=40, width=40, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(26.93, 60.54, 0.001, 0.0005)) as dst:
            dst.write(np.full((40, 40), 3.0, "float32"), 1)
        over["--population"] = str(tmp_path / "pop.tif")
    r = carecover(*plan_args(tmp_path, **over), cwd=tmp_path)
    one_line(r, name)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    """A finished plan with a prepared state (copied by each test before it plants a pipe)."""
    d = tmp_path_factory.mktemp("planned")
    r = carecover(*plan_args(d, **{"--suggest": "community_centre=1"}), cwd=d)
    assert r.returncode == 0, r.stderr
    return d / "out"


def _copy(planned: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(planned, out)
    return out


def test_check_claims_refuses_a_pipe_as_summary(planned: Path, tmp_path: Path) -> None:
    out = _copy(planned, tmp_path)
    (out / "summary.json").unlink()
    fifo(out / "summary.json")
    (tmp_path / "claims.toml").write_text('[[claim]]\nid = "c1"\nkind = "population"\ntiers = ["community_centre"]\n'
                                          'op = ">="\nvalue = 0.5\n', encoding="utf-8")
    r = carecover("check-claims", "--claims", str(tmp_path / "claims.toml"), "--summary", str(out / "summary.json"),
                  cwd=tmp_path)
    one_line(r, "summary.json")


@pytest.mark.parametrize("planted", ["state/community_centre.npz", ".carecover-manifest.json"])
def test_whatif_refuses_a_pipe_in_the_output_folder(planted: str, planned: Path, tmp_path: Path) -> None:
    out = _copy(planned, tmp_path)
    (out / planted).unlink()
    fifo(out / planted)
    r = carecover("whatif", "--out", str(out), "--tier", "community_centre", "--add", "26.95,60.53", cwd=tmp_path)
    one_line(r, Path(planted).name)


def test_pack_carries_the_manifest_so_the_unpacked_state_is_checked(planned: Path, tmp_path: Path) -> None:
    """The packed folder keeps the SHA-256 record: a state edited after unpacking is refused."""
    import zipfile

    from carecover.errors import InputError
    from carecover.meeting.pack import pack
    from carecover.siting.state import load_state

    archive = pack(planned, tmp_path / "meeting.zip")
    assert f"{planned.name}/.carecover-manifest.json" in zipfile.ZipFile(archive).namelist()
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "laptop")
    unpacked = tmp_path / "laptop" / planned.name
    assert load_state(unpacked, "community_centre").tier == "community_centre"
    state = unpacked / "state" / "community_centre.npz"
    state.write_bytes(state.read_bytes() + b"\0")
    with pytest.raises(InputError, match="not the file the plan wrote"):
        load_state(unpacked, "community_centre")
