"""Gap zones: hand-checked grids of uncovered cells."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.analysis.gaps import GAP_COLUMNS, find_gaps, gap_members
from carecover.errors import InputError
from shapely.geometry import Point, box

UTM = "EPSG:32649"  # Hohhot's UTM zone
X0, Y0 = 400_000.0, 4_500_000.0
CELL = 100.0


def grid(nx: int = 12, ny: int = 8):
    """A 100 m grid, row-major cell ids, everything covered, 1 person / 1 elderly per cell."""
    ii, jj = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    n = ii.size
    gdf = gpd.GeoDataFrame(
        {"cell_id": np.arange(n), "pop": np.full(n, 4.0), "elderly": np.ones(n),
         "county": np.where(jj < nx // 2, "West", "East"), "area_m2": np.full(n, CELL * CELL),
         "time_s": np.full(n, 300.0), "covered": np.ones(n, bool), "row": ii, "col": jj},
        geometry=[Point(X0 + (j + 0.5) * CELL, Y0 + (i + 0.5) * CELL) for i, j in zip(ii, jj, strict=True)],
        crs=UTM)
    return gdf


def uncover(gdf, rows, cols, elderly=None, time_s=None):
    sel = gdf["row"].isin(rows) & gdf["col"].isin(cols)
    gdf.loc[sel, "covered"] = False
    gdf.loc[sel, "time_s"] = np.inf if time_s is None else time_s
    if elderly is not None:
        gdf.loc[sel, "elderly"] = elderly
    return sel


def test_two_blocks_totals_and_ranking():
    g = grid()
    a = uncover(g, [0, 1], [0, 1])  # 2×2 block, west
    b = uncover(g, [4, 5, 6], [7, 8, 9], time_s=1200.0)  # 3×3 block, east
    # the medoid of block b (its centre cell) has a distinct time
    g.loc[(g["row"] == 5) & (g["col"] == 8), "time_s"] = 1000.0
    res = find_gaps(g, link_m=1.5 * CELL)
    out = res.zones
    assert list(out.columns) == GAP_COLUMNS
    assert len(out) == 2
    first, second = out.iloc[0], out.iloc[1]
    assert first["gap_id"] == 1 and first["n_cells"] == 9 and first["elderly"] == 9.0
    assert first["pop"] == 36.0 and first["area_m2"] == pytest.approx(9 * CELL * CELL)
    assert first["county"] == "East" and first["time_to_nearest_s"] == 1000.0
    centre = g.loc[(g["row"] == 5) & (g["col"] == 8)].iloc[0]
    assert first["rep_cell_id"] == centre["cell_id"] and first.geometry.equals(centre.geometry)
    assert second["gap_id"] == 2 and second["n_cells"] == 4 and second["elderly"] == 4.0
    assert second["county"] == "West" and np.isinf(second["time_to_nearest_s"])
    assert second["min_cell_id"] == 0
    # 2×2 block medoid: all four tie → smallest cell id
    assert second["rep_cell_id"] == 0
    # hull covers every member point and is roughly the block area (buffers of 75 m)
    assert out.crs == g.crs and out["hull"].crs == g.crs
    assert all(out.iloc[1]["hull"].contains(pt) for pt in g.loc[a].geometry)
    assert all(out.iloc[0]["hull"].contains(pt) for pt in g.loc[b].geometry)
    assert 9 * CELL * CELL * 0.8 < first["hull"].area < 9 * CELL * CELL * 1.6
    members = gap_members(g, link_m=1.5 * CELL)
    assert len(members) == len(g)
    assert (members.loc[a.to_numpy(), "gap_id"] == 2).all()
    assert (members.loc[b.to_numpy(), "gap_id"] == 1).all()
    assert members["gap_id"].isna().sum() == len(g) - 13
    assert set(members["status"]) == {"gap", "covered"}
    assert res.info["n_gap_points"] == 13 and res.info["n_covered"] == len(g) - 13


def test_diagonal_neighbours_join_but_not_two_cells_apart():
    g = grid()
    uncover(g, [0], [0])
    uncover(g, [1], [1])  # diagonal neighbour (141 m < 150 m): same zone
    uncover(g, [3], [3])  # two cells away diagonally (283 m): separate
    res = find_gaps(g, link_m=1.5 * CELL)
    out = res.zones
    assert list(out["n_cells"]) == [2, 1]


def test_elderly_ranking_beats_size_and_ties_break_by_pop_then_cell_id():
    g = grid()
    uncover(g, [0], [0, 1, 2])  # 3 cells, elderly 1 each = 3
    uncover(g, [6], [10], elderly=5.0)  # 1 cell, elderly 5
    res = find_gaps(g, link_m=150)
    out = res.zones
    assert list(out["n_cells"]) == [1, 3]
    # equal elderly: more pop first
    g = grid()
    uncover(g, [0], [0, 1])
    s = uncover(g, [6], [9, 10])
    g.loc[s, "pop"] = 10.0
    res = find_gaps(g, link_m=150)
    out = res.zones
    assert list(out["pop"]) == [20.0, 8.0]
    # equal elderly and pop: smallest min cell_id first, whatever the input order
    g = grid()
    uncover(g, [0], [0, 1])
    uncover(g, [6], [9, 10])
    for frame in (g, g.iloc[::-1]):
        res = find_gaps(frame, link_m=150)
        out = res.zones
        assert list(out["min_cell_id"]) == [0, 6 * 12 + 9]


def test_empty_cells_do_not_bridge_and_are_reported():
    g = grid()
    uncover(g, [2], [0, 1, 2, 3, 4])
    g.loc[(g["row"] == 2) & (g["col"] == 2), ["pop", "elderly"]] = 0.0
    res = find_gaps(g, link_m=150)
    out = res.zones
    assert list(out["n_cells"]) == [2, 2]
    members = gap_members(g, link_m=150)
    assert (members["status"] == "no_population").sum() == 1
    assert res.info["n_no_population"] == 1


def test_wgs84_input_and_admin_units():
    g = grid()
    uncover(g, [0, 1], [0, 1])
    uncover(g, [5], [9, 10])
    uncover(g, [7], [11])
    g84 = g.to_crs("EPSG:4326")
    # admin split at column 10 (not at the demand "county" split at 6) so the admin wins
    admin = gpd.GeoDataFrame({"name": ["A区", "B旗"]},
                             geometry=[box(X0 - 1000, Y0 - 1000, X0 + 10 * CELL, Y0 + 2000),
                                       box(X0 + 10 * CELL, Y0 - 1000, X0 + 3000, Y0 + 2000)],
                             crs=UTM).to_crs("EPSG:4326")
    res = find_gaps(g84, link_m=150, admin=admin)
    out = res.zones
    assert out.crs == g84.crs and res.info["work_crs"].endswith("32649")
    assert list(out["n_cells"]) == [4, 2, 1]
    assert list(out["county"]) == ["A区", "A区", "B旗"]
    assert list(find_gaps(g84, link_m=150).zones["county"]) == ["West", "East", "East"]
    # The 2-cell zone's medoid is cell (5, 9) (tie → smallest id), left of the split → A区.
    assert out.iloc[1]["rep_cell_id"] == 5 * 12 + 9 and out.iloc[1]["county"] == "A区"


def test_county_by_majority_of_elderly_then_population_ties_alphabetical():
    g = grid()  # West: columns 0-5, East: 6-11
    uncover(g, [0, 1], [4, 5, 6, 7])  # 4 West, 4 East cells, 1 elderly each: a tie → "East"
    sel = uncover(g, [5, 6], [3, 4, 5, 6, 7])  # 6 West cells × 1 elderly, 4 East cells × 2
    g.loc[sel & (g["col"] >= 6), "elderly"] = 2.0
    sel = uncover(g, [3], [4, 5, 6, 7, 8], elderly=0.0)  # no elderly: by population
    g.loc[sel & (g["col"] < 6), "pop"] = 10.0  # West 20 people, East 12 in more cells
    out = find_gaps(g, link_m=150.0).zones
    assert dict(zip(out["n_cells"], out["county"], strict=True)) == {8: "East", 10: "East", 5: "West"}
    # without a county column every zone's county is ""
    assert list(find_gaps(g.drop(columns="county"), link_m=150.0).zones["county"]) == ["", "", ""]


def test_no_gaps_and_bad_input():
    g = grid()
    res = find_gaps(g, link_m=150)
    out = res.zones
    assert len(out) == 0 and list(out.columns) == GAP_COLUMNS
    with pytest.raises(InputError, match="covered"):
        find_gaps(g.drop(columns="covered"), link_m=150)
    with pytest.raises(InputError, match="link_m"):
        find_gaps(g, link_m=0)
    bad = g.copy()
    bad.loc[0, "cell_id"] = 1
    with pytest.raises(InputError, match="duplicate"):
        find_gaps(bad, link_m=150)
    bad = g.copy()
    bad["covered"] = bad["covered"].astype(object)
    bad.loc[0, "covered"] = None
    with pytest.raises(InputError, match="covered"):
        find_gaps(bad, link_m=150)
    bad = g.copy()
    bad.loc[0, "elderly"] = -1
    with pytest.raises(InputError, match="elderly"):
        find_gaps(bad, link_m=150)
    for i, geom in ((3, None), (5, Point()), (7, box(0, 0, 1, 1))):  # missing, empty, not a point
        bad = g.copy()
        bad.loc[i, "geometry"] = geom
        with pytest.raises(InputError, match=f"demand geometry {i} is not a point"):
            find_gaps(bad, link_m=150)
    bad = g.assign(covered=np.where(g["row"] == 0, 2, 1))  # not true/false
    with pytest.raises(InputError, match="covered"):
        find_gaps(bad, link_m=150)


def test_real_osm_buildings_gaps_then_sites(test_pbf):
    """Real building footprints (pyrosm test extract) as demand, OSM amenities as facilities.

    Coverage is a 250 m straight-line proxy here (the network engine is tested elsewhere).
    """
    import warnings

    import pyrosm
    from carecover.siting.greedy import Greedy
    from carecover.siting.highs import Highs
    from carecover.siting.model import MaximalCovering
    from scipy.spatial import cKDTree

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(test_pbf))
        bld = osm.get_buildings()
        pois = osm.get_pois(custom_filter={"amenity": True})
    utm = bld.estimate_utm_crs()
    pts = bld.to_crs(utm).geometry.representative_point()
    fac = pois.to_crs(utm).geometry.representative_point()
    xy = np.c_[pts.x, pts.y]
    fxy = np.c_[fac.x, fac.y]
    area = bld.to_crs(utm).area.to_numpy()
    pop = np.round(np.clip(area / 40.0, 0, 200))  # ~40 m² floor area per person
    d, _ = cKDTree(fxy).query(xy)
    demand = gpd.GeoDataFrame(
        {"cell_id": np.arange(len(xy)), "pop": pop, "elderly": np.round(pop * 0.2, 1),
         "county": "", "area_m2": area, "time_s": d / 1.0, "covered": d <= 250.0},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1], crs=utm)).to_crs("EPSG:4326")
    assert 0 < demand["covered"].sum() < len(demand)
    res = find_gaps(demand, link_m=100.0)
    out = res.zones
    members = gap_members(demand, link_m=100.0)
    in_gap = members["status"] == "gap"
    # Every uncovered elderly person is in exactly one zone; zones ranked by elderly.
    assert out["elderly"].sum() == pytest.approx(demand.loc[in_gap.to_numpy(), "elderly"].sum())
    assert out["n_cells"].sum() == in_gap.sum() and list(out["gap_id"]) == list(range(1, len(out) + 1))
    assert (np.diff(out["elderly"].to_numpy()) <= 1e-9).all()
    assert (out["time_to_nearest_s"] > 250.0).all()
    for _, z in out.head(5).iterrows():
        ids = members.loc[members["gap_id"] == z["gap_id"], "cell_id"]
        assert z["rep_cell_id"] in set(ids) and len(ids) == z["n_cells"]
        assert z["hull"].buffer(1e-6).contains(demand.geometry.iloc[ids.to_numpy()].union_all())
    # Same zones whatever the row order.
    again = find_gaps(demand.sample(frac=1.0, random_state=1), link_m=100.0).zones
    assert again.drop(columns=["geometry", "hull"]).equals(out.drop(columns=["geometry", "hull"]))

    # Site selection on the same data: every 10th building is a candidate.
    cand = xy[::10]
    lists = cKDTree(xy).query_ball_point(cand, r=250.0)
    import scipy.sparse as sp

    A = sp.lil_matrix((len(cand), len(xy)), dtype=bool)
    for j, li in enumerate(lists):
        A[j, li] = True
    w = demand["elderly"].to_numpy()
    m = MaximalCovering.from_reach_matrix(A.tocsr(), w, 3, covered0=demand["covered"].to_numpy())
    g, e = m.solve(Greedy()), m.solve(Highs())
    assert e.status == "optimal" and g.objective <= e.objective + 1e-9 and e.objective > 0
    # Re-running the gap analysis with the chosen sites removes exactly that elderly weight.
    newly = np.concatenate(e.newly_covered)
    after = demand.copy()
    after.loc[after.index[newly], "covered"] = True
    assert find_gaps(after, link_m=100.0).zones["elderly"].sum() == pytest.approx(out["elderly"].sum() - e.objective)


def test_find_gaps_carries_the_same_members_as_gap_members():
    # the pipeline reads a zone per point from find_gaps' result instead of clustering again
    import geopandas as gpd
    import numpy as np

    rng = np.random.default_rng(5)
    n = 300
    xy = rng.uniform(0, 3000, (n, 2))
    d = gpd.GeoDataFrame({"cell_id": np.arange(n), "pop": rng.uniform(0, 10, n), "elderly": rng.uniform(0, 2, n),
                          "county": "", "area_m2": 1e4, "time_s": rng.uniform(0, 2000, n)},
                         geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32649)
    d["covered"] = d["time_s"] <= 900
    from carecover.analysis.gaps import find_gaps, gap_members

    got = find_gaps(d, link_m=150).member
    want = gap_members(d, link_m=150)["gap_id"].fillna(0).to_numpy(np.int64)
    assert (want > 0).sum() > 10  # the random case has gaps to compare
    np.testing.assert_array_equal(got, want)


class TestZonePolygonsOnAGrid:
    """With ``pixel_size`` the zone polygon is the union of the zone's cells (a raster's
    pixels): its area is the cells' area exactly; the zones themselves do not change."""

    def test_blocks_are_unions_of_their_cells(self):
        g = grid()
        uncover(g, [0, 1], [0, 1])  # 2×2 block
        uncover(g, [4, 5, 6], [7, 8, 9])  # 3×3 block
        uncover(g, [3], [3])
        uncover(g, [4], [4])  # diagonal pair: one zone, two squares touching at a corner
        res = find_gaps(g, link_m=1.5 * CELL, pixel_size=(CELL, CELL))
        plain = find_gaps(g, link_m=1.5 * CELL)
        assert res.info["hull"] == "cells" and plain.info["hull"] == "own_cells"
        # the same zones, ranks and members as with buffer polygons
        cols = [c for c in GAP_COLUMNS if c != "hull"]
        assert res.zones[cols].equals(plain.zones[cols])
        np.testing.assert_array_equal(res.member, plain.member)
        hulls = dict(zip(res.zones["n_cells"], res.zones["hull"], strict=True))
        assert hulls[9].equals(box(X0 + 7 * CELL, Y0 + 4 * CELL, X0 + 10 * CELL, Y0 + 7 * CELL))
        assert hulls[4].equals(box(X0, Y0, X0 + 2 * CELL, Y0 + 2 * CELL))
        assert hulls[2].geom_type == "MultiPolygon" and hulls[2].is_valid
        for hull, n in zip(res.zones["hull"], res.zones["n_cells"], strict=True):
            assert hull.area == pytest.approx(n * CELL * CELL, rel=1e-12)
        # the points' own cells are never larger than discs of half the linkage around them
        assert (plain.zones["hull"].area <= res.zones["hull"].area * (1.5 ** 2 * np.pi / 4) + 1e-6).all()

    def test_wgs84_pixels(self):
        pix = 1.0 / 1200.0  # WorldPop's 3″
        g = grid().to_crs(4326)
        lon0, lat0 = 111.6, 40.8
        g["geometry"] = gpd.points_from_xy(lon0 + (g["col"] + 0.5) * pix, lat0 - (g["row"] + 0.5) * pix)
        uncover(g, [1, 2], [2, 3, 4])
        res = find_gaps(g, link_m=150.0, pixel_size=(pix, pix))
        assert res.info["hull"] == "cells" and len(res) == 1
        hull = res.zones["hull"].iloc[0]
        assert hull.equals(box(lon0 + 2 * pix, lat0 - 3 * pix, lon0 + 5 * pix, lat0 - pix))
        assert res.zones["hull"].crs == g.crs

    def test_points_off_the_grid_fall_back_to_own_cells(self):
        g = grid()
        uncover(g, [0, 1], [0, 1])
        g.loc[0, "geometry"] = Point(X0 + 37.0, Y0 + 50.0)  # not a cell centre
        res = find_gaps(g, link_m=1.5 * CELL, pixel_size=(CELL, CELL))
        assert res.info["hull"] == "own_cells"
        assert all(res.zones["hull"].iloc[0].contains(p) for p in g.loc[~g["covered"]].geometry)


class TestMedoid:
    """The pruned search (convexity bound from the geometric median) finds the member that
    evaluating every member finds."""

    @staticmethod
    def brute(xy, w, ids, restrict=None):
        from carecover.analysis.gaps import _costs

        if w.sum() <= 0:
            w = np.ones(len(xy))
        cand = np.arange(len(xy)) if restrict is None else restrict
        cost = _costs(xy, w, xy[cand])
        best = cost.min()
        tie = cand[cost <= best * (1 + 1e-12) + 1e-9]
        return int(tie[np.argmin(ids[tie])])

    @pytest.mark.parametrize("seed", range(12))
    def test_random_zones_equal_brute_force(self, seed):
        from carecover.analysis.gaps import _medoid

        rng = np.random.default_rng(seed)
        n = int(rng.integers(2, 2500))
        shape = seed % 3
        if shape == 0:  # scattered points
            xy = rng.normal(0, 3000, (n, 2))
        elif shape == 1:  # grid cells of 100 m, an L-shaped zone
            g = np.argwhere(np.ones((60, 60), bool))
            g = g[(g[:, 0] < 15) | (g[:, 1] < 15)][:n]
            xy = g * 100.0
        else:  # two clusters far apart
            xy = np.concatenate([rng.normal(0, 200, (n // 2, 2)), rng.normal(8000, 200, (n - n // 2, 2))])
        w = rng.random(len(xy)) * (rng.random(len(xy)) > 0.3)  # some cells without elderly
        ids = rng.permutation(len(xy))
        assert _medoid(xy, w, ids) == self.brute(xy, w, ids)

    def test_symmetric_grid_ties_go_to_the_smallest_id(self):
        from carecover.analysis.gaps import _medoid

        xy = np.argwhere(np.ones((4, 4), bool)) * 250.0  # four equally central cells
        ids = np.array([9, 8, 7, 6, 5, 40, 30, 4, 3, 20, 10, 2, 1, 0, 11, 12])
        got = _medoid(xy, np.ones(16), ids)
        assert ids[got] == 10  # cells (1,1) (1,2) (2,1) (2,2) have ids 40, 30, 20, 10
        assert got == self.brute(xy, np.ones(16), ids)

    def test_large_zone_searches_the_same_candidates(self):
        from carecover.analysis import gaps as G

        rng = np.random.default_rng(7)
        n = G._EXACT_MEDOID_MAX + 2000
        xy = rng.uniform(0, 20000, (n, 2))
        w = rng.exponential(1.0, n)
        ids = np.arange(n)
        c = (xy * w[:, None]).sum(0) / w.sum()
        near = np.argsort(np.hypot(*(xy - c).T), kind="stable")[:256]
        assert G._medoid(xy, w, ids) == self.brute(xy, w, ids, restrict=near)

    def test_bound_never_exceeds_the_true_cost_outside_the_circle(self):
        from carecover.analysis.gaps import _costs, _outside_bound, _weiszfeld

        rng = np.random.default_rng(3)
        xy = rng.normal(0, 1000, (4000, 2))
        w = rng.random(4000)
        centre = _weiszfeld(xy, w)
        f0 = float(_costs(xy, w, centre[None])[0])
        for s in (50.0, 300.0, 1500.0):
            low = _outside_bound(xy, w, centre, f0, s)
            assert np.isfinite(low) and low >= f0
            far = xy[np.hypot(*(xy - centre).T) >= s]
            assert _costs(xy, w, far).min() >= low


def test_gap_outlines_hold_no_covered_point():
    """Issue 23: gap outlines are drawn from the uncovered points' own cells, so a gap never
    covers covered people on the map (100 m buffers did: they reached over covered points)."""
    import geopandas as gpd

    rng = np.random.default_rng(11)
    n = 600
    xy = rng.uniform(0, 2000, (n, 2))
    d = gpd.GeoDataFrame({"cell_id": np.arange(n), "pop": rng.uniform(1, 10, n), "elderly": rng.uniform(0, 2, n),
                          "county": "", "area_m2": 100.0, "time_s": np.hypot(xy[:, 0] - 600, xy[:, 1] - 900)},
                         geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32649)
    d["covered"] = d["time_s"] <= 700
    res = find_gaps(d, link_m=100.0)
    assert res.info["hull"] == "own_cells" and len(res) > 3
    covered_pts = d.loc[d["covered"]].geometry.to_numpy()
    for hull in res.zones["hull"]:
        assert not shapely.contains(hull, covered_pts).any()
    # every uncovered point with people is inside its own zone's outline
    for gid, hull in zip(res.zones["gap_id"], res.zones["hull"], strict=True):
        members = d.geometry.to_numpy()[res.member == gid]
        assert shapely.covers(hull, members).all()
    # the old buffers would have reached over covered points in this case
    buffers = [shapely.union_all(shapely.buffer(d.geometry.to_numpy()[res.member == g], 50.0))
               for g in res.zones["gap_id"]]
    assert any(shapely.contains(b, covered_pts).any() for b in buffers)
