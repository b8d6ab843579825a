"""A cache entry is streamed into its file: the bytes of :func:`datastore.dumps`, no copy of the
arrays in memory first, nothing left behind when a value cannot be stored."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from carecover import datastore


def test_saved_file_is_the_bytes_of_dumps(tmp_path):
    value = {"times": np.linspace(0, 900, 1001), "reach": sp.random(40, 300, density=0.2, format="csr", random_state=2),
             "label": ("township", 7, 2.5)}
    path = tmp_path / "entry.npz"
    datastore.save(path, value, "k1")
    assert path.read_bytes() == datastore.dumps(value, "k1")
    back = datastore.load(path, "k1")
    np.testing.assert_array_equal(back["times"], value["times"])
    assert (back["reach"] != value["reach"]).nnz == 0 and back["label"] == ("township", 7, 2.5)


def test_refused_value_writes_nothing(tmp_path):
    with pytest.raises(TypeError):
        datastore.save(tmp_path / "entry.npz", {"x": object()}, "k1")
    assert list(tmp_path.iterdir()) == []


def test_large_arrays_are_not_copied_into_memory_first(tmp_path):
    """64 MB of arrays saved with well under 64 MB allocated on top (bytes in memory first: 128 MB)."""
    value = {"a": np.ones(4_000_000), "b": np.arange(4_000_000, dtype=np.int64)}
    size = sum(v.nbytes for v in value.values())
    tracemalloc.start()
    try:
        datastore.save(tmp_path / "entry.npz", value, "k1")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size // 3, peak  # (numpy writes through a 16 MB buffer)
    assert (tmp_path / "entry.npz").stat().st_size > size
