"""The network cache: keys, round trip without parsing, corrupt and half-written entries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from carecover.network import cache, load_network, make_profile
from carecover.network.readers import pbf
from carecover.utils import file_sha256


def _same(a, b):
    for name in ["node_x", "node_y", "node_id", "seg_a", "seg_b", "seg_len", "seg_speed",
                 "seg_fwd", "seg_rev", "seg_highway", "dropped_segments"]:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype.kind == y.dtype.kind and np.array_equal(x, y), name
    assert a.crs == b.crs and a.profile == b.profile and a.dropped == b.dropped


class TestKeys:
    def test_keys_as_before_the_split(self, osm_data):
        """Keys recorded with the single-module code (version 7: the bridge/tunnel tags are kept
        per segment, so older entries, which lack them, are rebuilt)."""
        digest = file_sha256(osm_data / "grid.osm")
        prof = {"name": "walk", "speed_mps": 1.0, "oneway": "ignored", "keep_largest": True}
        assert cache.CACHE_VERSION == 7
        assert cache.cache_key(digest, prof, None) == "7af4d58cd7607ca9a0dae52d"
        box = shapely.box(112.1, 40.7, 112.2, 40.8)
        assert cache.cache_key(digest, prof, box) == "5cc3f9226553c9e20715507c"
        # the clip is normalised: the same area drawn from another corner, the same key
        assert cache.cache_key(digest, prof, shapely.box(112.1, 40.7, 112.2, 40.8, ccw=False)) == \
            "5cc3f9226553c9e20715507c"

    def test_cache_file_names(self, osm_data, tmp_path):
        path = osm_data / "grid.osm"
        prof = make_profile("drive")
        f = cache.cache_file(tmp_path, path, prof, "abc", None)
        assert f.parent == tmp_path / "networks"
        assert f.name == f"grid-drive-{cache.cache_key('abc', prof, None)}.npz"
        assert cache.cache_file(False, path, prof, "abc", None) is None


class TestRoundTrip:
    def test_cache_round_trip(self, helsinki_pbf, tmp_path, monkeypatch):
        first = load_network(helsinki_pbf, "walk", cache=tmp_path)
        assert first.source["from_cache"] is False
        files = list((tmp_path / "networks").glob("*.npz"))
        assert len(files) == 1 and first.source["cache"] == str(files[0])

        # the second load must not parse OSM at all
        def no_parse(*a, **k):
            raise AssertionError("parsed the OSM file despite the cache")

        monkeypatch.setattr(pbf, "read", no_parse)
        second = load_network(helsinki_pbf, "walk", cache=tmp_path)
        assert second.source["from_cache"] is True
        _same(first, second)  # (no wall-clock comparison: no_parse above proves the cache was used)

        # a different profile or clip is a different cache entry
        monkeypatch.undo()
        other = load_network(helsinki_pbf, make_profile("walk", walk_speed_mps=0.8), cache=tmp_path)
        assert other.source["from_cache"] is False
        assert np.allclose(other.seg_speed, 0.8)
        assert len(list((tmp_path / "networks").glob("*.npz"))) == 2

    def test_save_load_keeps_dtypes_and_records(self, real_network, tmp_path):
        net = real_network("monaco_pbf", "drive")
        assert len(net.dropped_segments)  # Monaco's drive network has dropped parts
        cache.save(net, tmp_path / "m.npz")
        back = cache.load(tmp_path / "m.npz")
        _same(net, back)
        assert back.source == net.source and back.seg_a.dtype == np.int32


class TestErrors:
    def test_corrupt_cache_is_rebuilt(self, test_pbf, tmp_path):
        first = load_network(test_pbf, "drive", cache=tmp_path)
        Path(first.source["cache"]).write_bytes(b"garbage")
        again = load_network(test_pbf, "drive", cache=tmp_path)
        assert again.source["from_cache"] is False
        _same(first, again)
        assert load_network(test_pbf, "drive", cache=tmp_path).source["from_cache"] is True

    def test_cache_never_half_written(self, test_pbf, tmp_path, monkeypatch):
        def boom(fh, **arrays):
            fh.write(b"PK\x03\x04 partial")  # something was written before the failure
            raise OSError("disk full")

        monkeypatch.setattr(np, "savez", boom)
        with pytest.raises(OSError, match="disk full"):
            load_network(test_pbf, "walk", cache=tmp_path)
        left = list((tmp_path / "networks").iterdir()) if (tmp_path / "networks").exists() else []
        assert left == []  # neither the final file nor a temporary one
        monkeypatch.undo()
        net = load_network(test_pbf, "walk", cache=tmp_path)
        assert net.source["from_cache"] is False
