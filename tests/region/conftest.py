"""Fixtures of the region tests: a real Dask LocalCluster (2 worker processes, no dashboard),
areas files on the Monaco extract, and one plan over the same area through the plan's stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the region extra (dask[distributed]) is not installed")

# Real street positions in Monaco (midpoints of walk-network segments); W1 lies 30 m west of
# the border at lon 7.418 between the two areas of the two-area case.
WEST_REGISTER = """编号,名称,层级,经度,纬度
W1,社区站西,社区养老服务站,7.4173948,43.7416784
W2,助餐点西,老年助餐点,7.4084608,43.7475079
"""
EAST_REGISTER = """编号,名称,层级,经度,纬度
E1,社区站东,社区养老服务站,7.4353233,43.7484545
E2,助餐点东,老年助餐点,7.4236041,43.7331004
"""
CORE = (7.405, 43.727, 7.432, 43.748)
SPLIT_LON = 7.418


@pytest.fixture(scope="session")
def cluster_client():
    """A LocalCluster with 2 worker processes (1 thread each), shared by the region tests."""
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def region_inputs(monaco_pbf: Path, tmp_path_factory) -> Path:
    """Registers, boundary files and areas files for the Monaco cases."""
    d = tmp_path_factory.mktemp("region_inputs")
    (d / "west.csv").write_text(WEST_REGISTER, encoding="utf-8")
    (d / "east.csv").write_text(EAST_REGISTER, encoding="utf-8")
    w, s, e, n = CORE
    boxes = {"core": (w, s, e, n), "west": (w, s, SPLIT_LON, n), "east": (SPLIT_LON, s, e, n)}

    def feature(name, b):
        x0, y0, x1, y1 = b
        return {"type": "Feature", "properties": {"name": name, "level": "county"},
                "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}}

    for name, feats in {"core": ["core"], "two": ["west", "east"]}.items():
        doc = {"type": "FeatureCollection", "features": [feature(k, boxes[k]) for k in feats]}
        (d / f"{name}.geojson").write_text(json.dumps(doc), encoding="utf-8")
    net = monaco_pbf.resolve().as_uri()  # a URL: workers read it through fsspec
    (d / "tiled.toml").write_text(f"""tile_km = 1.2
[[areas]]
name = "core"
boundary = "core.geojson"
network = "{net}"
facilities = ["west.csv", "east.csv"]
total_population = 20000
""", encoding="utf-8")
    (d / "two_list.toml").write_text(f"""[shared]
network = "{monaco_pbf}"
total_population = 20000
[[areas]]
name = "west"
bbox = [{w}, {s}, {SPLIT_LON}, {n}]
facilities = ["west.csv"]
[[areas]]
name = "east"
bbox = [{SPLIT_LON}, {s}, {e}, {n}]
facilities = ["east.csv"]
""", encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def two_cache(tmp_path_factory) -> Path:
    """The cache of the two-area runs (the command-line test and the cluster tests share it)."""
    return tmp_path_factory.mktemp("two_cache")


@pytest.fixture(scope="session")
def reference_plan(region_inputs: Path, monaco_pbf: Path, tmp_path_factory):
    """One plan over west + east (the core box) with both registers: the reference of the
    tiled area (its whole) and of the two areas (its counties)."""
    d = tmp_path_factory.mktemp("reference")
    return single_plan(monaco_pbf, [region_inputs / "west.csv", region_inputs / "east.csv"],
                       region_inputs / "two.geojson", 20000, d / "cache", d / "out")


def single_plan(network: Path, registers: list[Path], boundary: Path, total: float, cache: Path, out: Path):
    """One ``carecover plan`` over the boundary, through the plan's stages (no publishing)."""
    from carecover.plan import PlanOptions, area, figures, gaps, inputs, networks, resolve, travel

    params = resolve(PlanOptions(network=network, facilities=tuple(registers), boundary=boundary,
                                 total_population=total, out=out, cache=cache))
    bounds = area.read_boundaries_of(params)
    walk = networks.load_mode(params, bounds, "walk")
    study = area.study_area(bounds, walk)
    fac = inputs.read_facilities(params, study, walk)
    nets = networks.load_networks(params, bounds, walk, fac)
    demand = inputs.read_demand(params, study)
    trav = travel.route(params, nets, fac, demand)
    return (demand, trav, figures.compute(params, walk, bounds, demand, trav),
            gaps.find(params, demand, trav, bounds))
