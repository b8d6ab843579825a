"""Travel profiles: tag rules on hand-made OSM files and on tag frames, speeds, bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from carecover.errors import InputError
from carecover.network import load_network, make_profile, parse_maxspeed
from carecover.network.profiles import TAG_COLUMNS, directions, lower, lower_text, speeds, usable


def _case(net) -> np.ndarray:
    """tags.osm: way k has nodes 100k+1, 100k+2, so the case of each segment is node_id // 100."""
    return np.asarray(net.node_id[net.seg_a] // 100)


def _tags(**columns) -> pd.DataFrame:
    """A tag frame (one row per segment) with the given columns, the others untagged."""
    n = len(next(iter(columns.values())))
    return pd.DataFrame({c: columns.get(c, [None] * n) for c in TAG_COLUMNS})


class TestOsmFiles:
    """The rules as they apply through load_network (tests/data/tags.osm, oneway.osm)."""

    def test_walk_profile_tags(self, osm_data):
        net = load_network(osm_data / "tags.osm", make_profile("walk", keep_largest=False), cache=False)
        # footway, steps, living_street, primary, secondary, residential access=private foot=yes,
        # residential, pedestrian; not: foot=no, service access=private, motorway (x2), cycleway
        assert sorted(_case(net)) == [0, 1, 2, 6, 7, 9, 11, 12]
        assert np.all(net.seg_speed == 1.0)
        assert net.seg_fwd.all() and net.seg_rev.all()
        assert np.allclose(net.seg_len, 100.0, atol=1e-3)
        assert "motorway" not in set(net.seg_highway)

    def test_drive_profile_tags_and_maxspeed(self, osm_data):
        net = load_network(osm_data / "tags.osm", make_profile("drive", keep_largest=False), cache=False)
        case = _case(net)
        # living_street, residential foot=no, motorway, primary, secondary, motorway, residential
        assert sorted(case) == [2, 3, 5, 6, 7, 8, 11]
        kph = dict(zip(case.tolist(), (net.seg_speed * 3.6).tolist(), strict=True))
        assert kph[6] == pytest.approx(50.0)  # maxspeed=50
        assert kph[7] == pytest.approx(30 * 1.609344)  # maxspeed=30 mph
        assert kph[8] == pytest.approx(90.0)  # maxspeed=none: motorway class default
        assert kph[5] == pytest.approx(90.0)
        assert kph[11] == pytest.approx(25.0)  # residential class default
        assert kph[2] == pytest.approx(10.0)  # living_street

    def test_oneway_respected_by_drive_only(self, osm_data):
        drive = load_network(osm_data / "oneway.osm", "drive", cache=False)
        walk = load_network(osm_data / "oneway.osm", "walk", cache=False)
        for net in (drive, walk):
            assert net.n_nodes == 4 and net.n_segments == 4  # strongly connected: nothing dropped
        ida = {int(i): k for k, i in enumerate(drive.node_id)}
        fwd = {(int(drive.node_id[a]), int(drive.node_id[b])) for a, b in
               zip(drive.seg_a[drive.seg_fwd & ~drive.seg_rev], drive.seg_b[drive.seg_fwd & ~drive.seg_rev],
                   strict=True)}
        rev = {(int(drive.node_id[b]), int(drive.node_id[a])) for a, b in
               zip(drive.seg_a[drive.seg_rev & ~drive.seg_fwd], drive.seg_b[drive.seg_rev & ~drive.seg_fwd],
                   strict=True)}
        assert fwd | rev == {(1, 2), (4, 1)}  # A->B (oneway=yes), D->A (oneway=-1)
        M = drive.csr().toarray()
        assert M[ida[1], ida[2]] > 0 and M[ida[2], ida[1]] == 0
        assert M[ida[4], ida[1]] > 0 and M[ida[1], ida[4]] == 0
        assert walk.seg_fwd.all() and walk.seg_rev.all()


class TestTagFrames:
    """The rules on tag frames directly (what every reader hands over)."""

    def test_parse_maxspeed(self):
        got = parse_maxspeed(pd.Series(["50", "30 mph", "none", "50;40", "walk", None, "", "0", "RU:urban"]))
        assert got[0] == 50 and got[1] == pytest.approx(48.28032) and got[3] == 50 and got[4] == 5
        assert np.isnan(got[[2, 5, 6, 7, 8]]).all()

    def test_drive_directions(self):
        tags = _tags(highway=["residential", "residential", "residential", "primary", "motorway",
                              "motorway", "residential"],
                     oneway=["yes", "-1", None, None, None, "no", " True "],
                     junction=[None, None, None, "roundabout", None, None, None])
        fwd, rev = directions(tags, make_profile("drive"))
        assert fwd.tolist() == [True, False, True, True, True, True, True]
        assert rev.tolist() == [False, True, True, False, False, True, False]
        wf, wr = directions(tags, make_profile("walk"))
        assert wf.all() and wr.all()

    def test_usable_and_speeds_agree_row_by_row(self):
        tags = _tags(highway=["footway", "motorway", "residential", "service", "cycleway"],
                     maxspeed=[None, "100", "40", None, None],
                     service=[None, None, None, "parking_aisle", None])
        walk, drive = make_profile("walk", walk_speed_mps=0.8), make_profile("drive")
        assert usable(tags, walk).tolist() == [True, False, True, True, False]
        assert usable(tags, drive).tolist() == [False, True, True, False, False]
        assert np.allclose(speeds(tags, walk), 0.8)
        kph = speeds(tags, drive) * 3.6
        assert kph[1] == pytest.approx(100) and kph[2] == pytest.approx(40)


class TestErrors:
    def test_profiles_bad_values(self):
        with pytest.raises(InputError):
            make_profile("cycle")
        with pytest.raises(InputError):
            make_profile("walk", walk_speed_mps=0)
        assert make_profile("walk", walk_speed_mps=0.8)["speed_mps"] == 0.8


@pytest.mark.parametrize("values", [
    [" Yes", "no", None, "YES ", np.nan, "yes", "Asphalt", "", "路"],  # text: each distinct value once
    [None, np.nan, None],  # nothing tagged
    ["50", 50, 50.0, True, None],  # not text: converted one by one
    [],
])
def test_lower_as_each_value_converted_alone(values):
    s = pd.Series(values, dtype=object, index=np.arange(len(values)) * 3, name="surface")
    want = s.astype("string").str.strip().str.lower()
    pd.testing.assert_series_equal(lower(s), want)
    got, plain = lower_text(s), want.fillna("").to_numpy(str)
    assert got.dtype == plain.dtype and got.tolist() == plain.tolist()
