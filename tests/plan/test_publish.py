"""Publishing: no input ever replaced, one run per folder, no stale staging, clear errors."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from carecover import cli, settings
from carecover.outputs import outfolder
from carecover.plan import publish

SAMPLE = Path(cli.__file__).resolve().parent / "sample"


def run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["--quiet", *argv])
    return rc, err.getvalue()


@pytest.fixture
def demo_args(tmp_path, monkeypatch, helsinki_pbf):
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")  # reruns read the stage cache
    reg = tmp_path / "in" / "facilities.csv"
    reg.parent.mkdir()
    shutil.copy(SAMPLE / "helsinki_facilities.csv", reg)
    return ["plan", "--config", str(SAMPLE / "helsinki.toml"), "--network", str(helsinki_pbf),
            "--facilities", str(reg)], reg


class TestInputsAreNeverReplaced:
    def test_out_folder_holding_the_register(self, demo_args):
        argv, reg = demo_args
        before = reg.read_bytes()
        rc, err = run(*argv, "--out", str(reg.parent))
        assert rc == 2 and str(reg) in err and "would replace the input" in err
        assert len(err.strip().splitlines()) == 1
        assert reg.read_bytes() == before and sorted(p.name for p in reg.parent.iterdir()) == ["facilities.csv"]

    def test_validate_report_over_its_own_register(self, tmp_path):
        reg = tmp_path / "x.csv"
        shutil.copy(SAMPLE / "helsinki_facilities.csv", reg)
        before = reg.read_bytes()
        rc, err = run("validate", str(reg), "--report", str(reg))
        assert rc == 2 and "would replace the input" in err and reg.read_bytes() == before

    def test_late_check_before_any_move(self, tmp_path):
        inp = tmp_path / "out" / "sites.csv"
        inp.parent.mkdir()
        inp.write_text("mine")
        with pytest.raises(Exception, match="would replace the input"):
            outfolder.refuse_inputs([tmp_path / "out" / "sites.csv"], outfolder.input_files([inp]))


@pytest.mark.slow
class TestOneRunPerFolder:
    def test_rerun_without_sites_leaves_no_old_sites_or_state(self, demo_args, tmp_path):
        argv, _ = demo_args
        out = tmp_path / "out"
        assert run(*argv, "--out", str(out))[0] == 0
        assert (out / "sites.csv").exists() and (out / "state" / "street_centre.npz").exists()
        (out / "my_notes.txt").write_text("keep me")
        assert run(*argv, "--suggest", "street_centre=0", "--out", str(out))[0] == 0
        assert not (out / "sites.csv").exists() and not (out / "state").exists()
        assert not (out / "site_curve.csv").exists()
        assert (out / "my_notes.txt").read_text() == "keep me"  # no run wrote it: left alone
        listed = json.loads((out / outfolder.MANIFEST).read_text())["files"]
        on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "my_notes.txt")
        assert listed == on_disk


class TestStaging:
    def test_stale_staging_of_a_dead_process_is_removed(self, tmp_path):
        out = tmp_path / "out"
        dead, live = tmp_path / ".out.dead", tmp_path / ".out.live"
        for d, pid in ((dead, 2 ** 22 + 12345), (live, os.getpid())):
            d.mkdir()
            (d / outfolder.PID_FILE).write_text(json.dumps({"pid": pid, "host": os.uname().nodename}))
        other = tmp_path / ".out.unmarked"
        other.mkdir()
        assert outfolder.clean_stale_staging(out) == [dead]
        assert not dead.exists() and live.exists() and other.exists()


class TestOutputPathProblems:
    def test_parent_is_a_file(self, demo_args, tmp_path):
        argv, _ = demo_args
        f = tmp_path / "afile"
        f.write_text("x")
        rc, err = run(*argv, "--out", str(f / "out"))
        assert rc == 2 and "is a file" in err and len(err.strip().splitlines()) == 1

    def test_not_writable(self, demo_args, tmp_path, monkeypatch):
        argv, _ = demo_args
        monkeypatch.setattr(outfolder.os, "access", lambda p, mode: False)  # root ignores chmod
        rc, err = run(*argv, "--out", str(tmp_path / "out"))
        assert rc == 2 and "not writable" in err

    @pytest.mark.slow
    def test_disk_full_keeps_earlier_outputs(self, demo_args, tmp_path, monkeypatch):
        argv, _ = demo_args
        out = tmp_path / "out"
        assert run(*argv, "--out", str(out))[0] == 0
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

        def full(*a, **k):
            raise OSError(errno.ENOSPC, "No space left on device", str(out / "map.html"))

        monkeypatch.setattr(publish, "build_map", full)
        rc, err = run(*argv, "--speed", "0.9", "--out", str(out))
        assert rc == 3 and "disk is full" in err and len(err.strip().splitlines()) == 1
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # staging removed
