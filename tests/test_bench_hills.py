"""scripts/bench_hills.py: the SRTM 3″ tile resampled to Valhalla's 1″ layout keeps our surface."""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TILE = ROOT.parent / "shared" / "data" / "dem" / "N43E007.hgt.zip"


@pytest.fixture(scope="module")
def bench_hills():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        yield importlib.import_module("bench_hills")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.skipif(not TILE.exists(), reason="../shared/data/dem/N43E007.hgt.zip absent")
def test_skadi_tile_keeps_the_3_arc_second_posts_and_interpolates_between(bench_hills, tmp_path):
    folder = bench_hills.skadi_tile(TILE, tmp_path / "dem")
    out = folder / "N43" / "N43E007.hgt"
    assert out.stat().st_size == 2 * 3601 * 3601  # what Valhalla's skadi accepts
    fine = np.fromfile(out, ">i2").reshape(3601, 3601).astype(float)
    coarse = np.frombuffer(zipfile.ZipFile(TILE).read("N43E007.hgt"), ">i2").reshape(1201, 1201).astype(float)
    valid = coarse != -32768
    # every third 1″ post is the 3″ post itself (where the 3″ tile has data)
    assert np.array_equal(fine[::3, ::3][valid], coarse[valid])
    # no nodata left (the sea filled from the nearest valid post)
    assert (fine > -1000).all()
    # a post a third of the way between two valid 3″ posts is their weighted mean, rounded
    r, c = np.argwhere(valid[:-1, :-1] & valid[1:, :-1] & valid[:-1, 1:] & valid[1:, 1:])[5000]
    a, b = coarse[r, c], coarse[r, c + 1]
    assert fine[3 * r, 3 * c + 1] == np.rint(a + (b - a) / 3)
