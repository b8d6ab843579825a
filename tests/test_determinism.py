"""Equal inputs give equal outputs: ``carecover demo`` run again (in another folder) must write
the same tables, GeoPackage attributes, summary, map and report.

The only differences allowed: the one timestamp (``generated_at``, fixed by SOURCE_DATE_EPOCH)
and the output folder's own name where the command line is quoted. GeoPackage and XLSX files
carry write times in their containers, so their *contents* are compared, not their bytes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from carecover import cli
from carecover.vocab import local_time
from conftest import DEMO_EPOCH

DEMO_STAMP = "2025-06-25T00:00:00+00:00"  # DEMO_EPOCH as written


def _demo(out: Path, epoch: str | None, monkeypatch: pytest.MonkeyPatch, workers: int) -> Path:
    with monkeypatch.context() as mp:
        if epoch is None:
            mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            mp.setenv("SOURCE_DATE_EPOCH", epoch)
        assert cli.main(["--quiet", "demo", "--sample", "helsinki", "--offline-map", "--workers", str(workers), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def again(tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    try:
        # in one process: the same outputs as the shared run's worker processes (two cores)
        return _demo(tmp_path_factory.mktemp("again") / "out", DEMO_EPOCH, mp, workers=1)
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def unstamped(tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    try:
        # with a worker process even on one core
        return _demo(tmp_path_factory.mktemp("unstamped") / "out", None, mp, workers=2)
    finally:
        mp.undo()


def _text(path: Path, out: Path, stamp: str | None = None) -> str:
    text = re.sub(r" --workers \d", "", path.read_text(encoding="utf-8").replace(str(out), "<OUT>"))
    if stamp is not None:
        # pages people read show the time in the city's zone (Beijing time for the Chinese demo)
        forms = [stamp, local_time(stamp, "Asia/Shanghai", "zh")]
        assert any(f in text for f in forms), f"{path.name}: timestamp {stamp} not found"
        for f in forms:
            text = text.replace(f, "<STAMP>")
    return text


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def _same_outputs(a: Path, b: Path, stamp_a: str, stamp_b: str) -> None:
    assert _files(a) == _files(b)
    # CSV tables, GeoJSON layers, the demand points (GeoParquet) and their style: byte-identical
    for name in [f for f in _files(a) if f.endswith((".csv", ".geojson", ".parquet", ".qml"))]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # GeoPackage: every layer's attributes and geometries read back identical
    layers = [str(n) for n, _ in pyogrio.list_layers(a / "carecover.gpkg")]
    assert layers == [str(n) for n, _ in pyogrio.list_layers(b / "carecover.gpkg")]
    assert {"facilities", "isochrones", "gaps", "sites"} <= set(layers)
    assert "demand.parquet" in _files(a)
    for layer in layers:
        da = pyogrio.read_dataframe(a / "carecover.gpkg", layer=layer)
        db = pyogrio.read_dataframe(b / "carecover.gpkg", layer=layer)
        if "geometry" not in da:  # layer_styles: an attribute table; update_time is a write time
            pd.testing.assert_frame_equal(da.drop(columns="update_time"), db.drop(columns="update_time"),
                                          check_exact=True)
            continue
        assert da.crs == db.crs
        pd.testing.assert_frame_equal(pd.DataFrame(da.drop(columns="geometry")),
                                      pd.DataFrame(db.drop(columns="geometry")), check_exact=True)
        assert (da.geometry.to_wkb() == db.geometry.to_wkb()).all(), layer
    # summary.json: identical apart from generated_at and the quoted --out folder
    sa = json.loads(_text(a / "summary.json", a))
    sb = json.loads(_text(b / "summary.json", b))
    assert (sa.pop("generated_at"), sb.pop("generated_at")) == (stamp_a, stamp_b)
    # the run time is stated only without SOURCE_DATE_EPOCH (issue 23), else None
    runtime = (sa.pop("runtime_s"), sb.pop("runtime_s"))
    assert runtime[0] is None and (runtime[1] is None) == (stamp_b == stamp_a)
    assert sa == sb
    # map, Gaode map and report: identical apart from the timestamp string
    for name in ("map.html", "map_gaode.html", "report.html", "report.md"):
        assert _text(a / name, a, stamp_a) == _text(b / name, b, stamp_b), name
    # the meeting state (sparse reach matrix, weights, chosen sites)
    with np.load(a / "state" / "street_centre.npz") as za, np.load(b / "state" / "street_centre.npz") as zb:
        assert sorted(za.files) == sorted(zb.files)
        for k in za.files:
            assert np.array_equal(za[k], zb[k]), k
    # the workbook's cell values
    from openpyxl import load_workbook

    wa, wb = load_workbook(a / "carecover.xlsx", read_only=True), load_workbook(b / "carecover.xlsx", read_only=True)
    try:
        assert wa.sheetnames == wb.sheetnames
        for sheet in wa.sheetnames:
            assert list(wa[sheet].values) == list(wb[sheet].values), sheet
    finally:
        wa.close()
        wb.close()


def test_same_epoch_same_outputs(demo_out: Path, again: Path) -> None:
    _same_outputs(demo_out, again, DEMO_STAMP, DEMO_STAMP)
    # with the timestamp fixed, the maps, the GeoPackage and the workbook are byte-identical too
    # (issue 11, item 16: gpkg_contents.last_change and the workbook's dates held the wall clock)
    for name in ("map.html", "carecover.gpkg", "carecover.xlsx"):
        assert (demo_out / name).read_bytes() == (again / name).read_bytes(), name


def test_without_epoch_only_the_timestamp_differs(demo_out: Path, unstamped: Path) -> None:
    stamp = json.loads((unstamped / "summary.json").read_text(encoding="utf-8"))["generated_at"]
    assert stamp != DEMO_STAMP and stamp.endswith("+00:00")
    _same_outputs(demo_out, unstamped, DEMO_STAMP, stamp)


def test_outputs_are_readable_by_others(demo_out: Path) -> None:
    # outputs are meant to be shared: the temporary-file mode (0600) must not leak into them
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("summary.json", "coverage.csv", "map.html", "report.html", "carecover.gpkg"):
        mode = (demo_out / name).stat().st_mode & 0o777
        assert mode == 0o666 & ~umask, (name, oct(mode))
