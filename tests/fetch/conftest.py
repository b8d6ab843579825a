"""Fixtures of the fetch tests: a fault-injecting local server and the bytes of a real PBF."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_server import FaultServer


@pytest.fixture
def server():
    srv = FaultServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def pbf_bytes(test_pbf: Path) -> bytes:
    return test_pbf.read_bytes()
