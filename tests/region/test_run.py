"""Region runs on a real LocalCluster (2 worker processes) against one plan over the same area:
tiles, two adjacent areas, the task cache and a killed worker."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
import shapely
from carecover.region.options import RegionOptions
from carecover.region.run import run_region

from .conftest import CORE, SPLIT_LON

pytestmark = pytest.mark.slow


def _figs(items, area_map):
    """Population figures keyed by (kind, tiers, population, area, speed)."""
    out = {}
    for f in items:
        if f["kind"] in ("population", "all_of") and f["area"] in area_map:
            out[(f["kind"], tuple(f["tiers"]), f["population"], area_map[f["area"]], f["speed_mps"])] = f
    return out


def _assert_same_figures(region_figs, plan_figs, subset=False):
    """Every figure of the plan equals the region's (``subset``: the region may state more, e.g.
    the speed sensitivity per area, which one plan states for the whole only)."""
    assert plan_figs and (set(plan_figs) <= set(region_figs) if subset else set(region_figs) == set(plan_figs))
    for k, f in plan_figs.items():
        g = region_figs[k]
        for col in ("covered", "total", "value", "median_min", "p90_min"):
            if col in f:
                a, b = float(f[col]), float(g[col])
                assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-9), (k, col, a, b)


@pytest.fixture(scope="module")
def tiled(region_inputs: Path, cluster_client, tmp_path_factory):
    cache = tmp_path_factory.mktemp("region_cache")
    opts = RegionOptions(areas=region_inputs / "tiled.toml", out=tmp_path_factory.mktemp("tiled") / "out",
                         cache=cache, dashboard=False)
    return opts, run_region(opts, client=cluster_client)


@pytest.fixture(scope="module")
def tiled_plan(reference_plan):
    return reference_plan


class TestTiles:
    def test_split_into_several_tiles(self, tiled):
        _, run = tiled
        assert len(run.computed) + len(run.cached) >= 4
        labels = {s["task"] for s in run.areas[0].stats}
        assert len(labels) >= 4 and all(lab.startswith("core#") for lab in labels)

    def test_residents_counted_once_in_plan_order(self, tiled, tiled_plan):
        _, run = tiled
        demand = tiled_plan[0]
        pts = run.areas[0].points
        assert len(pts) == len(demand) > 500
        np.testing.assert_array_equal(pts["cell_id"].to_numpy(), demand.points["cell_id"].to_numpy())
        assert pts["pop"].sum() == pytest.approx(20000, rel=1e-9)

    def test_times_equal_one_plan(self, tiled, tiled_plan):
        _, run = tiled
        trav = tiled_plan[1]
        pts = run.areas[0].points
        assert set(run.areas[0].tiers) == set(trav.tiers)
        for key, tt in trav.tiers.items():
            np.testing.assert_allclose(pts[f"time_{key}"].to_numpy(), tt.time_s, rtol=0, atol=1e-9)
            assert np.isfinite(tt.time_s).sum() > 50  # a real test: many residents reached

    def test_figures_equal_one_plan(self, tiled, tiled_plan):
        _, run = tiled
        plan_figs = _figs(tiled_plan[2].items, {"all": "all"})
        region_figs = _figs(run.areas[0].figures, {"all": "all"})
        _assert_same_figures(region_figs, plan_figs)

    def test_gaps_crossing_tiles_equal_one_plan(self, tiled, tiled_plan):
        _, run = tiled
        zones = tiled_plan[3].zones
        mine = run.areas[0].gaps
        cols = ["tier", "gap_id", "n_cells", "pop", "elderly", "min_cell_id", "rep_cell_id"]
        assert len(mine) == len(zones) > 0
        np.testing.assert_allclose(mine["pop"].to_numpy(), zones["pop"].to_numpy(), rtol=1e-9)
        assert mine[cols].astype(str).equals(zones[cols].astype(str))

    def test_every_register_record_listed_once_over_the_tiles(self, tiled):
        _, run = tiled
        assert sorted(run.areas[0].facilities["fid"]) == ["E1", "E2", "W1", "W2"]

    def test_outputs(self, tiled):
        opts, run = tiled
        out = Path(opts.out)
        for name in ("areas.csv", "region.csv", "region_summary.json", "region_map.html", "region_report.html",
                     "region.xlsx", "areas/core/coverage.csv", "areas/core/gaps.csv", "areas/core/demand.csv"):
            assert (out / name).is_file(), name
        assert "core" in (out / "region_map.html").read_text(encoding="utf-8")


def _parts(opts):
    """The tiled run's area put together again from its cached task results, with its parameters."""
    from carecover.region import merge, specs
    from carecover.region.areas import read_areas
    from carecover.region.cache import TaskCache

    plan = specs.resolve_areas(read_areas(opts.areas), Path(opts.out), Path(opts.cache))[0]
    cache = TaskCache(Path(opts.cache) / "region" / "tasks")
    results = [cache.get(p.stem) for p in sorted(cache.root.glob("*.npz"))]
    return plan, merge.assemble(plan.params, plan.spec.name, plan.spec.index, results)


class TestMergeSteps:
    """The steps of an area's merge that may run on another worker read a small view of it."""

    def test_view_gives_the_same_figures_and_gaps(self, tiled):
        import geopandas as gpd
        from carecover.region import merge
        from geopandas.testing import assert_geodataframe_equal

        opts, run = tiled
        plan, parts = _parts(opts)
        assert len(parts.points) == len(run.areas[0].points) and len(parts.tiers) == 2
        view = merge.area_view(parts, plan.params.tiers)
        assert view.tiers == parts.tiers and "geometry" not in view.frame and "nearest_meal_point" not in view.frame
        pts = view.points()
        assert_geodataframe_equal(pts, parts.points[[*pts.columns]])
        assert merge.figures_of(plan.params, pts, view.demand(pts), list(view.tiers)) == \
            merge.figures_of(plan.params, parts.points, parts.demand, list(parts.tiers))
        admin = gpd.GeoDataFrame({"name": ["core"]}, geometry=[plan.spec.geometry], crs=4326)
        for key in parts.tiers:
            one = merge.area_view(parts, (key,))
            assert list(one.frame.columns) == [*merge.VIEW_COLUMNS, f"time_{key}"]
            p1 = one.points()
            got = merge.tier_gaps(plan.params, p1, one.demand(p1), key, admin)
            want = merge.tier_gaps(plan.params, parts.points, parts.demand, key, admin)
            assert want is not None and len(want)
            assert_geodataframe_equal(got, want)

    def test_dask_is_told_the_size_of_the_results(self, tiled):
        from carecover.region import _sizes, merge
        from dask.sizeof import sizeof

        opts, _ = tiled
        plan, parts = _parts(opts)
        _sizes.register()
        points = int(parts.points.memory_usage(deep=True).sum())
        assert sizeof(parts) > points > 10_000  # not sys.getsizeof's few dozen bytes
        view = merge.area_view(parts, parts.tiers[:1])
        assert 0 < sizeof(view) < sizeof(parts)

    def test_area_files_rendered_on_a_worker_are_the_written_files(self, tiled, tmp_path):
        from dataclasses import replace

        from carecover.region import outputs

        opts, run = tiled
        area = run.areas[0]
        assert set(area.files) == set(outputs.AREA_FILES)
        outputs.write_area_files(replace(area, files={}), tmp_path)
        for name in outputs.AREA_FILES:
            written = (Path(opts.out) / "areas" / "core" / name).read_bytes()
            assert area.files[name] == written == (tmp_path / name).read_bytes(), name
        assert len(area.files["demand.csv"]) > 1000


class TestCache:
    def test_rerun_recomputes_nothing(self, tiled, cluster_client):
        opts, first = tiled
        again = run_region(opts, client=cluster_client)
        assert again.computed == [] and len(again.cached) == len(first.computed) + len(first.cached)
        _assert_same_figures(_figs(again.areas[0].figures, {"all": "all"}), _figs(first.areas[0].figures, {"all": "all"}))

    def test_rerun_recomputes_only_missing(self, tiled, cluster_client):
        opts, first = tiled
        stored = sorted((Path(opts.cache) / "region" / "tasks").glob("*.npz"))
        stored[0].unlink()
        again = run_region(opts, client=cluster_client)
        assert again.computed == [stored[0].stem]
        np.testing.assert_array_equal(again.areas[0].points["time_community_centre"].to_numpy(),
                                      first.areas[0].points["time_community_centre"].to_numpy())


class TestKilledWorker:
    def test_worker_killed_mid_run_gives_identical_results(self, tiled, cluster_client, tmp_path):
        from distributed.diagnostics.plugin import WorkerPlugin

        opts, first = tiled
        # the tasks must be computed again (their networks stay cached, so they are quick)
        shutil.rmtree(Path(opts.cache) / "region" / "tasks")
        pids = cluster_client.run(os.getpid)
        once, fifo = tmp_path / "once", tmp_path / "started"
        os.mkfifo(fifo)

        class ReportFirstTask(WorkerPlugin):
            """The first worker to start a region task writes its pid into a pipe (the event
            the test waits on: no polling, no sleeps, no deadline)."""

            name = "carecover-test-report-first-task"

            def transition(self, key, start, finish, **kwargs):
                if finish == "executing" and "carecover-task-" in str(key):
                    try:
                        os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                    except FileExistsError:
                        return
                    with open(fifo, "w") as fh:  # the test holds the other end open
                        fh.write(str(os.getpid()))

        killed = []

        def killer():
            with open(fifo) as fh:  # blocks until a worker starts a task
                text = fh.read()
            if text:
                killed.append(int(text))
                os.kill(killed[0], signal.SIGKILL)

        th = threading.Thread(target=killer)
        th.start()
        cluster_client.register_plugin(ReportFirstTask())
        try:
            again = run_region(opts, client=cluster_client)
        finally:
            cluster_client.unregister_worker_plugin(ReportFirstTask.name)
            if not once.exists():  # no task started: release the killer
                os.close(os.open(fifo, os.O_WRONLY))
            th.join()
        assert killed and killed[0] in set(pids.values()), "no worker started a task"
        cluster_client.wait_for_workers(2, timeout=600)  # a hang guard only
        assert set(cluster_client.run(os.getpid).values()) != set(pids.values())  # a worker was replaced
        assert len(again.computed) == len(first.computed) + len(first.cached)
        for key in again.areas[0].tiers:
            np.testing.assert_array_equal(again.areas[0].points[f"time_{key}"].to_numpy(),
                                          first.areas[0].points[f"time_{key}"].to_numpy())


class TestTwoAreas:
    @pytest.fixture(scope="class")
    @classmethod
    def two(cls, region_inputs: Path, reference_plan, cluster_client, two_cache, tmp_path_factory):
        cache = two_cache
        opts = RegionOptions(areas=region_inputs / "two_list.toml", out=tmp_path_factory.mktemp("two") / "out",
                             cache=cache, dashboard=False, suggest=(("community_centre", 2),))
        return run_region(opts, client=cluster_client), reference_plan

    def test_each_resident_in_one_area(self, two):
        run, plan = two
        n = sum(len(a.points) for a in run.areas)
        assert n == len(plan[0])
        ids = np.concatenate([a.points["cell_id"].to_numpy() for a in run.areas])
        assert len(np.unique(ids)) == n
        assert sum(a.points["pop"].sum() for a in run.areas) == pytest.approx(20000, rel=1e-9)

    def test_every_register_record_listed_once(self, two):
        run, _ = two
        fids = [f for a in run.areas for f in a.facilities["fid"]]
        assert sorted(fids) == ["E1", "E2", "W1", "W2"]
        assert set(next(a for a in run.areas if a.area == "west").facilities["fid"]) == {"W1", "W2"}

    def test_facility_across_the_border_serves_residents_inside(self, two):
        run, _ = two
        east = next(a for a in run.areas if a.area == "east")
        served = east.points["nearest_community_centre"] == "W1"
        reached = east.points["time_community_centre"] <= 900 + 1e-9
        assert (served & reached).sum() > 10  # W1 is only in the west register

    def test_area_figures_equal_one_plan_per_county(self, two):
        run, plan = two
        for a in run.areas:
            _assert_same_figures(_figs(a.figures, {"all": a.area}), _figs(plan[2].items, {a.area: a.area}), subset=True)

    def test_region_figures_are_sums(self, two):
        from carecover.region.outputs import area_table, region_rows

        run, plan = two
        region = region_rows(area_table(run.areas, 1.0))
        plan_all = _figs(plan[2].items, {"all": "all"})
        for row in region.itertuples():
            f = plan_all[("population", (row.tier,), row.population, "all", 1.0)]
            assert row.covered == pytest.approx(f["covered"], rel=1e-9)
            assert row.total == pytest.approx(f["total"], rel=1e-9)

    def test_region_wide_budget_solved_once_over_both_areas(self, two):
        from carecover.region.siting import region_sites

        run, _ = two
        pbs = {a.area: a.candidates["community_centre"] for a in run.areas}
        assert all(len(c.ids) > 10 and c.reach.shape[1] == len(a.points) for a, c in zip(run.areas, pbs.values(),
                                                                                        strict=True))
        polygons = [(0, shapely.box(CORE[0], CORE[1], SPLIT_LON, CORE[3])),
                    (1, shapely.box(SPLIT_LON, CORE[1], CORE[2], CORE[3]))]
        tiers = run_tiers()
        sites, info = region_sites(run.areas, tiers, polygons, suggest={"community_centre": 2}, planned={},
                                   time_limit=30)
        assert [i["scope"] for i in info] == ["region"] and info[0]["placed"] == 2
        exact = sites[sites["method"] == "exact"]
        assert len(exact) == 2 and exact["gain_elderly"].sum() == pytest.approx(info[0]["exact"])
        assert info[0]["exact"] >= info[0]["greedy"] - 1e-9 > 0
        # per area, one site each: the region-wide optimum is at least their sum
        per_area, pinfo = region_sites(run.areas, tiers, polygons, suggest=None,
                                       planned={0: {"community_centre": 1}, 1: {"community_centre": 1}}, time_limit=30)
        assert sorted(i["scope"] for i in pinfo) == ["east", "west"]
        assert set(per_area.loc[per_area["scope"] == "west", "area"]) == {"west"}
        assert info[0]["exact"] >= sum(i["exact"] for i in pinfo) - 1e-6

    def test_sites_written(self, two):
        run, _ = two
        assert "sites.csv" in run.written
        text = run.written["sites.csv"].read_text(encoding="utf-8-sig")
        assert text.startswith("scope,tier,method") and text.count("\n") == 5  # header + 2 greedy + 2 exact


def run_tiers():
    from carecover.tiers import TIERS

    return TIERS
