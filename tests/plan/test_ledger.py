"""The data-quality ledger (issue 22): every reduction between the inputs and the figures gets its
line, a line beyond its threshold a warning, and ``--strict`` exit status 2.

Real extracts: Monaco (``osm/monaco.osm.pbf``) and Nanjing 玄武区 (``china/nanjing_xuanwu.osm``);
registers at the positions of real OSM amenities of the extract.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import rasterio
from carecover import cli, settings
from carecover.errors import InputError
from carecover.plan import PlanOptions, area, inputs, ledger, networks, resolve, travel
from carecover.plan.checks import crs_stop
from conftest import shared_file
from rasterio.transform import from_origin

WORLDPOP_RES = 1 / 1200  # 3 arc-seconds (~100 m), as WorldPop publishes
NODATA = -99999.0


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """Networks cached once for the module's runs, outside the user's cache."""
    monkeypatch.setattr(settings, "cache_dir", tmp_path_factory.getbasetemp() / "ledger-cache")


@pytest.fixture(scope="module")
def xuanwu() -> Path:
    return shared_file("china", "nanjing_xuanwu.osm")


@pytest.fixture(scope="module")
def monaco() -> Path:
    return shared_file("osm", "monaco.osm.pbf")


def amenities(osm: Path, n: int) -> list[tuple[float, float]]:
    """Positions of ``n`` real amenity/shop nodes of an OSM XML extract, spread over it."""
    rows = []
    for node in ET.parse(osm).getroot().iter("node"):
        tags = {t.get("k"): t.get("v") for t in node.findall("tag")}
        if "amenity" in tags or "shop" in tags:
            rows.append((int(node.get("id")), float(node.get("lon")), float(node.get("lat"))))
    rows.sort()
    step = max(1, len(rows) // n)
    return [(lon, lat) for _, lon, lat in rows[::step][:n]]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stages(tmp: Path, **kw):
    """Resolve a run and compute its stages up to the ledger: (params, facilities, ledger)."""
    params = resolve(PlanOptions(out=tmp / "out", workers=1, cache=settings.cache_dir, **kw))
    bounds = area.read_boundaries_of(params)
    walk = networks.load_mode(params, bounds, "walk")
    study = area.study_area(bounds, walk)
    fac = inputs.read_facilities(params, study, walk)
    nets = networks.load_networks(params, bounds, walk, fac)
    demand = inputs.read_demand(params, study)
    trav = travel.route(params, nets, fac, demand)
    return params, fac, ledger.compute(params, nets, study, fac, demand, trav)


def plan(*args: str, capsys) -> tuple[int, str]:
    rc = cli.main(["--quiet", "plan", *args])
    return rc, capsys.readouterr().err


class TestRealWorld:
    def test_network_covering_a_sliver_of_the_boundary(self, tmp_path, monaco, capsys):
        # a 20 × 22 km box around Monaco: the extract covers about 12 % of it
        box = [[7.30, 43.65], [7.55, 43.65], [7.55, 43.85], [7.30, 43.85], [7.30, 43.65]]
        boundary = write(tmp_path / "b.geojson", json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "box"}, "geometry": {"type": "Polygon", "coordinates": [box]}}]}))
        reg = write(tmp_path / "r.csv", "编号,名称,层级,经度,纬度\nM1,社区站1,社区养老服务站,7.4173948,43.7416784\n")
        kw = dict(network=monaco, facilities=(reg,), boundary=boundary, total_population=38000.0)
        _, _, led = stages(tmp_path, **kw)
        line = led.line("boundary_covered")
        assert line.warning and line.data["share"] < 0.2, line.text
        assert "residents in the rest reach no facility" in line.text
        rc, err = plan("--network", str(monaco), "--facilities", str(reg), "--boundary", str(boundary),
                       "--total-population", "38000", "--strict", "--out", str(tmp_path / "o"), capsys=capsys)
        assert rc == 2 and "--strict" in err and "Boundary covered by the network" in err, err

    def test_multiband_raster(self, tmp_path, xuanwu, capsys):
        """A WorldPop-format three-band GeoTIFF over the western half of the extract."""
        tif = tmp_path / "chn_agegroups_2020.tif"
        lon0, lat1, cols, rows = 118.760, 32.070, 36, 40  # western part of 玄武区 only
        rng = np.random.default_rng(22)
        with rasterio.open(tif, "w", driver="GTiff", width=cols, height=rows, count=3, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(lon0, lat1, WORLDPOP_RES, WORLDPOP_RES),
                           nodata=NODATA, compress="lzw") as dst:
            for b, name in enumerate(("pop_0_59", "pop_60_f", "pop_60_m"), start=1):
                dst.write(rng.gamma(2.0, 10.0 if b == 1 else 1.5, (rows, cols)).astype("float32"), b)
                dst.set_band_description(b, name)
        reg = write(tmp_path / "r.csv", "编号,名称,层级,经度,纬度\nN1,设施1,社区养老服务站,118.7767913,32.0473575\n")
        base = ["--network", str(xuanwu), "--facilities", str(reg), "--population", str(tif)]
        rc, err = plan(*base, "--out", str(tmp_path / "o1"), capsys=capsys)
        assert rc == 2 and "3 bands" in err and "2: pop_60_f" in err and "--band" in err, err
        _, _, led = stages(tmp_path, network=xuanwu, facilities=(reg,), population=tif, population_bands=(1, 2, 3))
        line = led.line("raster")
        assert line.data["bands"] == [1, 2, 3] and line.data["band_count"] == 3
        assert "band(s) 1, 2, 3" in line.text and line.warning and line.data["covered_share"] < 0.9
        rc, err = plan(*base, "--bands", "1-3", "--strict", "--out", str(tmp_path / "o2"), capsys=capsys)
        assert rc == 2 and "Population raster" in err, err
        # without --strict the run lists the partial cover once: the ledger's line, not also the reader's
        rc, err = plan(*base, "--bands", "1-3", "--out", str(tmp_path / "o3"), capsys=capsys)
        assert rc == 0, err
        codes = [n["code"] for n in json.loads((tmp_path / "o3" / "summary.json").read_text("utf-8"))["warnings"]]
        assert codes.count("ledger_raster") == 1 and "raster_partial_cover" not in codes, codes

    def test_wgs84_register_declared_gcj02_on_a_small_dense_extract(self, tmp_path, xuanwu, capsys):
        """Real amenity positions (WGS-84, as OSM has them) in a register whose header says Amap."""
        pts = amenities(xuanwu, 30)
        reg = write(tmp_path / "amap.csv", "编号,名称,层级,经度（高德）,纬度（高德）\n" + "".join(
            f"N{i},设施{i},社区养老服务站,{lon:.7f},{lat:.7f}\n" for i, (lon, lat) in enumerate(pts)))
        params, fac, led = stages(tmp_path, network=xuanwu, facilities=(reg,), total_population=60000.0)
        check = fac.crs_checks[0]
        assert check["declared"] == "gcj02" and check["best"] == "wgs84" and check["verdict"] == "wrong", check
        line = led.line("crs")
        assert line.warning and "amap.csv" in line.text and "verdict wrong" in line.text
        # the run stops, naming the file and the likely system …
        rc, err = plan("--network", str(xuanwu), "--facilities", str(reg), "--total-population", "60000",
                       "--out", str(tmp_path / "o1"), capsys=capsys)
        assert rc == 2 and "amap.csv" in err and "--crs wgs84" in err, err
        # … unless --crs is explicit: then a warning, and exit 2 only with --strict
        rc, err = plan("--network", str(xuanwu), "--facilities", str(reg), "--total-population", "60000",
                       "--crs", "gcj02", "--strict", "--out", str(tmp_path / "o2"), capsys=capsys)
        assert rc == 2 and "Register coordinate systems" in err, err
        # declared right: the same register passes
        right = write(tmp_path / "wgs.csv", reg.read_text(encoding="utf-8").replace("（高德）", ""))
        _, fac2, led2 = stages(tmp_path, network=xuanwu, facilities=(right,), total_population=60000.0)
        assert fac2.crs_checks[0]["verdict"] == "ok" and not led2.line("crs").warning
        crs_stop(dataclasses.replace(params, crs_explicit=True), fac)  # explicit: no stop
        with pytest.raises(InputError, match="--crs wgs84") as e:
            crs_stop(params, fac)
        assert str(e.value.file).endswith("amap.csv") and e.value.field == "crs"

    def test_institutions_and_day_care_centres(self, tmp_path, xuanwu, capsys):
        pts = amenities(xuanwu, 8)
        names = [("养老院", 120), ("敬老院", 60), ("社区日间照料中心", ""), ("老年餐桌", ""), ("社区站", ""),
                 ("老年公寓", 200), ("老年活动室", ""), ("老年活动室", "")]
        reg = write(tmp_path / "inst.csv", "编号,名称,层级,床位数,经度,纬度\n" + "".join(
            f"I{i},设施{i},{tier},{beds},{lon:.7f},{lat:.7f}\n" for i, ((tier, beds), (lon, lat))
            in enumerate(zip(names, pts, strict=True))))
        _, fac, led = stages(tmp_path, network=xuanwu, facilities=(reg,), total_population=60000.0)
        frame = fac.frame.set_index("fid")
        assert list(frame["tier"].iloc[:6]) == ["institution", "institution", "community_centre", "meal_point",
                                                "community_centre", "institution"]
        assert frame.loc["I0", "capacity"] == 120 and frame.loc["I0", "capacity_source"] == "register:beds"
        line = led.line("tier_names")
        assert line.warning and line.text.count("老年活动室") == 2 and "×2" in line.text  # listed once (+ its key)
        assert re.search(r'closest: [^；]*（\w+）.*map it: \[tier_names\] \w+ = \["老年活动室"\]', line.text), line.text
        assert led.line("registers").warning and "unknown_tier 2" in led.line("registers").text
        # the city config maps the name: nothing unknown left
        cfg = write(tmp_path / "c.toml", 'city = "nj"\nname_zh = "南京"\nname_en = "Nanjing"\n'
                    'default_elderly_share = 0.2\n[tier_names]\ncommunity_centre = ["老年活动室"]\n')
        from carecover.config import load_config

        _, fac2, led2 = stages(tmp_path, network=xuanwu, facilities=(reg,), total_population=60000.0,
                               config=load_config(cfg))
        assert led2.line("tier_names") is None and fac2.frame["status"].eq("unknown_tier").sum() == 0
        rc, err = plan("--network", str(xuanwu), "--facilities", str(reg), "--total-population", "60000",
                       "--strict", "--out", str(tmp_path / "o"), capsys=capsys)
        assert rc == 2 and "老年活动室" in err, err


class TestSynthetic:
    def test_ledger_round_trips_through_summary(self):
        from carecover.analysis.ledger import Ledger, LedgerLine

        led = Ledger((LedgerLine("a", "A", "x", True, "> 5%", {"v": np.float64(0.5)}), LedgerLine("b", "B", "y")),
                     {"ledger_max_unsnapped_share": 0.05})
        back = Ledger.from_dict(json.loads(json.dumps(led.to_dict())))
        assert back.to_dict() == led.to_dict() and [w.key for w in back.warnings] == ["a"]
        assert "⚠ A: x  [> 5%]" in led.console() and "· B: y" in led.console()

    @pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
    def test_console_through_the_carecover_logger(self, level, capfd):
        """The block is one INFO record of the ``carecover`` logger (its warnings join the run's
        notices without a second line); with ``--quiet`` (WARNING) each warning is a line of its own."""
        from carecover import logs, notices
        from carecover.analysis.ledger import Ledger, LedgerLine
        from carecover.params import RunParams

        led = Ledger((LedgerLine("a", "A", "x", True, "> 5%"), LedgerLine("b", "B", "y")))
        logs.console(level)
        try:
            with notices.collect() as found:
                ledger.report(RunParams.defaults(), led)
        finally:
            logs.remove_console()
        err = capfd.readouterr().err
        assert [n.code for n in found] == ["ledger_a"]
        assert err.count("A: x") == 1
        assert ("数据质量 / Data quality" in err and "· B: y" in err) == (level == logging.INFO)
        with pytest.raises(InputError, match="--strict"):
            ledger.report(RunParams.defaults(strict=True), led)
