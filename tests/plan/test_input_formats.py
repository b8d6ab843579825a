"""``carecover plan`` on the network formats people have (issue 11 items 17, 18): an OSMnx
GraphML graph (central Shenzhen, 福田) and raw OSM XML with residents spread over its buildings
(Nanjing 玄武区). Both need ../shared and skip with a reason without it."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from carecover import cli

ROOT = Path(__file__).resolve().parents[2]
FUTIAN_REGISTER = """编号,名称,层级,经度,纬度
F1,景田社区站,社区养老服务站,114.0397861,22.5444302
F2,香蜜社区站,社区养老服务站,114.0363794,22.5490608
F3,福田助餐点,老年助餐点,114.0385653,22.5273745
"""


def _plan(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["--quiet", "plan", *argv])
    return rc, err.getvalue()


def _population_tif(path: Path, bounds: tuple[float, float, float, float], people: float) -> Path:
    """A 0.002° GeoTIFF over ``bounds`` with ``people`` spread evenly (a population grid)."""
    import rasterio
    from rasterio.transform import from_origin

    w, s, e, n = bounds
    res = 0.002
    cols, rows = int(np.ceil((e - w) / res)), int(np.ceil((n - s) / res))
    data = np.full((rows, cols), people / (rows * cols), dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(w, n, res, res)) as dst:
        dst.write(data, 1)
    return path


class TestRealWorld:
    def test_graphml_network_runs_the_whole_plan(self, futian_graphml, tmp_path):
        reg = tmp_path / "register.csv"
        reg.write_text(FUTIAN_REGISTER, encoding="utf-8")
        tif = _population_tif(tmp_path / "pop.tif", (114.02, 22.525, 114.05, 22.55), 30_000)
        rc, err = _plan(["--network", str(futian_graphml), "--facilities", str(reg),
                         "--population", str(tif), "--out", str(tmp_path / "out")])
        assert rc == 0, err
        fac = pd.read_csv(tmp_path / "out" / "facilities.csv", encoding="utf-8-sig")
        assert (fac["status"] == "ok").all()
        summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
        assert "shenzhen_futian.graphml" in json.dumps(summary["inputs"], ensure_ascii=False)

    def test_osm_xml_buildings_population(self, xuanwu_osm, tmp_path):
        out = tmp_path / "out"
        rc, err = _plan(["--network", str(xuanwu_osm),
                         "--facilities", str(ROOT / "tests" / "data" / "golden" / "nanjing" / "register.csv"),
                         "--total-population", "50000", "--out", str(out)])
        assert rc == 0, err
        demand = pd.read_parquet(out / "demand.parquet")
        assert demand["pop"].sum() == pytest.approx(50_000, rel=1e-9)


class TestErrors:
    def test_buildings_cannot_come_from_a_graph_file(self, futian_graphml, tmp_path):
        reg = tmp_path / "register.csv"
        reg.write_text(FUTIAN_REGISTER, encoding="utf-8")
        rc, err = _plan(["--network", str(futian_graphml), "--facilities", str(reg),
                         "--total-population", "30000", "--out", str(tmp_path / "out")])
        assert rc == 2, err
        assert "shenzhen_futian.graphml" in err and "--population" in err and "Traceback" not in err
        assert not (tmp_path / "out").exists()
