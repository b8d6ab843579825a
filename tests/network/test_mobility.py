"""Mobility profiles on real networks: slope from real SRTM tiles, step-free, winter (issue 24)."""

from __future__ import annotations

import math
import zipfile

import networkx as nx
import numpy as np
import pytest
from carecover.errors import InputError
from carecover.mobility import make, resolve_profiles, tobler
from carecover.network import engine
from carecover.network.build import subset_segments
from carecover.network.dem import slopes
from carecover.network.mobility import reverse
from carecover.network.mobility_net import apply_profile
from carecover.network.snap import snap_lonlat, snap_xy
from conftest import shared_file


@pytest.fixture(scope="module")
def monaco(real_network):
    return real_network("monaco_pbf", "walk")


def _dem(name: str):
    path = shared_file("dem", name)
    if not path.exists():
        pytest.skip(f"{path} absent")
    return path


def test_profiles_parse_and_combine():
    got = resolve_profiles("elderly,step_free+winter,slope")
    assert [(p.name, p.tags) for p in got] == [
        ("elderly", "optimistic"), ("step_free+winter", "optimistic"),
        ("step_free+winter", "pessimistic"), ("slope", "optimistic")]
    assert make("winter+step_free").name == "step_free+winter"
    with pytest.raises(InputError, match="unknown mobility profile"):
        make("wheelchair")


def test_tobler_normalised_and_capped():
    assert tobler(np.array([0.0]))[0] == pytest.approx(1.0)
    # 10 % uphill: exp(-3.5 * 0.15) / exp(-3.5 * 0.05) = exp(-0.35)
    assert tobler(np.array([0.10]))[0] == pytest.approx(math.exp(-0.35))
    assert tobler(np.array([-0.05]))[0] == 1.0  # Tobler's 1.19 capped
    assert tobler(np.array([-0.05]), cap=2.0)[0] == pytest.approx(math.exp(0.175))


def test_graded_segment_both_ways(grid):
    """A hand-checked 100 m segment at a 10 % grade: uphill a→b, downhill b→a."""
    seg = 0
    L = grid.seg_len[seg]
    up, down = tobler(np.array([0.10]))[0], tobler(np.array([-0.10]))[0]
    net = subset_segments(grid, np.arange(grid.n_segments) == seg)
    net.seg_slope_ab, net.seg_slope_ba = np.array([up]), np.array([down])
    # by hand: 100 m at 1 m/s × exp(-0.35) uphill = 141.91 s; downhill × exp(-3.5·0.05)/exp(-0.175) = 1
    assert L == pytest.approx(100.0)
    assert L / up == pytest.approx(141.9068, abs=1e-3)
    assert L / down == pytest.approx(100.0)
    ax, ay = net.node_x[net.seg_a[0]], net.node_y[net.seg_a[0]]
    bx, by = net.node_x[net.seg_b[0]], net.node_y[net.seg_b[0]]
    src = snap_xy(net, [ax], [ay])  # a facility at a
    # facility → resident (forward graph): b reached uphill
    assert engine.nearest(net, src).time[net.seg_b[0]] == pytest.approx(141.9068, abs=1e-3)
    # resident → facility (reverse graph): from b down to a
    assert engine.nearest(reverse(net), src).time[net.seg_b[0]] == pytest.approx(100.0)
    # a resident halfway walks 50 m downhill to the facility; point times honour direction too
    mid = snap_xy(net, [(ax + bx) / 2], [(ay + by) / 2])
    t, _ = engine.point_times(reverse(net), engine.nearest(reverse(net), src), mid, src)
    assert t[0] == pytest.approx(50.0)


def test_monaco_slope_matches_networkx(monaco):
    """Resident → facility times on Monaco's graded network equal a networkx reference."""
    net, info = apply_profile(monaco, make("slope"), _dem("N43E007.hgt.zip"))
    assert info["dem"]["covered_share"] == 1.0 and info["dem"]["nodata_filled_samples"] > 0
    assert not np.allclose(net.seg_slope_ab, net.seg_slope_ba)
    rng = np.random.default_rng(3)
    fac = rng.choice(net.n_nodes, 5, replace=False)
    src = snap_xy(net, net.node_x[fac], net.node_y[fac])
    got = engine.nearest(reverse(net), src).time
    G = nx.DiGraph()
    for a, b, L, vab, vba in zip(net.seg_a, net.seg_b, net.seg_len, net.speed_ab(), net.speed_ba(),
                                 strict=True):
        for u, v, w in ((a, b, L / vab), (b, a, L / vba)):
            if not G.has_edge(u, v) or G[u][v]["w"] > w:
                G.add_edge(int(u), int(v), w=float(w))
    # from every node to its nearest facility = from the facilities on the reversed graph
    ref = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), set(map(int, fac)), weight="w")
    nodes = np.array(sorted(ref))
    assert np.isfinite(got).sum() == len(nodes)
    np.testing.assert_allclose(got[nodes], [ref[n] for n in nodes], rtol=0, atol=1e-6)
    # and direction matters: facility → resident differs
    assert not np.allclose(engine.nearest(net, src).time[nodes], got[nodes])


def test_step_free_monaco_is_the_graph_without_steps(monaco):
    net, info = apply_profile(monaco, make("step_free"), None)
    steps = monaco.seg_highway == "steps"
    assert steps.sum() > 1000 and "steps" not in set(net.seg_highway)
    # Monaco's extract carries no kerb/incline/wheelchair way tags: steps, loose surfaces
    # (gravel, unpaved) and two ways tagged width=0.5 go, nothing else
    tags = monaco.seg_tags
    narrow = tags["width"] == "0.5"
    assert narrow.sum() == 2
    ref = subset_segments(monaco, ~steps & ~np.isin(tags["surface"], ["gravel", "unpaved"]) & ~narrow)
    assert net.n_segments == ref.n_segments and info["excluded_segments"] == monaco.n_segments - ref.n_segments
    src = snap_xy(ref, ref.node_x[:3], ref.node_y[:3])
    np.testing.assert_array_equal(engine.nearest(reverse(net), snap_xy(net, ref.node_x[:3], ref.node_y[:3])).time,
                                  engine.nearest(ref, src).time)
    pess, pinfo = apply_profile(monaco, make("step_free", tags="pessimistic"), None)
    assert pess.n_segments < net.n_segments and pinfo["excluded_segments"] > info["excluded_segments"]


def test_winter_factor_applied_exactly(monaco):
    net, _ = apply_profile(monaco, make("winter", winter_factor=0.85, winter_unpaved_factor=0.7), None)
    keep = monaco.seg_highway != "steps"
    unpaved = np.isin(monaco.seg_tags["surface"][keep], ["gravel", "compacted", "unpaved"])
    expect = np.where(unpaved, 1.0 * 0.85 * 0.7, 1.0 * 0.85)
    assert unpaved.any()
    np.testing.assert_array_equal(net.seg_speed, expect)
    assert "steps" not in set(net.seg_highway)


def test_dem_that_misses_the_network_is_refused(monaco, tmp_path):
    andorra_tile = _dem("N42E001.hgt.zip")
    with pytest.raises(InputError, match=r"covers only 0\.0% of the street network"):
        slopes(monaco, andorra_tile)
    bad = tmp_path / "empty.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("readme.txt", "no raster")
    with pytest.raises(InputError, match="no .hgt or .tif"):
        slopes(monaco, bad)


def test_andorra_slope_coverage_below_flat(real_network):
    """Andorra's valley towns (six centres): the street nodes within 15 minutes' walk of one,
    resident → facility, on the flat and with the real SRTM slopes. Measured: 2,667 nodes flat,
    2,342 with slopes (88 % of flat; 63.4 → 55.1 km of street)."""
    net = real_network("andorra_pbf", "walk")
    slope, info = apply_profile(net, make("slope"), _dem("N42E001.hgt.zip"))
    assert info["dem"]["covered_share"] == 1.0
    towns = [(1.5218, 42.5063), (1.5343, 42.5097), (1.5800, 42.5340), (1.5148, 42.5456),
             (1.4910, 42.4637), (1.5330, 42.5560)]
    lon, lat = zip(*towns, strict=True)
    reached = {}
    for name, n in (("flat", net), ("slope", slope)):
        r = reverse(n)
        reached[name] = int((engine.nearest(r, snap_lonlat(r, lon, lat), 900.0).time <= 900).sum())
    assert reached["flat"] > 2000
    assert 0.75 * reached["flat"] < reached["slope"] < 0.95 * reached["flat"]


def test_step_free_tag_rules_and_range():
    """The documented limits, one way each (OSM tag values as mappers write them)."""
    from carecover.network.mobility import step_free_mask

    cases = [  # (highway, tag, value, optimistic passable, pessimistic passable)
        ("steps", "wheelchair", "yes", False, False),
        ("residential", "wheelchair", "no", False, False),
        ("footway", "incline", "8%", False, False),
        ("footway", "incline", "-5 %", True, False),       # 5 % is within 6 %; no surface tag
        ("residential", "incline", "5°", False, False),    # tan 5° = 8.7 %
        ("residential", "incline", "up", True, False),
        ("residential", "kerb", "raised", False, False),
        ("residential", "kerb", "lowered", True, True),
        ("residential", "kerb", "0.05", False, False),
        ("residential", "surface", "gravel", False, False),
        ("footway", "surface", "asphalt", True, True),
        ("residential", "smoothness", "very_bad", False, False),
        ("residential", "width", "0.8", False, False),
        ("footway", "wheelchair", "yes", True, True),       # tagged usable: no range
        ("residential", "surface", "", True, True),         # streets assumed to have a pavement
    ]
    hw = np.array([c[0] for c in cases])
    tags = {k: np.array([c[2] if c[1] == k else "" for c in cases]) for k in
            ("kerb", "incline", "surface", "smoothness", "width", "wheelchair")}
    assert list(step_free_mask(tags, hw, False)) == [c[3] for c in cases]
    assert list(step_free_mask(tags, hw, True)) == [c[4] for c in cases]


def test_reach_matrix_on_a_graded_network(monaco):
    """Site × resident matrices (siting) on the graded reverse graph: windows and the contracted
    junction graph give each source's own nearest/point times."""
    from carecover.mobility import make as make_profile

    net, _ = apply_profile(monaco, make_profile("slope"), _dem("N43E007.hgt.zip"))
    rnet = reverse(net)
    rng = np.random.default_rng(5)
    at = rng.choice(rnet.n_nodes, 20, replace=False)
    src = snap_xy(rnet, rnet.node_x[at] + 5.0, rnet.node_y[at] + 5.0)
    assert src.ok.sum() >= 16  # enough sources for the contracted junction graph (window=False)
    tgt = snap_xy(rnet, rnet.node_x[::97] + 7.0, rnet.node_y[::97] - 4.0)
    ref = np.full((len(src), len(tgt)), np.inf)
    for i in np.flatnonzero(src.ok):
        one = src.subset([i])
        t, _ = engine.point_times(rnet, engine.nearest(rnet, one, 600.0), tgt, one)
        ref[i] = t
    assert np.isfinite(ref).sum() > 50
    for window in (True, False):
        m = engine.reach_matrix(rnet, src, tgt, 600.0, window=window).toarray()
        got = np.where(m > 0, m - 1e-9, np.inf)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_plain_hgt_and_a_partial_geotiff(monaco, tmp_path):
    """The tile unzipped (.hgt) gives the same factors as the zip; a GeoTIFF cut from it that
    covers only the west of the network is refused with the share it covers."""
    import rasterio
    from rasterio.windows import Window

    tile = _dem("N43E007.hgt.zip")
    with zipfile.ZipFile(tile) as z:
        z.extract("N43E007.hgt", tmp_path)
    a, b = slopes(monaco, tile), slopes(monaco, tmp_path / "N43E007.hgt")
    np.testing.assert_array_equal(a.ab, b.ab)
    np.testing.assert_array_equal(a.ba, b.ba)
    lon, _ = monaco.to_wgs84().transform(monaco.node_x, monaco.node_y)
    cut = float(np.median(lon))
    with rasterio.open(tmp_path / "N43E007.hgt") as ds:
        col = int((cut - ds.bounds.left) / ds.res[0])
        win = Window(0, 0, col, ds.height)
        profile = {**ds.profile, "driver": "GTiff", "width": col, "height": ds.height,
                   "transform": ds.transform}  # the window starts at the tile's corner
        with rasterio.open(tmp_path / "west.tif", "w", **profile) as out:
            out.write(ds.read(1, window=win), 1)
    with pytest.raises(InputError, match=r"covers only (4\d|5\d)\.\d% of the street network"):
        slopes(monaco, tmp_path / "west.tif")
